"""GET /stores/{id}/stats: daily counters summed, one read per day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import wall_clock
from chalicelib.reports import stats
from chalicelib.storage import db
from chalicelib.surveys import answers, tokens
from tests.conftest import auth
from tests.support import surveys
from tests.support.cases import set_store


def answered(store: dict[str, Any], order_id: str, score: int, days_ago: int = 0) -> None:
    when = wall_clock() - timedelta(days=days_ago)
    db.table().transact([stats.sent_op(store["store_id"], "nps", when)])
    surveys.answered(store, order_id, f"c{order_id}@example.com", score, "", when, kind="nps")


def test_stats_sum_the_days_and_score_nps(client: Any, store: dict[str, Any]) -> None:
    # GIVEN four surveys sent: two promoters and a detractor answered, over three days
    answered(store, "1", 10, days_ago=2)
    answered(store, "2", 9, days_ago=1)
    answered(store, "3", 2)
    db.table().transact([stats.sent_op(store["store_id"], "nps", wall_clock())])
    # WHEN the store asks for the last week
    answer = client.http.get(f"/stores/{store['store_id']}/stats?days=7", headers=auth(store["api_key"]))
    body = answer.json_body
    # THEN it sees the totals and one entry per day
    assert answer.status_code == 200
    assert (body["responses"], body["sent"], body["nps"], body["response_rate"]) == (3, 4, 33.3, 0.75)
    assert body["categories"] == {"promoter": 2, "passive": 0, "detractor": 1}
    assert len(body["series"]) == 7 and body["series"][-1]["day"] == stats.day(wall_clock())
    assert [d["responses"] for d in body["series"][-3:]] == [1, 1, 1]
    assert body["series"][-1]["nps"] == -100.0 and body["series"][0]["nps"] is None


def test_stats_read_two_items_per_day_whatever_the_number_of_answers(client: Any, store: dict[str, Any]) -> None:
    for n in range(12):
        answered(store, f"o{n}", n % 11)
    calls: list[int] = []
    real = db.table().client.batch_get_item

    def counting(**kwargs: Any) -> Any:
        calls.append(sum(len(v["Keys"]) for v in kwargs["RequestItems"].values()))
        return real(**kwargs)

    db.table().client.batch_get_item = counting  # type: ignore[method-assign]
    try:
        body = client.http.get(f"/stores/{store['store_id']}/stats?days=30", headers=auth(store["api_key"])).json_body
    finally:
        db.table().client.batch_get_item = real  # type: ignore[method-assign]
    assert body["responses"] == 12
    assert sum(calls) == 2 * 30  # the day's counters and its product counters


def test_stats_need_the_store_key_and_a_sane_range(client: Any, store: dict[str, Any]) -> None:
    assert client.http.get(f"/stores/{store['store_id']}/stats").status_code == 401
    assert (
        client.http.get(f"/stores/{store['store_id']}/stats?days=0", headers=auth(store["api_key"])).status_code == 400
    )
    assert (
        client.http.get(f"/stores/{store['store_id']}/stats?days=abc", headers=auth(store["api_key"])).status_code
        == 400
    )


def test_a_superscript_digit_as_days_is_a_400_not_a_crash(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store with its key
    # WHEN it asks for "²" days (a digit to str.isdigit, yet not a number to int)
    answer = client.http.get(f"/stores/{store['store_id']}/stats?days=%C2%B2", headers=auth(store["api_key"]))
    # THEN it gets a 400 naming the field, not a 500
    assert answer.status_code == 400
    assert answer.json_body["error"]["field"] == "days"
    # AND a number of five thousand digits (past int()'s limit) is a 400 too
    huge = client.http.get(f"/stores/{store['store_id']}/stats?days={'9' * 5000}", headers=auth(store["api_key"]))
    assert huge.status_code == 400


def test_csat_stores_get_csat(client: Any, store: dict[str, Any]) -> None:
    client.http.patch(f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body='{"survey_type": "csat"}')
    body = client.http.get(f"/stores/{store['store_id']}/stats", headers=auth(store["api_key"])).json_body
    assert body["survey_type"] == "csat" and "csat" in body and body["responses"] == 0 and body["response_rate"] is None


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_surveys_sent_by_the_engine_count_towards_the_response_rate(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    import devstack
    from chalicelib.reports.stats import summary
    from chalicelib.storage import db
    from chalicelib.stores import registry
    from tests.support.orders import customer, post_order
    from tests.support.world import at, subjects_to

    # GIVEN an order delivered on a Monday morning in Athens
    post_order(client, store, "S-1", "created", "2027-03-01T08:00:00Z", customer())
    post_order(client, store, "S-1", "delivered", "2027-03-01T09:00:00Z", customer())
    # WHEN the survey falls due a week later and goes out
    devstack.deliver(app, at("2027-03-08T09:01:00Z"))
    assert "How did we do, Dana?" in subjects_to("dana@example.com")
    # THEN the day's counters know one survey was sent, so the response rate has a denominator
    body = summary(db.table(), registry.get_store(db.table(), store["store_id"]), 30, at("2027-03-09T00:00:00Z"))
    assert body["sent"] == 1
    assert body["responses"] == 0 and body["response_rate"] == 0.0


def test_group_must_be_day_week_or_month(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store with its key
    base = f"/stores/{store['store_id']}/stats"
    # WHEN it asks for its stats by year
    wrong = client.http.get(f"{base}?group=year", headers=auth(store["api_key"]))
    # THEN it gets a 400 naming the parameter
    assert wrong.status_code == 400 and wrong.json_body["error"]["field"] == "group"
    # AND by month it gets the months of the period, the last one ending today
    months = client.http.get(f"{base}?group=month&days=60", headers=auth(store["api_key"])).json_body
    assert months["group"] == "month" and 2 <= len(months["series"]) <= 3
    assert months["series"][-1]["to"] == stats.day(wall_clock()) and "month" in months["series"][-1]


def answered_order(store: dict[str, Any], order_id: str, skus: list[str], score: int) -> str:
    """An order of ``skus`` whose survey is answered now; the survey's token."""
    from tests.support.insight import order_item

    db.table().put(order_item(store["store_id"], order_id, skus))
    return surveys.answered(store, order_id, f"c{order_id}@example.com", score, "", wall_clock(), language="el")


def test_a_day_names_a_bounded_number_of_skus_and_counts_the_rest_as_other_products(
    client: Any, store: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a day that may name two SKUs, and answers on orders of A, then of B and C
    monkeypatch.setattr(stats, "MAX_SKUS_PER_DAY", 2)
    answered_order(store, "1", ["A"], 10)
    token = answered_order(store, "2", ["B", "C"], 3)
    # WHEN the store reads its stats
    body = client.http.get(f"/stores/{store['store_id']}/stats", headers=auth(store["api_key"])).json_body
    # THEN A and B count by name and C among the other products
    assert {row["sku"]: row["responses"] for row in body["by_product"]} == {"A": 1, "B": 1}
    assert body["other_products"]["responses"] == 1 and body["other_products"]["nps"] == -100.0
    # AND when the second customer changes the answer, its counts move where they were made
    survey = tokens.load(db.table(), token, wall_clock(), consistent=True)
    assert survey is not None
    answers.record_answer(db.table(), survey, score=9, comment="", via="page", now=wall_clock())
    body = client.http.get(f"/stores/{store['store_id']}/stats", headers=auth(store["api_key"])).json_body
    assert [(row["sku"], row["responses"], row["nps"]) for row in body["by_product"]] == [
        ("A", 1, 100.0),
        ("B", 1, 100.0),
    ]
    assert (body["other_products"]["responses"], body["other_products"]["nps"]) == (1, 100.0)
    assert body["by_language"] == {"el": {**body["by_language"]["el"], "responses": 2, "nps": 100.0}}


def test_an_answer_counted_before_breakdowns_moves_only_the_counts_it_made(client: Any, store: dict[str, Any]) -> None:
    # GIVEN an answer stored before channels, languages, kinds and products were counted
    token = answered_order(store, "1", ["A"], 2)
    response_key = {"PK": f"STORE#{store['store_id']}#ORDER#1", "SK": "RESPONSE#post_delivery"}
    stored = db.table().get(response_key)
    assert stored is not None
    older = {k: v for k, v in stored.items() if k not in ("stats_skus", "stats_other")}
    db.table().put(older)
    now_counted = answers._counted(stored)
    db.table().transact(stats.response_ops(store["store_id"], answers._counted(older), now_counted))
    # WHEN the customer changes it
    survey = tokens.load(db.table(), token, wall_clock(), consistent=True)
    assert survey is not None
    answers.record_answer(db.table(), survey, score=10, comment="", via="page", now=wall_clock())
    # THEN the totals and the breakdowns count the new answer once, and nothing goes below zero
    body = client.http.get(f"/stores/{store['store_id']}/stats", headers=auth(store["api_key"])).json_body
    assert (body["responses"], body["nps"]) == (1, 100.0)
    assert {name: row["responses"] for name, row in body["by_channel"].items()} == {"email": 1}
    assert [(row["sku"], row["responses"]) for row in body["by_product"]] == [("A", 1)]


def test_a_day_times_a_bounded_number_of_cases_and_still_counts_them_all(
    client: Any, store: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.cases import answer_survey, open_cases

    # GIVEN a day that keeps one timing, and two cases opened by bad answers
    monkeypatch.setattr(stats, "MAX_TIMINGS_PER_DAY", 1)
    answer_survey(client, store, score=1, comment="Broken", order_id="1", customer="a@example.com")
    answer_survey(client, store, score=2, comment="Late", order_id="2", customer="b@example.com")
    # WHEN support acknowledges both
    for case in open_cases(client, store):
        answer = client.http.patch(
            f"/stores/{store['store_id']}/cases/{case['case_id']}",
            headers=auth(store["api_key"]),
            body='{"action": "acknowledge"}',
        )
        assert answer.status_code == 200, answer.body
    # THEN both count as acknowledged, one of them timed
    body = client.http.get(f"/stores/{store['store_id']}/stats", headers=auth(store["api_key"])).json_body
    acknowledged = body["cases"]["acknowledged"]
    assert (acknowledged["cases"], acknowledged["timed"]) == (2, 1)
    assert acknowledged["median_seconds"] is not None and 0 <= acknowledged["median_seconds"] < 60
    assert body["cases"]["resolved"] == {"cases": 0, "timed": 0, "median_seconds": None}


def wilson(satisfied: int, n: int) -> list[float]:
    """The Wilson interval as the score test's two roots: (p̂ - p)² = z²·p(1 - p)/n, in %."""
    z2, share = 1.96**2, satisfied / n
    a, b, c = 1 + z2 / n, -(2 * share + z2 / n), share * share
    root = (b * b - 4 * a * c) ** 0.5
    return [round(100 * (-b - root) / (2 * a), 1), round(100 * (-b + root) / (2 * a), 1)]


def test_a_csat_carries_its_wilson_interval_for_the_range_each_period_and_each_breakdown(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a CSAT store with ten answers today: eight satisfied (4 or 5), a 3 and a 1
    set_store(client, store, survey_type="csat")
    for n, score in enumerate([5, 5, 4, 5, 4, 4, 5, 5, 3, 1]):
        surveys.answered(store, f"C{n}", f"c{n}@example.com", score, "", wall_clock())
    # WHEN the store reads its stats
    body = client.http.get(f"/stores/{store['store_id']}/stats?days=7", headers=auth(store["api_key"])).json_body
    # THEN the CSAT is 80% with the 95% Wilson interval of 8 in 10 (R: prop.test(8, 10, correct = FALSE))
    assert (body["csat"], body["responses"], body["low_sample"]) == (80.0, 10, True)
    assert body["csat_ci"] == wilson(8, 10) == [49.0, 94.3]
    assert "nps_ci" not in body
    # AND today's entry and the email breakdown say the same, the breakdown inside the period too
    today = body["series"][-1]
    assert today["csat_ci"] == [49.0, 94.3] and today["by_channel"]["email"]["csat_ci"] == [49.0, 94.3]
    assert body["by_channel"]["email"]["categories"] == {"satisfied": 8, "neutral": 1, "unsatisfied": 1}
    assert body["series"][0]["csat_ci"] is None and body["series"][0]["by_channel"] == {}


def test_the_wilson_interval_stays_within_the_scale_at_its_ends() -> None:
    # no satisfied answer, all satisfied, one answer: the bounds stay on the scale and off the point
    assert stats.csat_interval(0, 10) == wilson(0, 10) == [0.0, 27.8]
    assert stats.csat_interval(10, 10) == wilson(10, 10) == [72.2, 100.0]
    assert stats.csat_interval(1, 1) == wilson(1, 1) == [20.7, 100.0]
    assert stats.csat_interval(45, 50) == wilson(45, 50) and stats.csat_interval(0, 0) is None
