"""Erasure of personal data (one customer, some orders, or every customer of a store) and
requests to see it.

Used by Shopify's compliance webhooks (``customers/redact``, ``shop/redact``,
``customers/data_request``) and by the GDPR ``DELETE`` route.  A request names a customer by
contact and by orders; the orders are followed to the customers they belong to, since an
order's email need not be its customer's (Shopify's own samples differ).

Erasing a customer deletes its record, its contact aliases, everything in its partition
(jobs, message records, order links) and the jobs of its orders, and removes the personal
attributes (:data:`PERSONAL_FIELDS`) from every other item of those orders (the order itself,
survey answers), which stay for the store's statistics.  Every step is idempotent, so an
interrupted erasure is finished by running it again.  A data request is recorded and told to
the store's support; the customer export then shows it.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.clock import iso
from chalicelib.core.errors import Unavailable
from chalicelib.customers import profiles
from chalicelib.messaging import transports
from chalicelib.platform.aws import Clients
from chalicelib.platform.observability import logger
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import StoreItem
from chalicelib.support import cases

if TYPE_CHECKING:  # pragma: no cover
    from chalicelib.core.models import CustomerInfo
    from chalicelib.intake.normalize import DataRequest, Erasure

PERSONAL_FIELDS = ("customer_id", "email", "phone", "first_name", "contact", "comment", "comments")
WEBHOOK_BUDGET_SECONDS = 4.0  # Shopify waits 5 s for an answer, then retries


@dataclass
class Erased:
    customers: int = 0
    orders: int = 0
    items_deleted: int = 0
    items_scrubbed: int = 0

    def __iadd__(self, other: Erased) -> Erased:
        self.customers += other.customers
        self.orders += other.orders
        self.items_deleted += other.items_deleted
        self.items_scrubbed += other.items_scrubbed
        return self


def erase_customer(table: db.Table, store_id: str, customer_id: str, now: datetime) -> Erased:
    """Forget one customer of a store (nothing to do if it is already gone)."""
    done = Erased()
    owned = list(table.partition(keys.customer_pk(store_id, customer_id), consistent=True))
    record = next((item for item in owned if item["SK"] == keys.customer(store_id, customer_id)["SK"]), None)
    contacts = {customer_id} | {str(record[name]) for name in ("email", "phone") if record and record.get(name)}
    for value in contacts:
        try:
            table.delete(
                keys.contact(store_id, value), condition=db.Expr("customer_id = :cid", values={":cid": customer_id})
            )
        except db.ConditionFailed:
            pass  # the alias belongs to someone else now, or is already gone
    orders = [str(item["order_id"]) for item in owned if keys.is_order_link(item) and item.get("order_id")]
    for order_id in orders:
        done += erase_order(table, store_id, order_id, now)
    done.items_deleted += cases.erase(table, store_id, customer_id, orders)
    for token in {str(token) for item in owned for token in item.get("survey_tokens") or ()}:
        table.delete(
            keys.survey(token),
            condition=db.Expr("attribute_not_exists(PK) OR store_id = :sid", values={":sid": store_id}),
        )
        done.items_deleted += 1
    phone = record.get("phone") if record else (customer_id if customer_id.startswith("+") else None)
    if phone:
        done.items_deleted += _delete(
            table, (item for item in table.partition(keys.phone_pk(str(phone))) if item.get("store_id") == store_id)
        )
    done.items_deleted += _delete(table, owned)
    done.customers += 1 if record else 0
    logger.info("customer erased", extra={"store_id": store_id, "orders": len(orders)})
    return done


def erase_order(table: db.Table, store_id: str, order_id: str, now: datetime) -> Erased:
    """Delete an order's jobs and strip personal attributes from the rest of its partition."""
    done = Erased(orders=1)
    for item in list(table.partition(keys.order_pk(store_id, order_id), consistent=True)):
        key = keys.of(item)
        if keys.is_job(item):
            table.delete(key)
            done.items_deleted += 1
            continue
        present = [name for name in PERSONAL_FIELDS if name in item]
        if present:
            table.update(key, Update().set({"erased_at": iso(now)}).remove(*present), return_values="NONE")
            done.items_scrubbed += 1
    return done


def erase_store(table: db.Table, store_id: str, now: datetime, *, budget_seconds: float | None = None) -> Erased:
    """Forget every customer of a store.  With a budget, stop when it is spent and raise
    Unavailable, so a webhook sender retries and the next call carries on."""
    started = time.monotonic()
    done = Erased()
    listing = db.Expr("gsi1pk = :pk", values={":pk": keys.customer_listing_pk(store_id)})
    for item in table.query_all(listing, index=keys.GSI1):
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            raise Unavailable("erasure is under way; retry to continue it")
        done += erase_customer(table, store_id, str(item["customer_id"]), now)
    logger.info("store customers erased", extra={"store_id": store_id, "customers": done.customers})
    return done


def customers_of(table: db.Table, store_id: str, person: CustomerInfo | None, order_ids: Iterable[str]) -> list[str]:
    """The customers a request is about: found by its email and phone, and as the owners of
    the orders it names."""

    found: list[str] = []
    for contact in (person.email, person.phone) if person else ():
        customer_id = profiles.find(table, store_id, contact) if contact else None
        if customer_id and customer_id not in found:
            found.append(customer_id)
    for order_id in order_ids:
        order = table.get(keys.order(store_id, order_id), consistent=True)
        owner = order.get("customer_id") if order else None
        if owner and str(owner) not in found:
            found.append(str(owner))
    return found


def erase(table: db.Table, store_id: str, request: Erasure, now: datetime) -> Erased:
    """Carry out a platform's erasure request (within a webhook's time budget)."""
    if request.whole_store:
        return erase_store(table, store_id, now, budget_seconds=WEBHOOK_BUDGET_SECONDS)
    done = Erased()
    for customer_id in customers_of(table, store_id, request.customer, request.order_ids):
        done += erase_customer(table, store_id, customer_id, now)
    for order_id in request.order_ids:
        done += erase_order(table, store_id, order_id, now)
    return done


# --- access requests -------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessRequest:
    request_id: str
    customers: tuple[str, ...]


def record_data_request(
    table: db.Table, clients: Clients, store: StoreItem, request: DataRequest, now: datetime, *, base_url: str
) -> AccessRequest:
    """Record a platform's request for a customer's data and tell the store's support what was
    asked and where the export is.  The record sits with each customer found (so the
    customer's export shows it) or, when none is, with the store.  A retried delivery records
    nothing twice and tells support once; a failed email is a 503, so the platform retries."""

    store_id = str(store["store_id"])
    found = customers_of(table, store_id, request.customer, request.order_ids)
    owners: list[tuple[str, str | None]] = [(keys.customer_pk(store_id, c), c) for c in found] or [
        (keys.store_pk(store_id), None)
    ]
    record = {
        "type": "data_request",
        "store_id": store_id,
        "request_id": request.request_id,
        "source": request.source,
        "received_at": iso(now),
        "asked_for": {
            k: v
            for k, v in (
                ("email", request.customer.email),
                ("phone", request.customer.phone),
                ("platform_customer_id", request.platform_customer_id),
            )
            if v
        },
        "orders_requested": list(request.order_ids) or None,
        "customer_ids": found or None,
    }
    notified = False
    for owner, customer_id in owners:
        key = keys.data_request(owner, request.request_id)
        try:
            table.create({**key, **record, "customer_id": customer_id})
        except db.ConditionFailed:
            pass  # a retried delivery
        existing = table.get(key, consistent=True)
        notified = notified or bool(existing and existing.get("notified_at"))
    if not notified:
        subject, text, page = _data_request_message(store, request, found, base_url)
        try:
            transports.send_email(
                clients, store, str(store.get("support_email") or store["sender_email"]), subject, page, text
            )
        except (transports.Rejected, transports.ProviderBusy, BotoCoreError, ClientError) as exc:
            logger.warning("data request notice not sent", extra={"store_id": store_id, "error": type(exc).__name__})
            raise Unavailable("the request is recorded but support could not be told yet; retry") from exc
        for owner, _ in owners:
            table.update(
                keys.data_request(owner, request.request_id),
                Update().set({"notified_at": iso(now)}),
                return_values="NONE",
            )
    logger.info("data request recorded", extra={"store_id": store_id, "customers": len(found)})
    return AccessRequest(request.request_id, tuple(found))


def _data_request_message(
    store: StoreItem, request: DataRequest, found: list[str], base_url: str
) -> tuple[str, str, str]:

    store_id = str(store["store_id"])
    platform = request.source.capitalize() or "Your platform"
    asked = ", ".join(v for v in (request.customer.email, request.customer.phone) if v) or "(no usable email or phone)"
    lines = [
        f"{platform} asks, on behalf of a customer, for the data {store.get('name') or store_id} holds about them (request {request.request_id}).",
        "",
        f"Customer: {asked}"
        + (f" ({platform} customer {request.platform_customer_id})" if request.platform_customer_id else ""),
    ]
    if request.order_ids:
        lines.append("Orders named: " + ", ".join(o.partition(":")[2] or o for o in request.order_ids))
    if found:
        lines.append(
            f"Aftercare holds data about {len(found)} customer(s). Download each export with the store's API key:"
        )
        lines += [f"  GET {base_url}/stores/{store_id}/customers/{quote(c, safe='@+')}" for c in found]
    else:
        lines.append("Aftercare holds no customer matching this request.")
    lines += ["", "Send the customer's data to the store owner within 30 days, as the platform requires."]
    text = "\n".join(lines)
    page = '<pre style="font-family: inherit; white-space: pre-wrap">' + html.escape(text) + "</pre>"
    subject = f"Customer data request {request.request_id}"[:99]
    return subject, text, page


def _delete(table: db.Table, items: Iterable[dict[str, Any]]) -> int:
    deleted = 0
    for item in items:
        table.delete(keys.of(item))
        deleted += 1
    return deleted
