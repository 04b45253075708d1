"""The last webhook of each source a store received, for the console's setup page.

One small item per store and source, overwritten: the last accepted delivery (with what it
was told: accepted, ignored, erased...), the last duplicate and the last refusal with its
reason.  It is a diagnostic, not order data: nothing reads it but the console, a failed write
never changes the platform's answer, and it is written at most once a minute per outcome by
each warm process, so a busy store's webhooks stay one write request each.  A delivery for an
unknown store, and storage trouble (the platform retries), are not recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.core.errors import Unavailable
from chalicelib.platform.observability import logger
from chalicelib.platform.process import PROCESS
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update

ACCEPTED, DUPLICATE, REFUSED = "accepted", "duplicate", "refused"
SLOTS = (ACCEPTED, DUPLICATE, REFUSED)
EVERY = timedelta(minutes=1)
MAX_TEXT = 200


def _recent() -> dict[tuple[str, str, str, str], datetime]:
    """What this process recorded last, by (store, source, slot, status or reason)."""
    return PROCESS.once(dict, key="intake.activity.recent")


def slot_of(status: str) -> str:
    return DUPLICATE if status == DUPLICATE else ACCEPTED


def record(
    table: db.Table,
    store_id: str,
    source: str,
    slot: str,
    now: datetime,
    *,
    status: str,
    order_id: str | None = None,
    reason: str | None = None,
    message: str | None = None,
) -> bool:
    """Note one delivery's outcome; False when it was not written (recorded a moment ago, or
    the table is unavailable: the webhook's answer stands either way)."""
    seen = (store_id, source, slot, reason or status)
    last = _recent().get(seen)
    if last is not None and now - last < EVERY:
        return False
    entry = {"at": iso(now), "status": status, "order_id": order_id, "reason": reason, "message": _short(message)}
    values = {
        "type": "webhook_activity",
        "store_id": store_id,
        "source": source,
        "last": slot,
        "last_at": iso(now),
        slot: {k: v for k, v in entry.items() if v is not None},
    }
    try:
        table.update(keys.webhook_activity(store_id, source), Update().set(values), return_values="NONE")
    except Unavailable:
        logger.warning("webhook activity not recorded", extra={"store_id": store_id, "source": source})
        return False
    _recent()[seen] = now
    return True


def _short(text: str | None) -> str | None:
    return None if text is None else str(text)[:MAX_TEXT]


def latest(table: db.Table, store_id: str) -> dict[str, dict[str, Any]]:
    """Each source's activity item (one query of the store's partition)."""
    found = table.partition(keys.store_pk(store_id), keys.webhook_activity_sk(""))
    return {str(item["source"]): dict(item) for item in found if item.get("source")}


def last_outcome(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The most recent of the item's outcomes, with its slot."""
    if not item or item.get("last") not in SLOTS or not isinstance(item.get(item["last"]), Mapping):
        return None
    return {"slot": item["last"], **item[item["last"]]}
