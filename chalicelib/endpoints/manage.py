"""A store's outbound webhook endpoints: register, list, rotate the secret, enable, delete.

An endpoint lives in the store's endpoints partition; its delivery jobs live in its own
partition and are listed by time through ``gsi1``.  The store item keeps which enabled
endpoint wants which events (``endpoint_subscriptions``), written in the same transaction as
the endpoint, so :mod:`.events` knows whom to deliver to without a read.

The secret is a Standard Webhooks ``whsec_`` secret, shown once.  It is stored as it is
(Aftercare signs with it, so a hash would not do).  A rotated secret stays valid for
:data:`ROTATION_OVERLAP`: deliveries carry a signature for each valid secret."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import validate
from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.errors import Conflict, InvalidInput, NotFound
from chalicelib.endpoints.events import EVENT_TYPES, SUBSCRIPTIONS
from chalicelib.platform import outbound, signing
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import plain
from chalicelib.stores import registry

FIELDS = ("url", "events", "description")
MAX_ENDPOINTS = 10
MAX_DESCRIPTION = 200
ROTATION_OVERLAP = timedelta(hours=24)
RECENT_DELIVERIES = 5
ENABLED, DISABLED = "enabled", "disabled"
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
CURSOR_PURPOSE = "deliveries-cursor"


@dataclass(frozen=True)
class Registration:
    url: str
    events: list[str]
    description: str | None


def parse(
    body: Mapping[str, Any], *, allow_local: bool, resolve: outbound.Resolver = outbound.system_resolver
) -> Registration:
    """Validate a registration or raise InvalidInput naming the field; the address must be a
    public https name resolving to public addresses outside the local stage."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field: {unknown[0]}", field=unknown[0])
    if body.get("url") is None:
        raise InvalidInput("url is required", field="url")
    url = outbound.webhook_url(body["url"], "url", allow_local=allow_local, resolve=resolve)
    events = body.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise InvalidInput(f"events must be a non-empty list of: {', '.join(EVENT_TYPES)}", field="events")
    strange = [e for e in events if e not in EVENT_TYPES]
    if strange:
        raise InvalidInput(f"unknown event: {strange[0][:60]} (known: {', '.join(EVENT_TYPES)})", field="events")
    description = body.get("description")
    if description is not None and description != "":
        description = validate.plain_text(description, "description", max_length=MAX_DESCRIPTION)
    return Registration(url, sorted(set(events)), description or None)


def no_options(raw: bytes) -> None:
    """Rotate and enable take nothing: an empty body or ``{}``."""
    if raw.strip():
        body = validate.parse_json(raw)
        if body:
            name = sorted(body)[0]
            raise InvalidInput(f"unknown field: {name[:60]}", field=name[:60])


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _new_id() -> str:
    return "ep" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def _subscriptions_key(store_id: str) -> keys.Key:
    return keys.store(store_id)


def _subscribe(store_id: str, endpoint_id: str, events: list[str]) -> db.TransactOp:
    return db.update(
        _subscriptions_key(store_id),
        Update().set_in(SUBSCRIPTIONS, endpoint_id, events),
        condition=db.Expr("attribute_exists(#subs)", names={"#subs": SUBSCRIPTIONS}),
        label="store subscriptions",
    )


def _unsubscribe(store_id: str, endpoint_id: str) -> db.TransactOp:
    return db.update(
        _subscriptions_key(store_id),
        Update().remove((SUBSCRIPTIONS, endpoint_id)),
        condition=db.Expr("attribute_exists(#subs)", names={"#subs": SUBSCRIPTIONS}),
        label="store subscriptions",
    )


def unsubscribe_op(store_id: str, endpoint_id: str) -> db.TransactOp:
    """The store stops emitting to this endpoint (it was disabled)."""
    return _unsubscribe(store_id, endpoint_id)


def _ensure_subscriptions(table: db.Table, store_id: str) -> None:
    """The store item's subscription map exists (a store from before endpoints has none)."""
    try:
        table.update(
            _subscriptions_key(store_id),
            Update().set_if_absent({SUBSCRIPTIONS: {}}),
            condition=db.Expr("attribute_exists(PK)"),
            return_values="NONE",
        )
    except db.ConditionFailed:
        raise NotFound("no such store") from None


def refresh(table: db.Table, store_id: str) -> None:
    """This process emits to the endpoints as they are now (others within the store cache's minute)."""
    registry.get_store(table, store_id, fresh=True)


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: dict[str, Any]
    secret: str


def create(
    table: db.Table,
    store_id: str,
    body: Mapping[str, Any],
    now: datetime,
    *,
    allow_local: bool,
    resolve: outbound.Resolver = outbound.system_resolver,
) -> NewEndpoint:
    """Register an endpoint; nothing is written unless the whole body is valid."""
    registration = parse(body, allow_local=allow_local, resolve=resolve)
    if len(list(table.partition(keys.endpoints_pk(store_id), consistent=True))) >= MAX_ENDPOINTS:
        raise Conflict(f"a store has at most {MAX_ENDPOINTS} endpoints: delete one first")
    endpoint_id, secret = _new_id(), new_secret()
    item = {
        **keys.endpoint(store_id, endpoint_id),
        "type": "endpoint",
        "store_id": store_id,
        "endpoint_id": endpoint_id,
        "url": registration.url,
        "events": registration.events,
        "description": registration.description,
        "secret": secret,
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    _ensure_subscriptions(table, store_id)
    try:
        table.transact([db.create(item, label="endpoint"), _subscribe(store_id, endpoint_id, registration.events)])
    except db.TransactionConflict:
        raise Conflict("the store changed meanwhile; please retry") from None
    refresh(table, store_id)
    return NewEndpoint(item, secret)


def get(table: db.Table, store_id: str, endpoint_id: str) -> dict[str, Any]:
    item = table.get(keys.endpoint(store_id, endpoint_id), consistent=True) if _plausible(endpoint_id) else None
    if item is None:
        raise NotFound("no such endpoint")
    return item


def _plausible(endpoint_id: str) -> bool:
    return len(endpoint_id) == 18 and endpoint_id.startswith("ep") and endpoint_id.isalnum()


def delete(table: db.Table, store_id: str, endpoint_id: str) -> None:
    """Remove the endpoint and its deliveries (pending ones are never sent)."""
    get(table, store_id, endpoint_id)
    try:
        table.transact(
            [
                db.delete(
                    keys.endpoint(store_id, endpoint_id), condition=db.Expr("attribute_exists(PK)"), label="endpoint"
                ),
                _unsubscribe(store_id, endpoint_id),
            ]
        )
    except db.TransactionConflict:
        raise NotFound("no such endpoint") from None
    refresh(table, store_id)
    for job in list(table.partition(keys.endpoint_pk(store_id, endpoint_id))):
        table.delete({"PK": job["PK"], "SK": job["SK"]})


def valid_secrets(endpoint: Mapping[str, Any], now: datetime) -> list[str]:
    """The current secret first, then each rotated one still inside its overlap."""
    previous = [str(p["secret"]) for p in endpoint.get("previous_secrets") or [] if parse_iso(str(p["until"])) > now]
    return [str(endpoint["secret"]), *previous]


def rotate(table: db.Table, store_id: str, endpoint_id: str, now: datetime) -> dict[str, Any]:
    """A new secret; the one it replaces keeps verifying for :data:`ROTATION_OVERLAP`."""
    endpoint = get(table, store_id, endpoint_id)
    until = iso(now + ROTATION_OVERLAP)
    kept = [
        {"secret": p["secret"], "until": p["until"]}
        for p in endpoint.get("previous_secrets") or []
        if parse_iso(str(p["until"])) > now
    ]
    previous = [*kept, {"secret": endpoint["secret"], "until": until}][-3:]
    secret = new_secret()
    try:
        table.update(
            keys.endpoint(store_id, endpoint_id),
            Update().set(
                {"secret": secret, "previous_secrets": previous, "rotated_at": iso(now), "updated_at": iso(now)}
            ),
            condition=db.Expr("#sec = :old", names={"#sec": "secret"}, values={":old": endpoint["secret"]}),
            return_values="NONE",
        )
    except db.ConditionFailed:
        raise Conflict("the secret was rotated or the endpoint deleted meanwhile; reload it") from None
    return {"endpoint_id": endpoint_id, "secret": secret, "previous_secret_valid_until": until}


def enable(table: db.Table, store_id: str, endpoint_id: str, now: datetime) -> dict[str, Any]:
    """Deliver to a disabled endpoint again (new events; what was skipped stays skipped)."""
    endpoint = get(table, store_id, endpoint_id)
    _ensure_subscriptions(table, store_id)
    enabled = Update().set({"updated_at": iso(now)}).remove("disabled_at", "disabled_reason", "failing_since")
    try:
        table.transact(
            [
                db.update(
                    keys.endpoint(store_id, endpoint_id),
                    enabled,
                    condition=db.Expr("attribute_exists(PK)"),
                    label="endpoint",
                ),
                _subscribe(store_id, endpoint_id, list(endpoint["events"])),
            ]
        )
    except db.TransactionConflict:
        raise NotFound("no such endpoint") from None
    refresh(table, store_id)
    return public_view(get(table, store_id, endpoint_id), now)


# --- what the store sees -------------------------------------------------------------------
def public_view(endpoint: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """An endpoint without its secret, with its state and why."""
    valid_previous = [
        str(p["until"]) for p in endpoint.get("previous_secrets") or [] if parse_iso(str(p["until"])) > now
    ]
    return {
        "endpoint_id": endpoint["endpoint_id"],
        "url": endpoint["url"],
        "events": list(endpoint.get("events") or []),
        "description": endpoint.get("description"),
        "state": DISABLED if endpoint.get("disabled_at") else ENABLED,
        "disabled_reason": endpoint.get("disabled_reason"),
        "disabled_at": endpoint.get("disabled_at"),
        "failing_since": endpoint.get("failing_since"),
        "last_success_at": endpoint.get("last_success_at"),
        "last_attempt": plain(endpoint.get("last_attempt")),
        "previous_secret_valid_until": max(valid_previous) if valid_previous else None,
        "created_at": endpoint.get("created_at"),
    }


def delivery_view(job: Mapping[str, Any]) -> dict[str, Any]:
    data = job.get("data") or {}
    pending = job.get("status") == "pending"
    return {
        "message_id": data.get("message_id"),
        "event_type": data.get("event_type"),
        "status": job.get("status"),
        "created_at": job.get("created_at"),
        "next_attempt_at": job.get("due") if pending else None,
        "reason": job.get("reason"),
        "attempts": plain(job.get("attempt_log") or []),
    }


def deliveries_page(
    table: db.Table, store_id: str, endpoint_id: str, *, limit: int, after: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """An endpoint's deliveries, newest first, with every attempt; a signed cursor for more."""
    get(table, store_id, endpoint_id)
    start = None
    if after:
        position = signing.verify(CURSOR_PURPOSE, after)
        if position is None:
            raise InvalidInput("after is not a cursor this API gave out", field="after")
        start = json.loads(position)
        if (start.get("gsi1pk") or {}).get("S") != keys.endpoint_delivery_listing_pk(store_id, endpoint_id):
            raise InvalidInput("after is a cursor of another listing", field="after")
    items, last = table.query(
        db.Expr("gsi1pk = :pk", values={":pk": keys.endpoint_delivery_listing_pk(store_id, endpoint_id)}),
        index=keys.GSI1,
        forward=False,
        limit=limit,
        start=start,
    )
    # The index holds keys and attributes as written; read each delivery as it is now.
    fresh = {(i["PK"], i["SK"]): i for i in table.batch_get([{"PK": i["PK"], "SK": i["SK"]} for i in items])}
    rows = [delivery_view(fresh.get((i["PK"], i["SK"]), i)) for i in items]
    cursor = signing.sign(CURSOR_PURPOSE, json.dumps(last, sort_keys=True)) if last else None
    return rows, cursor


def listing(table: db.Table, store_id: str, now: datetime) -> list[dict[str, Any]]:
    """Every endpoint of the store, each with its latest deliveries."""
    out = []
    for endpoint in table.partition(keys.endpoints_pk(store_id), consistent=True):
        view = public_view(endpoint, now)
        view["recent_deliveries"], _ = deliveries_page(
            table, store_id, str(endpoint["endpoint_id"]), limit=RECENT_DELIVERIES
        )
        out.append(view)
    return sorted(out, key=lambda v: str(v["created_at"]))


def register(
    table: db.Table, store_id: str, body: Mapping[str, Any], now: datetime, *, allow_local: bool
) -> tuple[dict[str, Any], str]:
    """``POST /stores/{store_id}/endpoints``: the new endpoint with its secret (shown only in
    this answer), and where it lives."""
    created = create(table, store_id, body, now, allow_local=allow_local)
    answer = {**public_view(created.endpoint, now), "secret": created.secret}
    return answer, f"/stores/{store_id}/endpoints/{created.endpoint['endpoint_id']}"


def deliveries_listing(
    table: db.Table, store_id: str, endpoint_id: str, query: Mapping[str, str] | None
) -> dict[str, Any]:
    """``GET …/deliveries``: one page of an endpoint's deliveries and the cursor for the next."""
    params = query or {}
    limit = validate.int_param(params, "limit", default=50, low=1, high=100)
    rows, cursor = deliveries_page(table, store_id, endpoint_id, limit=limit, after=params.get("after"))
    return {"deliveries": rows, "next": cursor}
