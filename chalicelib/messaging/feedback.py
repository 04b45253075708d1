"""SES feedback: bounces and complaints suppress the address, for the store that sent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.core.models import Channel
from chalicelib.core.validate import as_dict, as_list
from chalicelib.messaging import delivery, suppression, transports
from chalicelib.platform.observability import count
from chalicelib.storage import db, keys


# --- SES feedback --------------------------------------------------------------------
def ses_feedback(table: db.Table, notification: Any, now: datetime) -> int:
    """Hard bounces and complaints become email suppressions for the store that sent; a
    delivery confirms an email recorded as sent, unconfirmed (its answer was lost).

    The store comes from the ``store_id`` tag (or the ``X-Aftercare-Store`` header) set on
    every email; a notification without it cannot be attributed and is counted, not guessed.
    Anything not shaped like SES's notification is ignored, never a crash.
    """
    notification = as_dict(notification)
    kind = notification.get("notificationType") or notification.get("eventType")
    store_id = _store_of(as_dict(notification.get("mail")))
    if store_id is None:
        count("SesFeedbackUnattributed")
        return 0
    if kind == "Bounce":
        bounce = as_dict(notification.get("bounce"))
        if bounce.get("bounceType") != "Permanent":
            return 0
        recipients, reason = as_list(bounce.get("bouncedRecipients")), "bounce"
    elif kind == "Delivery":
        return _confirm(table, notification, now)
    elif kind == "Complaint":
        recipients, reason = as_list(as_dict(notification.get("complaint")).get("complainedRecipients")), "complaint"
    else:
        return 0
    done = 0
    for recipient in recipients:
        address = str(as_dict(recipient).get("emailAddress") or "").strip().lower()  # as intake stores it
        if "@" not in address or not _storable(address, 320):
            continue
        suppression.suppress(table, store_id, address, Channel.EMAIL.value, "all", reason, now)
        done += 1
    count("EmailSuppressed", value=done, reason=reason)
    return done


def _confirm(table: db.Table, notification: Mapping[str, Any], now: datetime) -> int:
    """1 when SES's delivery event settles an unconfirmed email (found by its ledger tag)."""
    mail = as_dict(notification.get("mail"))
    tagged = as_list(as_dict(mail.get("tags")).get(transports.REFERENCE_TAG))
    ledger_key = keys.from_reference(tagged[0]) if tagged else None
    message_id = mail.get("messageId")
    if ledger_key is None or not _storable(message_id, 256):
        return 0
    return 1 if delivery.confirm_email(table, ledger_key, str(message_id), now) else 0


_PLAUSIBLE_STORE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _store_of(mail: Mapping[str, Any]) -> str | None:
    """The store a notification names, or None; an id no store could have (too long, odd
    characters) is unattributed rather than used in a key."""
    found: str | None = None
    values = as_list(as_dict(mail.get("tags")).get(transports.STORE_TAG))
    if values:
        found = str(values[0])
    else:
        for header in as_list(mail.get("headers")):
            value = as_dict(header).get("value")
            if str(as_dict(header).get("name", "")).lower() == transports.STORE_HEADER.lower() and value:
                found = str(value)
                break
    return found if found is not None and _PLAUSIBLE_STORE_ID.fullmatch(found) else None


def _storable(value: Any, limit: int) -> bool:
    """Text from a notification that can be part of a key: short and printable (which also
    rules out the half surrogate pairs that JSON can carry and UTF-8 cannot)."""
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()
