"""Erasing a customer reaches everything that names them, support cases included."""
from __future__ import annotations

from typing import Any

from chalicelib import db, keys, privacy
from chalicelib.clock import wall_clock
from tests.functional.test_escalation import answer_survey, open_cases
from tests.functional.test_webhooks_generic import EVENT, send


def test_erasing_a_customer_removes_their_orders_personal_data_and_their_cases(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a customer whose order came through the webhook and who answered a survey angrily
    assert send(client, store, EVENT).json_body["status"] == "accepted"
    answer_survey(client, store, score=1, comment="Cracked on arrival", order_id="A-1001", customer="nikos@example.gr")
    case_id = open_cases(client, store)[0]["case_id"]

    # WHEN the customer is erased (Shopify's customers/redact or a GDPR request)
    privacy.erase_customer(db.table(), store["store_id"], "nikos@example.gr", wall_clock())

    # THEN no customer record, no case and no personal field on the order remain
    assert db.table().get(keys.customer(store["store_id"], "nikos@example.gr")) is None
    assert open_cases(client, store) == []
    assert list(db.table().partition(keys.case_pk(store["store_id"], case_id))) == []
    order = db.table().get(keys.order(store["store_id"], "A-1001"))
    assert order is not None and "customer_id" not in order and "email" not in order
