"""One survey link posted over and over: a rate limit per link, and a case that stays small."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.storage import db, keys
from chalicelib.support import cases
from tests.support.intake import count_items
from tests.support.surveys import issue, post_answer


@pytest.mark.world_time("2026-11-20T10:00:00Z")
def test_a_link_answers_ten_times_an_hour_then_429_with_retry_after_and_nothing_changes(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a survey answered ten times within the hour
    link = issue(store)
    for score in range(10):
        assert post_answer(client, link.token, score=score, comment="again").status_code == 200
    before = count_items()
    saved = db.table().get(keys.response(store["store_id"], "1001", "post_delivery"), consistent=True)
    # WHEN it is posted an eleventh time
    refused = post_answer(client, link.token, score=10, comment="once more")
    # THEN it is refused with a page, a Retry-After up to the next hour, and nothing is written
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("text/html")
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert count_items() == before
    assert db.table().get(keys.response(store["store_id"], "1001", "post_delivery"), consistent=True) == saved


@pytest.mark.world_time("2026-11-20T10:00:00Z")
def test_the_limit_lifts_in_the_next_hour(client: Any, store: dict[str, Any], world_time: Any) -> None:
    link = issue(store)
    for _ in range(10):
        post_answer(client, link.token, score=9)
    assert post_answer(client, link.token, score=9).status_code == 429
    world_time.shift(timedelta(hours=1))
    assert post_answer(client, link.token, score=8).status_code == 200


@pytest.mark.world_time("2026-11-20T10:00:00Z")
def test_a_link_posted_again_and_again_keeps_the_case_small_and_every_answer_succeeds(
    client: Any, store: dict[str, Any], world_time: Any
) -> None:
    # GIVEN a detractor's survey link posted 26 times with long comments over three hours,
    # angry and kinder answers in turn (each kind of answer is noted on the case)
    link = issue(store)
    statuses = []
    for i in range(26):
        if i and i % 10 == 0:
            world_time.shift(timedelta(hours=1))
        statuses.append(
            post_answer(
                client, link.token, score=1 if i % 2 else 9, comment=f"{i} " + "broken kettle " * 50
            ).status_code
        )
    # THEN every answer was taken, and the case holds the latest twenty and a count of all
    assert set(statuses) == {200}
    case = db.table().get(keys.case(store["store_id"], cases.case_id_for("maya@example.org", "1001")), consistent=True)
    assert case is not None
    kept = [a["comment"].split()[0] for a in case["answers"]]
    assert len(kept) == cases.MAX_HISTORY and kept[-1] == "25"
    assert int(case["answers_count"]) == 26
    assert len(json.dumps(case, default=str).encode()) < 100_000
