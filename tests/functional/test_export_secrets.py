"""A GDPR export is data about the person, never a credential: survey links stay out of it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

import devstack
from chalicelib.core.models import OrderStatus
from chalicelib.storage import db, keys
from tests.conftest import auth
from tests.support.world import at, customer_info, ingest, order_event, subjects_to


@pytest.mark.world_time("2026-11-20T10:00:00Z")
def test_the_export_leaves_out_the_live_survey_tokens(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN a customer who was sent a survey (its link still answers)
    ana = customer_info("ana@example.com", first_name="Ana")
    ingest(
        store,
        order_event(store["store_id"], "4001", OrderStatus.CREATED, at("2026-11-20T08:00:00Z"), ana),
        at("2026-11-20T08:00:00Z"),
    )
    ingest(
        store,
        order_event(store["store_id"], "4001", OrderStatus.DELIVERED, at("2026-11-21T08:00:00Z"), ana),
        at("2026-11-21T08:00:00Z"),
    )
    devstack.deliver(app, at("2026-11-28T08:01:00Z"))
    assert "How did we do, Ana?" in subjects_to("ana@example.com")
    reminder = db.table().get(keys.job(keys.order_pk(store["store_id"], "4001"), "survey_reminder"), consistent=True)
    assert reminder is not None
    token = str(reminder["data"]["token"])
    assert client.http.get(f"/s/{token}").status_code == 200
    # WHEN the store exports what it holds about her
    export = client.http.get(
        f"/stores/{store['store_id']}/customers/{quote('ana@example.com', safe='@')}", headers=auth(store["api_key"])
    )
    # THEN the survey is listed among her messages, but no link token is in it
    assert export.status_code == 200, export.body
    body = export.body.decode()
    assert "survey" in {m.get("kind") for m in json.loads(body)["messages"]}
    assert token not in body
    assert "token" not in body and "nonce" not in body
