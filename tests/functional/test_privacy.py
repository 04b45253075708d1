"""Erasing a customer reaches everything that names them, support cases included."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.clock import wall_clock
from chalicelib.customers import privacy
from chalicelib.storage import db, keys
from tests.support.cases import answer_survey, open_cases
from tests.support.orders import EVENT, send


def test_erasing_a_customer_removes_their_orders_personal_data_and_their_cases(
    client: Any, store: dict[str, Any]
) -> None:
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


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_erasing_a_customer_also_removes_the_survey_links_sent_to_them(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    import re

    import devstack
    from tests.support.orders import DANA, customer, post_order
    from tests.support.world import at, emails_to

    # GIVEN Dana was sent a survey by email
    post_order(client, store, "P-1", "created", "2027-03-01T08:00:00Z", customer())
    post_order(client, store, "P-1", "delivered", "2027-03-01T09:00:00Z", customer())
    devstack.deliver(app, at("2027-03-08T09:01:00Z"))
    bodies = " ".join(str(mail.body) for mail in emails_to(DANA))
    tokens = set(re.findall(r"/s/([0-9A-Za-z]{20,})", bodies))
    assert len(tokens) == 1
    token = tokens.pop()
    assert db.table().get(keys.survey(token)) is not None

    # WHEN Dana is erased
    privacy.erase_customer(db.table(), store["store_id"], DANA, wall_clock())

    # THEN the survey record (which names her) is gone and its link answers 404
    assert db.table().get(keys.survey(token)) is None
    assert client.http.get(f"/s/{token}").status_code == 404
