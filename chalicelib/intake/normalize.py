"""What every source shares once its own format is read: contacts validated and normalised,
languages, birthdays, consents and amounts in one shape.

Bad contact data is dropped, never fatal: the order is still stored, and the field name (never
its value) is logged and reported back as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.core import validate
from chalicelib.core.clock import parse_iso
from chalicelib.core.errors import InvalidInput
from chalicelib.core.models import LANGUAGES, CustomerInfo, OrderEvent
from chalicelib.platform.observability import logger

MAX_TEXT = 500
_BIRTHDAY = re.compile(r"^(?:(\d{4})-|--)?(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TRUE = {"true", "yes", "y", "1", "on", "subscribed", "opt-in", "opted_in"}
_FALSE = {
    "false",
    "no",
    "n",
    "0",
    "off",
    "unsubscribed",
    "not_subscribed",
    "opt-out",
    "opted_out",
    "redacted",
    "invalid",
    "",
}


@dataclass
class Notes:
    """Fields dropped while reading one payload (names only: values may be personal)."""

    dropped: list[str] = field(default_factory=list)

    def drop(self, name: str, why: str) -> None:
        self.dropped.append(f"{name}: {why}")
        logger.info("field dropped", extra={"field": name, "reason": why})


def text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """Printable text trimmed to ``limit``, or None for anything that is not text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:limit] or None


def email(value: Any, name: str, notes: Notes) -> str | None:
    """A normalised address (whole address lower-cased: it is the customer's identity)."""
    raw = text(value, 320)
    if raw is None:
        return None
    try:
        return validate.email(raw, name).lower()
    except InvalidInput:
        notes.drop(name, "not a valid email address")
        return None


def phone(value: Any, name: str, notes: Notes, region: str | None = None) -> str | None:
    """E.164, reading national numbers with the order's country as the region hint."""
    raw = text(value, 40)
    if raw is None:
        return None
    hint = region.upper() if isinstance(region, str) and len(region) == 2 and region.isalpha() else None
    try:
        return validate.phone(raw, name, hint)
    except InvalidInput:
        notes.drop(name, "not a valid phone number")
        return None


def language(value: Any) -> str | None:
    """One of the supported languages from a locale such as ``ar-SA`` or ``el_GR``; else None
    (the store's default language applies)."""
    raw = text(value, 35)
    if raw is None:
        return None
    code = raw.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def timezone(value: Any, name: str, notes: Notes) -> str | None:
    raw = text(value, 64)
    if raw is None:
        return None
    try:
        return validate.timezone(raw, name)
    except InvalidInput:
        notes.drop(name, "not an IANA time zone")
        return None


def birthday(value: Any, name: str, notes: Notes) -> str | None:
    """``YYYY-MM-DD`` or ``MM-DD`` (also ``--MM-DD`` and ``DD/MM/YYYY``), checked as a calendar day."""
    raw = text(value, 40)
    if raw is None:
        return None
    raw = raw.split("T")[0]
    year: int | None
    match = _BIRTHDAY.match(raw)
    if match:
        year = int(match.group(1)) if match.group(1) else None
        month, day = int(match.group(2)), int(match.group(3))
    else:
        dmy = _DMY.match(raw)
        if not dmy:
            notes.drop(name, "not a date")
            return None
        day, month, year = int(dmy.group(1)), int(dmy.group(2)), int(dmy.group(3))
    try:
        date(year if year else 2000, month, day)
    except ValueError:
        notes.drop(name, "not a calendar day")
        return None
    if year is not None and not 1900 <= year <= 2100:
        notes.drop(name, "year out of range")
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"{month:02d}-{day:02d}"


def consent(value: Any) -> bool | None:
    """A stated consent (booleans, yes/no words, Shopify consent states); None when not stated."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, dict):
        return consent(value.get("state"))
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def amount(value: Any) -> str | None:
    """A money amount kept as the decimal text the platform sent (never a float)."""

    raw = text(value, 32)
    if raw is None:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return raw if number.is_finite() else None


def currency(value: Any) -> str | None:
    raw = text(value, 8)
    return raw.upper() if raw and len(raw) == 3 and raw.isascii() and raw.isalpha() else None


EARLIEST_YEAR, LATEST_YEAR = 1970, 2999  # later follow-ups add years to an event's time


def instant(value: Any) -> datetime | None:
    """An ISO 8601 instant (naive = UTC), or None when absent, unreadable or implausible."""
    raw = text(value, 64)
    if raw is None:
        return None
    try:
        moment = parse_iso(raw)
    except (ValueError, OverflowError):
        return None
    return moment if EARLIEST_YEAR <= moment.year <= LATEST_YEAR else None


def customer(
    notes: Notes,
    *,
    emails: Sequence[tuple[str, Any]] = (),
    phones: Sequence[tuple[str, Any]] = (),
    region: str | None = None,
    first_name: Any = None,
    locale: Any = None,
    zone: tuple[str, Any] | None = None,
    born: tuple[str, Any] | None = None,
    email_consent: Any = None,
    sms_consent: Any = None,
    whatsapp_consent: Any = None,
) -> CustomerInfo:
    """The first valid email and phone among candidates (in order of preference), and the rest."""
    found_email = next((e for e in (email(v, n, notes) for n, v in emails if v not in (None, "")) if e), None)
    found_phone = next((p for p in (phone(v, n, notes, region) for n, v in phones if v not in (None, "")) if p), None)
    return CustomerInfo(
        email=found_email,
        phone=found_phone,
        first_name=text(first_name, 100),
        language=language(locale),
        timezone=timezone(zone[1], zone[0], notes) if zone else None,
        birthday=birthday(born[1], born[0], notes) if born else None,
        email_consent=consent(email_consent),
        sms_consent=consent(sms_consent),
        whatsapp_consent=consent(whatsapp_consent),
    )


@dataclass(frozen=True)
class Ignored:
    """A genuine delivery that asks nothing of Aftercare (a ping, a topic or status it does
    not act on): answered 200 so the platform does not retry, and nothing is written."""

    reason: str


@dataclass(frozen=True)
class Erasure:
    """A platform's request to forget personal data: one customer (by contact), some orders,
    or every customer of the store."""

    customer: CustomerInfo | None = None
    order_ids: tuple[str, ...] = ()
    whole_store: bool = False


@dataclass(frozen=True)
class DataRequest:
    """A platform's request, on a customer's behalf, to see the data held about them: the
    customer by contact and by the orders named (``platform_customer_id`` is for support)."""

    request_id: str
    customer: CustomerInfo
    order_ids: tuple[str, ...] = ()
    platform_customer_id: str | None = None
    source: str = ""


Reading = OrderEvent | Ignored | Erasure | DataRequest
