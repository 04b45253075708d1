"""Shared fixtures: the local stage's environment on moto, provisioned from infra/."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import devstack

OPERATOR = {"Authorization": "Bearer local-operator-token"}

STORE_BODY = {
    "name": "Cedar & Sage",
    "sender_email": "hello@cedarsage.example",
    "timezone": "Europe/Athens",
    "language": "en",
    "support_email": "care@cedarsage.example",
    "support_phone": "+302101234567",
}


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The local stage's variables, with no real AWS endpoint or credentials in reach."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    saved = dict(os.environ)
    env = devstack.use_local_environment()
    yield env
    os.environ.clear()
    os.environ.update(saved)
    devstack.reset_caches()


@pytest.fixture
def moto(local_env: dict[str, str]) -> Iterator[devstack.Provisioned]:
    from moto import mock_aws

    with mock_aws():
        yield devstack.provision()


@pytest.fixture
def app(moto: devstack.Provisioned) -> Any:
    from app import app as chalice_app

    return chalice_app


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from chalice.test import Client

    with Client(app, stage_name="local", project_dir=str(devstack.ROOT)) as test_client:
        yield test_client


@pytest.fixture
def store(client: Any) -> dict[str, Any]:
    """A freshly created store, with its one-time credentials."""
    import json

    response = client.http.post("/stores", headers={**OPERATOR, "Content-Type": "application/json"}, body=json.dumps(STORE_BODY))
    assert response.status_code == 201, response.body
    return response.json_body


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
