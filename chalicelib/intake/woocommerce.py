"""WooCommerce webhooks: signature, topics and order statuses, and the order JSON read into
an :class:`OrderEvent`.

WooCommerce never retries a failed delivery and gives each attempt a new delivery id, so the
dedupe key is (webhook id, order id, ``date_modified``): the same state of the same order from
the same webhook is one event however often it arrives.  Birthday and consents come from the
order's ``meta_data`` keys that the store names in its settings.
"""

from __future__ import annotations

import html
import re
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

SOURCE = "woocommerce"
SIGNATURE = "X-WC-Webhook-Signature"
TOPIC = "X-WC-Webhook-Topic"
WEBHOOK_ID = "X-WC-Webhook-ID"
MAX_ITEMS = 100
_PING = re.compile(rb"^webhook_id=\d{1,20}$")

ORDER_TOPICS = ("order.created", "order.updated")
IGNORED_PREFIXES = ("order.", "customer.", "product.", "coupon.", "action.")
STATUSES = {
    "processing": OrderStatus.CREATED,
    "completed": OrderStatus.FULFILLED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.REFUNDED,
}


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """The unsigned request WooCommerce sends when a webhook is saved (``webhook_id=N``)."""
    return not headers.get(SIGNATURE) and bool(_PING.match(body.strip()))


def read(store: StoreItem, headers: Mapping[str, str], body: bytes, now: datetime, notes: n.Notes) -> n.Reading:
    if is_ping(headers, body):
        return n.Ignored("ping")
    require_body_hmac(registry.webhook_secrets(store, now), body, headers.get(SIGNATURE), SIGNATURE)
    topic = (headers.get(TOPIC) or "").strip()
    if topic not in ORDER_TOPICS:
        if topic.startswith(IGNORED_PREFIXES) and len(topic) <= 60:
            return n.Ignored(f"topic {topic}")
        raise InvalidInput(f"unknown topic: {topic[:80] or '(none)'}", field=TOPIC)
    payload = parse_json(body)
    raw_id = payload.get("id")
    if (
        isinstance(raw_id, bool)
        or not isinstance(raw_id, (int, str))
        or not str(raw_id).strip().isdecimal()
        or len(str(raw_id)) > 20
    ):
        raise InvalidInput("missing order id (id)", field="id")
    order_number = int(str(raw_id))
    state = str(payload.get("status") or "").strip().lower()
    status = STATUSES.get(state)
    if status is None:
        return n.Ignored(f"status {n.text(state, 40) or '(none)'}")
    modified_text = n.text(payload.get("date_modified_gmt"), 40) or n.text(payload.get("date_modified"), 40)
    webhook = (headers.get(WEBHOOK_ID) or "").strip()
    if not webhook or len(webhook) > 40:
        raise InvalidInput(f"missing {WEBHOOK_ID} header", field=WEBHOOK_ID)
    if not modified_text:
        raise InvalidInput("missing date_modified", field="date_modified")
    return OrderEvent(
        source=SOURCE,
        event_id=f"{webhook}:{order_number}:{modified_text}",
        store_id=str(store["store_id"]),
        order_id=f"{SOURCE}:{order_number}",
        status=status,
        occurred_at=n.instant(payload.get("date_modified_gmt")) or now,
        customer=_customer(store, payload, notes),
        ordered_at=n.instant(payload.get("date_created_gmt")),
        items=_items(payload.get("line_items")),
        total=n.amount(payload.get("total")),
        currency=n.currency(payload.get("currency")),
        order_name=f"#{n.text(payload.get('number'), 40) or order_number}",
    )


def _meta(payload: Mapping[str, Any], key: str) -> Any:
    """A ``meta_data`` value by key (plugins often store it with a leading underscore)."""
    if not key:
        return None
    wanted = {key.lower(), f"_{key.lower()}"}
    for entry in as_list(payload.get("meta_data")):
        if isinstance(entry, dict) and str(entry.get("key", "")).lower() in wanted:
            return entry.get("value")
    return None


def _customer(store: StoreItem, payload: Mapping[str, Any], notes: n.Notes) -> CustomerInfo:
    billing = as_dict(payload.get("billing"))
    shipping = as_dict(payload.get("shipping"))
    region = billing.get("country") or shipping.get("country")
    birthday_field = str(store.get("birthday_field") or "birthday")
    return n.customer(
        notes,
        emails=[("billing.email", billing.get("email"))],
        phones=[("billing.phone", billing.get("phone")), ("shipping.phone", shipping.get("phone"))],
        region=region if isinstance(region, str) else None,
        first_name=_name(billing.get("first_name"), 100) or _name(shipping.get("first_name"), 100),
        born=(f"meta_data.{birthday_field}", _meta(payload, birthday_field)),
        email_consent=_meta(payload, str(store.get("email_consent_field") or "")),
        sms_consent=_meta(payload, str(store.get("sms_consent_field") or "")),
        whatsapp_consent=_meta(payload, str(store.get("whatsapp_consent_field") or "")),
    )


def _name(value: Any, limit: int) -> str | None:
    """A name as people read it: WooCommerce sends product and customer names HTML-encoded
    (``Ship Your Idea &ndash; Color: Black``), and our messages escape on their own."""
    return n.text(html.unescape(value) if isinstance(value, str) else value, limit)


def _items(lines: Any) -> tuple[LineItem, ...]:
    out = []
    for line in (lines if isinstance(lines, list) else [])[:MAX_ITEMS]:
        if not isinstance(line, dict):
            continue
        title = _name(line.get("name"), 200) or ""
        sku = (
            n.text(line.get("sku"), 100)
            or n.text(line.get("variation_id") or None, 100)
            or n.text(line.get("product_id"), 100)
        )
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
