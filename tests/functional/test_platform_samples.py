"""The platforms' own published samples (tests/fixtures/SOURCES.md), delivered as the platform
delivers them, and what they showed: redaction must follow orders to their customer, a data
request must be acted on, WooCommerce names arrive HTML-encoded."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

import devstack
from chalicelib.core.clock import wall_clock
from chalicelib.core.errors import Unauthorized
from chalicelib.intake import signatures
from chalicelib.messaging import suppression
from chalicelib.storage import db, keys
from tests.conftest import auth
from tests.fixtures import body_of, payload, raw, shopify_headers, woo_body, woo_headers
from tests.support.events import sns_event
from tests.support.intake import customer, jobs_of, order
from tests.support.mail import emails_to
from tests.support.tables import snapshot

WORLD = "2026-11-20T10:00:00Z"
SAMPLE_ORDER = "shopify:820982911946154500"
REDACTED_ORDER = 299938  # the first of the sample redaction's orders_to_redact
ORDER_EMAIL = "jon@example.com"  # the sample order's email (its customer.email is john@example.com)
SUPPORT = "care@cedarsage.example"


def shopify(client: Any, store: dict[str, Any], topic: str, body: bytes, event_id: str) -> Any:
    return client.http.post(
        f"/webhooks/shopify/{store['store_id']}",
        headers=shopify_headers(store["webhook_secret"], body, topic, event_id),
        body=body,
    )


def sample_order_as(order_id: int) -> bytes:
    """Shopify's sample order under one of the ids its redaction and data request name."""
    return body_of({**payload("shopify/docs/orders_create.json"), "id": order_id})


@pytest.mark.world_time(WORLD)
@pytest.mark.parametrize(
    "topic, sample, status",
    [
        ("orders/create", "orders_create", "created"),
        ("orders/paid", "orders_paid", "paid"),
        ("orders/fulfilled", "orders_fulfilled", "fulfilled"),
        ("orders/cancelled", "orders_cancelled", "cancelled"),
        ("fulfillments/create", "fulfillments_create", "fulfilled"),
        ("fulfillments/update", "fulfillments_update", "fulfilled"),
        ("refunds/create", "refunds_create", "refunded"),
    ],
)
def test_shopify_samples_are_accepted_as_published(
    client: Any, store: dict[str, Any], topic: str, sample: str, status: str
) -> None:
    # WHEN Shopify delivers its own sample, byte for byte
    response = shopify(client, store, topic, raw(f"shopify/docs/{sample}.json"), f"ev-{sample}")
    # THEN it is accepted and the order is stored at the topic's status
    assert response.status_code == 200, response.body
    assert response.json_body["status"] == "accepted"
    stored = order(store["store_id"], SAMPLE_ORDER)
    assert stored is not None and stored["status"] == status


@pytest.mark.world_time(WORLD)
def test_customers_redact_follows_each_order_to_its_customer(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN Shopify's sample order, placed as one of the orders the sample redaction names: its
    # customer is keyed by the order's email, which is not the redaction's customer.email
    assert (
        shopify(client, store, "orders/create", sample_order_as(REDACTED_ORDER), "ev-order").json_body["status"]
        == "accepted"
    )
    assert customer(store["store_id"], ORDER_EMAIL) is not None
    assert jobs_of(keys.customer_pk(store["store_id"], ORDER_EMAIL))  # anniversary and win-back wait
    # WHEN Shopify's sample customers/redact arrives
    response = shopify(client, store, "customers/redact", raw("shopify/docs/customers_redact.json"), "ev-redact")
    # THEN that customer is erased with everything pending for them
    assert response.status_code == 200 and response.json_body["status"] == "erased"
    assert customer(store["store_id"], ORDER_EMAIL) is None
    assert jobs_of(keys.customer_pk(store["store_id"], ORDER_EMAIL)) == {}
    assert jobs_of(keys.order_pk(store["store_id"], f"shopify:{REDACTED_ORDER}")) == {}
    assert "email" not in (order(store["store_id"], f"shopify:{REDACTED_ORDER}") or {})
    # AND nothing is ever sent to them, however long we wait
    for days in (0, 30, 200, 400):
        devstack.deliver(app, wall_clock() + timedelta(days=days))
    assert emails_to(ORDER_EMAIL) == []


@pytest.mark.world_time(WORLD)
def test_customers_data_request_is_recorded_told_to_support_and_in_the_export(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN the customer of one of the orders the sample data request names
    assert (
        shopify(client, store, "orders/create", sample_order_as(REDACTED_ORDER), "ev-order").json_body["status"]
        == "accepted"
    )
    # WHEN Shopify's sample customers/data_request arrives (and is retried)
    body = raw("shopify/docs/customers_data_request.json")
    first = shopify(client, store, "customers/data_request", body, "ev-request")
    again = shopify(client, store, "customers/data_request", body, "ev-request")
    # THEN it is recorded, not ignored
    assert first.status_code == 200 and first.json_body["status"] == "recorded"
    assert again.status_code == 200 and again.json_body["status"] == "recorded"
    # AND support is told once what was asked and where the export is
    notices = emails_to(SUPPORT)
    assert len(notices) == 1
    text = notices[0].body
    assert "9999" in text and "john@example.com" in text and "299938" in text
    assert f"/stores/{store['store_id']}/customers/{ORDER_EMAIL}" in text
    # AND the customer's export shows the request
    export = client.http.get(f"/stores/{store['store_id']}/customers/{ORDER_EMAIL}", headers=auth(store["api_key"]))
    assert export.status_code == 200
    requests = export.json_body["data_requests"]
    assert [r["request_id"] for r in requests] == ["9999"]
    assert requests[0]["orders_requested"] == ["shopify:299938", "shopify:280263", "shopify:220458"]


@pytest.mark.world_time(WORLD)
def test_a_data_request_for_nobody_we_know_is_still_recorded_and_told(client: Any, store: dict[str, Any]) -> None:
    response = shopify(
        client, store, "customers/data_request", raw("shopify/docs/customers_data_request.json"), "ev-request"
    )
    assert response.json_body["status"] == "recorded"
    assert db.table().get(keys.data_request(keys.store_pk(store["store_id"]), "9999")) is not None
    assert "holds no customer" in emails_to(SUPPORT)[0].body


@pytest.mark.world_time(WORLD)
def test_shop_redact_sample_is_answered(client: Any, store: dict[str, Any]) -> None:
    response = shopify(client, store, "shop/redact", raw("shopify/docs/shop_redact.json"), "ev-shop")
    assert response.status_code == 200 and response.json_body["status"] == "erased"


@pytest.mark.world_time(WORLD)
@pytest.mark.parametrize(
    "sample, topic", [("order_727_processing", "order.created"), ("order_727_completed", "order.updated")]
)
def test_woocommerce_samples_read_names_without_html_entities(
    client: Any, store: dict[str, Any], sample: str, topic: str
) -> None:
    # WHEN WooCommerce delivers its documented order as it sends it (wp_json_encode, signed)
    body = woo_body(payload(f"woocommerce/docs/{sample}.json"))
    response = client.http.post(
        f"/webhooks/woocommerce/{store['store_id']}",
        headers=woo_headers(store["webhook_secret"], body, topic),
        body=body,
    )
    assert response.status_code == 200 and response.json_body["status"] == "accepted", response.body
    # THEN the product reads as people read it, not as HTML source
    titles = [item["title"] for item in order(store["store_id"], "woocommerce:727")["items"]]
    assert titles == ["Woo Single #1", "Ship Your Idea \u2013 Color: Black, Size: M Test"]
    assert customer(store["store_id"], "john.doe@example.com")["first_name"] == "John"


@pytest.mark.world_time(WORLD)
def test_generic_webhooks_signed_by_the_standard_webhooks_package_are_accepted(
    client: Any, store: dict[str, Any]
) -> None:
    body = json.dumps(
        {
            "order_id": "SW-1",
            "status": "created",
            "occurred_at": "2026-11-20T09:00:00Z",
            "customer": {"email": "eleni@example.com"},
        }
    )
    signer = Webhook(store["webhook_secret"])
    sent_at = datetime.fromtimestamp(int(time.time()), tz=UTC)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_sw1",
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signer.sign("msg_sw1", sent_at, body),
    }
    response = client.http.post(f"/webhooks/orders/{store['store_id']}", headers=headers, body=body)
    assert response.status_code == 200 and response.json_body == {"status": "accepted", "order_id": "SW-1"}
    # AND the package accepts what it signed, as a second opinion on the headers
    assert signer.verify(body, headers) == json.loads(body)


VECTORS = payload("standard_webhooks/vectors.json")


def _check(signature: str, *, offset: int = 0, body: str | None = None) -> None:
    now = datetime.fromtimestamp(VECTORS["timestamp"] + offset, tz=UTC)
    signatures.require_standard(
        VECTORS["secret"],
        VECTORS["msg_id"],
        str(VECTORS["timestamp"]),
        signature,
        (body or VECTORS["payload"]).encode(),
        now,
    )


def test_standard_webhooks_test_vectors() -> None:
    assert (
        signatures.standard_sign(
            VECTORS["secret"], VECTORS["msg_id"], VECTORS["timestamp"], VECTORS["payload"].encode()
        )
        == VECTORS["valid"]
    )
    _check(VECTORS["valid"])
    _check(" ".join(VECTORS["several"]))
    _check(VECTORS["valid"], offset=VECTORS["tolerance_seconds"] - 1)
    for refused in (VECTORS["tampered"], VECTORS["other_message"], VECTORS["partial"]):
        with pytest.raises(Unauthorized):
            _check(refused)
    with pytest.raises(Unauthorized):
        _check(VECTORS["valid"], body=VECTORS["payload"] + " ")
    for expired in (VECTORS["tolerance_seconds"] + 1, -VECTORS["tolerance_seconds"] - 1):
        with pytest.raises(Unauthorized):
            _check(VECTORS["valid"], offset=expired)


@pytest.mark.parametrize(
    "timestamp", ["9" * 400, "1" + "0" * 20, "-1614265330", "1614265330.5", "1_614_265_330", "\u0661\u0666"]
)
def test_an_absurd_webhook_timestamp_is_a_401(client: Any, store: dict[str, Any], timestamp: str) -> None:
    body = b'{"order_id": "A-1"}'
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": timestamp,
        "webhook-signature": signatures.standard_sign(store["webhook_secret"], "msg_1", timestamp, body),
    }
    response = client.http.post(f"/webhooks/orders/{store['store_id']}", headers=headers, body=body)
    assert response.status_code == 401, response.body


SES = [
    ("ses_bounce_dsn", ["jane@example.com"]),
    ("ses_bounce_no_dsn", None),
    ("ses_complaint_feedback", None),
    ("ses_complaint_no_feedback", None),
    ("ses_delivery", []),
    ("ses_event_bounce", ["recipient@example.com"]),
    ("ses_event_complaint", ["recipient@example.com"]),
    ("ses_event_delivery", []),
]


@pytest.mark.world_time(WORLD)
@pytest.mark.parametrize("sample, suppressed", SES)
def test_ses_samples_suppress_what_bounced_or_complained(
    app: Any, store: dict[str, Any], sample: str, suppressed: list[str] | None
) -> None:
    notification = payload(f"aws/{sample}.json")
    notification["mail"].setdefault("tags", {})["store_id"] = [store["store_id"]]
    kind = notification.get("notificationType") or notification.get("eventType")
    recipients = {"Bounce": "bounce", "Complaint": "complaint"}.get(kind)
    if suppressed is None:  # the addresses of the sample itself
        feedback = notification[str(recipients)]
        suppressed = [
            r["emailAddress"].lower()
            for r in feedback.get("bouncedRecipients") or feedback.get("complainedRecipients") or []
        ]
        if feedback.get("bounceType", "Permanent") != "Permanent":
            suppressed = []
    app.handler_map["ses_feedback"](sns_event("aftercare-ses-feedback", json.dumps(notification)), None)
    for address in suppressed:
        assert suppression.lookup(db.table(), store["store_id"], address, "email") is not None, address
    if kind == "Delivery":
        assert not [i for i in snapshot() if '"suppression"' in i]


@pytest.mark.world_time(WORLD)
def test_the_two_way_sms_sample_is_read_without_harm(app: Any, store: dict[str, Any]) -> None:
    before = snapshot()
    app.handler_map["inbound_sms"](sns_event("aftercare-inbound-sms", raw("aws/sms_inbound.json").decode()), None)
    # a number nobody texted, and no STOP: nothing to record
    assert snapshot() == before
