"""Our own suppression list: per store, contact and channel, with a scope.

``scope`` is ``"all"`` (nothing more to this contact on this channel) or ``"surveys"``
(no survey or survey reminder; other messages still go).  Bounces and complaints from SES
and STOP replies land here; ``policy.decide`` reads it before every send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.core.errors import InvalidInput
from chalicelib.endpoints import events
from chalicelib.storage import db, keys
from chalicelib.storage.items import SuppressionItem, as_suppression

SCOPES = ("all", "surveys")
CHANNELS = ("email", "sms")
SURVEY_KINDS = frozenset({"survey", "survey_reminder"})
# What the customer chose (a bounce is not a choice): these tell the store's endpoints.
OPT_OUTS = frozenset({"one_click", "unsubscribe_page", "sms_stop", "complaint"})


def _check(channel: str, scope: str | None = None) -> None:
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if scope is not None and scope not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}", field="scope")


def suppress(
    table: db.Table, store_id: str, contact: str, channel: str, scope: str, reason: str, now: datetime
) -> SuppressionItem:
    """Record (or widen) a suppression.  A narrower scope never overrides a wider one."""
    _check(channel, scope)
    existing = lookup(table, store_id, contact, channel)
    if existing and existing.get("scope") == "all" and scope != "all":
        return existing
    item = {
        **keys.suppression(store_id, contact, channel),
        "type": "suppression",
        "store_id": store_id,
        "contact": contact,
        "channel": channel,
        "scope": scope,
        "reason": reason,
        "created_at": iso(now),
    }
    changed = existing is None or existing.get("scope") != scope
    announced = (
        events.emit_for(table, store_id, events.CUSTOMER_UNSUBSCRIBED, _event(item), now)
        if changed and reason in OPT_OUTS
        else []
    )
    table.transact([db.put(item, label="suppression"), *announced])
    return as_suppression(item)


def _event(item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in ("contact", "channel", "scope", "reason")} | {
        "unsubscribed_at": item["created_at"]
    }


def unsuppress(table: db.Table, store_id: str, contact: str, channel: str) -> None:
    """Lift a suppression (START / UNSTOP, or a store correcting a mistake)."""
    _check(channel)
    table.delete(keys.suppression(store_id, contact, channel))


def lookup(table: db.Table, store_id: str, contact: str, channel: str) -> SuppressionItem | None:
    """The store's suppression of this contact, or for SMS the number's own STOP."""
    _check(channel)
    item = table.get(keys.suppression(store_id, contact, channel), consistent=True)
    if item is None and channel == "sms":
        item = table.get(keys.phone_optout(contact), consistent=True)
    return as_suppression(item) if item is not None else None


def suppress_number(table: db.Table, phone: str, reason: str, now: datetime) -> None:
    """A STOP for the number whatever store it answers: it outlives the SMS records that
    tell which stores texted it, so no later message reaches a number that said STOP."""
    table.put(
        {
            **keys.phone_optout(phone),
            "type": "phone_optout",
            "contact": phone,
            "channel": "sms",
            "scope": "all",
            "reason": reason,
            "created_at": iso(now),
        }
    )


def unsuppress_number(table: db.Table, phone: str) -> None:
    table.delete(keys.phone_optout(phone))


def blocks(item: dict[str, Any] | None, kind: str) -> bool:
    """Whether a suppression item stops a message of this kind."""
    if not item:
        return False
    return item.get("scope") == "all" or (item.get("scope") == "surveys" and kind in SURVEY_KINDS)
