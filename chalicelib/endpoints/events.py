"""Events for a store's outbound webhooks, emitted as delivery jobs inside the change's own
transaction.

:func:`emit` returns transaction operations, one delivery job per endpoint subscribed to the
event, and the caller writes them with the change: a change that fails emits nothing, and a
change that is written cannot lose its event.  Which endpoints want what is read from the store
item (``endpoint_subscriptions``: endpoint id → event types, kept by :mod:`.manage`), so emitting
costs no read beyond the store the caller already has (cached up to a minute per process).

Every delivery of one event carries the same ``webhook-id`` (the message id), on every retry."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import epoch, iso
from chalicelib.core.errors import NotFound
from chalicelib.core.models import JobKind
from chalicelib.schedule import jobs
from chalicelib.storage import db, keys
from chalicelib.storage.items import as_job, plain
from chalicelib.stores import registry

RESPONSE_CREATED = "response.created"
RESPONSE_UPDATED = "response.updated"
CASE_OPENED = "case.opened"
CASE_ACKNOWLEDGED = "case.acknowledged"
CASE_RESOLVED = "case.resolved"
CUSTOMER_UNSUBSCRIBED = "customer.unsubscribed"
ORDER_SKIPPED = "order.skipped"
EVENT_TYPES = (
    RESPONSE_CREATED,
    RESPONSE_UPDATED,
    CASE_OPENED,
    CASE_ACKNOWLEDGED,
    CASE_RESOLVED,
    CUSTOMER_UNSUBSCRIBED,
    ORDER_SKIPPED,
)
SUBSCRIPTIONS = "endpoint_subscriptions"  # the store item's attribute: endpoint id -> event types
DELIVERY_DAYS = 30  # how long a delivery and its attempts stay visible (TTL)


def new_message_id(now: datetime) -> str:
    """``msg_`` + the time + randomness: unique, and sorts by time as text."""
    return f"msg_{now.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(8)}"


def derived_message_id(*parts: str) -> str:
    """A message id that follows from what happened (the same refused webhook, redelivered,
    is the same event)."""
    return "msg_" + hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()


def body(event_type: str, data: Mapping[str, Any], now: datetime) -> str:
    """The JSON every endpoint receives: ``{"type", "timestamp", "data"}`` (Standard Webhooks)."""
    values = {k: plain(v) for k, v in data.items() if v is not None}
    return json.dumps(
        {"type": event_type, "timestamp": iso(now), "data": values}, ensure_ascii=False, separators=(",", ":")
    )


def subscribers(store: Mapping[str, Any], event_type: str) -> list[str]:
    """The ids of the store's enabled endpoints that subscribe to ``event_type``."""
    subscriptions = store.get(SUBSCRIPTIONS) or {}
    return sorted(str(eid) for eid, types in subscriptions.items() if event_type in (types or ()))


def delivery_job(
    store_id: str, endpoint_id: str, message_id: str, event_type: str, payload: str, now: datetime, *, shards: int
) -> dict[str, Any]:
    """One event for one endpoint: a job due now, in the endpoint's partition, listed by time."""
    item = jobs.job_item(
        keys.endpoint_pk(store_id, endpoint_id),
        JobKind.WEBHOOK_DELIVERY,
        now,
        store_id=store_id,
        shards=shards,
        discriminator=message_id,
        data={"endpoint_id": endpoint_id, "message_id": message_id, "event_type": event_type, "body": payload},
        created_at=now,
    )
    return {
        **item,
        **keys.endpoint_delivery_listing(store_id, endpoint_id, iso(now), message_id),
        "expires_at": epoch(now + timedelta(days=DELIVERY_DAYS)),
    }


def emit(
    store: Mapping[str, Any],
    event_type: str,
    data: Mapping[str, Any],
    now: datetime,
    *,
    shards: int,
    message_id: str | None = None,
    once: bool = False,
) -> list[db.TransactOp]:
    """The writes that deliver one event to every subscribed endpoint (none when nobody
    subscribes).  ``once`` makes each a conditional create, for an event whose message id
    follows from what happened and may be emitted again."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    targets = subscribers(store, event_type)
    if not targets:
        return []
    store_id = str(store["store_id"])
    message = message_id or new_message_id(now)
    payload = body(event_type, {"store_id": store_id, **data}, now)
    items = [delivery_job(store_id, eid, message, event_type, payload, now, shards=shards) for eid in targets]
    return [db.create(item, label="webhook delivery") if once else jobs.schedule(as_job(item)) for item in items]


def emit_for(
    table: db.Table, store_id: str, event_type: str, data: Mapping[str, Any], now: datetime, **options: Any
) -> list[db.TransactOp]:
    """:func:`emit` for a store known by its id (the cached store item); none for a store
    that is gone."""
    try:
        store = registry.get_store(table, store_id)
    except NotFound:
        return []
    return emit(store, event_type, data, now, shards=table.due_shards, **options)
