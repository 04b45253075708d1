"""The SLA deadline counts only the store's business hours, in the store's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import InvalidInput
from chalicelib.support.cases import Change, case_id_for, parse_change
from chalicelib.support.escalation import sla_deadline


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_within_business_hours_the_deadline_is_an_hour_later() -> None:
    # Tuesday 10:00 in Athens (08:00 UTC) + 60 minutes
    assert sla_deadline(utc("2026-12-01T08:00:00"), 60, "Europe/Athens") == utc("2026-12-01T09:00:00")


def test_friday_evening_case_is_due_monday_morning() -> None:
    # Friday 18:30 Athens: after hours, the weekend is closed; due Monday 10:00 Athens (08:00 UTC)
    assert sla_deadline(utc("2026-12-04T16:30:00"), 60, "Europe/Athens") == utc("2026-12-07T08:00:00")


def test_minutes_carry_over_from_the_end_of_one_day_to_the_next() -> None:
    # Thursday 16:30 Athens: 30 minutes today, 30 tomorrow from 09:00 -> Friday 09:30 Athens
    assert sla_deadline(utc("2026-12-03T14:30:00"), 60, "Europe/Athens") == utc("2026-12-04T07:30:00")


def test_early_morning_case_waits_for_opening() -> None:
    # Wednesday 06:00 in New York: due 09:45 New York (14:45 UTC)
    assert sla_deadline(utc("2026-12-02T11:00:00"), 45, "America/New_York") == utc("2026-12-02T14:45:00")


def test_store_business_days_and_hours_are_respected() -> None:
    # A store working Sunday to Thursday 08:00-16:00 in Tel Aviv; Friday noon -> Sunday 09:00
    deadline = sla_deadline(
        utc("2026-12-04T10:00:00"),
        60,
        "Asia/Jerusalem",
        business_start="08:00",
        business_end="16:00",
        business_days=[6, 0, 1, 2, 3],
    )
    assert deadline == utc("2026-12-06T07:00:00")


def test_daylight_saving_change_keeps_wall_clock_hours() -> None:
    # Saturday 28 March 2026 -> Monday 30 March, after Athens moved to UTC+3
    assert sla_deadline(utc("2026-03-28T12:00:00"), 60, "Europe/Athens") == utc("2026-03-30T07:00:00")


def test_case_id_is_stable_per_customer_and_order() -> None:
    assert case_id_for("maya@example.org", "1001") == case_id_for("maya@example.org", "1001")
    assert case_id_for("maya@example.org", "1001") != case_id_for("maya@example.org", "1002")


def test_change_validation_names_what_is_wrong() -> None:
    assert parse_change(
        {"action": "resolve", "outcome": "refunded", "note": "Refunded in full", "by": "Dana"}
    ) == Change("resolve", "Dana", None, "refunded", "Refunded in full")
    with pytest.raises(InvalidInput) as bad_outcome:
        parse_change({"action": "resolve", "outcome": "shrugged"})
    assert bad_outcome.value.field == "outcome"
    with pytest.raises(InvalidInput) as bad_action:
        parse_change({"action": "close"})
    assert bad_action.value.field == "action"
    with pytest.raises(InvalidInput) as no_assignee:
        parse_change({"action": "assign"})
    assert no_assignee.value.field == "assignee"
