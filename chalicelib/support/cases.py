"""Cases: one per customer per order, worked from open to resolved.

A case lives in its own partition (its re-alert and follow-up jobs sit beside it) and is
listed per store and status through ``gsi1`` (``CASES#<status>``, sorted by priority rank
then opening time), so the inbox and the API never scan.  Every transition is a conditional
write: a case cannot be acknowledged twice or resolved twice, whoever clicks first wins and
the other gets a clear 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.core import validate
from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.errors import Conflict, InvalidInput, NotFound
from chalicelib.endpoints import events
from chalicelib.platform import signing
from chalicelib.reports import stats
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update, stated
from chalicelib.storage.items import (
    CaseItem,
    CustomerItem,
    LineView,
    OrderItem,
    ResponseItem,
    as_case,
    line_items,
    plain,
)
from chalicelib.support.sentiment import PRIORITY_RANK, Verdict, higher

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED)
OUTCOMES = ("refunded", "replaced", "explained", "unreachable", "other")
ACTIONS = ("acknowledge", "assign", "resolve")
MAX_NOTE = 2000
MAX_NAME = 100
MAX_HISTORY = 20


def case_id_for(customer_id: str, order_id: str) -> str:
    """Deterministic: a second bad answer about the same order finds the same case."""
    digest = hashlib.blake2b(f"{customer_id}|{order_id}".encode(), digest_size=8).hexdigest()
    return f"cs{digest}"


def contacts_of(customer_id: str, customer: CustomerItem | None, response: ResponseItem) -> dict[str, Any]:
    """The ways support can reach the customer (from the customer record when there is one)."""
    customer = customer or {}
    email = customer.get("email") or (customer_id if "@" in customer_id else None)
    phone = customer.get("phone") or (customer_id if customer_id.startswith("+") else None)
    contact = response.get("contact")
    if isinstance(contact, str) and contact:
        if "@" in contact and not email:
            email = contact
        elif contact.startswith("+") and not phone:
            phone = contact
    return {"email": email, "phone": phone, "name": customer.get("first_name") or customer.get("name")}


def items_of(order: OrderItem | None, response: ResponseItem) -> list[LineView]:
    return line_items((order or {}).get("items") or response.get("products"))


def sent_history(table: db.Table, store_id: str, customer_id: str, limit: int = MAX_HISTORY) -> list[dict[str, Any]]:
    """The latest messages sent to the customer (the engine's sent records), oldest first."""
    cond = db.Expr(
        "PK = :pk AND begins_with(SK, :sk)",
        values={":pk": keys.customer_pk(store_id, customer_id), ":sk": keys.sent_message_prefix()},
    )
    items, _ = table.query(cond, forward=False, limit=limit)
    out = []
    for item in reversed(items):
        sent_at, kind = keys.sent_message_parts(item)
        out.append(
            {
                "kind": item.get("kind") or kind,
                "channel": item.get("channel"),
                "sent_at": item.get("sent_at") or sent_at,
            }
        )
    return out


def _answer(response: ResponseItem, verdict: Verdict | None) -> dict[str, Any]:
    return {
        "kind": response.get("kind"),
        "score": response.get("score"),
        "comment": response.get("comment"),
        "themes": list(response.get("themes") or []),
        "channel": response.get("channel"),
        "answered_at": response.get("answered_at"),
        "negative": verdict.negative if verdict else None,
        "priority": verdict.priority if verdict else None,
    }


def new_case(
    store_id: str,
    response: ResponseItem,
    verdict: Verdict,
    *,
    customer: CustomerItem | None,
    order: OrderItem | None,
    history: Sequence[Mapping[str, Any]],
    now: datetime,
) -> CaseItem:
    customer_id, order_id = str(response["customer_id"]), str(response["order_id"])
    case_id = case_id_for(customer_id, order_id)
    created = iso(now)
    return as_case(
        {
            **keys.case(store_id, case_id),
            **keys.case_listing(store_id, OPEN, verdict.rank, created, case_id),
            "type": "case",
            "store_id": store_id,
            "case_id": case_id,
            "status": OPEN,
            "priority": verdict.priority,
            "reasons": list(verdict.reasons),
            "urgent_terms": list(verdict.urgent_terms),
            "customer_id": customer_id,
            "contacts": contacts_of(customer_id, customer, response),
            "order_id": order_id,
            "order_name": (order or {}).get("order_name") or (order or {}).get("name"),
            "items": items_of(order, response),
            "survey_type": response.get("survey_type"),
            "score": response.get("score"),
            "category": response.get("category"),
            "comment": response.get("comment"),
            "comments": [
                {"text": response["comment"], "at": response.get("answered_at"), "channel": response.get("channel")}
            ]
            if response.get("comment")
            else [],
            "themes": list(response.get("themes") or []),
            "language": response.get("language"),
            "channel": response.get("channel"),
            "answers": [_answer(response, verdict)],
            "answers_count": 1,
            "messages": [dict(m) for m in history],
            "events": [{"action": "opened", "by": "aftercare", "at": created, "priority": verdict.priority}],
            "created_at": created,
            "updated_at": created,
            "opened_at": created,
            "version": 1,
        }
    )


@dataclass(frozen=True)
class Opened:
    case: CaseItem
    is_new: bool  # a new case, or a resolved one reopened: support must hear of it now
    escalated: bool  # an open case whose priority went up


def open_or_update(
    table: db.Table,
    store_id: str,
    response: ResponseItem,
    verdict: Verdict,
    *,
    existing: CaseItem | None,
    customer: CustomerItem | None,
    order: OrderItem | None,
    history: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Opened:
    """Open the order's case, or bring the existing one up to date with the latest answer."""
    for _ in range(4):
        if existing is None:
            item = new_case(store_id, response, verdict, customer=customer, order=order, history=history, now=now)
            try:
                table.transact([db.create(item, label="case"), *_emit(table, events.CASE_OPENED, item, now)])
            except db.TransactionConflict:
                existing = get(table, store_id, str(item["case_id"]), consistent=True)
                continue
            return Opened(item, True, False)
        updated = _updated(existing, response, verdict, history, now)
        reopened = existing["status"] == RESOLVED
        guard = db.Expr("#v = :v", names={"#v": "version"}, values={":v": existing["version"]})
        try:
            table.transact(
                [
                    db.put(updated, condition=guard, label="case"),
                    *(_emit(table, events.CASE_OPENED, updated, now) if reopened else []),
                ]
            )
        except db.TransactionConflict:
            existing = get(table, store_id, str(existing["case_id"]), consistent=True)
            continue
        escalated = PRIORITY_RANK[str(updated["priority"])] < PRIORITY_RANK[str(existing["priority"])]
        return Opened(updated, reopened, escalated and not reopened)
    raise Conflict("the case changed while it was being updated; please retry")


def _case_comments(existing: Mapping[str, Any], response: ResponseItem) -> list[dict[str, Any]]:
    """Every comment the case has heard, oldest first (the latest MAX_HISTORY): a later answer
    with no comment, or the same one again, adds nothing."""
    comments = list(
        existing.get("comments")
        or ([{"text": existing["comment"], "at": existing.get("created_at")}] if existing.get("comment") else [])
    )
    text = response.get("comment")
    if text and (not comments or comments[-1].get("text") != text):
        comments.append({"text": text, "at": response.get("answered_at"), "channel": response.get("channel")})
    return comments[-MAX_HISTORY:]


def _themes(case: Mapping[str, Any]) -> list[str]:
    return [str(theme) for theme in case.get("themes") or []]


def _updated(
    existing: CaseItem,
    response: ResponseItem,
    verdict: Verdict,
    history: Sequence[Mapping[str, Any]],
    now: datetime,
) -> CaseItem:
    item: dict[str, Any] = dict(existing)
    at = iso(now)
    reopened = existing["status"] == RESOLVED
    priority = verdict.priority if reopened else higher(str(existing["priority"]), verdict.priority)
    item.update(
        {
            "score": response.get("score"),
            "comment": response.get("comment") or existing.get("comment"),
            "comments": _case_comments(existing, response),
            # the themes of the comment that stands
            "themes": list(response.get("themes") or []) if response.get("comment") else _themes(existing),
            "category": response.get("category"),
            "language": response.get("language") or existing.get("language"),
            "channel": response.get("channel"),
            "priority": priority,
            "reasons": sorted(set(existing.get("reasons") or []) | set(verdict.reasons)),
            "urgent_terms": sorted(set(existing.get("urgent_terms") or []) | set(verdict.urgent_terms)),
            "answers": (list(existing.get("answers") or []) + [_answer(response, verdict)])[-MAX_HISTORY:],
            "answers_count": int(existing.get("answers_count") or len(existing.get("answers") or [])) + 1,
            "messages": [dict(m) for m in history] or list(existing.get("messages") or []),
            "updated_at": at,
            "version": int(existing["version"]) + 1,
        }
    )
    events = list(existing.get("events") or [])
    if reopened:
        item.update({"status": OPEN, "opened_at": at})
        for name in ("acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by", "outcome", "note"):
            item.pop(name, None)
        events.append({"action": "reopened", "by": "aftercare", "at": at, "priority": priority})
    else:
        events.append({"action": "updated", "by": "aftercare", "at": at, "priority": priority})
    item["events"] = events[-50:]
    item.update(
        keys.case_listing(
            str(existing["store_id"]),
            str(item["status"]),
            PRIORITY_RANK[priority],
            str(item["opened_at"]),
            str(existing["case_id"]),
        )
    )
    return as_case(item)


def record_answer(
    table: db.Table,
    case: CaseItem,
    response: ResponseItem,
    now: datetime,
    *,
    field: str = "answers",
    verdict: Verdict | None = None,
) -> CaseItem:
    """Note an answer on a case without changing its state (a changed, kinder answer; the
    "did we make it right?" answer).  The case keeps the latest :data:`MAX_HISTORY` of them
    and a count of all (an item must stay under DynamoDB's 400 KB however often a link is
    posted)."""
    entry = _answer(response, verdict)
    current: CaseItem | None = case
    for _ in range(4):
        if current is None:
            raise NotFound("no such case")
        stored: Mapping[str, Any] = current  # ``field`` names one of the case's answer lists
        history = (list(stored.get(field) or []) + [entry])[-MAX_HISTORY:]
        expr = (
            Update()
            .set({"updated_at": iso(now), field: history, "version": int(current.get("version") or 0) + 1})
            .add({f"{field}_count": 1})
        )
        guard = (
            "attribute_exists(PK) AND #v = :v"
            if current.get("version") is not None
            else "attribute_exists(PK) AND attribute_not_exists(#v)"
        )
        values = {":v": current["version"]} if current.get("version") is not None else {}
        try:
            item = table.update(
                keys.case(str(case["store_id"]), str(case["case_id"])),
                expr,
                condition=db.Expr(guard, names={"#v": "version"}, values=values),
            )
        except db.ConditionFailed:
            current = get(table, str(case["store_id"]), str(case["case_id"]), consistent=True)
            continue
        assert item is not None
        return as_case(item)
    raise Conflict("the case changed while it was being updated; please retry")


def get(table: db.Table, store_id: str, case_id: str, *, consistent: bool = False) -> CaseItem | None:
    if not case_id or len(case_id) > 64:
        return None
    item = table.get(keys.case(store_id, case_id), consistent=consistent)
    return as_case(item) if item is not None else None


def require(table: db.Table, store_id: str, case_id: str) -> CaseItem:
    item = get(table, store_id, case_id, consistent=True)
    if item is None:
        raise NotFound("no such case")
    return item


def detail(table: db.Table, store_id: str, case_id: str) -> dict[str, Any]:
    """A case as the API shows it, with the messages sent to the customer up to now."""
    item = require(table, store_id, case_id)
    view = public_view(item)
    view["messages"] = sent_history(table, store_id, str(item["customer_id"])) or view.get("messages") or []
    return view


def list_cases(table: db.Table, store_id: str, status: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """A store's cases in one status, most urgent first, then longest waiting."""
    return _query_cases(table, store_id, status, limit, None)[0]


def _query_cases(
    table: db.Table, store_id: str, status: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    pk = keys.case_listing_pk(store_id, status)
    return table.query(db.Expr("gsi1pk = :pk", values={":pk": pk}), index=keys.GSI1, limit=limit, start=start)


def cases_page(
    table: db.Table, store_id: str, status: str, *, limit: int = 100, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of :func:`list_cases` and an opaque cursor for the next (None at the end).

    The cursor is the index position, signed, so a caller can page but not steer the query."""

    start = None
    if after:
        position = signing.verify("cases-cursor", after)
        if position is None:
            raise InvalidInput("after is not a cursor this API gave out", field="after")
        start = json.loads(position)
    items, last = _query_cases(table, store_id, status, limit, start)
    cursor = signing.sign("cases-cursor", json.dumps(last, sort_keys=True)) if last else None
    return items, cursor


def listing(table: db.Table, store_id: str, query: Mapping[str, str] | None) -> dict[str, Any]:
    """``GET /stores/{store_id}/cases``: a page of one status (open unless asked), as the API shows cases."""

    params = query or {}
    limit = validate.int_param(params, "limit", default=100, low=1, high=100)
    items, cursor = cases_page(table, store_id, params.get("status") or OPEN, limit=limit, after=params.get("after"))
    return {"cases": [public_view(item) for item in items], "next": cursor}


def erase(table: db.Table, store_id: str, customer_id: str, order_ids: Sequence[str]) -> int:
    """Delete a customer's cases (and their jobs) for erasure requests; how many items went.
    Case ids follow from customer and order, so nothing needs to be looked up first."""
    deleted = 0
    for order_id in order_ids:
        for item in list(table.partition(keys.case_pk(store_id, case_id_for(customer_id, order_id)), consistent=True)):
            table.delete(keys.of(item))
            deleted += 1
    return deleted


# --- transitions --------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    action: str
    by: str
    assignee: str | None = None
    outcome: str | None = None
    note: str | None = None


def parse_change(body: Mapping[str, Any]) -> Change:
    """Validate a PATCH body (or an inbox form) into a change, or say what is wrong."""

    allowed = {"action", "by", "assignee", "outcome", "note"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field: {unknown[0]}", field=unknown[0])
    action = body.get("action")
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}", field="action")
    by = validate.text(body.get("by") or "", "by", max_length=MAX_NAME) if body.get("by") else "support"
    assignee = outcome = note = None
    if action == "assign":
        assignee = validate.text(body.get("assignee"), "assignee", max_length=MAX_NAME)
    if action == "resolve":
        outcome = validate.choice(body.get("outcome"), "outcome", OUTCOMES)
        if body.get("note"):
            note = validate.text(body["note"], "note", max_length=MAX_NOTE)
    elif body.get("note"):
        raise InvalidInput("a note goes with resolve", field="note")
    return Change(str(action), by, assignee, outcome, note)


_REFUSALS = {
    ("acknowledge", ACKNOWLEDGED): "this case is already acknowledged",
    ("acknowledge", RESOLVED): "this case is already resolved",
    ("assign", RESOLVED): "this case is resolved and can no longer be assigned",
    ("resolve", RESOLVED): "this case is already resolved",
}


def apply(table: db.Table, store_id: str, case_id: str, change: Change, now: datetime) -> tuple[CaseItem, CaseItem]:
    """Apply one transition with a conditional write; 409 when the case is in another state.
    An acknowledgement or a resolution is counted, with the time since the case opened, on
    the day's stats in the same transaction.  Returns the case before and after."""
    current = get(table, store_id, case_id, consistent=True)
    if current is None:
        raise NotFound("no such case")
    at = iso(now)
    event: dict[str, Any] = {"action": change.action, "by": change.by, "at": at}
    values: dict[str, Any] = {"updated_at": at}
    rank = PRIORITY_RANK.get(str(current.get("priority")), 2)
    if change.action == "acknowledge":
        allowed: tuple[str, ...] = (OPEN,)
        values.update({"status": ACKNOWLEDGED, "acknowledged_at": at, "acknowledged_by": change.by})
        values.update(keys.case_listing(store_id, ACKNOWLEDGED, rank, str(current["opened_at"]), case_id))
    elif change.action == "assign":
        allowed = (OPEN, ACKNOWLEDGED)
        values["assignee"] = change.assignee
        event["assignee"] = change.assignee
    else:
        allowed = (OPEN, ACKNOWLEDGED)
        values.update(
            {
                "status": RESOLVED,
                "resolved_at": at,
                "resolved_by": change.by,
                "outcome": change.outcome,
                "note": change.note,
            }
        )
        values.update(keys.case_listing(store_id, RESOLVED, rank, str(current["opened_at"]), case_id))
        event.update({"outcome": change.outcome})
        if change.note:
            event["note"] = change.note
    if current["status"] not in allowed:
        raise Conflict(
            _REFUSALS.get((change.action, str(current["status"])), f"cannot {change.action} a {current['status']} case")
        )
    expr = (
        Update()
        .set(stated(values))
        .append("events", [event])
        .increment("version")
        .remove(*(k for k, v in values.items() if v is None))
    )
    placeholders = {f":ok{i}": status for i, status in enumerate(allowed)}
    condition = db.Expr(f"#cst IN ({', '.join(placeholders)})", names={"#cst": "status"}, values=placeholders)
    announced = {"acknowledge": events.CASE_ACKNOWLEDGED, "resolve": events.CASE_RESOLVED}.get(change.action)
    emitted = _emit(table, announced, {**current, **values, "by": change.by}, now) if announced else []
    waited = elapsed_seconds(str(current.get("opened_at") or ""), now)
    for timed in (True, False):
        counted = (
            [stats.timing_op(store_id, change.action, round(waited) if waited is not None else None, now, timed=timed)]
            if change.action in stats.TIMINGS
            else []
        )
        try:
            table.transact(
                [db.update(keys.case(store_id, case_id), expr, condition=condition, label="case"), *emitted, *counted]
            )
            break
        except db.TransactionConflict as conflict:
            if conflict.failed == {"stats"} and timed:
                continue  # the day's timings are full: count the case untimed
            latest = get(table, store_id, case_id, consistent=True) or current
            raise Conflict(
                _REFUSALS.get((change.action, str(latest["status"])), "this case changed meanwhile; reload it")
            ) from None
    item = get(table, store_id, case_id, consistent=True)
    assert item is not None
    return current, as_case(item)


EVENT_FIELDS = (
    "case_id",
    "status",
    "priority",
    "order_id",
    "order_name",
    "customer_id",
    "survey_type",
    "score",
    "category",
    "comment",
    "opened_at",
    "acknowledged_at",
    "acknowledged_by",
    "assignee",
    "resolved_at",
    "resolved_by",
    "outcome",
    "note",
)


def _emit(table: db.Table, event_type: str, case: Mapping[str, Any], now: datetime) -> list[db.TransactOp]:
    """The delivery jobs of a case event, written with the case's own change."""
    data = {name: case.get(name) for name in EVENT_FIELDS}
    if event_type == events.CASE_OPENED:
        data["reopened"] = case.get("created_at") != case.get("opened_at")
    return events.emit_for(table, str(case["store_id"]), event_type, data, now)


def elapsed_seconds(start: str | None, end: datetime) -> float | None:
    if not start:
        return None
    return max(0.0, (end - parse_iso(start)).total_seconds())


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """What the API shows of a case (no keys, no index attributes)."""

    hidden = {"PK", "SK", "gsi1pk", "gsi1sk", "type", "version", "realert_job", "alert"}
    view = {k: plain(v) for k, v in item.items() if k not in hidden}
    view.setdefault("themes", [])  # cases opened before comments had themes
    return view
