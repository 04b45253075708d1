"""Negative feedback reaches support in seconds, and keeps reaching it until someone answers.

:func:`on_response` runs inside the request that stored the answer: it classifies it, opens
or updates the order's case and publishes the alert before the customer's page returns (the
escalation SNS topic, with ``store_id`` and ``priority`` attributes for per-store
subscription filters, and the store's Slack-compatible webhook).  What cannot be done now
becomes a job in the due index: an ``alert_retry`` a minute or two later when an alert
failed, a ``case_realert`` at the store's SLA deadline (counted in business hours), which
re-alerts once and tells the store's second contact when nobody has acknowledged the case."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core import weekends
from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.models import JobKind, JobStatus
from chalicelib.messaging import transports
from chalicelib.platform.aws import Clients
from chalicelib.platform.config import settings
from chalicelib.platform.observability import MetricUnit, count, logger, metrics
from chalicelib.schedule import jobs
from chalicelib.storage import db, items, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import CaseItem, JobItem, ResponseItem, StoreItem, as_case, as_customer, as_order
from chalicelib.stores.registry import with_defaults
from chalicelib.support import cases, sentiment
from chalicelib.support.alerts import CHANNELS, build_alert, deliver_alert

RETRY_DELAYS = (timedelta(seconds=90), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


# --- SLA in business hours -----------------------------------------------------------------
def sla_deadline(
    opened: datetime,
    minutes: int,
    zone_name: str,
    *,
    business_start: str = "09:00",
    business_end: str = "17:00",
    business_days: Sequence[int] = (0, 1, 2, 3, 4),
) -> datetime:
    """When ``minutes`` of the store's business hours have passed since ``opened``.

    Hours are wall-clock hours in the store's zone; a case opened on Friday evening is due
    on Monday morning.  ``business_end`` at or before ``business_start`` means "until
    midnight".
    """

    zone = ZoneInfo(zone_name)
    start, end = items.hhmm(business_start), items.hhmm(business_end)
    days = {int(d) for d in business_days} or {0, 1, 2, 3, 4}
    cursor = opened.astimezone(zone).replace(tzinfo=None)
    remaining = timedelta(minutes=int(minutes))
    for _ in range(800):
        day = cursor.date()
        if day.weekday() in days:
            window_start = datetime.combine(day, start)
            window_end = (
                datetime.combine(day, end) if end > start else datetime.combine(day + timedelta(days=1), time(0))
            )
            moment = max(cursor, window_start)
            if moment < window_end:
                if remaining <= window_end - moment:
                    return (moment + remaining).replace(tzinfo=zone).astimezone(UTC)
                remaining -= window_end - moment
        cursor = datetime.combine(day + timedelta(days=1), time(0))
    raise ValueError("no business hours in the store's settings")


# --- jobs ------------------------------------------------------------------------------------
def _stamp(moment: str) -> str:
    return "".join(ch for ch in moment if ch.isdigit())


def realert_key(case: CaseItem) -> keys.Key:
    """One re-alert per opening of a case (a reopened case gets a fresh one)."""
    return keys.job(
        keys.case_pk(str(case["store_id"]), str(case["case_id"])),
        JobKind.CASE_REALERT.value,
        _stamp(str(case["opened_at"])),
    )


def store_sla_deadline(store: StoreItem, opened: datetime) -> datetime:
    """When a case opened at ``opened`` is overdue, in the store's business hours and week."""
    zone = str(store.get("timezone") or "UTC")
    return sla_deadline(
        opened,
        int(store.get("sla_minutes") or 60),
        zone,
        business_start=str(store.get("business_start") or "09:00"),
        business_end=str(store.get("business_end") or "17:00"),
        business_days=[int(d) for d in store.get("business_days") or weekends.week_of(zone).business_days],
    )


def realert_job(store: StoreItem, case: CaseItem, now: datetime, *, shards: int) -> JobItem:
    due = store_sla_deadline(store, parse_iso(str(case["opened_at"])))
    return jobs.job_item(
        keys.case_pk(str(case["store_id"]), str(case["case_id"])),
        JobKind.CASE_REALERT,
        due,
        store_id=str(case["store_id"]),
        shards=shards,
        customer_id=str(case["customer_id"]),
        order_id=str(case["order_id"]),
        discriminator=_stamp(str(case["opened_at"])),
        data={"case_id": case["case_id"], "opened_at": case["opened_at"]},
        created_at=now,
    )


def retry_job(
    case: CaseItem, reason: str, channels: Sequence[str], attempt: int, now: datetime, *, shards: int
) -> JobItem:
    delay = RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)]
    return jobs.job_item(
        keys.case_pk(str(case["store_id"]), str(case["case_id"])),
        JobKind.ALERT_RETRY,
        now + delay,
        store_id=str(case["store_id"]),
        shards=shards,
        customer_id=str(case["customer_id"]),
        order_id=str(case["order_id"]),
        discriminator=keys.retry_discriminator(_stamp(iso(now)), attempt),
        data={"case_id": case["case_id"], "reason": reason, "channels": list(channels), "attempt": attempt},
        created_at=now,
    )


def made_it_right_job(store: StoreItem, case: CaseItem, now: datetime, *, shards: int) -> JobItem:
    """A day after resolution the engine asks the customer whether we made it right; the
    answer comes back through :func:`on_response` with kind ``made_it_right``."""
    return jobs.job_item(
        keys.case_pk(str(case["store_id"]), str(case["case_id"])),
        JobKind.MADE_IT_RIGHT,
        now + timedelta(days=1),
        store_id=str(case["store_id"]),
        shards=shards,
        customer_id=str(case["customer_id"]),
        order_id=str(case["order_id"]),
        discriminator=_stamp(str(case.get("opened_at") or iso(now))),
        data={"case_id": case["case_id"], "language": case.get("language"), "outcome": case.get("outcome")},
        created_at=now,
    )


def _alert_now(
    table: db.Table,
    clients: Clients,
    store: StoreItem,
    case: CaseItem,
    reason: str,
    now: datetime,
    opener: Any | None,
) -> None:
    failed = deliver_alert(clients, store, case, reason, opener=opener)
    if failed:
        table.put(retry_job(case, reason, failed, 1, now, shards=table.due_shards))


# --- entry points -----------------------------------------------------------------------------
def on_response(
    table: db.Table,
    clients: Clients,
    store: StoreItem,
    response: ResponseItem,
    now: datetime,
    *,
    opener: Any | None = None,
) -> CaseItem | None:
    """Called right after a survey answer is stored (a first or a changed answer).

    A negative answer opens the order's case (or updates it) and alerts support before
    returning; the case is returned, or None when the answer is not negative.  An answer
    to "did we make it right?" (kind ``made_it_right``) is recorded on its case instead.
    """

    conf = with_defaults(store)
    store_id = str(store["store_id"])
    customer_id, order_id = str(response["customer_id"]), str(response["order_id"])
    case_id = cases.case_id_for(customer_id, order_id)
    survey_type = str(response.get("survey_type") or conf.get("survey_type") or "nps")
    score = int(response["score"]) if response.get("score") is not None else None
    verdict = sentiment.classify(survey_type, score, response.get("comment"), conf)

    if response.get("kind") == JobKind.MADE_IT_RIGHT.value:
        existing = cases.get(table, store_id, case_id, consistent=True)
        if existing is None:
            return None
        count("made_it_right_answers", sentiment="negative" if verdict.negative else "positive")
        return cases.record_answer(table, existing, response, now, field="made_it_right", verdict=verdict)

    if not verdict.negative:
        existing = cases.get(table, store_id, case_id, consistent=True)
        if existing is not None and existing["status"] != cases.RESOLVED:
            cases.record_answer(table, existing, response, now, verdict=verdict)
        return None

    case_key, customer_key, order_key = (
        keys.case(store_id, case_id),
        keys.customer(store_id, customer_id),
        keys.order(store_id, order_id),
    )
    found = table.batch_get([case_key, customer_key, order_key], consistent=True)
    existing = next((as_case(i) for i in found if i["SK"] == case_key["SK"]), None)
    customer = next((as_customer(i) for i in found if i["SK"] == customer_key["SK"]), None)
    order = next((as_order(i) for i in found if i["SK"] == order_key["SK"]), None)
    history = cases.sent_history(table, store_id, customer_id)
    opened = cases.open_or_update(
        table, store_id, response, verdict, existing=existing, customer=customer, order=order, history=history, now=now
    )
    case = opened.case
    if opened.is_new:
        reason = "reopened" if existing is not None else "new"
        count("cases_opened", priority=str(case["priority"]))
        logger.info(
            "case opened",
            extra={"store_id": store_id, "case_id": case_id, "priority": case["priority"], "reason": reason},
        )
        table.put(realert_job(conf, case, now, shards=table.due_shards))
        _alert_now(table, clients, conf, case, reason, now, opener)
    elif opened.escalated:
        _alert_now(table, clients, conf, case, "escalated", now, opener)
    return case


def run_job(
    table: db.Table,
    clients: Clients,
    store: StoreItem,
    job: JobItem,
    now: datetime,
    *,
    opener: Any | None = None,
) -> str:
    """Run a ``case_realert`` or ``alert_retry`` job the send path has claimed; returns what
    happened ("realerted", "alerted", "retry_scheduled", "gave_up", or "not_needed: ...")."""
    if not _claim(table, job, now):
        return "not_needed: already run"
    result = _run(table, clients, store, job, now, opener)
    table.update(
        keys.of(job),
        Update().set(
            {
                "status": JobStatus.SENT.value if not result.startswith("not_needed") else JobStatus.SKIPPED.value,
                "reason": result,
                "finished_at": iso(now),
            }
        ),
    )
    return result


def _claim(table: db.Table, job: JobItem, now: datetime) -> bool:
    """Take the job out of the due index before acting on it, once: a second delivery of
    the same job (a lease that ran out, a duplicate message) finds it taken."""
    try:
        table.update(
            keys.of(job),
            Update()
            .set({"status": JobStatus.CLAIMED.value, "escalation_started_at": iso(now)})
            .remove("due_pk", "due_at"),
            condition=db.Expr(
                "#st IN (:pending, :claimed) AND attribute_not_exists(escalation_started_at)",
                names={"#st": "status"},
                values={":pending": JobStatus.PENDING.value, ":claimed": JobStatus.CLAIMED.value},
            ),
        )
    except db.ConditionFailed:
        return False
    return True


def _run(
    table: db.Table,
    clients: Clients,
    store: StoreItem,
    job: JobItem,
    now: datetime,
    opener: Any | None,
) -> str:

    conf = with_defaults(store)
    data = job.get("data") or {}
    case = cases.get(table, str(store["store_id"]), str(data.get("case_id") or ""), consistent=True)
    if case is None:
        return "not_needed: the case is gone"
    if job["kind"] == JobKind.CASE_REALERT.value:
        if case["status"] != cases.OPEN:
            return f"not_needed: the case is {case['status']}"
        if data.get("opened_at") and data["opened_at"] != case.get("opened_at"):
            return "not_needed: the case was reopened since"
        failed = deliver_alert(clients, conf, case, "realert", opener=opener)
        notified = notify_second_contact(clients, conf, case)
        if failed:
            table.put(retry_job(case, "realert", failed, 1, now, shards=table.due_shards))
        table.update(
            keys.case(str(case["store_id"]), str(case["case_id"])),
            _append_event({"action": "realerted", "by": "aftercare", "at": iso(now), "notified": notified}, now),
        )
        count("case_realerts")
        return "realerted"
    if job["kind"] == JobKind.ALERT_RETRY.value:
        if case["status"] == cases.RESOLVED:
            return "not_needed: the case is resolved"
        attempt = int(data.get("attempt") or 1)
        channels = [c for c in data.get("channels") or CHANNELS if c in CHANNELS]
        failed = deliver_alert(clients, conf, case, str(data.get("reason") or "new"), channels=channels, opener=opener)
        if not failed:
            return "alerted"
        if attempt >= len(RETRY_DELAYS):
            count("alerts_abandoned")
            return "gave_up: " + ", ".join(failed)
        table.put(retry_job(case, str(data.get("reason") or "new"), failed, attempt + 1, now, shards=table.due_shards))
        return "retry_scheduled"
    raise ValueError(f"escalation does not run {job['kind']} jobs")


def _append_event(event: Mapping[str, Any], now: datetime) -> Update:
    return Update().set({"updated_at": iso(now)}).append("events", [dict(event)], start_empty=True)


def notify_second_contact(clients: Clients, store: StoreItem, case: CaseItem) -> list[str]:
    """Tell the store's second contact (email and/or SMS); which ones went out."""

    alert = build_alert(
        store, case, "realert", int(store.get("sla_minutes") or 60), base_url=settings().public_base_url
    )
    sent: list[str] = []
    email, phone = store.get("second_contact_email"), store.get("second_contact_phone")
    if email:
        html = (
            "<p>"
            + "<br>".join(escape(line) for line in (alert.title, "", *alert.lines))
            + f'</p><p><a href="{escape(alert.link)}">Open the case</a></p>'
        )
        try:
            transports.send_email(clients, store, str(email), alert.subject, html, alert.body)
            sent.append("email")
        except (transports.ProviderBusy, transports.Rejected) as exc:
            logger.warning(
                "second contact email failed", extra={"store_id": store["store_id"], "error": type(exc).__name__}
            )
    if phone:
        body = transports.fit_sms(f"{alert.title}. {alert.link}")
        try:
            transports.send_sms(clients, store, str(phone), body)
            sent.append("sms")
        except (transports.ProviderBusy, transports.Rejected) as exc:
            logger.warning(
                "second contact SMS failed", extra={"store_id": store["store_id"], "error": type(exc).__name__}
            )
    return sent


def change_case(table: db.Table, store: StoreItem, case_id: str, change: cases.Change, now: datetime) -> CaseItem:
    """Acknowledge, assign or resolve a case, then do what follows from it."""
    before, after = cases.apply(table, str(store["store_id"]), case_id, change, now)
    after_change(table, store, before, after, now)
    return after


def after_change(table: db.Table, store: StoreItem, before: CaseItem, after: CaseItem, now: datetime) -> None:
    """What follows a transition: the pending re-alert is cancelled once someone has taken
    the case; resolution may schedule "did we make it right?"; timings become metrics."""

    conf = with_defaults(store)
    if before["status"] == cases.OPEN and after["status"] != cases.OPEN:
        try:
            table.transact([jobs.cancel(realert_key(after), f"case {after['status']}", now)])
        except db.TransactionConflict:
            pass  # already ran or already cancelled: nothing left to stop
        waited = cases.elapsed_seconds(str(after.get("opened_at") or ""), now)
        if waited is not None:
            metrics.add_metric(name="time_to_acknowledge", unit=MetricUnit.Seconds, value=waited)
    if before["status"] != cases.RESOLVED and after["status"] == cases.RESOLVED:
        took = cases.elapsed_seconds(str(after.get("opened_at") or ""), now)
        if took is not None:
            metrics.add_metric(name="time_to_resolve", unit=MetricUnit.Seconds, value=took)
        count("cases_resolved", outcome=str(after.get("outcome") or "other"))
        if conf.get("made_it_right") and after.get("outcome") != "unreachable":
            table.put(made_it_right_job(conf, after, now, shards=table.due_shards))
