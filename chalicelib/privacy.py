"""Erasure of personal data: one customer, some orders, or every customer of a store.

Used by Shopify's compliance webhooks (``customers/redact``, ``shop/redact``) and by the GDPR
``DELETE`` route.  Erasing a customer deletes its record, its contact aliases, everything in
its partition (jobs, message records, order links) and the jobs of its orders, and removes
the personal attributes (:data:`PERSONAL_FIELDS`) from every other item of those orders (the
order itself, survey answers), which stay for the store's statistics.  Every step is
idempotent, so an interrupted erasure is finished by running it again.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import cases, db, keys
from chalicelib.clock import iso
from chalicelib.errors import Unavailable
from chalicelib.observability import logger

if TYPE_CHECKING:  # pragma: no cover
    from chalicelib.intake.normalize import Erasure

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
            table.delete(keys.contact(store_id, value), condition=db.Expr("customer_id = :cid", values={":cid": customer_id}))
        except db.ConditionFailed:
            pass  # the alias belongs to someone else now, or is already gone
    orders = [str(item["order_id"]) for item in owned if str(item["SK"]).startswith(keys.customer_order_sk("")) and item.get("order_id")]
    for order_id in orders:
        done += erase_order(table, store_id, order_id, now)
    done.items_deleted += cases.erase(table, store_id, customer_id, orders)
    for token in {str(token) for item in owned for token in item.get("survey_tokens") or ()}:
        table.delete(keys.survey(token), condition=db.Expr("attribute_not_exists(PK) OR store_id = :sid", values={":sid": store_id}))
        done.items_deleted += 1
    phone = record.get("phone") if record else (customer_id if customer_id.startswith("+") else None)
    if phone:
        done.items_deleted += _delete(table, (item for item in table.partition(keys.phone_pk(str(phone))) if item.get("store_id") == store_id))
    done.items_deleted += _delete(table, owned)
    done.customers += 1 if record else 0
    logger.info("customer erased", extra={"store_id": store_id, "orders": len(orders)})
    return done


def erase_order(table: db.Table, store_id: str, order_id: str, now: datetime) -> Erased:
    """Delete an order's jobs and strip personal attributes from the rest of its partition."""
    done = Erased(orders=1)
    job_prefix = keys.job_sk("")
    for item in list(table.partition(keys.order_pk(store_id, order_id), consistent=True)):
        key = {"PK": item["PK"], "SK": item["SK"]}
        if str(item["SK"]).startswith(job_prefix):
            table.delete(key)
            done.items_deleted += 1
            continue
        present = [name for name in PERSONAL_FIELDS if name in item]
        if present:
            table.update(key, db.set_expr({"erased_at": iso(now)}, remove=present), return_values="NONE")
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


def erase(table: db.Table, store_id: str, request: Erasure, now: datetime) -> Erased:
    """Carry out a platform's erasure request (within a webhook's time budget)."""
    from chalicelib import customers

    if request.whole_store:
        return erase_store(table, store_id, now, budget_seconds=WEBHOOK_BUDGET_SECONDS)
    done = Erased()
    info = request.customer
    seen: set[str] = set()
    for contact in (info.email, info.phone) if info else ():
        customer_id = customers.find(table, store_id, contact) if contact else None
        if customer_id and customer_id not in seen:
            seen.add(customer_id)
            done += erase_customer(table, store_id, customer_id, now)
    for order_id in request.order_ids:
        done += erase_order(table, store_id, order_id, now)
    return done


def _delete(table: db.Table, items: Iterable[dict[str, Any]]) -> int:
    deleted = 0
    for item in items:
        table.delete({"PK": item["PK"], "SK": item["SK"]})
        deleted += 1
    return deleted
