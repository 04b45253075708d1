"""Shared fixtures: the local stage's environment on moto, provisioned from infra/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, settings

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


# CI draws the same examples on every run; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) draws many more
# from fresh seeds.  Whatever fuzzing finds is pinned with @example in the test itself.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "world_time(instant): the ISO instant the test's world starts at; the clock ticks on from there"
    )
    config.addinivalue_line("markers", "browser: drives a real Chromium")


@pytest.fixture(autouse=True)
def world_time(request: pytest.FixtureRequest) -> Iterator[time_machine.Traveller | None]:
    """A test that sends dated events states the instant it runs at with
    ``@pytest.mark.world_time("2026-11-20T10:00:00Z")``: the wall clock the handlers read
    (``clock.wall_clock``), moto and the test itself then agree on the day, whatever the
    calendar says.  Tests without the mark use only times relative to the real clock."""
    marker = request.node.get_closest_marker("world_time")
    if marker is None:
        yield None
        return
    with time_machine.travel(marker.args[0], tick=True) as traveller:
        yield traveller


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

    response = client.http.post(
        "/stores", headers={**OPERATOR, "Content-Type": "application/json"}, body=json.dumps(STORE_BODY)
    )
    assert response.status_code == 201, response.body
    created: dict[str, Any] = response.json_body
    return created


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
