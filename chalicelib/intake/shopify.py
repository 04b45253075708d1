"""Shopify webhooks: signature, topics, and the order JSON read into an :class:`OrderEvent`.

Shopify signs every delivery with the app's client secret (which the store saves as its
``shopify_webhook_secret`` setting); without one, the store's own ``webhook_secret`` is used.
The same merchant action can fan out to several topics that share ``X-Shopify-Event-Id``, so
the dedupe key is the topic plus that id (or ``X-Shopify-Webhook-Id`` when it is absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.core.errors import InvalidInput
from chalicelib.core.models import CustomerInfo, LineItem, OrderEvent, OrderStatus
from chalicelib.core.validate import as_dict, as_list, parse_json
from chalicelib.intake import normalize as n
from chalicelib.intake.signatures import require_body_hmac
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry

SOURCE = "shopify"
SIGNATURE = "X-Shopify-Hmac-Sha256"
TOPIC = "X-Shopify-Topic"
MAX_ITEMS = 100

ORDER_TOPICS = {
    "orders/create": OrderStatus.CREATED,
    "orders/paid": OrderStatus.PAID,
    "orders/fulfilled": OrderStatus.FULFILLED,
    "orders/cancelled": OrderStatus.CANCELLED,
}
FULFILLMENT_TOPICS = ("fulfillments/create", "fulfillments/update")
REFUND_TOPIC = "refunds/create"
COMPLIANCE_TOPICS = ("customers/redact", "shop/redact", "customers/data_request")
# Topics a store may well have subscribed that ask nothing of Aftercare.
IGNORED_TOPICS = frozenset(
    {
        "orders/updated",
        "orders/edited",
        "orders/delete",
        "orders/partially_fulfilled",
        "customers/create",
        "customers/update",
        "customers/delete",
        "customers/enable",
        "customers/disable",
        "customers/marketing_consent_update",
        "customers/email_marketing_consent_update",
        "fulfillment_events/create",
        "fulfillment_events/delete",
        "app/uninstalled",
        "shop/update",
        "checkouts/create",
        "checkouts/update",
    }
)
TOPICS = frozenset(ORDER_TOPICS) | set(FULFILLMENT_TOPICS) | {REFUND_TOPIC} | set(COMPLIANCE_TOPICS) | IGNORED_TOPICS
DEAD_FULFILLMENT = ("cancelled", "error", "failure")


def secrets(store: StoreItem, now: datetime) -> list[str]:
    """The app's client secret once saved; until then the store's webhook secrets."""
    own = store.get("shopify_webhook_secret")
    return [str(own)] if own else registry.webhook_secrets(store, now)


def order_id(value: Any, field: str) -> str:
    """Shopify ids are integers (sometimes sent as digit strings); namespaced per source."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"missing order id ({field})", field=field)
    text = str(value).strip()
    if not text.isdecimal() or len(text) > 30:
        raise InvalidInput(f"{field} must be a Shopify order id (digits)", field=field)
    return f"{SOURCE}:{int(text)}"


def read(store: StoreItem, headers: Mapping[str, str], body: bytes, now: datetime, notes: n.Notes) -> n.Reading:
    """Verify, then read one delivery.  Raises Unauthorized (401) or InvalidInput (400)."""
    require_body_hmac(secrets(store, now), body, headers.get(SIGNATURE), SIGNATURE)
    topic = (headers.get(TOPIC) or "").strip()
    if topic not in TOPICS:
        raise InvalidInput(f"unknown topic: {topic[:80] or '(none)'}", field=TOPIC)
    if topic in IGNORED_TOPICS:
        return n.Ignored(f"topic {topic}")
    payload = parse_json(body)
    if topic == "customers/data_request":
        return _data_request(headers, payload, notes)
    if topic in COMPLIANCE_TOPICS:
        return _erasure(topic, payload, notes)
    event_id = _event_id(headers, topic)
    if topic in ORDER_TOPICS:
        return _order_event(store, topic, event_id, payload, now, notes)
    if topic in FULFILLMENT_TOPICS:
        return _fulfillment_event(store, topic, event_id, payload, now, notes)
    return _refund_event(store, event_id, payload, now)


def _event_id(headers: Mapping[str, str], topic: str) -> str:
    delivery = (headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id") or "").strip()
    if not delivery:
        raise InvalidInput("missing X-Shopify-Event-Id (or X-Shopify-Webhook-Id) header", field="X-Shopify-Event-Id")
    if len(delivery) > 200:
        raise InvalidInput("X-Shopify-Event-Id is too long", field="X-Shopify-Event-Id")
    return f"{topic}:{delivery}"


def _note_attribute(payload: Mapping[str, Any], name: str) -> Any:
    for attribute in as_list(payload.get("note_attributes")):
        if isinstance(attribute, dict) and str(attribute.get("name", "")).strip().lower() == name.lower():
            return attribute.get("value")
    return None


def _customer(store: StoreItem, payload: Mapping[str, Any], notes: n.Notes) -> CustomerInfo:
    buyer = as_dict(payload.get("customer"))
    billing = as_dict(payload.get("billing_address"))
    shipping = as_dict(payload.get("shipping_address"))
    region = (
        shipping.get("country_code")
        or billing.get("country_code")
        or as_dict(buyer.get("default_address")).get("country_code")
    )
    # The consent object, when Shopify sends one, is the whole truth (``pending`` double
    # opt-in states nothing); the older boolean is read only in its absence.
    email_consent = buyer.get("email_marketing_consent")
    if not isinstance(email_consent, dict):
        email_consent = _note_attribute(payload, str(store.get("email_consent_field") or ""))
        if n.consent(email_consent) is None:
            email_consent = payload.get("buyer_accepts_marketing")
    sms_consent = buyer.get("sms_marketing_consent")
    if not isinstance(sms_consent, dict):
        sms_consent = _note_attribute(payload, str(store.get("sms_consent_field") or ""))
    birthday_field = str(store.get("birthday_field") or "birthday")
    return n.customer(
        notes,
        emails=[
            ("email", payload.get("email")),
            ("contact_email", payload.get("contact_email")),
            ("customer.email", buyer.get("email")),
        ],
        phones=[
            ("phone", payload.get("phone")),
            ("customer.phone", buyer.get("phone")),
            ("shipping_address.phone", shipping.get("phone")),
            ("billing_address.phone", billing.get("phone")),
        ],
        region=region if isinstance(region, str) else None,
        first_name=buyer.get("first_name") or billing.get("first_name") or shipping.get("first_name"),
        locale=payload.get("customer_locale"),
        born=(f"note_attributes.{birthday_field}", _note_attribute(payload, birthday_field)),
        email_consent=email_consent,
        sms_consent=sms_consent,
        whatsapp_consent=_note_attribute(payload, str(store.get("whatsapp_consent_field") or "")),
    )


def _items(lines: Any) -> tuple[LineItem, ...]:
    out = []
    for line in (lines if isinstance(lines, list) else [])[:MAX_ITEMS]:
        if not isinstance(line, dict):
            continue
        sku = n.text(line.get("sku"), 100) or n.text(line.get("variant_id"), 100) or n.text(line.get("product_id"), 100)
        title = n.text(line.get("title"), 200) or n.text(line.get("name"), 200) or ""
        quantity = line.get("quantity")
        out.append(
            LineItem(
                sku=sku or title[:100] or "item",
                title=title,
                quantity=quantity
                if isinstance(quantity, int) and not isinstance(quantity, bool) and 0 < quantity <= 100_000
                else 1,
            )
        )
    return tuple(out)


def _order_event(
    store: StoreItem, topic: str, event_id: str, payload: Mapping[str, Any], now: datetime, notes: n.Notes
) -> OrderEvent:
    status = ORDER_TOPICS[topic]
    created = n.instant(payload.get("created_at"))
    changed = n.instant(payload.get("updated_at"))
    if status is OrderStatus.CANCELLED:
        changed = n.instant(payload.get("cancelled_at")) or changed
    return OrderEvent(
        source=SOURCE,
        event_id=event_id,
        store_id=str(store["store_id"]),
        order_id=order_id(payload.get("id"), "id"),
        status=status,
        occurred_at=changed or created or now,
        customer=_customer(store, payload, notes),
        ordered_at=created,
        items=_items(payload.get("line_items")),
        total=n.amount(payload.get("total_price")),
        currency=n.currency(payload.get("currency")),
        order_name=n.text(payload.get("name"), 60),
    )


def _fulfillment_event(
    store: StoreItem, topic: str, event_id: str, payload: Mapping[str, Any], now: datetime, notes: n.Notes
) -> n.Reading:
    state = str(payload.get("status") or "").lower()
    if state in DEAD_FULFILLMENT:
        return n.Ignored(f"fulfillment {state}")
    delivered = str(payload.get("shipment_status") or "").lower() == "delivered"
    destination = as_dict(payload.get("destination"))
    info = n.customer(
        notes,
        emails=[("email", payload.get("email"))],
        region=destination.get("country_code") if isinstance(destination.get("country_code"), str) else None,
    )
    return OrderEvent(
        source=SOURCE,
        event_id=event_id,
        store_id=str(store["store_id"]),
        order_id=order_id(payload.get("order_id"), "order_id"),
        status=OrderStatus.DELIVERED if delivered else OrderStatus.FULFILLED,
        occurred_at=n.instant(payload.get("updated_at")) or n.instant(payload.get("created_at")) or now,
        customer=info,
    )


def _refund_event(store: StoreItem, event_id: str, payload: Mapping[str, Any], now: datetime) -> OrderEvent:
    return OrderEvent(
        source=SOURCE,
        event_id=event_id,
        store_id=str(store["store_id"]),
        order_id=order_id(payload.get("order_id"), "order_id"),
        status=OrderStatus.REFUNDED,
        occurred_at=n.instant(payload.get("processed_at")) or n.instant(payload.get("created_at")) or now,
        customer=CustomerInfo(),
    )


def _compliance_customer(payload: Mapping[str, Any], notes: n.Notes) -> CustomerInfo:
    person = as_dict(payload.get("customer"))
    return n.customer(
        notes, emails=[("customer.email", person.get("email"))], phones=[("customer.phone", person.get("phone"))]
    )


def _order_ids(listed: Any, field: str) -> tuple[str, ...]:
    """The order ids of a compliance payload; anything that is not one is passed over."""
    ids = (
        order_id(o, field)
        for o in as_list(listed)[:1000]
        if not isinstance(o, bool)
        and isinstance(o, (int, str))
        and str(o).strip().isdecimal()
        and len(str(o).strip()) <= 30
    )
    return tuple(dict.fromkeys(ids))


def _erasure(topic: str, payload: Mapping[str, Any], notes: n.Notes) -> n.Erasure:
    if topic == "shop/redact":
        return n.Erasure(whole_store=True)
    return n.Erasure(
        customer=_compliance_customer(payload, notes),
        order_ids=_order_ids(payload.get("orders_to_redact"), "orders_to_redact"),
    )


def _data_request(headers: Mapping[str, str], payload: Mapping[str, Any], notes: n.Notes) -> n.DataRequest:
    """``customers/data_request``: the request's id (else the delivery's webhook id, stable
    across Shopify's retries), whom it is about, and the orders it names."""
    request_id = n.text(as_dict(payload.get("data_request")).get("id"), 60) or n.text(
        headers.get("X-Shopify-Webhook-Id"), 60
    )
    if request_id is None:
        raise InvalidInput("missing data_request.id", field="data_request.id")
    return n.DataRequest(
        request_id=request_id,
        customer=_compliance_customer(payload, notes),
        order_ids=_order_ids(payload.get("orders_requested"), "orders_requested"),
        platform_customer_id=n.text(as_dict(payload.get("customer")).get("id"), 40),
        source=SOURCE,
    )
