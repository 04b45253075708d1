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


def answered(store: dict[str, Any], order_id: str, score: int, days_ago: int = 0) -> None:
    when = wall_clock() - timedelta(days=days_ago)
    db.table().transact([stats.sent_op(store["store_id"], "nps", when)])
    link = tokens.issue_survey(
        db.table(),
        store=store,
        customer_id=f"c{order_id}@example.com",
        order_id=order_id,
        kind="nps",
        channel="email",
        contact=f"c{order_id}@example.com",
        now=when,
        language="en",
    )
    survey = tokens.load(db.table(), link.token, when)
    assert survey is not None
    answers.record_answer(db.table(), survey, score=score, comment="", via="page", now=when)


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
