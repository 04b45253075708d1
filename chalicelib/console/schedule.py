"""The schedule page: an order's or a customer's follow-ups (pending, sent, skipped, failed,
each with why), the store's failed ones, and a retry for a failed one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.console import words
from chalicelib.console.view import Ctx, Moved
from chalicelib.core.errors import NotFound
from chalicelib.core.validate import region_of_zone
from chalicelib.customers import exports
from chalicelib.schedule import jobs

SHOWN = ("pending", "sent", "skipped", "failed", "cancelled")


def _row(ctx: Ctx, row: Mapping[str, Any], labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    reason = row.get("reason") or (row.get("deferred_reason") if row.get("status") == "pending" else None)
    code = str(reason or "")
    return {
        "kind": labels["kinds"].get(str(row.get("kind")), row.get("kind")),
        "status": row.get("status"),
        "status_label": labels["statuses"].get(str(row.get("status")), row.get("status")),
        "order_id": row.get("order_id"),
        "customer_id": row.get("customer_id"),
        "due": ctx.when(row.get("due")),
        "finished": ctx.when(row.get("finished_at")),
        "reason": code,
        "reason_label": labels["reasons"].get(code.split(" ")[0], ""),
        "ref": row.get("ref"),
    }


def page(ctx: Ctx, query: Mapping[str, str]) -> dict[str, Any]:
    _ = ctx.gettext
    labels = {"kinds": words.kind_labels(_), "statuses": words.status_labels(_), "reasons": words.reason_labels(_)}
    order_id = (query.get("order_id") or "").strip()[:200]
    contact = (query.get("customer") or "").strip()[:320]
    status = query.get("status") if query.get("status") in jobs.STATUSES else ""
    rows: list[dict[str, Any]] | None = None
    unknown = False
    if order_id or contact:
        customer_id = None
        if contact:
            try:
                customer_id = exports.resolve(
                    ctx.table, ctx.store_id, contact, region_of_zone(ctx.store.get("timezone"))
                )
            except NotFound:
                unknown = True
        if not unknown or order_id:
            found = jobs.schedule_view(
                ctx.table, ctx.store_id, order_id=order_id or None, customer_id=customer_id, status=status or None
            )
            rows = [_row(ctx, r, labels) for r in found]
    failed = [_row(ctx, r, labels) for r in jobs.failed_jobs(ctx.table, ctx.store_id, 50, with_refs=True)]
    return {
        "order_id": order_id,
        "customer": contact,
        "status": status,
        "statuses": [(s, labels["statuses"][s]) for s in SHOWN],
        "rows": rows,
        "unknown_customer": unknown,
        "failed": failed,
    }


def retry(ctx: Ctx, clients: Any, form: Mapping[str, str]) -> Moved:
    """Queue a failed job again, due now (dispatch hands it to send at its next run)."""
    jobs.retry_failed(ctx.table, ctx.store_id, form.get("ref"), ctx.now)
    return Moved("schedule", "retried", {}, "failed")
