"""Which follow-ups an order event calls for, and when: pure planning of job writes.

Everything here returns transaction operations and reads nothing (except
:func:`cancel_order_jobs`, which must find what is pending), so order intake stays one
write request.  Keys are deterministic (owner + kind + discriminator): a repeated or
later event rewrites the same job instead of adding a second one, and ``send`` claims
each *occurrence* (see :func:`occurrence`) once, so a rewrite never sends twice.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.models import CustomerInfo, JobKind, JobStatus, OrderEvent, OrderStatus
from chalicelib.schedule import jobs
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update, stated
from chalicelib.storage.items import JobItem, StoreItem, whole
from chalicelib.stores.registry import FIELDS

BIRTHDAY_HOUR = 10
# Kinds that come back every year: each year's message is its own occurrence.
RECURRING = frozenset({JobKind.BIRTHDAY.value, JobKind.ANNIVERSARY.value})
FALLBACK = "fallback"
CATALOGUE = "catalogue"  # a warranty job that finds warranty months in product settings
DELIVERED = "delivered"
# Late events never burst: a follow-up whose moment is further in the past than this when its
# event arrives is not sent late, but recorded as skipped on the order ("late_event").  Birthdays
# and anniversaries move to their next occurrence instead.  So a year of order history can be
# imported safely: nothing old goes out, only what is still ahead is planned.
LATE_GRACE = timedelta(days=3)
LATE = "late_event"


@dataclass
class Plan:
    """What one order event plans: the job writes, and the follow-ups skipped as late
    (follow-up name → when it was due), recorded on the order with the reason."""

    ops: list[db.TransactOp] = field(default_factory=list)
    late: dict[str, str] = field(default_factory=dict)

    def due(self, name: str, moment: datetime, now: datetime) -> datetime | None:
        """When a follow-up due at ``moment`` goes: now at the earliest, never when it is late."""
        if moment < now - LATE_GRACE:
            self.late[name] = iso(moment)
            return None
        return max(moment, now)


class _Owner(TypedDict):
    """Who every job planned for one event belongs to, and when it was planned."""

    event_store: str
    customer_id: str
    now: datetime
    shards: int  # the due index's shard count (the table's layout)


class _OrderOwner(_Owner):
    order_id: str


def enabled(store: StoreItem, kind: JobKind) -> bool:
    """A store switches each follow-up on or off; all are on unless switched off."""
    switches = store.get("followups") or {}
    return bool(switches.get(kind.value, True))


def _setting(store: StoreItem, name: str) -> int:

    value = store.get(name)
    return whole(value, FIELDS[name].default) if value is not None else int(FIELDS[name].default)


def _zone(name: str | None, store: StoreItem) -> ZoneInfo:
    return ZoneInfo(name or store.get("timezone") or "UTC")


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(moment: datetime, months: int) -> datetime:

    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def parse_birthday(text: str | None) -> tuple[int, int] | None:
    """``MM-DD`` or ``YYYY-MM-DD`` → (month, day), or None when it is not a calendar day."""
    if not text:
        return None
    parts = text.strip().split("-")
    try:
        month, day = (int(parts[-2]), int(parts[-1])) if len(parts) in (2, 3) else (0, 0)
        date(2000, month, day)  # a leap year, so 29 February passes
    except (ValueError, IndexError):
        return None
    return month, day


def next_birthday(birthday: str | None, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The next birthday greeting moment, 10:00 in the customer's zone, strictly after ``now``."""
    parsed = parse_birthday(birthday)
    if parsed is None:
        return None
    month, day = parsed
    local_today = now.astimezone(zone).date()
    for year in (local_today.year, local_today.year + 1, local_today.year + 2):
        on = add_years(date(2000, month, day), year - 2000)
        moment = datetime.combine(on, time(BIRTHDAY_HOUR), tzinfo=zone)
        if moment > now:
            return moment
    return None  # unreachable: a date within two years always exists


def occurrence(job: JobItem) -> str:
    """What ``send`` claims before sending: one survey per order whichever job asks for it,
    one greeting per year for recurring kinds, one message per job key otherwise (win-back:
    per due date, since a new order moves it and it may go again)."""
    kind = job["kind"]
    data = job.get("data") or {}
    if kind == JobKind.SURVEY.value:
        return keys.job_sk(kind)
    if kind in RECURRING or kind == JobKind.WINBACK.value:
        return keys.job_occurrence(str(job["SK"]), str(data.get("occurrence") or job["due"]))
    return str(job["SK"])


def _job(
    owner_pk: str,
    kind: JobKind,
    due: datetime,
    *,
    event_store: str,
    customer_id: str | None,
    order_id: str | None,
    now: datetime,
    shards: int,
    discriminator: str = "",
    data: Mapping[str, Any] | None = None,
) -> JobItem:
    return jobs.job_item(
        owner_pk,
        kind,
        due,
        store_id=event_store,
        shards=shards,
        customer_id=customer_id,
        order_id=order_id,
        discriminator=discriminator,
        data=data,
        created_at=now,
    )


def _keep_first(job: JobItem) -> db.TransactOp:
    """Write a job only where none is yet: ``if_not_exists`` on every attribute, no condition,
    so it can ride in intake's transaction without ever aborting it."""
    attributes = stated({k: v for k, v in job.items() if k not in ("PK", "SK")})
    return db.update(keys.of(job), Update().set_if_absent(attributes), label="job")


def warranty_jobs(
    store: StoreItem,
    store_id: str,
    order_id: str,
    customer_id: str,
    ordered_at: datetime,
    items: list[tuple[str, str, int]],
    now: datetime,
    plan: Plan | None = None,
    *,
    shards: int,
) -> list[JobItem]:
    """A reminder per (sku, title, warranty months), ``warranty_notice_days`` before it ends;
    one whose moment has passed is not planned (and is recorded in ``plan`` when given)."""
    notice = timedelta(days=_setting(store, "warranty_notice_days"))
    out = []
    for sku, title, months in items:
        ends = add_months(ordered_at, int(months))
        due = ends - notice
        if due <= now:
            if plan is not None:
                plan.late[f"{JobKind.WARRANTY.value}:{sku}"] = iso(due)
            continue
        out.append(
            _job(
                keys.order_pk(store_id, order_id),
                JobKind.WARRANTY,
                due,
                event_store=store_id,
                customer_id=customer_id,
                order_id=order_id,
                now=now,
                shards=shards,
                discriminator=sku,
                data={"sku": sku, "title": title, "warranty_ends": iso(ends)},
            )
        )
    return out


def is_catalogue_lookup(job: JobItem) -> bool:
    return job.get("kind") == JobKind.WARRANTY.value and str(job.get("SK", "")).endswith(f"#{CATALOGUE}")


def plan_order_event(event: OrderEvent, store: StoreItem, now: datetime, *, shards: int) -> Plan:
    """Blind job writes for one normalised order event (no reads, no conditions); ``shards``
    is the due index's shard count, given by the table the plan is written to."""
    plan = Plan()
    if event.status in (OrderStatus.CREATED, OrderStatus.PAID):
        _plan_new_order(plan, event, store, now, shards)
    elif event.status is OrderStatus.DELIVERED:
        _plan_delivered(plan, event, store, now, shards)
    for name, moment in sorted(plan.late.items()):
        plan.ops.append(
            db.put(
                {
                    **keys.late_followup(event.store_id, event.order_id, name),
                    "type": "late_followup",
                    "store_id": event.store_id,
                    "order_id": event.order_id,
                    "name": name,
                    "due": moment,
                    "event": event.status.value,
                    "reason": LATE,
                    "noticed_at": iso(now),
                },
                label="late follow-up",
            )
        )
    return plan


def _plan_new_order(plan: Plan, event: OrderEvent, store: StoreItem, now: datetime, shards: int) -> None:
    customer_id = event.customer.customer_id
    if customer_id is None:
        return  # nobody to write to
    order_pk = keys.order_pk(event.store_id, event.order_id)
    customer_pk = keys.customer_pk(event.store_id, customer_id)
    ordered_at = event.ordered_at or event.occurred_at
    common: _Owner = {"event_store": event.store_id, "customer_id": customer_id, "now": now, "shards": shards}
    ops = plan.ops

    # The thank-you belongs to the moment of the order: an order days old is not thanked now.
    if enabled(store, JobKind.THANK_YOU) and plan.due(JobKind.THANK_YOU.value, ordered_at, now):
        ops.append(jobs.schedule(_job(order_pk, JobKind.THANK_YOU, now, order_id=event.order_id, **common)))
    if enabled(store, JobKind.SURVEY):
        moment = ordered_at + timedelta(
            days=_setting(store, "default_transit_days") + _setting(store, "survey_delay_days")
        )
        if due := plan.due(JobKind.SURVEY.value, moment, now):
            ops.append(
                jobs.schedule(
                    _job(order_pk, JobKind.SURVEY, due, order_id=event.order_id, discriminator=FALLBACK, **common)
                )
            )
    if enabled(store, JobKind.WARRANTY):
        stated = [(item.sku, item.title, item.warranty_months) for item in event.items if item.warranty_months]
        for job in warranty_jobs(
            store, event.store_id, event.order_id, customer_id, ordered_at, stated, now, plan, shards=shards
        ):
            ops.append(jobs.schedule(job))
        unstated = {item.sku: item.title for item in event.items if item.sku and not item.warranty_months}
        if unstated:
            # Warranty months may live in the store's product settings, which planning may
            # not read: a job due now looks them up (see sending) and plans the reminders.
            ops.append(
                jobs.schedule(
                    _job(
                        order_pk,
                        JobKind.WARRANTY,
                        now,
                        order_id=event.order_id,
                        discriminator=CATALOGUE,
                        data={"titles": unstated, "ordered_at": iso(ordered_at)},
                        **common,
                    )
                )
            )
    if enabled(store, JobKind.WINBACK):
        moment = ordered_at + timedelta(days=_setting(store, "winback_days"))
        if due := plan.due(JobKind.WINBACK.value, moment, now):
            ops.append(
                jobs.schedule(
                    _job(
                        customer_pk,
                        JobKind.WINBACK,
                        due,
                        order_id=event.order_id,
                        data={"occurrence": iso(moment), "last_order_id": event.order_id},
                        **common,
                    )
                )
            )
    if enabled(store, JobKind.ANNIVERSARY):
        local = ordered_at.astimezone(_zone(event.customer.timezone, store))
        years = 1
        while (first := datetime.combine(add_years(local.date(), years), local.timetz())) <= now:
            years += 1  # an old order's anniversary moves to its next occurrence
        ops.append(
            _keep_first(
                _job(
                    customer_pk,
                    JobKind.ANNIVERSARY,
                    first,
                    order_id=None,
                    data={
                        "occurrence": str(first.year),
                        "first_order_at": iso(ordered_at),
                        "first_order_id": event.order_id,
                    },
                    **common,
                )
            )
        )
    ops.extend(plan_customer(customer_id, event.customer, {**store, "store_id": event.store_id}, now, shards=shards))


def _plan_delivered(plan: Plan, event: OrderEvent, store: StoreItem, now: datetime, shards: int) -> None:
    customer_id = event.customer.customer_id
    if customer_id is None:
        return
    order_pk = keys.order_pk(event.store_id, event.order_id)
    delivered_at = event.occurred_at
    common: _OrderOwner = {
        "event_store": event.store_id,
        "customer_id": customer_id,
        "order_id": event.order_id,
        "now": now,
        "shards": shards,
    }
    if enabled(store, JobKind.DELIVERY_CHECKIN) and (
        due := plan.due(JobKind.DELIVERY_CHECKIN.value, delivered_at, now)
    ):
        plan.ops.append(jobs.schedule(_job(order_pk, JobKind.DELIVERY_CHECKIN, due, **common)))
    if enabled(store, JobKind.USAGE_TIPS):
        # Whether any item has tips needs a read; send skips the job when none has.
        moment = delivered_at + timedelta(days=_setting(store, "tips_delay_days"))
        if due := plan.due(JobKind.USAGE_TIPS.value, moment, now):
            plan.ops.append(jobs.schedule(_job(order_pk, JobKind.USAGE_TIPS, due, **common)))
    if enabled(store, JobKind.SURVEY):
        moment = delivered_at + timedelta(days=_setting(store, "survey_delay_days"))
        if due := plan.due(f"{JobKind.SURVEY.value}:{DELIVERED}", moment, now):
            plan.ops.append(jobs.schedule(_job(order_pk, JobKind.SURVEY, due, discriminator=DELIVERED, **common)))


def plan_customer(
    customer_id: str, info: CustomerInfo, store: StoreItem, now: datetime, *, shards: int
) -> list[db.TransactOp]:
    """The birthday greeting of a customer whose birthday is known (orders and CRM sync)."""
    if not enabled(store, JobKind.BIRTHDAY) or not info.birthday:
        return []
    store_id = store["store_id"]
    due = next_birthday(info.birthday, _zone(info.timezone, store), now)
    if due is None:
        return []
    job = _job(
        keys.customer_pk(store_id, customer_id),
        JobKind.BIRTHDAY,
        due,
        event_store=store_id,
        customer_id=customer_id,
        order_id=None,
        now=now,
        shards=shards,
        data={"occurrence": str(due.year), "birthday": info.birthday},
    )
    return [jobs.schedule(job)]


def next_year(job: JobItem, store: StoreItem, zone: ZoneInfo, now: datetime) -> tuple[datetime, str] | None:
    """When a recurring job comes back after this year's occurrence, and that occurrence's name."""
    data = job.get("data") or {}
    if job["kind"] == JobKind.BIRTHDAY.value:
        this_year = int(data.get("occurrence") or now.astimezone(zone).year)
        after = datetime.combine(date(this_year, 12, 31), time(23, 59), tzinfo=zone)
        due = next_birthday(data.get("birthday"), zone, max(after, now))
        return (due, str(due.year)) if due else None
    if job["kind"] == JobKind.ANNIVERSARY.value:
        year = int(data.get("occurrence") or now.year) + 1

        first = parse_iso(data["first_order_at"]).astimezone(zone)
        on = add_years(first.date(), year - first.year)
        return datetime.combine(on, first.timetz()), str(year)
    return None


def cancel_order_jobs(table: db.Table, store_id: str, order_id: str, now: datetime) -> list[db.TransactOp]:
    """Cancel operations for an order's pending jobs (a cancelled or refunded order)."""
    pending = table.partition(
        keys.order_pk(store_id, order_id),
        keys.job_sk(""),
        consistent=True,
        filter=db.Expr("#st = :pending", names={"#st": "status"}, values={":pending": JobStatus.PENDING.value}),
    )
    return [jobs.cancel(keys.of(job), "order cancelled", now) for job in pending]
