"""Each platform's payload read into the one internal order event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core.errors import InvalidInput, Unauthorized
from chalicelib.core.models import OrderStatus
from chalicelib.intake import generic, shopify, woocommerce
from chalicelib.intake import normalize as n
from chalicelib.stores.registry import with_defaults
from tests.fixtures import body_of, payload, raw, shopify_headers, standard_headers, woo_headers

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg=="
STORE = with_defaults({"store_id": "st1", "webhook_secret": SECRET, "timezone": "Europe/Athens"})
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def shop(fixture: str, topic: str, body: bytes | None = None, store: dict[str, Any] = STORE) -> n.Reading:
    data = raw(f"shopify/{fixture}.json") if body is None else body
    return shopify.read(store, shopify_headers(SECRET, data, topic, "e1"), data, NOW, n.Notes())


def test_shopify_order_topics_map_to_statuses_and_namespaced_ids() -> None:
    for topic, fixture, status in (
        ("orders/create", "orders_create", OrderStatus.CREATED),
        ("orders/paid", "orders_paid", OrderStatus.PAID),
        ("orders/fulfilled", "orders_fulfilled", OrderStatus.FULFILLED),
        ("orders/cancelled", "orders_cancelled", OrderStatus.CANCELLED),
        ("fulfillments/create", "fulfillments_create", OrderStatus.FULFILLED),
        ("fulfillments/update", "fulfillments_update", OrderStatus.DELIVERED),
        ("refunds/create", "refunds_create", OrderStatus.REFUNDED),
    ):
        event = shop(fixture, topic)
        assert not isinstance(event, (n.Ignored, n.Erasure))
        assert (event.status, event.order_id, event.event_id) == (status, "shopify:5720349812345", f"{topic}:e1")


def test_shopify_order_reads_times_items_and_customer() -> None:
    event = shop("orders_create", "orders/create")
    assert not isinstance(event, (n.Ignored, n.Erasure))
    assert event.ordered_at == datetime(2026, 11, 20, 9, 2, 13, tzinfo=UTC)
    assert [(i.sku, i.title, i.quantity) for i in event.items] == [
        ("CS-BOARD-L", "Olive wood cutting board", 1),
        ("CS-SOAP-3", "Cedar soap set", 2),
    ]
    assert (event.total, event.currency, event.order_name) == ("106.00", "EUR", "#1042")
    c = event.customer
    assert (c.email, c.phone, c.first_name, c.language, c.birthday, c.email_consent, c.sms_consent) == (
        "eleni.papadopoulou@example.com",
        "+306912345678",
        "Eleni",
        "el",
        "1988-04-17",
        True,
        False,
    )


def test_shopify_pending_double_opt_in_states_no_consent_even_if_buyer_accepted() -> None:
    order = payload("shopify/orders_create.json")
    order["customer"]["email_marketing_consent"] = {"state": "pending", "opt_in_level": "confirmed_opt_in"}
    event = shop("", "orders/create", body_of(order))
    assert not isinstance(event, (n.Ignored, n.Erasure))
    assert event.customer.email_consent is None
    del order["customer"]["email_marketing_consent"]
    older = shop("", "orders/create", body_of(order))
    assert not isinstance(older, (n.Ignored, n.Erasure))
    assert older.customer.email_consent is True  # buyer_accepts_marketing


def test_shopify_fulfillment_in_transit_is_not_a_delivery_and_a_cancelled_one_is_ignored() -> None:
    in_transit = payload("shopify/fulfillments_update.json")
    in_transit["shipment_status"] = "in_transit"
    event = shop("", "fulfillments/update", body_of(in_transit))
    assert not isinstance(event, (n.Ignored, n.Erasure)) and event.status is OrderStatus.FULFILLED
    in_transit["status"] = "cancelled"
    assert shop("", "fulfillments/update", body_of(in_transit)) == n.Ignored("fulfillment cancelled")


def test_shopify_compliance_topics_become_erasures() -> None:
    redact = shop("customers_redact", "customers/redact")
    assert isinstance(redact, n.Erasure)
    assert redact.customer is not None and redact.customer.email == "eleni.papadopoulou@example.com"
    assert redact.order_ids == ("shopify:5720349812345",)
    assert shop("shop_redact", "shop/redact") == n.Erasure(whole_store=True)


def test_shopify_refuses_before_reading() -> None:
    body = raw("shopify/orders_create.json")
    with pytest.raises(Unauthorized):
        shopify.read(STORE, shopify_headers("other", body, "orders/create", "e1"), body, NOW, n.Notes())
    with pytest.raises(Unauthorized):
        shopify.read(
            {**STORE, "shopify_webhook_secret": "shpss_x"},
            shopify_headers(SECRET, body, "orders/create", "e1"),
            body,
            NOW,
            n.Notes(),
        )
    with pytest.raises(InvalidInput, match="unknown topic"):
        shop("orders_create", "orders/exploded")
    with pytest.raises(InvalidInput, match="order id"):
        shop("", "orders/create", body_of({"email": "a@example.com"}))
    with pytest.raises(InvalidInput, match="order id"):
        shop("", "refunds/create", body_of({"order_id": "gid://shopify/Order/1"}))


def woo(fixture: str | None, topic: str = "order.updated", body: bytes | None = None) -> n.Reading:
    data = raw(f"woocommerce/{fixture}.json") if body is None else body
    return woocommerce.read(STORE, woo_headers(SECRET, data, topic), data, NOW, n.Notes())


def test_woocommerce_statuses_and_the_dedupe_key() -> None:
    for fixture, status in (
        ("order_processing", OrderStatus.CREATED),
        ("order_completed", OrderStatus.FULFILLED),
        ("order_cancelled", OrderStatus.CANCELLED),
        ("order_refunded", OrderStatus.REFUNDED),
    ):
        event = woo(fixture)
        assert not isinstance(event, (n.Ignored, n.Erasure)) and event.status is status
        assert event.order_id == "woocommerce:4821"
    created = woo("order_processing", "order.created")
    assert not isinstance(created, (n.Ignored, n.Erasure))
    assert created.event_id == "17:4821:2026-11-20T09:40:05"
    assert created.occurred_at == datetime(2026, 11, 20, 9, 40, 5, tzinfo=UTC)
    assert woo("order_pending") == n.Ignored("status pending")


def test_woocommerce_ping_needs_no_signature_but_anything_else_does() -> None:
    assert woocommerce.read(STORE, {}, b"webhook_id=17", NOW, n.Notes()) == n.Ignored("ping")
    with pytest.raises(Unauthorized):
        woocommerce.read(STORE, {}, b"webhook_id=17&status=processing", NOW, n.Notes())
    with pytest.raises(Unauthorized):
        woocommerce.read(STORE, {}, raw("woocommerce/order_processing.json"), NOW, n.Notes())


def test_generic_event_and_its_signature() -> None:
    body = body_of(
        {
            "order_id": "A-1",
            "status": "delivered",
            "occurred_at": "2026-11-22T09:59:00+02:00",
            "customer": {"phone": "+306944000111"},
        }
    )
    headers = standard_headers(SECRET, body, "msg_1", timestamp=int(NOW.timestamp()))
    event = generic.read(STORE, headers, body, NOW, n.Notes())
    assert (event.order_id, event.status, event.event_id, event.customer.customer_id) == (
        "A-1",
        OrderStatus.DELIVERED,
        "msg_1",
        "+306944000111",
    )
    assert event.occurred_at == datetime(2026, 11, 22, 7, 59, tzinfo=UTC)
    assert event.ordered_at is None
    with pytest.raises(Unauthorized):
        generic.read(STORE, {**headers, "webhook-timestamp": str(int(NOW.timestamp()) - 301)}, body, NOW, n.Notes())
