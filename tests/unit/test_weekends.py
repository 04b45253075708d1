"""Weekends are local: a store's defaults follow its zone's week, a customer is messaged on
their own zone's days, and a stated choice always wins."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.core import weekends
from chalicelib.messaging import policy
from chalicelib.stores import registry
from chalicelib.support.escalation import store_sla_deadline

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


@pytest.mark.parametrize(
    ("zone", "business", "send"),
    [
        ("Europe/Athens", [MON, TUE, WED, THU, FRI], [MON, TUE, WED, THU, FRI, SAT]),
        ("America/New_York", [MON, TUE, WED, THU, FRI], [MON, TUE, WED, THU, FRI, SAT]),
        ("Asia/Jerusalem", [MON, TUE, WED, THU, SUN], [MON, TUE, WED, THU, FRI, SUN]),
        ("Asia/Riyadh", [MON, TUE, WED, THU, SUN], [MON, TUE, WED, THU, SAT, SUN]),
        ("Asia/Qatar", [MON, TUE, WED, THU, SUN], [MON, TUE, WED, THU, SAT, SUN]),
        ("Asia/Kuwait", [MON, TUE, WED, THU, SUN], [MON, TUE, WED, THU, SAT, SUN]),
        ("Africa/Cairo", [MON, TUE, WED, THU, SUN], [MON, TUE, WED, THU, SAT, SUN]),
        ("Asia/Tehran", [MON, TUE, WED, SAT, SUN], [MON, TUE, WED, THU, SAT, SUN]),
        ("Asia/Dubai", [MON, TUE, WED, THU, FRI], [MON, TUE, WED, THU, FRI, SAT]),  # Sat-Sun weekend since 2022
    ],
)
def test_a_stores_default_week_is_its_countrys(zone: str, business: list[int], send: list[int]) -> None:
    shown = registry.public_view({"store_id": "st1", "timezone": zone})
    assert shown["business_days"] == business
    assert shown["send_days"] == send
    assert policy.send_days(registry.with_defaults({"timezone": zone}), ZoneInfo(zone)) == send


def test_a_stated_week_wins_over_the_local_one() -> None:
    settings = registry.with_defaults({"timezone": "Asia/Jerusalem", "send_days": [MON, TUE], "business_days": [MON]})
    assert (settings["send_days"], settings["business_days"]) == ([MON, TUE], [MON])
    assert policy.send_days(settings, ZoneInfo("Europe/Athens")) == [MON, TUE]


def test_a_customer_is_messaged_on_their_own_week() -> None:
    # GIVEN a Greek store and an Israeli customer, on a Saturday morning in Tel Aviv
    greek = registry.with_defaults({"timezone": "Europe/Athens"})
    saturday = datetime(2027, 3, 6, 8, 0, tzinfo=UTC)  # 10:00 in Jerusalem
    # THEN the Greek week would send, the customer's week waits for Sunday morning
    assert SAT in policy.send_days(greek, ZoneInfo("Europe/Athens"))
    days = policy.send_days(greek, ZoneInfo("Asia/Jerusalem"))
    assert SAT not in days
    opens = policy.next_allowed(saturday, ZoneInfo("Asia/Jerusalem"), "09:00", "20:00", days)
    assert opens.astimezone(ZoneInfo("Asia/Jerusalem")).strftime("%a %H:%M") == "Sun 09:00"


def test_support_hours_are_counted_on_the_stores_week() -> None:
    # GIVEN a case opened on Thursday 16:30 in Riyadh with a 60-minute SLA and 09:00-17:00 hours
    riyadh = registry.with_defaults({"timezone": "Asia/Riyadh", "store_id": "st1"})
    opened = datetime(2027, 3, 4, 13, 30, tzinfo=UTC)  # Thursday 16:30 local
    due = store_sla_deadline(riyadh, opened).astimezone(ZoneInfo("Asia/Riyadh"))
    # THEN the 30 minutes left run on Sunday, not on the Friday-Saturday weekend
    assert due.strftime("%a %H:%M") == "Sun 09:30"


def test_an_unknown_zone_keeps_the_saturday_sunday_week() -> None:
    assert weekends.week_of("Mars/Olympus") == weekends.SAT_SUN
