"""The one place that decides whether a message may go now, on which channels, or when.

:func:`decide` is pure: ``send`` gathers the facts (customer, order, suppressions, recent
sends) into a :class:`Situation` and acts on the :class:`Decision`.  The checks, in order:
nothing to say, order cancelled, contact present, suppression (ours and SES's), consent for
marketing kinds, the survey cooldown, the weekly cap, quiet hours.  A message that may not
go *now* gets the next allowed moment; one that may never go is dropped with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core import weekends
from chalicelib.core.clock import parse_iso
from chalicelib.core.models import Channel, JobKind
from chalicelib.storage import items
from chalicelib.storage.items import CustomerItem, OrderItem, StoreItem

MARKETING = frozenset({JobKind.BIRTHDAY.value, JobKind.ANNIVERSARY.value, JobKind.WINBACK.value})
# Answers to the customer's own action: sent at once by email, never held by the weekly cap
# and not counted against it; only an SMS (it buzzes a phone) waits for the morning.
IMMEDIATE = frozenset({JobKind.THANK_YOU.value})
SURVEY_KINDS = frozenset({JobKind.SURVEY.value, JobKind.SURVEY_REMINDER.value})
ORDER_GONE = frozenset({"cancelled", "refunded"})
# Kinds that still make sense after an order is cancelled or refunded.
OUTLIVE_ORDER = frozenset(
    {JobKind.MADE_IT_RIGHT.value, JobKind.WINBACK.value, JobKind.BIRTHDAY.value, JobKind.ANNIVERSARY.value}
)
WEEK = timedelta(days=7)


class Reason:
    NOTHING_TO_SAY = "nothing_to_say"
    ORDER_CANCELLED = "order_cancelled"
    NO_CONTACT = "no_contact"
    SUPPRESSED = "suppressed"
    BOUNCED = "bounced"
    NO_CONSENT = "no_consent"
    COOLDOWN = "survey_cooldown"
    WEEKLY_CAP = "weekly_cap"
    QUIET_HOURS = "quiet_hours"


@dataclass(frozen=True)
class Situation:
    kind: str
    store: StoreItem  # with defaults (stores.with_defaults)
    customer: CustomerItem | None
    now: datetime
    order: OrderItem | None = None
    suppressions: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)  # channel -> our item
    ses_suppressed: bool = False  # the email address is on SES's account list
    recent_sends: Sequence[datetime] = ()  # this customer's sends in the last week
    channel_hint: str | None = None  # a reminder goes where its survey went
    nothing_to_say: str | None = None  # e.g. "no_tips", "survey_answered"
    whatsapp_ready: bool = False  # an approved template and the customer's opt-in (messaging/whatsapp.py)


@dataclass(frozen=True)
class Decision:
    action: str  # "send" | "later" | "drop"
    reason: str | None = None
    at: datetime | None = None
    channels: tuple[str, ...] = ()
    marketing_extras: bool = False  # invitations may ride along (consent given on the channel)

    @property
    def send(self) -> bool:
        return self.action == "send"


def drop(reason: str) -> Decision:
    return Decision("drop", reason)


def contact_for(customer: CustomerItem | None, channel: str, order: OrderItem | None = None) -> str | None:
    """The address or number to use on a channel: the customer's, else the order's."""
    attr = "email" if channel == Channel.EMAIL.value else "phone"
    for source in (customer, order):
        if source and source.get(attr):
            return str(source.get(attr))
    return None


def consented(customer: CustomerItem | None, channel: str) -> bool:
    return bool(customer and customer.get(f"{channel}_consent") is True)


def candidate_channels(
    store: StoreItem, kind: str, hint: str | None, whatsapp_ready: bool = False
) -> tuple[str, tuple[str, ...]]:
    """(mode, channels in preference order) for a kind: the store's ``channels`` setting.
    ``whatsapp``: the SMS channel first (where WhatsApp stands in for the SMS) when the
    message can go by WhatsApp, else as ``auto``."""
    if hint in (Channel.EMAIL.value, Channel.SMS.value):
        return "one", (hint,)
    setting = (store.get("channels") or {}).get(kind, "auto")
    if setting == Channel.WHATSAPP.value and whatsapp_ready:
        return "first", (Channel.SMS.value, Channel.EMAIL.value)
    if setting == "email":
        return "one", (Channel.EMAIL.value,)
    if setting == "sms":
        return "one", (Channel.SMS.value,)
    if setting == "both":
        return "all", (Channel.EMAIL.value, Channel.SMS.value)
    return "first", (Channel.EMAIL.value, Channel.SMS.value)


def _channel_refusal(s: Situation, channel: str) -> str | None:
    if contact_for(s.customer, channel, s.order) is None:
        return Reason.NO_CONTACT
    ours = s.suppressions.get(channel)
    if ours and (ours.get("scope") == "all" or (ours.get("scope") == "surveys" and s.kind in SURVEY_KINDS)):
        return Reason.BOUNCED if ours.get("reason") == "bounce" else Reason.SUPPRESSED
    if channel == Channel.EMAIL.value and s.ses_suppressed:
        return Reason.SUPPRESSED
    if s.kind in MARKETING and not consented(s.customer, channel):
        return Reason.NO_CONSENT
    return None


def zone_of(customer: CustomerItem | None, store: StoreItem) -> ZoneInfo:
    name = (customer or {}).get("timezone") or store.get("timezone") or "UTC"
    try:
        return ZoneInfo(str(name))
    except (KeyError, ValueError):
        return ZoneInfo(str(store.get("timezone") or "UTC"))


def send_days(store: StoreItem, zone: ZoneInfo) -> list[int]:
    """The days a customer may be messaged: the store's choice, else the customer's own week."""
    if store.get("send_days"):
        return [int(d) for d in store["send_days"]]
    return weekends.week_of(zone.key).send_days


def next_allowed(moment: datetime, zone: ZoneInfo, start: str, end: str, days: Sequence[int]) -> datetime:
    """``moment`` when it falls in the sending window, else the window's next opening.

    The window is ``start``–``end`` local time on ``days`` (0 = Monday); an ``end`` at or
    before ``start`` runs past midnight.
    """
    opens, closes = items.hhmm(start), items.hhmm(end)
    local = moment.astimezone(zone)
    allowed_days = {int(d) for d in days}
    for offset in range(-1, 9):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in allowed_days:
            continue
        window_start = datetime.combine(day, opens, tzinfo=zone)
        window_end = datetime.combine(day + timedelta(days=1 if closes <= opens else 0), closes, tzinfo=zone)
        if window_start <= local < window_end:
            return moment
        if local < window_start:
            return window_start.astimezone(moment.tzinfo)
    return moment  # no allowed day at all cannot pass settings validation


def decide(s: Situation) -> Decision:
    if s.nothing_to_say:
        return drop(s.nothing_to_say)
    if s.order is not None and str(s.order.get("status", "")) in ORDER_GONE and s.kind not in OUTLIVE_ORDER:
        return drop(Reason.ORDER_CANCELLED)
    if s.customer is None and s.order is None:
        return drop(Reason.NO_CONTACT)

    mode, candidates = candidate_channels(s.store, s.kind, s.channel_hint, s.whatsapp_ready)
    refusals = {channel: _channel_refusal(s, channel) for channel in candidates}
    allowed = tuple(c for c in candidates if refusals[c] is None)
    if not allowed:
        reasons = [r for r in refusals.values() if r is not None]
        meaningful = [r for r in reasons if r != Reason.NO_CONTACT]
        return drop((meaningful or reasons)[0])
    channels = allowed if mode == "all" else allowed[:1]

    if s.kind == JobKind.SURVEY.value and s.customer and s.customer.get("last_survey_at"):
        cooldown = timedelta(days=int(s.store.get("survey_cooldown_days") or 0))
        if parse_iso(str(s.customer["last_survey_at"])) > s.now - cooldown:
            return drop(Reason.COOLDOWN)

    zone = zone_of(s.customer, s.store)
    window = (
        str(s.store.get("quiet_start") or "09:00"),
        str(s.store.get("quiet_end") or "20:00"),
        send_days(s.store, zone),
    )

    if s.kind not in IMMEDIATE:
        in_week = sorted(t for t in s.recent_sends if t > s.now - WEEK)
        cap = int(s.store.get("weekly_cap") or 3)
        if len(in_week) >= cap:
            frees_up = in_week[len(in_week) - cap] + WEEK + timedelta(seconds=1)
            return Decision("later", Reason.WEEKLY_CAP, at=next_allowed(frees_up, zone, *window), channels=channels)
        opens = next_allowed(s.now, zone, *window)
        if opens > s.now:
            return Decision("later", Reason.QUIET_HOURS, at=opens, channels=channels)

    elif Channel.SMS.value in channels and next_allowed(s.now, zone, *window) > s.now:
        by_email = tuple(c for c in channels if c != Channel.SMS.value)
        if not by_email:
            return Decision("later", Reason.QUIET_HOURS, at=next_allowed(s.now, zone, *window), channels=channels)
        channels = by_email  # the email says it all; no text in the night

    extras = any(consented(s.customer, c) for c in channels)
    return Decision("send", channels=channels, marketing_extras=extras)
