"""Customers: one record per person per store, keyed by the normalised email or, without one,
the E.164 phone, so the same person ordering through two platforms is one customer.

The record is written only by upserts that never read first: ``SET`` what the source states,
``if_not_exists`` for what the first event decides, ``ADD`` for the order count.  Contact
aliases (email or phone → customer id) let replies and opt-outs find the customer.

Attributes of a customer item: ``customer_id``, ``email``, ``phone``, ``first_name``,
``language``, ``timezone``, ``birthday`` (``MM-DD`` or ``YYYY-MM-DD``), ``email_consent`` and
``sms_consent`` (marketing; absent = never stated), ``whatsapp_consent`` (opt-in to WhatsApp), ``first_order_at``, ``last_order_at``,
``last_order_id``, ``orders_count``, ``created_at``, ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.core.errors import InvalidInput
from chalicelib.core.models import LANGUAGES, CustomerInfo
from chalicelib.intake import normalize as n
from chalicelib.schedule import followups
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update, stated
from chalicelib.storage.items import StoreItem

CUSTOMER_FIELDS = (
    "email",
    "phone",
    "first_name",
    "language",
    "timezone",
    "birthday",
    "email_consent",
    "sms_consent",
    "whatsapp_consent",
)
MAX_SYNC = 500
MAX_TRANSACTION = 100


def profile(info: CustomerInfo) -> dict[str, Any]:
    """The attributes an event or a sync states about a customer (None = not stated)."""
    return {name: getattr(info, name) for name in CUSTOMER_FIELDS}


def upsert_ops(
    store_id: str,
    info: CustomerInfo,
    now: datetime,
    *,
    order_id: str | None = None,
    ordered_at: datetime | None = None,
    new_order: bool = False,
) -> list[db.TransactOp]:
    """The customer upsert, its contact aliases and (for an order) the customer → order link.

    ``new_order`` is set only when the same transaction creates the order item, so
    ``orders_count`` counts each order once however its events arrive.
    """
    customer_id = info.customer_id
    if customer_id is None:
        return []
    update = (
        Update()
        .set(
            stated(
                {
                    "type": "customer",
                    "store_id": store_id,
                    "customer_id": customer_id,
                    **profile(info),
                    **keys.customer_listing(store_id, customer_id),
                    "updated_at": iso(now),
                }
            )
        )
        .set_if_absent({"created_at": iso(now)})
    )
    if new_order and order_id is not None:
        moment = iso(ordered_at or now)
        update = (
            update.set({"last_order_at": moment, "last_order_id": order_id})
            .set_if_absent({"first_order_at": moment})
            .add({"orders_count": 1})
        )
    ops = [db.update(keys.customer(store_id, customer_id), update, label="customer")]
    for channel, value in (("email", info.email), ("sms", info.phone)):
        if value:
            ops.append(
                db.put(
                    {
                        **keys.contact(store_id, value),
                        "type": "contact",
                        "store_id": store_id,
                        "channel": channel,
                        "customer_id": customer_id,
                        "updated_at": iso(now),
                    },
                    label="contact",
                )
            )
    if order_id is not None:
        ops.append(
            db.put(
                {
                    **keys.customer_order(store_id, customer_id, order_id),
                    "type": "customer_order",
                    "store_id": store_id,
                    "customer_id": customer_id,
                    "order_id": order_id,
                    "ordered_at": iso(ordered_at) if ordered_at else None,
                },
                label="order link",
            )
        )
    return ops


def find(table: db.Table, store_id: str, contact: str) -> str | None:
    """The customer id that owns an email or E.164 phone, or None."""
    value = contact.strip()
    if "@" in value:
        value = value.lower()
    alias = table.get(keys.contact(store_id, value))
    if alias:
        return str(alias["customer_id"])
    return value if table.get(keys.customer(store_id, value)) else None


# --- the customer schema shared by the generic webhook and CRM sync -------------------------
def parse(value: Any, path: str, notes: n.Notes, *, strict: bool) -> CustomerInfo:
    """Read a customer object.  Unknown fields and wrong types are always 400 (naming the field);
    with ``strict`` an unusable email, phone, time zone or birthday is 400 too, otherwise it is
    dropped with a note (a store's webhook must not lose an order over a typo)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{path} must be an object", field=path)
    unknown = sorted(set(value) - set(CUSTOMER_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field: {path}.{unknown[0]}", field=f"{path}.{unknown[0]}")

    def field(name: str) -> str:
        return f"{path}.{name}"

    for name in ("email", "phone", "first_name", "language", "timezone", "birthday"):
        if value.get(name) is not None and not isinstance(value[name], str):
            raise InvalidInput(f"{field(name)} must be text", field=field(name))
    for name in ("email_consent", "sms_consent", "whatsapp_consent"):
        if value.get(name) is not None and not isinstance(value[name], bool):
            raise InvalidInput(f"{field(name)} must be true, false or null", field=field(name))
    if value.get("first_name") is not None and len(value["first_name"]) > 100:
        raise InvalidInput(f"{field('first_name')} must be at most 100 characters", field=field("first_name"))

    local = n.Notes()
    info = CustomerInfo(
        email=n.email(value.get("email"), field("email"), local),
        phone=n.phone(value.get("phone"), field("phone"), local),
        first_name=n.text(value.get("first_name"), 100),
        language=n.language(value.get("language")),
        timezone=n.timezone(value.get("timezone"), field("timezone"), local),
        birthday=n.birthday(value.get("birthday"), field("birthday"), local),
        email_consent=value.get("email_consent"),
        sms_consent=value.get("sms_consent"),
        whatsapp_consent=value.get("whatsapp_consent"),
    )
    if strict and local.dropped:
        name, _, why = local.dropped[0].partition(": ")
        raise InvalidInput(f"{name} is {why}" if why.startswith("not") else f"{name}: {why}", field=name)
    if strict and value.get("language") is not None and info.language is None:
        raise InvalidInput(f"{field('language')} must be one of {', '.join(LANGUAGES)}", field=field("language"))
    notes.dropped.extend(local.dropped)
    return info


# --- CRM sync ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyncResult:
    received: int
    written: int
    transactions: int


def parse_sync(body: Mapping[str, Any]) -> list[CustomerInfo]:
    """Validate a whole sync body first: any bad record is a 400 naming its index and field,
    and nothing is written."""
    unknown = sorted(set(body) - {"customers"})
    if unknown:
        raise InvalidInput(f"unknown field: {unknown[0]}", field=unknown[0])
    records = body.get("customers")
    if not isinstance(records, list) or not records:
        raise InvalidInput("customers must be a non-empty list", field="customers")
    if len(records) > MAX_SYNC:
        raise InvalidInput(f"at most {MAX_SYNC} customers per call", field="customers")
    out: list[CustomerInfo] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        path = f"customers[{index}]"
        info = parse(record, path, n.Notes(), strict=True)
        if info.customer_id is None:
            raise InvalidInput(f"{path} needs an email or a phone", field=f"{path}.email")
        # One customer per email and per phone: two records sharing either are one person twice.
        for contact in (info.customer_id, info.email, info.phone):
            if contact and seen.get(contact, index) != index:
                raise InvalidInput(f"{path} is the same customer as customers[{seen[contact]}]", field=path)
        for contact in (info.customer_id, info.email, info.phone):
            if contact:
                seen[contact] = index
        out.append(info)
    return out


def sync(table: db.Table, store: StoreItem, body: Mapping[str, Any], now: datetime) -> SyncResult:
    """Upsert up to 500 customers (and their birthday greetings) in transactions of at most
    100 items.  Each customer is all-or-nothing; the call as a whole is not (an earlier chunk
    stays written if a later one fails), and repeating it is harmless."""

    records = parse_sync(body)
    store_id = str(store["store_id"])
    chunk: list[db.TransactOp] = []
    written = in_chunk = transactions = 0
    for info in records:
        ops = upsert_ops(store_id, info, now)
        ops += followups.plan_customer(str(info.customer_id), info, store, now, shards=table.due_shards)
        if len(chunk) + len(ops) > MAX_TRANSACTION:
            table.transact(chunk)
            transactions += 1
            written += in_chunk
            chunk, in_chunk = [], 0
        chunk += ops
        in_chunk += 1
    if chunk:
        table.transact(chunk)
        transactions += 1
        written += in_chunk
    return SyncResult(received=len(records), written=written, transactions=transactions)
