"""The generic order event, for any platform other than Shopify and WooCommerce, signed per
the Standard Webhooks spec.  The schema is strict (an unknown field is a 400 naming it) so a
typo never passes silently; contact data that cannot be used is dropped with a warning in the
answer instead, so an order is never lost over a customer's typo.

    {
      "order_id": "A-1001",                         required; letters, digits, . _ - / #
      "status": "created",                          created | fulfilled | delivered | cancelled | refunded
      "occurred_at": "2026-11-22T10:00:00Z",        required; when the order reached this status
      "ordered_at": "2026-11-22T09:58:00Z",         optional; defaults to occurred_at for created
      "order_name": "#1001",                        optional; what the customer sees
      "customer": {"email", "phone" (E.164), "first_name", "language", "timezone" (IANA),
                   "birthday" (YYYY-MM-DD or MM-DD), "email_consent", "sms_consent", "whatsapp_consent" (true/false/null)},
      "items": [{"sku", "title", "quantity", "warranty_months"}],   at most 50
      "total": "129.90",  "currency": "EUR"
    }
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.core.errors import InvalidInput
from chalicelib.core.models import CustomerInfo, LineItem, OrderEvent, OrderStatus
from chalicelib.core.validate import parse_json
from chalicelib.customers import profiles
from chalicelib.intake import normalize as n
from chalicelib.intake.signatures import require_standard
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry

SOURCE = "generic"
FIELDS = ("order_id", "status", "occurred_at", "ordered_at", "order_name", "customer", "items", "total", "currency")
ITEM_FIELDS = ("sku", "title", "quantity", "warranty_months")
STATUSES = ("created", "fulfilled", "delivered", "cancelled", "refunded")
MAX_ITEMS = 50
_ORDER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/#]{0,99}$")
_AMOUNT = re.compile(r"^-?\d{1,12}(\.\d{1,4})?$")


def read(store: StoreItem, headers: Mapping[str, str], body: bytes, now: datetime, notes: n.Notes) -> OrderEvent:
    message_id = headers.get("webhook-id")
    require_standard(
        registry.webhook_secrets(store, now),
        message_id,
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
        body,
        now,
    )
    assert message_id is not None
    if len(message_id) > 200:
        raise InvalidInput("webhook-id is too long", field="webhook-id")
    return parse_event(parse_json(body), message_id.strip(), str(store["store_id"]), notes)


def _required_text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"missing {name}", field=name)
    return value.strip()


def _instant(payload: Mapping[str, Any], name: str, *, required: bool) -> datetime | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"missing {name}" if value is None else f"{name} must be an ISO 8601 time", field=name)
    moment = n.instant(value)
    if moment is None:
        raise InvalidInput(f"{name} must be an ISO 8601 time such as 2026-11-22T10:00:00Z", field=name)
    return moment


def parse_event(payload: Mapping[str, Any], message_id: str, store_id: str, notes: n.Notes) -> OrderEvent:
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field: {unknown[0]}", field=unknown[0])
    order_id = _required_text(payload, "order_id")
    if not _ORDER_ID.match(order_id):
        raise InvalidInput(
            "order_id must be 1 to 100 letters, digits or . _ - / # (starting with a letter or digit)", field="order_id"
        )
    status_text = payload.get("status")
    if status_text not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    status = OrderStatus(status_text)
    occurred_at = _instant(payload, "occurred_at", required=True)
    assert occurred_at is not None
    ordered_at = _instant(payload, "ordered_at", required=False)
    if ordered_at is None and status is OrderStatus.CREATED:
        ordered_at = occurred_at
    name = payload.get("order_name")
    if name is not None and (not isinstance(name, str) or len(name) > 60):
        raise InvalidInput("order_name must be text of at most 60 characters", field="order_name")

    info = (
        profiles.parse(payload["customer"], "customer", notes, strict=False)
        if payload.get("customer") is not None
        else CustomerInfo()
    )
    return OrderEvent(
        source=SOURCE,
        event_id=message_id,
        store_id=store_id,
        order_id=order_id,
        status=status,
        occurred_at=occurred_at,
        customer=info,
        ordered_at=ordered_at,
        items=_items(payload.get("items")),
        total=_total(payload.get("total")),
        currency=_currency(payload.get("currency")),
        order_name=n.text(name, 60),
    )


def _items(value: Any) -> tuple[LineItem, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise InvalidInput(f"items must be a list of at most {MAX_ITEMS} objects", field="items")
    out = []
    for index, item in enumerate(value):
        path = f"items[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{path} must be an object", field=path)
        unknown = sorted(set(item) - set(ITEM_FIELDS))
        if unknown:
            raise InvalidInput(f"unknown field: {path}.{unknown[0]}", field=f"{path}.{unknown[0]}")
        sku = item.get("sku")
        if not isinstance(sku, str) or len(sku) > 100 or n.text(sku, 100) is None:
            raise InvalidInput(f"{path}.sku must be text of 1 to 100 characters", field=f"{path}.sku")
        title = item.get("title", "")
        if not isinstance(title, str) or len(title) > 200:
            raise InvalidInput(f"{path}.title must be text of at most 200 characters", field=f"{path}.title")
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100_000:
            raise InvalidInput(f"{path}.quantity must be a whole number from 1", field=f"{path}.quantity")
        months = item.get("warranty_months")
        if months is not None and (isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 240):
            raise InvalidInput(
                f"{path}.warranty_months must be a whole number from 1 to 240", field=f"{path}.warranty_months"
            )
        out.append(
            LineItem(
                sku=n.text(sku, 100) or "", title=n.text(title, 200) or "", quantity=quantity, warranty_months=months
            )
        )
    return tuple(out)


def _total(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _AMOUNT.match(text.strip()):
        raise InvalidInput('total must be a decimal amount such as "129.90"', field="total")
    return text.strip()


def _currency(value: Any) -> str | None:
    if value is None:
        return None
    code = n.currency(value) if isinstance(value, str) and len(value.strip()) == 3 else None
    if code is None:
        raise InvalidInput("currency must be a three-letter ISO 4217 code", field="currency")
    return code
