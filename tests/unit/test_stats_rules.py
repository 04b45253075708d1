"""The stats rules that need no table: where an answer's SKUs count, the NPS interval,
the periods of a grouping, the worst-first order, and counter writes DynamoDB accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib.reports import stats
from chalicelib.storage import db


def test_known_skus_count_by_name_new_ones_while_the_day_has_room_and_the_rest_as_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a day that names at most three SKUs and already names two
    monkeypatch.setattr(stats, "MAX_SKUS_PER_DAY", 3)
    counted_today = {"A", "B"}
    # WHEN an answer's order holds A, C and D (and A twice)
    named, claimed, other = stats.product_buckets(["A", "C", "A", "D"], counted_today)
    # THEN A counts by name, C claims the last place, and D counts as other products
    assert (named, claimed, other) == (("A", "C"), ("C",), True)
    # AND an answer within the day's names claims nothing
    assert stats.product_buckets(["B"], counted_today) == (("B",), (), False)


def test_an_order_with_many_skus_counts_the_first_ones_by_name_and_the_rest_once_as_other() -> None:
    skus = [f"SKU-{n}" for n in range(stats.MAX_SKUS_PER_ANSWER + 3)]
    named, claimed, other = stats.product_buckets(skus, set())
    assert named == claimed == tuple(skus[: stats.MAX_SKUS_PER_ANSWER])
    assert other is True


def test_the_nps_interval_follows_the_formula_and_stays_within_the_scale() -> None:
    # 60 promoters and 20 detractors out of 100: NPS 40, var = (0.8 - 0.16) / 100
    assert stats.nps_interval(60, 20, 100) == [round(40 - 1.96 * 100 * 0.08, 1), round(40 + 1.96 * 100 * 0.08, 1)]
    # a handful of promoters only: the interval is clamped at 100
    assert stats.nps_interval(3, 0, 3) == [100.0, 100.0]
    assert stats.nps_interval(1, 1, 3)[0] >= -100.0 and stats.nps_interval(0, 2, 2) == [-100.0, -100.0]
    assert stats.nps_interval(0, 0, 0) is None


def test_figures_under_thirty_answers_are_flagged() -> None:
    few = stats.figures("nps", {"nps_responses": 29, "nps_promoter": 29})
    enough = stats.figures("csat", {"csat_responses": 30, "csat_satisfied": 15})
    assert few["low_sample"] is True and few["nps"] == 100.0 and few["nps_ci"] == [100.0, 100.0]
    assert enough["low_sample"] is False and enough["csat"] == 50.0 and "nps_ci" not in enough


@pytest.mark.parametrize(
    ("group", "day", "start", "label"),
    [
        ("day", date(2026, 3, 4), date(2026, 3, 4), {"day": "2026-03-04"}),
        ("week", date(2026, 3, 4), date(2026, 3, 2), {"week": "2026-W10"}),
        ("week", date(2027, 1, 1), date(2026, 12, 28), {"week": "2026-W53"}),
        ("month", date(2026, 2, 28), date(2026, 2, 1), {"month": "2026-02"}),
    ],
)
def test_periods_are_days_iso_weeks_from_monday_and_calendar_months(
    group: str, day: date, start: date, label: dict[str, str]
) -> None:
    assert stats.period_of(day, group) == (start, label)


def test_worst_first_means_the_lowest_nps_or_csat_and_the_highest_effort() -> None:
    rows = [
        {"sku": "A", "responses": 5, "nps": 10.0, "ces": 2.0},
        {"sku": "B", "responses": 9, "nps": -20.0, "ces": 6.0},
        {"sku": "C", "responses": 7, "nps": 10.0, "ces": None},
    ]
    assert [r["sku"] for r in stats.worse_first("nps", rows)] == ["B", "C", "A"]  # a tie: the most answered first
    assert [r["sku"] for r in stats.worse_first("ces", rows)] == ["B", "A", "C"]  # no score last


def test_the_heaviest_answer_change_stays_within_dynamodbs_expression_limit() -> None:
    # GIVEN an answer on an order of the most SKUs counted by name, each as long as a SKU may be,
    # changed to another day and another order's SKUs, in every dimension
    long_skus = [f"{n:02d}" + "X" * 98 for n in range(stats.MAX_SKUS_PER_ANSWER)]
    other_skus = [f"{n:02d}" + "Y" * 98 for n in range(stats.MAX_SKUS_PER_ANSWER)]
    new = stats.Counted(
        "nps",
        9,
        "promoter",
        datetime(2026, 3, 4, 10, tzinfo=UTC),
        ("delivery", "quality"),
        channel="email",
        language="fa",
        kind="post_delivery",
        skus=tuple(long_skus),
        other=True,
        claimed=tuple(long_skus),
        titles=tuple((sku, "T" * stats.TITLE_LENGTH) for sku in long_skus),
    )
    old = stats.Counted(
        "nps",
        2,
        "detractor",
        datetime(2026, 3, 4, 9, tzinfo=UTC),
        ("price",),
        channel="sms",
        language="ar",
        kind="post_delivery",
        skus=tuple(other_skus),
        other=True,
    )
    # WHEN its counter updates are written (old and new on the same items: the largest merge)
    ops = stats.response_ops("st1", new, old)
    # THEN every update expression stays under 4 KB, with its names and values all distinct
    table = db.Table(None, "t", due_shards=1)  # type: ignore[arg-type]  # rendering needs no client
    for op in ops:
        rendered = op.render(table)["Update"]
        assert len(rendered["UpdateExpression"]) < 4096
        assert len(rendered["ExpressionAttributeNames"]) == len(set(rendered["ExpressionAttributeNames"].values()))
