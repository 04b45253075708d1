"""Jobs: everything that happens later is an item with a due time in the sparse due index.

A pending job carries ``due_pk``/``due_at``; claiming, sending, skipping or cancelling it
removes them, so the index only ever holds what is still to be done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.core.errors import InvalidInput
from chalicelib.core.models import JobKind, JobStatus
from chalicelib.platform import signing
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import JobItem, as_job


def job_item(
    owner_pk: str,
    kind: JobKind,
    due: datetime,
    *,
    store_id: str,
    shards: int,
    customer_id: str | None = None,
    order_id: str | None = None,
    discriminator: str = "",
    data: Mapping[str, Any] | None = None,
    created_at: datetime | None = None,
) -> JobItem:
    key = keys.job(owner_pk, kind.value, discriminator)
    return as_job(
        {
            **key,
            "type": "job",
            "kind": kind.value,
            "status": JobStatus.PENDING.value,
            "store_id": store_id,
            "customer_id": customer_id,
            "order_id": order_id,
            "due": iso(due),
            "due_pk": keys.due_shard(key["PK"], key["SK"], shards),
            "due_at": iso(due),
            "data": dict(data) if data else None,
            "attempts": 0,
            "created_at": iso(created_at) if created_at else None,
        }
    )


def schedule(job: JobItem) -> db.TransactOp:
    """Write a job blindly (no read, no condition), so intake stays one write request.

    Keys are deterministic (owner + kind), so a repeated event rewrites the same job rather
    than adding a second one; ``send`` claims each occurrence in a ledger, so a rewrite can
    never make a message go out twice.
    """
    return db.put(job, label="job")


def cancel(key: keys.Key, reason: str, now: datetime) -> db.TransactOp:
    """Cancel a job only while it is still pending."""
    return db.update(
        key,
        Update()
        .set({"status": JobStatus.CANCELLED.value, "reason": reason, "finished_at": iso(now)})
        .remove("due_pk", "due_at"),
        condition=db.Expr("#st = :pending", names={"#st": "status"}, values={":pending": JobStatus.PENDING.value}),
        label="cancel",
    )


VIEW_FIELDS = (
    "kind",
    "status",
    "order_id",
    "customer_id",
    "due",
    "reason",
    "deferred_reason",
    "finished_at",
    "attempts",
)
STATUSES = frozenset(s.value for s in JobStatus)


def schedule_view(
    table: db.Table,
    store_id: str,
    *,
    order_id: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """An order's or a customer's follow-ups, by due time, with why a skipped one did not go.

    An order's partition holds its jobs and the follow-ups its events did not plan because
    their moment had passed (``late_event``); a customer's holds the win-back, birthday and
    anniversary.  One partition read each, never a scan."""
    rows: list[dict[str, Any]] = []
    owners = []
    if order_id:
        owners.append(keys.order_pk(store_id, order_id))
    if customer_id:
        owners.append(keys.customer_pk(store_id, customer_id))
    for owner in owners:
        for item in table.partition(owner):
            if keys.is_job(item):
                rows.append({k: item.get(k) for k in VIEW_FIELDS})
            elif keys.is_late_followup(item):
                rows.append(
                    {
                        "kind": str(item["name"]).split(":")[0],
                        "status": JobStatus.SKIPPED.value,
                        "order_id": item.get("order_id"),
                        "due": item.get("due"),
                        "reason": item.get("reason"),
                        "event": item.get("event"),
                        "finished_at": item.get("noticed_at"),
                        "follow_up": item.get("name"),
                    }
                )
    if status:
        rows = [r for r in rows if r["status"] == status]
    return sorted(rows, key=lambda r: (str(r.get("due") or ""), str(r.get("kind"))))


def schedule_page(
    rows: list[dict[str, Any]], *, limit: int, after: str | None, scope: str
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a schedule and a signed cursor for the next (None at the end); the cursor
    names its scope, so it cannot be replayed against another order or customer."""

    offset = 0
    if after:
        position = signing.verify("jobs-cursor", after)
        data = json.loads(position) if position else None
        if not isinstance(data, dict) or data.get("scope") != scope or not isinstance(data.get("offset"), int):
            raise InvalidInput("after is not a cursor this API gave out for this schedule", field="after")
        offset = data["offset"]
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    cursor = signing.sign("jobs-cursor", json.dumps({"scope": scope, "offset": offset + limit})) if more else None
    return page, cursor


def failed_jobs(table: db.Table, store_id: str, limit: int = 100, *, with_refs: bool = False) -> list[dict[str, Any]]:
    """A store's failed jobs, newest first (the gsi1 listing set by :func:`chalicelib.messaging.delivery._fail`), and the
    messages sent but unconfirmed (status ``sent``, the reason saying so).  ``with_refs``: each
    failed one carries ``ref``, what :func:`retry_failed` takes to queue it again."""
    items, _ = table.query(
        db.Expr("gsi1pk = :pk", values={":pk": keys.failed_job_listing_pk(store_id)}),
        index=keys.GSI1,
        forward=False,
        limit=limit,
    )
    listed = []
    for item in items:
        if item.get("status") == JobStatus.FAILED.value:
            row = {
                k: item.get(k) for k in ("kind", "order_id", "customer_id", "due", "reason", "finished_at", "attempts")
            }
            if with_refs:
                row["ref"] = job_ref(store_id, item)
            listed.append(row)
        elif item.get("undelivered") or item.get("unconfirmed"):
            # Sent, then in doubt: reported undelivered (WhatsApp's failed status) or never confirmed.
            status, said, at = (
                ("undelivered", "sent, reported undelivered", "undelivered_at")
                if item.get("undelivered")
                else ("sent_unconfirmed", "sent, unconfirmed", "last_sent_at")
            )
            row = {k: item.get(k) for k in ("kind", "order_id", "customer_id", "due", "attempts")}
            why = item.get("undelivered") or item.get("unconfirmed")
            listed.append({**row, "status": status, "reason": f"{said}: {why}", "finished_at": item.get(at)})
    return listed


_RETRY = "job-retry"


def job_ref(store_id: str, job: Mapping[str, Any]) -> str:
    """A signed reference to one of the store's jobs (a form can name it, never forge another)."""
    return signing.sign(_RETRY, json.dumps([store_id, str(job["PK"]), str(job["SK"])]))


def retry_failed(table: db.Table, store_id: str, ref: str | None, now: datetime) -> dict[str, Any]:
    """Make a failed job pending again, due now, out of the failed listing.  Only a failed job
    moves (its send ledger went when it failed: nothing of it went out), so a message that was
    sent, or may have been, is never sent again; a second retry finds it pending: InvalidInput."""
    payload = signing.verify(_RETRY, ref or "")
    data = json.loads(payload) if payload else None
    if not isinstance(data, list) or len(data) != 3 or data[0] != store_id:
        raise InvalidInput("this job reference is not one this store was given", field="ref")
    key = {"PK": str(data[1]), "SK": str(data[2])}
    again = {
        "status": JobStatus.PENDING.value,
        "due": iso(now),
        "due_at": iso(now),
        "due_pk": keys.due_shard(key["PK"], key["SK"], table.due_shards),
        "retried_at": iso(now),
        "attempts": 0,
    }
    try:
        item = table.update(
            key,
            Update().set(again).remove(*["gsi1pk", "gsi1sk", "finished_at", "reason"]),
            condition=db.Expr(
                "#st = :failed AND store_id = :store",
                names={"#st": "status"},
                values={":failed": JobStatus.FAILED.value, ":store": store_id},
            ),
        )
    except db.ConditionFailed:
        raise InvalidInput("this job is no longer failed (retried already?)", field="ref") from None
    assert item is not None
    return item
