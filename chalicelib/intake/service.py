"""Order intake: a webhook in, one DynamoDB transaction out.

For each delivery: the body (at most 1 MB), the store (cached; unknown → 404), the signature
(→ 401), the platform's reading into an :class:`OrderEvent`, then ONE ``TransactWriteItems``:

    "event marker"  conditional create (a second delivery cancels it: "duplicate")
    "order"         the order upsert, conditional: status never goes back, older news never wins
    the rest        the customer upsert, its contact aliases, the customer → order link, the jobs

The order condition has two forms.  An event for an order already stored must move it forward
(a higher status, or the same status with news at least as recent); an event for an unseen
order creates it, and only then is the customer's ``orders_count`` incremented.  A creation
event expects an unseen order, any later event a known one; the rare event that guessed wrong
(an order first seen through a later event) takes a second attempt with the other form, so
each order is counted once, whatever order its events arrive in.

A creation that finds its order already known through a later event (``created`` after
``fulfilled``) is a *late creation*: a third form fills in what only the creation states
(when it was ordered, its items) without moving the status back, and its follow-ups are
planned (thank-you, win-back, anniversary, within the late-event rule of ``followups``).
A creation whose order was already created or paid is a repeat, answered ``stale``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import epoch, iso
from chalicelib.core.errors import AftercareError, InvalidInput, NotFound, PayloadTooLarge, Unauthorized, Unavailable
from chalicelib.core.models import OrderEvent, OrderStatus
from chalicelib.customers import privacy, profiles
from chalicelib.endpoints import events
from chalicelib.intake import activity, generic, shopify, woocommerce
from chalicelib.intake import normalize as n
from chalicelib.platform import aws, lazy
from chalicelib.platform.aws import Clients
from chalicelib.platform.config import settings
from chalicelib.platform.observability import count, logger
from chalicelib.schedule import followups
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update, stated
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry

# Only Shopify's compliance topics need privacy (and, through it, cases): loaded at first use,
# off an order webhook's cold start (chalicelib/platform/lazy.py).
if TYPE_CHECKING:
    from chalicelib.customers import privacy
else:
    privacy = lazy.module("chalicelib.customers.privacy")

MARKER_DAYS = 30
# The labels of the two operations whose failed condition means something (see ``ingest``).
MARKER, ORDER = "event marker", "order"
CANCELLING = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
# Status only moves forward; cancelled and refunded are final.
RANK = {
    OrderStatus.CREATED: 0,
    OrderStatus.PAID: 1,
    OrderStatus.FULFILLED: 2,
    OrderStatus.DELIVERED: 3,
    OrderStatus.CANCELLED: 4,
    OrderStatus.REFUNDED: 5,
}
READERS: dict[str, Callable[[StoreItem, Mapping[str, str], bytes, datetime, n.Notes], n.Reading]] = {
    shopify.SOURCE: shopify.read,
    woocommerce.SOURCE: woocommerce.read,
    generic.SOURCE: generic.read,
}
TOPIC_FIELDS = (shopify.TOPIC, woocommerce.TOPIC)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    """What the platform is told (always 200: every case here is final for the sender)."""

    status: str  # accepted | duplicate | stale | ignored | erased | recorded
    order_id: str | None = None
    reason: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.order_id:
            out["order_id"] = self.order_id
        if self.reason:
            out["reason"] = self.reason
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def _reason(exc: AftercareError) -> str:
    if isinstance(exc, PayloadTooLarge):
        return "too_large"
    if isinstance(exc, NotFound):
        return "unknown_store"
    if isinstance(exc, Unauthorized):
        return "signature"
    if isinstance(exc, Unavailable):
        return "unavailable"
    if isinstance(exc, InvalidInput) and exc.field in TOPIC_FIELDS:
        return "unknown_topic"
    return "invalid"


def receive(
    source: str,
    table: db.Table,
    store_id: str,
    headers: Mapping[str, str],
    read_body: Callable[[], bytes],
    now: datetime,
    clients: Clients | None = None,
) -> Outcome:
    """The whole webhook path for one delivery; domain errors carry the HTTP status.  ``clients``
    (AWS clients, built on first need) are used only to tell support of a data request."""
    count("webhooks_received", source=source)
    known = False  # the store exists: its activity may be recorded
    try:
        body = read_body()
        store = registry.with_defaults(registry.get_store(table, store_id))
        known = True
        notes = n.Notes()
        reading = READERS[source](store, headers, body, now, notes)
        if isinstance(reading, n.Ignored):
            logger.info("webhook ignored", extra={"source": source, "reason": reading.reason})
            return _noted(table, store_id, source, Outcome("ignored", reason=reading.reason), now)
        if isinstance(reading, n.Erasure):
            privacy.erase(table, store_id, reading, now)
            return _noted(table, store_id, source, Outcome("erased"), now)
        if isinstance(reading, n.DataRequest):
            privacy.record_data_request(
                table, clients or aws.clients(), store, reading, now, base_url=settings().public_base_url
            )
            return _noted(table, store_id, source, Outcome("recorded"), now)
        outcome = ingest(table, reading, store, now)
    except AftercareError as exc:
        reason = _reason(exc)
        count("webhooks_rejected", source=source, reason=reason)
        logger.info("webhook rejected", extra={"source": source, "reason": reason, "status": exc.status})
        if known and reason != "unavailable":
            activity.record(
                table,
                store_id,
                source,
                activity.REFUSED,
                now,
                status=str(exc.status),
                reason=reason,
                message=exc.message,
            )
        raise
    if outcome.status == "duplicate":
        count("webhooks_duplicate", source=source)
    logger.info(
        "webhook",
        extra={
            "source": source,
            "order_id": reading.order_id,
            "event_status": reading.status.value,
            "outcome": outcome.status,
        },
    )
    return _noted(
        table, store_id, source, Outcome(outcome.status, reading.order_id, warnings=tuple(notes.dropped)), now
    )


def _noted(table: db.Table, store_id: str, source: str, outcome: Outcome, now: datetime) -> Outcome:
    """The outcome, once recorded as the source's latest (see :mod:`chalicelib.intake.activity`)."""
    activity.record(
        table,
        store_id,
        source,
        activity.slot_of(outcome.status),
        now,
        status=outcome.status,
        order_id=outcome.order_id,
        reason=outcome.reason,
    )
    return outcome


# --- the one transaction -----------------------------------------------------------------
def marker_op(event: OrderEvent, now: datetime) -> db.TransactOp:
    return db.create(
        {
            **keys.event_marker(event.store_id, event.source, event.event_id),
            "type": "event",
            "store_id": event.store_id,
            "order_id": event.order_id,
            "status": event.status.value,
            "received_at": iso(now),
            "expires_at": epoch(now + timedelta(days=MARKER_DAYS)),
        },
        label=MARKER,
    )


def order_op(event: OrderEvent, now: datetime, *, first_sight: bool, late_creation: bool = False) -> db.TransactOp:
    """The order upsert; with ``first_sight`` it only creates, with ``late_creation`` it fills
    in a known order's creation, otherwise it only moves forward."""
    status = event.status
    if late_creation:
        fill = (
            Update()
            .set({"created_at": iso(event.occurred_at), "updated_at": iso(now)})
            .set_if_absent(
                stated(
                    {
                        "ordered_at": iso(event.ordered_at) if event.ordered_at else None,
                        "order_name": event.order_name,
                        "items": [_line(item) for item in event.items] or None,
                        "total": event.total,
                        "currency": event.currency,
                    }
                )
            )
        )
        # A payment plans what a creation plans: after either, a creation is only a repeat.
        condition = db.Expr(
            "attribute_exists(PK) AND attribute_not_exists(#created) AND attribute_not_exists(#paid)",
            names={"#created": "created_at", "#paid": "paid_at"},
        )
        return db.update(keys.order(event.store_id, event.order_id), fill, condition=condition, label=ORDER)
    update = (
        Update()
        .set(
            stated(
                {
                    "type": "order",
                    "store_id": event.store_id,
                    "order_id": event.order_id,
                    "source": event.source,
                    "status": status.value,
                    "status_rank": RANK[status],
                    "source_updated_at": iso(event.occurred_at),
                    f"{status.value}_at": iso(event.occurred_at),
                    "updated_at": iso(now),
                    "order_name": event.order_name,
                    "ordered_at": iso(event.ordered_at) if event.ordered_at else None,
                    "items": [_line(item) for item in event.items] or None,
                    "total": event.total,
                    "currency": event.currency,
                }
            )
        )
        .set_if_absent(stated({"first_seen_at": iso(now), "customer_id": event.customer.customer_id}))
    )
    if first_sight:
        condition = db.Expr("attribute_not_exists(PK)")
    else:
        condition = db.Expr(
            "attribute_exists(PK) AND (#rank < :rank OR (#rank = :rank AND #seen <= :seen))",
            names={"#rank": "status_rank", "#seen": "source_updated_at"},
            values={":rank": RANK[status], ":seen": iso(event.occurred_at)},
        )
    return db.update(keys.order(event.store_id, event.order_id), update, condition=condition, label=ORDER)


def _line(item: Any) -> dict[str, Any]:
    line = {"sku": item.sku, "title": item.title, "quantity": item.quantity}
    if item.warranty_months:
        line["warranty_months"] = item.warranty_months
    return line


def _key_of(op: db.TransactOp) -> tuple[str, str]:
    source = op.key if op.key is not None else op.item
    assert source is not None
    return str(source["PK"]), str(source["SK"])


def build(
    event: OrderEvent,
    store: StoreItem,
    now: datetime,
    *,
    first_sight: bool,
    cancels: list[db.TransactOp],
    shards: int,
    late_creation: bool = False,
) -> list[db.TransactOp]:
    """Every write of one event (the marker and the order labelled, so their failures are told
    apart), never two operations on one item."""
    ops = [marker_op(event, now), order_op(event, now, first_sight=first_sight, late_creation=late_creation)]
    ops += profiles.upsert_ops(
        event.store_id,
        event.customer,
        now,
        order_id=event.order_id,
        ordered_at=event.ordered_at or event.occurred_at,
        new_order=first_sight,
    )
    plan = followups.plan_order_event(event, store, now, shards=shards)
    ops += plan.ops
    ops += cancels
    if plan.late:
        skipped = [{"follow_up": name, "due": due} for name, due in sorted(plan.late.items())]
        ops += events.emit(
            store, events.ORDER_SKIPPED, skipped_event(event, followups.LATE, skipped), now, shards=shards
        )
    unique: dict[tuple[str, str], db.TransactOp] = {}
    for op in ops:
        unique.setdefault(_key_of(op), op)
    if len(unique) > 100:
        raise InvalidInput("this order asks for more than 100 writes; send fewer items with warranties", field="items")
    return list(unique.values())


def ingest(table: db.Table, event: OrderEvent, store: StoreItem, now: datetime) -> Outcome:
    """Write one event in one transaction (two in the rare case described above)."""
    first_sight = event.status is OrderStatus.CREATED
    late_creation = False
    for _ in range(MAX_ATTEMPTS):
        cancels = (
            followups.cancel_order_jobs(table, event.store_id, event.order_id, now)
            if event.status in CANCELLING
            else []
        )
        ops = build(
            event,
            store,
            now,
            first_sight=first_sight and not late_creation,
            cancels=cancels,
            shards=table.due_shards,
            late_creation=late_creation,
        )
        try:
            table.transact(ops)
        except db.TransactionConflict as conflict:
            if MARKER in conflict.failed:
                return Outcome("duplicate", event.order_id)
            if ORDER in conflict.failed:
                if late_creation:
                    _announce_refused(table, event, store, now)
                    return Outcome("stale", event.order_id)  # its creation was stored before
                if first_sight:
                    late_creation = True  # known through a later event: fill in the creation
                    continue
                first_sight = True
                continue
            continue  # a pending job changed under us: read the jobs again
        return Outcome("accepted", event.order_id)
    raise Unavailable("the order changed while it was being written, please retry")


def skipped_event(event: OrderEvent, reason: str, skipped: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """What a store's endpoints hear of an order event that planned nothing it asked for."""
    return {
        "order_id": event.order_id,
        "order_name": event.order_name,
        "source": event.source,
        "event_id": event.event_id,
        "event": event.status.value,
        "occurred_at": iso(event.occurred_at),
        "reason": reason,
        "skipped": skipped or None,
    }


def _announce_refused(table: db.Table, event: OrderEvent, store: Mapping[str, Any], now: datetime) -> None:
    """``order.skipped`` for an event older than what the order already knows.  Its message id
    follows from the event, so a redelivered stale webhook announces nothing twice."""
    message_id = events.derived_message_id(event.store_id, event.source, event.event_id, "stale")
    ops = events.emit(
        store,
        events.ORDER_SKIPPED,
        skipped_event(event, "stale"),
        now,
        shards=table.due_shards,
        message_id=message_id,
        once=True,
    )
    try:
        table.transact(ops)
    except db.TransactionConflict:
        pass  # announced when this event came the first time
