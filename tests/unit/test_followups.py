"""Planning follow-ups: which jobs an order event writes, when they fall due, and that the
writes stay blind (no reads, no conditions) so intake remains one request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.models import CustomerInfo, LineItem, OrderEvent, OrderStatus
from chalicelib.platform.process import PROCESS
from chalicelib.schedule import followups
from chalicelib.storage import keys

STORE: dict[str, Any] = {"store_id": "st1", "timezone": "Europe/Athens", "language": "en"}
ORDERED = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def shards(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setenv("DUE_SHARDS", "4")
    PROCESS.reset()


def event(status: OrderStatus = OrderStatus.CREATED, at: datetime = ORDERED, **customer: Any) -> OrderEvent:
    info = CustomerInfo(email="dana@example.com", timezone="Europe/Athens", **customer)
    items = (LineItem("TEA-1", "Teapot"), LineItem("KET-1", "Kettle", warranty_months=24))
    return OrderEvent("api", f"e-{status.value}", "st1", "1001", status, at, info, ordered_at=ORDERED, items=items)


def planned(ops: list[Any]) -> dict[str, dict[str, Any]]:
    """SK -> what is written (item for puts, values for the if_not_exists update)."""
    out = {}
    for op in ops:
        if op.action == "put":
            out[op.item["SK"]] = dict(op.item)
        else:
            names, values = op.update.names, op.update.values
            first_wins = re.findall(r"(#\w+) = if_not_exists\(\1, (:\w+)\)", op.update.text)
            out[op.key["SK"]] = {names[name]: values[value] for name, value in first_wins}
    return out


def test_a_new_order_plans_thank_you_survey_fallback_warranty_winback_and_anniversary() -> None:
    now = ORDERED
    jobs = planned(followups.plan_order_event(event(), STORE, now, shards=4).ops)
    assert jobs["JOB#thank_you"]["due"] == "2027-03-01T08:00:00Z"
    assert jobs["JOB#survey#fallback"]["due"] == "2027-03-13T08:00:00Z"  # 5 days transit + 7
    assert jobs["JOB#warranty#KET-1"]["due"] == "2029-01-30T08:00:00Z"  # 24 months, 30 days before
    assert "JOB#warranty#TEA-1" not in jobs
    assert jobs["JOB#winback"]["due"] == "2027-06-29T08:00:00Z"  # 120 days
    assert jobs["JOB#anniversary"]["due"] == "2028-03-01T08:00:00Z"
    assert "JOB#birthday" not in jobs  # birthday unknown


def test_planned_writes_are_blind() -> None:
    ops = followups.plan_order_event(event(birthday="05-17"), STORE, ORDERED, shards=4).ops
    assert ops and all(op.condition is None for op in ops)


def test_the_anniversary_is_written_only_where_none_is_yet() -> None:
    ops = followups.plan_order_event(event(), STORE, ORDERED, shards=4).ops
    anniversary = next(op for op in ops if (op.key or {}).get("SK") == "JOB#anniversary")
    assert anniversary.action == "update" and anniversary.condition is None
    assert anniversary.update.text.count("if_not_exists") == len(anniversary.update.names)


def test_win_back_lives_with_the_customer_so_each_order_moves_it() -> None:
    ops = followups.plan_order_event(event(), STORE, ORDERED, shards=4).ops
    winback = next(op for op in ops if op.action == "put" and op.item["SK"] == "JOB#winback")
    assert winback.item["PK"] == keys.customer_pk("st1", "dana@example.com")


def test_delivery_plans_check_in_tips_and_a_separate_survey_job() -> None:
    delivered = datetime(2027, 3, 3, 19, 30, tzinfo=UTC)
    jobs = planned(followups.plan_order_event(event(OrderStatus.DELIVERED, delivered), STORE, delivered, shards=4).ops)
    assert jobs["JOB#delivery_checkin"]["due"] == "2027-03-03T19:30:00Z"
    assert jobs["JOB#usage_tips"]["due"] == "2027-03-06T19:30:00Z"
    assert jobs["JOB#survey#delivered"]["due"] == "2027-03-10T19:30:00Z"


def test_both_survey_jobs_claim_the_same_occurrence() -> None:
    fallback = {"kind": "survey", "SK": "JOB#survey#fallback", "due": "x"}
    delivered = {"kind": "survey", "SK": "JOB#survey#delivered", "due": "y"}
    assert followups.occurrence(fallback) == followups.occurrence(delivered)


def test_switched_off_kinds_are_not_planned() -> None:
    store = {**STORE, "followups": {"thank_you": False, "winback": False}}
    jobs = planned(followups.plan_order_event(event(), store, ORDERED, shards=4).ops)
    assert "JOB#thank_you" not in jobs and "JOB#winback" not in jobs and "JOB#survey#fallback" in jobs


def test_cancelled_events_plan_nothing() -> None:
    assert followups.plan_order_event(event(OrderStatus.CANCELLED), STORE, ORDERED, shards=4).ops == []


@pytest.mark.parametrize(
    ("birthday", "zone", "now", "expected"),
    [
        ("1990-05-17", "Europe/Athens", "2027-03-01T08:00:00Z", "2027-05-17T07:00:00Z"),  # 10:00 EEST
        ("05-17", "Asia/Tehran", "2027-05-17T07:00:00Z", "2028-05-17T06:30:00Z"),  # today's 10:00 is past
        ("02-29", "Europe/Athens", "2027-03-01T08:00:00Z", "2028-02-29T08:00:00Z"),  # leap year: the day itself
        ("2000-02-29", "Europe/Athens", "2028-03-01T08:00:00Z", "2029-02-28T08:00:00Z"),  # common year: 28 Feb
    ],
)
def test_the_next_birthday_is_10_am_in_the_customers_zone(birthday: str, zone: str, now: str, expected: str) -> None:
    from zoneinfo import ZoneInfo

    from chalicelib.core.clock import iso, parse_iso

    due = followups.next_birthday(birthday, ZoneInfo(zone), parse_iso(now))
    assert due is not None and iso(due) == expected


def test_crm_sync_plans_the_birthday() -> None:
    info = CustomerInfo(email="mia@example.com", birthday="03-05", timezone="Europe/Athens")
    jobs = planned(followups.plan_customer("mia@example.com", info, STORE, ORDERED, shards=4))
    assert jobs["JOB#birthday"]["due"] == "2027-03-05T08:00:00Z"
    assert jobs["JOB#birthday"]["PK"] == keys.customer_pk("st1", "mia@example.com")


def test_an_impossible_birthday_plans_nothing() -> None:
    info = CustomerInfo(email="mia@example.com", birthday="02-30")
    assert followups.plan_customer("mia@example.com", info, STORE, ORDERED, shards=4) == []


def test_recurring_jobs_come_back_next_year() -> None:
    from zoneinfo import ZoneInfo

    from chalicelib.core.clock import iso

    birthday = {"kind": "birthday", "data": {"occurrence": "2027", "birthday": "02-29"}}
    due, occurrence = followups.next_year(
        birthday, STORE, ZoneInfo("Europe/Athens"), datetime(2027, 2, 28, 8, tzinfo=UTC)
    ) or (None, None)
    assert due is not None and (iso(due), occurrence) == ("2028-02-29T08:00:00Z", "2028")
    anniversary = {"kind": "anniversary", "data": {"occurrence": "2028", "first_order_at": "2027-03-01T08:00:00Z"}}
    due, occurrence = followups.next_year(
        anniversary, STORE, ZoneInfo("Europe/Athens"), datetime(2028, 3, 1, 8, tzinfo=UTC)
    ) or (None, None)
    assert due is not None and (iso(due), occurrence) == ("2029-03-01T08:00:00Z", "2029")


def late_markers(ops: list[Any]) -> dict[str, dict[str, Any]]:
    return {sk.removeprefix("LATE#"): item for sk, item in planned(ops).items() if sk.startswith("LATE#")}


def test_an_order_from_years_ago_plans_nothing_in_the_past_and_says_why() -> None:
    # GIVEN an order placed in 2021, received in 2027 (an import, or a platform's sample)
    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    old = OrderEvent(
        "api",
        "e-old",
        "st1",
        "1001",
        OrderStatus.CREATED,
        datetime(2021, 9, 30, 12, 0, tzinfo=UTC),
        CustomerInfo(email="dana@example.com", timezone="Europe/Athens", birthday="05-17"),
        ordered_at=datetime(2021, 9, 30, 12, 0, tzinfo=UTC),
        items=(LineItem("KET-1", "Kettle", warranty_months=24),),
    )
    plan = followups.plan_order_event(old, STORE, now, shards=4)
    jobs = {sk: job for sk, job in planned(plan.ops).items() if sk.startswith("JOB#")}
    # THEN no thank-you, survey or win-back is written at all: nothing would go out in a burst
    assert set(jobs) == {"JOB#anniversary", "JOB#birthday"}
    # AND the anniversary and the birthday move to their next occurrence
    assert jobs["JOB#anniversary"]["due"] == "2027-09-30T12:00:00Z"
    assert jobs["JOB#anniversary"]["data"]["occurrence"] == "2027"
    assert jobs["JOB#birthday"]["due"] == "2027-05-17T07:00:00Z"
    # AND each skipped follow-up is recorded on the order with the reason and when it was due
    late = late_markers(plan.ops)
    assert set(late) == {"thank_you", "survey", "winback", "warranty:KET-1"}
    assert {m["reason"] for m in late.values()} == {"late_event"}
    assert late["thank_you"]["due"] == "2021-09-30T12:00:00Z"
    assert all(op.condition is None for op in plan.ops)  # still blind writes


def test_a_thank_you_is_sent_for_an_order_a_day_old_but_not_for_one_a_week_old() -> None:
    day_old = followups.plan_order_event(event(), STORE, ORDERED + followups.LATE_GRACE - timedelta(hours=1), shards=4)
    week_old = followups.plan_order_event(event(), STORE, ORDERED + timedelta(days=7), shards=4)
    assert "JOB#thank_you" in planned(day_old.ops) and not late_markers(day_old.ops)
    assert "JOB#thank_you" not in planned(week_old.ops)
    assert set(late_markers(week_old.ops)) == {"thank_you"}  # the survey (12 days) is still ahead
    assert planned(week_old.ops)["JOB#survey#fallback"]["due"] == "2027-03-13T08:00:00Z"


def test_a_delivery_reported_two_weeks_late_asks_nothing_stale() -> None:
    delivered = ORDERED + timedelta(days=3)
    plan = followups.plan_order_event(
        event(OrderStatus.DELIVERED, delivered), STORE, delivered + timedelta(days=14), shards=4
    )
    assert not [sk for sk in planned(plan.ops) if sk.startswith("JOB#")]
    assert set(late_markers(plan.ops)) == {"delivery_checkin", "usage_tips", "survey:delivered"}
