"""``GET /stores/{store_id}/jobs``: which schedule a query asks for.  An order's or a customer's
follow-ups (any status, paged), or the store's failed ones; never the whole table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.core import validate
from chalicelib.core.errors import InvalidInput
from chalicelib.customers import exports
from chalicelib.schedule import jobs
from chalicelib.storage import db


def jobs_listing(table: db.Table, store: Mapping[str, Any], query: Mapping[str, str] | None) -> dict[str, Any]:
    """``order_id`` and/or ``customer`` (an email or a phone as typed) with an optional
    ``status``, paged by ``limit``/``after``; or ``status=failed`` alone for the store's failures."""

    params = query or {}
    store_id = str(store["store_id"])
    status = params.get("status")
    if status is not None and status not in jobs.STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(sorted(jobs.STATUSES))}", field="status")
    order_id, contact = params.get("order_id"), params.get("customer")
    if order_id or contact:
        customer_id = exports.customer_of(table, store, contact) if contact else None
        rows = jobs.schedule_view(table, store_id, order_id=order_id, customer_id=customer_id, status=status)
        limit = validate.int_param(params, "limit", default=100, low=1, high=100)
        page, cursor = jobs.schedule_page(
            rows, limit=limit, after=params.get("after"), scope=f"{order_id}|{customer_id}|{status}"
        )
        return {"jobs": page, "next": cursor}
    if status != "failed":
        raise InvalidInput("give order_id or customer, or status=failed", field="status")
    return {"jobs": jobs.failed_jobs(table, store_id)}
