"""Shopify webhooks: real-shaped payloads in every topic, each delivered twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.storage import keys
from tests.conftest import auth
from tests.fixtures import body_of, payload, raw, shopify_headers
from tests.support.intake import all_items, count_items, customer, jobs_of, order, orders

# The fixtures are dated around this instant: the world runs at it, whatever the calendar says.
pytestmark = pytest.mark.world_time("2026-11-20T10:00:00Z")

ORDER_ID = "shopify:5720349812345"
ELENI = "eleni.papadopoulou@example.com"


def post(client: Any, store: dict[str, Any], body: bytes, headers: dict[str, str]) -> Any:
    return client.http.post(f"/webhooks/shopify/{store['store_id']}", headers=headers, body=body)


def deliver(
    client: Any, store: dict[str, Any], fixture: str, topic: str, event_id: str, secret: str | None = None
) -> Any:
    body = raw(f"shopify/{fixture}.json")
    return post(client, store, body, shopify_headers(secret or store["webhook_secret"], body, topic, event_id))


TOPICS = [
    # topic, fixture, status stored, whether the payload names the customer
    ("orders/create", "orders_create", "created", True),
    ("orders/paid", "orders_paid", "paid", True),
    ("orders/fulfilled", "orders_fulfilled", "fulfilled", True),
    ("orders/cancelled", "orders_cancelled", "cancelled", True),
    ("fulfillments/create", "fulfillments_create", "fulfilled", True),
    ("fulfillments/update", "fulfillments_update", "delivered", True),
    ("refunds/create", "refunds_create", "refunded", False),
]


@pytest.mark.parametrize("topic,fixture,status,names_customer", TOPICS)
def test_each_topic_delivered_twice_stores_one_order_and_refuses_a_bad_signature(
    client: Any, store: dict[str, Any], topic: str, fixture: str, status: str, names_customer: bool
) -> None:
    before = count_items()
    body = raw(f"shopify/{fixture}.json")
    # GIVEN a delivery signed with the wrong secret, or tampered with after signing
    forged = post(client, store, body, shopify_headers("not-the-secret", body, topic, "ev-1"))
    tampered = post(
        client,
        store,
        body.replace(b"5720349812345", b"5720349812346", 1),
        shopify_headers(store["webhook_secret"], body, topic, "ev-1"),
    )
    # THEN both are refused and nothing is written
    assert forged.status_code == 401 and tampered.status_code == 401
    assert forged.json_body["error"]["code"] == "unauthorized"
    assert count_items() == before

    # WHEN the genuine delivery arrives twice (Shopify retries)
    first = deliver(client, store, fixture, topic, "ev-1")
    second = deliver(client, store, fixture, topic, "ev-1")
    # THEN the first is accepted, the second is a duplicate that changes nothing
    assert first.status_code == 200, first.body
    assert first.json_body["status"] == "accepted"
    assert first.json_body["order_id"] == ORDER_ID
    after_first = all_items()
    assert second.status_code == 200
    assert second.json_body == {"status": "duplicate", "order_id": ORDER_ID}
    assert all_items() == after_first
    # AND there is exactly one order, in the topic's status
    stored = orders(store["store_id"])
    assert len(stored) == 1
    assert stored[0]["status"] == status
    person = customer(store["store_id"], ELENI)
    if names_customer:
        assert person is not None and person["orders_count"] == 1
    else:
        assert person is None


def test_a_new_order_stores_the_customer_as_shopify_describes_them(client: Any, store: dict[str, Any]) -> None:
    # GIVEN Eleni's order: mixed-case email, phone only on the shipping address (national
    # format, Greece), Greek locale, consent objects and a birthday note attribute
    response = deliver(client, store, "orders_create", "orders/create", "ev-create")
    assert response.status_code == 200
    # THEN her customer record is keyed by the normalised email and holds what the order says
    person = customer(store["store_id"], ELENI)
    assert person is not None
    assert person["email"] == ELENI
    assert person["phone"] == "+306912345678"
    assert person["first_name"] == "Eleni"
    assert person["language"] == "el"
    assert person["birthday"] == "1988-04-17"
    assert person["email_consent"] is True
    assert person["sms_consent"] is False
    assert person["orders_count"] == 1
    assert person["first_order_at"] == "2026-11-20T09:02:13Z"
    # AND the order keeps items, total and name, and points at her
    stored = order(store["store_id"], ORDER_ID)
    assert stored is not None
    assert stored["order_name"] == "#1042"
    assert stored["total"] == "106.00" and stored["currency"] == "EUR"
    assert [(i["sku"], i["quantity"]) for i in stored["items"]] == [("CS-BOARD-L", 1), ("CS-SOAP-3", 2)]
    assert stored["customer_id"] == ELENI
    # AND her email and phone both lead back to her
    from chalicelib.customers import profiles
    from chalicelib.storage import db

    assert profiles.find(db.table(), store["store_id"], "+306912345678") == ELENI
    assert profiles.find(db.table(), store["store_id"], "Eleni.Papadopoulou@EXAMPLE.com") == ELENI
    # AND the thank-you is due now
    thanks = jobs_of(keys.order_pk(store["store_id"], ORDER_ID))
    assert "JOB#thank_you" in thanks and thanks["JOB#thank_you"]["status"] == "pending"


def test_the_whole_life_of_an_order_counts_it_once_and_ends_delivered(client: Any, store: dict[str, Any]) -> None:
    # GIVEN the topics Shopify sends for one order, in order
    for topic, fixture in (
        ("orders/create", "orders_create"),
        ("orders/paid", "orders_paid"),
        ("fulfillments/create", "fulfillments_create"),
        ("orders/fulfilled", "orders_fulfilled"),
        ("fulfillments/update", "fulfillments_update"),
    ):
        assert deliver(client, store, fixture, topic, f"ev-{topic}").json_body["status"] in ("accepted", "stale")
    # THEN one order, delivered, counted once, with the delivery check-in planned
    stored = order(store["store_id"], ORDER_ID)
    assert stored is not None and stored["status"] == "delivered"
    assert stored["delivered_at"] == "2026-11-23T11:05:00Z"
    assert customer(store["store_id"], ELENI)["orders_count"] == 1  # type: ignore[index]
    assert "JOB#delivery_checkin" in jobs_of(keys.order_pk(store["store_id"], ORDER_ID))


def test_events_out_of_order_never_move_an_order_back(client: Any, store: dict[str, Any]) -> None:
    # GIVEN the payment arrives before the creation, and the delivery before the fulfillment
    assert deliver(client, store, "orders_paid", "orders/paid", "ev-paid").json_body["status"] == "accepted"
    late_create = deliver(client, store, "orders_create", "orders/create", "ev-create")
    assert (
        deliver(client, store, "fulfillments_update", "fulfillments/update", "ev-delivered").json_body["status"]
        == "accepted"
    )
    late_fulfilled = deliver(client, store, "orders_fulfilled", "orders/fulfilled", "ev-fulfilled")
    # THEN the late events are answered 200 "stale" and change nothing
    assert late_create.status_code == 200 and late_create.json_body["status"] == "stale"
    assert late_fulfilled.json_body["status"] == "stale"
    assert order(store["store_id"], ORDER_ID)["status"] == "delivered"  # type: ignore[index]
    # AND the order was counted once, when first seen
    assert customer(store["store_id"], ELENI)["orders_count"] == 1  # type: ignore[index]


def test_a_cancelled_order_cancels_its_pending_follow_ups(client: Any, store: dict[str, Any]) -> None:
    deliver(client, store, "orders_create", "orders/create", "ev-create")
    pending = jobs_of(keys.order_pk(store["store_id"], ORDER_ID))
    assert any(j["status"] == "pending" for j in pending.values())
    # WHEN the order is cancelled
    response = deliver(client, store, "orders_cancelled", "orders/cancelled", "ev-cancel")
    # THEN nothing is left pending for it
    assert response.json_body["status"] == "accepted"
    after = jobs_of(keys.order_pk(store["store_id"], ORDER_ID))
    assert after and all(j["status"] == "cancelled" for j in after.values())
    assert order(store["store_id"], ORDER_ID)["status"] == "cancelled"  # type: ignore[index]


def test_a_refund_cancels_the_survey(client: Any, store: dict[str, Any]) -> None:
    deliver(client, store, "orders_create", "orders/create", "ev-create")
    deliver(client, store, "refunds_create", "refunds/create", "ev-refund")
    after = jobs_of(keys.order_pk(store["store_id"], ORDER_ID))
    assert all(j["status"] == "cancelled" for j in after.values())


def test_the_shopify_client_secret_signs_once_the_store_saves_it(client: Any, store: dict[str, Any]) -> None:
    # GIVEN the store saves its Shopify app's client secret
    patched = client.http.patch(
        f"/stores/{store['store_id']}",
        headers=auth(store["api_key"]),
        body=json.dumps({"shopify_webhook_secret": "shpss_cedar_sage_client_secret"}),
    )
    assert patched.status_code == 200
    # THEN deliveries signed with it are accepted and those signed with the webhook secret are not
    assert deliver(client, store, "orders_create", "orders/create", "ev-a").status_code == 401
    assert (
        deliver(
            client, store, "orders_create", "orders/create", "ev-b", secret="shpss_cedar_sage_client_secret"
        ).status_code
        == 200
    )


def test_the_same_action_in_two_topics_is_not_taken_for_a_duplicate(client: Any, store: dict[str, Any]) -> None:
    # Shopify shares X-Shopify-Event-Id across the topics one merchant action triggers
    assert deliver(client, store, "orders_create", "orders/create", "same-action").json_body["status"] == "accepted"
    assert deliver(client, store, "orders_paid", "orders/paid", "same-action").json_body["status"] == "accepted"
    assert order(store["store_id"], ORDER_ID)["status"] == "paid"  # type: ignore[index]


def test_bad_requests_get_a_clear_4xx_and_write_nothing(client: Any, store: dict[str, Any]) -> None:
    secret = store["webhook_secret"]
    before = count_items()
    good = raw("shopify/orders_create.json")

    def signed(body: bytes, topic: str = "orders/create", **changes: str) -> Any:
        headers = {**shopify_headers(secret, body, topic, "ev-x"), **changes}
        return post(client, store, body, headers)

    unknown_store = client.http.post(
        "/webhooks/shopify/stnosuchstore000", headers=shopify_headers(secret, good, "orders/create", "e"), body=good
    )
    assert unknown_store.status_code == 404
    missing = post(
        client,
        store,
        good,
        {k: v for k, v in shopify_headers(secret, good, "orders/create", "e").items() if k != "X-Shopify-Hmac-Sha256"},
    )
    assert missing.status_code == 401 and "X-Shopify-Hmac-Sha256" in missing.json_body["error"]["message"]
    malformed = signed(b'{"id": 5720349812345, ')
    assert malformed.status_code == 400 and "malformed JSON" in malformed.json_body["error"]["message"]
    no_id = signed(body_of({k: v for k, v in payload("shopify/orders_create.json").items() if k != "id"}))
    assert no_id.status_code == 400 and "order id" in no_id.json_body["error"]["message"]
    unknown_topic = signed(good, topic="orders/teleported")
    assert unknown_topic.status_code == 400 and "orders/teleported" in unknown_topic.json_body["error"]["message"]
    no_event = signed(good, **{"X-Shopify-Event-Id": "", "X-Shopify-Webhook-Id": ""})
    assert no_event.status_code == 400 and "X-Shopify-Event-Id" in no_event.json_body["error"]["message"]
    huge = b'{"id": 1, "note": "' + b"x" * 1_000_001 + b'"}'
    too_large = signed(huge)
    assert too_large.status_code == 413 and "1000000 bytes" in too_large.json_body["error"]["message"]
    assert count_items() == before


def test_a_known_topic_that_needs_nothing_is_acknowledged(client: Any, store: dict[str, Any]) -> None:
    before = count_items()
    body = raw("shopify/orders_create.json")
    response = post(client, store, body, shopify_headers(store["webhook_secret"], body, "orders/updated", "ev-u"))
    assert response.status_code == 200
    assert response.json_body == {"status": "ignored", "reason": "topic orders/updated"}
    assert count_items() == before


def test_customers_redact_erases_the_customer_and_scrubs_the_order(client: Any, store: dict[str, Any]) -> None:
    deliver(client, store, "orders_create", "orders/create", "ev-create")
    store_id = store["store_id"]
    assert customer(store_id, ELENI) is not None
    # WHEN Shopify asks to redact her
    response = deliver(client, store, "customers_redact", "customers/redact", "ev-redact")
    # THEN her record, contacts, jobs and order links are gone, and the order keeps no personal data
    assert response.status_code == 200 and response.json_body["status"] == "erased"
    assert customer(store_id, ELENI) is None
    leftovers = [i for i in all_items() if i.get("store_id") == store_id and i.get("type") != "store"]
    assert leftovers and all(
        i.get("type") == "order" or str(i["SK"]).startswith("EVENT") or i.get("type") == "event" for i in leftovers
    )
    stored = order(store_id, ORDER_ID)
    assert stored is not None and "customer_id" not in stored and stored["erased_at"]
    assert not jobs_of(keys.order_pk(store_id, ORDER_ID))
    flat = json.dumps([{k: str(v) for k, v in i.items()} for i in leftovers])
    assert ELENI not in flat and "+306912345678" not in flat


def test_shop_redact_erases_every_customer_of_the_store(client: Any, store: dict[str, Any]) -> None:
    deliver(client, store, "orders_create", "orders/create", "ev-1")
    other = payload("shopify/orders_create.json")
    other.update(
        id=5720349899999,
        email="nikos@example.gr",
        contact_email="nikos@example.gr",
        customer={**other["customer"], "email": "nikos@example.gr"},
    )
    body = body_of(other)
    post(client, store, body, shopify_headers(store["webhook_secret"], body, "orders/create", "ev-2"))
    assert customer(store["store_id"], "nikos@example.gr") is not None
    response = deliver(client, store, "shop_redact", "shop/redact", "ev-shop")
    assert response.json_body["status"] == "erased"
    assert customer(store["store_id"], ELENI) is None and customer(store["store_id"], "nikos@example.gr") is None
    assert len(orders(store["store_id"])) == 2


def _metrics(text: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, dimensions) of every EMF line printed."""
    found = []
    for line in text.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            dims = {d: record[d] for group in directive["Dimensions"] for d in group if d != "service"}
            found += [(m["Name"], dims) for m in directive["Metrics"]]
    return found


def test_metrics_count_received_duplicates_and_rejections_by_reason(
    client: Any, store: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    import io
    import logging

    from chalicelib.platform.observability import logger

    capfd.readouterr()
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("INFO")  # every log line the webhook path writes
    try:
        deliver(client, store, "orders_create", "orders/create", "ev-m")
        deliver(client, store, "orders_create", "orders/create", "ev-m")
        deliver(client, store, "orders_create", "orders/create", "ev-n", secret="wrong")
        body = raw("shopify/orders_create.json")
        post(client, store, body, shopify_headers(store["webhook_secret"], body, "orders/teleported", "ev-o"))
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)
    seen = _metrics(capfd.readouterr().out)
    assert seen.count(("webhooks_received", {"source": "shopify"})) == 4
    assert seen.count(("webhooks_duplicate", {"source": "shopify"})) == 1
    assert ("webhooks_rejected", {"source": "shopify", "reason": "signature"}) in seen
    assert ("webhooks_rejected", {"source": "shopify", "reason": "unknown_topic"}) in seen
    # the logs say what happened, and never who it happened to
    logged = lines.getvalue()
    assert '"outcome":"accepted"' in logged and '"outcome":"duplicate"' in logged and '"reason":"signature"' in logged
    assert "eleni" not in logged.lower() and "6912345678" not in logged and "Odos" not in logged


def test_an_order_id_of_superscript_digits_is_a_400_and_writes_nothing(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a correctly signed order whose id is "²³" (digits to str.isdigit, not to int)
    body = body_of({**payload("shopify/orders_create.json"), "id": "\u00b2\u00b3"})
    before = count_items()
    # WHEN Shopify delivers it
    answer = post(client, store, body, shopify_headers(store["webhook_secret"], body, "orders/create", "ev-sup"))
    # THEN the store gets a 400 naming the order id, and nothing is written
    assert answer.status_code == 400 and "order id" in answer.json_body["error"]["message"]
    assert count_items() == before
