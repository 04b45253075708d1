"""The survey page: GET shows the form and records nothing; POST records the latest answer."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.core.clock import wall_clock
from chalicelib.core.models import JobKind
from chalicelib.platform.process import PROCESS
from chalicelib.reports import stats
from chalicelib.schedule import jobs
from chalicelib.storage import db, keys
from chalicelib.surveys import answers, pages, tokens
from tests.conftest import auth
from tests.support import surveys

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def issue(
    store: dict[str, Any], *, language: str = "en", order_id: str = "1001", now: datetime | None = None, **settings: Any
) -> tokens.SurveyLink:
    db.table().put(
        {
            **keys.order(store["store_id"], order_id),
            "type": "order",
            "order_id": order_id,
            "items": [{"sku": "LAMP-1", "title": "Desk lamp"}],
        }
    )
    return surveys.issue(
        store,
        order_id=order_id,
        customer="ana@example.com",
        kind="nps",
        language=language,
        now=now,
        item={**store, **settings},
    )


def nonce_of(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match, "the form carries a nonce"
    return match.group(1)


def checked_score(html: str) -> str | None:
    match = re.search(r'value="(\d+)"[^>]*\schecked', html)
    return match.group(1) if match else None


def response_item(store: dict[str, Any], order_id: str = "1001") -> dict[str, Any] | None:
    return db.table().get(keys.response(store["store_id"], order_id, "nps"), consistent=True)


def today_counts(store: dict[str, Any]) -> dict[str, int]:
    item = db.table().get(keys.stats_day(store["store_id"], stats.day(wall_clock())), consistent=True) or {}
    return {k: int(v) for k, v in item.items() if k not in ("PK", "SK", "type", "store_id", "day")}


def post(client: Any, token: str, **fields: str) -> Any:
    return client.http.post(f"/s/{token}", headers=FORM, body=urlencode(fields))


def test_a_scanner_opening_the_link_records_nothing(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a survey email's "9" button
    link = issue(store)
    # WHEN a mail scanner (or the customer) opens it
    page = client.http.get(f"/s/{link.token}?score=9")
    # THEN the form shows with 9 chosen, and nothing is recorded
    html = page.body.decode()
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="en" dir="ltr">' in html
    assert checked_score(html) == "9"
    assert 'How likely are you to recommend <span dir="auto">Cedar &amp; Sage</span> to a friend or colleague?' in html
    assert 'for="comment" id="comment-label">Glad to hear it! What did you love?' in html
    assert response_item(store) is None
    assert not tokens.is_answered(db.table(), link.token)
    assert today_counts(store) == {}


def test_the_inline_script_is_allowed_by_its_hash_and_nothing_external_loads(
    client: Any, store: dict[str, Any]
) -> None:
    link = issue(store)
    page = client.http.get(f"/s/{link.token}?score=3")
    html = page.body.decode()
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'sha256-" in csp and "default-src 'none'" in csp
    assert f"<script>{pages.SCRIPT}</script>" in html
    assert "src=" not in html.replace("data-question", "") and "http" not in re.sub(r'action="[^"]*"', "", html)


def test_a_post_without_the_page_nonce_records_nothing(client: Any, store: dict[str, Any]) -> None:
    link, other = issue(store), issue(store, order_id="1002")
    other_nonce = nonce_of(client.http.get(f"/s/{other.token}").body.decode())
    for fields in (
        {"score": "2", "comment": "bad"},
        {"score": "2", "nonce": "forged.value"},
        {"score": "2", "nonce": other_nonce},
    ):
        answer = post(client, link.token, **fields)
        assert answer.status_code == 403
        assert "Your answer was not saved" in answer.body.decode()
    assert response_item(store) is None
    assert today_counts(store) == {}


def test_an_answer_is_stored_counted_and_thanked(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a survey with a pending reminder
    link = issue(store)
    reminder = jobs.job_item(
        keys.order_pk(store["store_id"], "1001"),
        JobKind.SURVEY_REMINDER,
        wall_clock() + timedelta(days=3),
        store_id=store["store_id"],
        shards=4,
        order_id="1001",
        data={"token": link.token},
    )
    db.table().put(reminder)
    html = client.http.get(f"/s/{link.token}?score=10").body.decode()
    # WHEN the customer sends 10 with a comment holding markup
    answer = post(
        client, link.token, score="10", comment="Lovely <b>lamp</b><script>x()</script>", nonce=nonce_of(html)
    )
    # THEN they are thanked, and the answer is stored as plain text, counted and the reminder cancelled
    assert answer.status_code == 200
    assert "Thank you for your answer!" in answer.body.decode()
    stored = response_item(store)
    assert stored is not None
    assert (stored["score"], stored["category"], stored["comment"], stored["language"]) == (
        10,
        "promoter",
        "Lovely lamp x()",
        "en",
    )
    assert stored["products"] == [{"sku": "LAMP-1", "title": "Desk lamp"}]
    assert tokens.is_answered(db.table(), link.token)
    assert today_counts(store) == {
        "responses": 1,
        "nps_responses": 1,
        "nps_score_sum": 10,
        "nps_promoter": 1,
        "theme_praise": 1,  # "Lovely lamp"
        "channel#email#nps_responses": 1,
        "channel#email#nps_score_sum": 10,
        "channel#email#nps_promoter": 1,
        "language#en#nps_responses": 1,
        "language#en#nps_score_sum": 10,
        "language#en#nps_promoter": 1,
        "kind#nps#nps_responses": 1,
        "kind#nps#nps_score_sum": 10,
        "kind#nps#nps_promoter": 1,
    }
    products = db.table().get(keys.stats_products_day(store["store_id"], stats.day(wall_clock())), consistent=True)
    assert products is not None and products["skus"] == {"LAMP-1"} and products["title#LAMP-1"] == "Desk lamp"
    assert (products["sku#LAMP-1#nps_responses"], products["sku#LAMP-1#nps_promoter"]) == (1, 1)
    job = db.table().get({"PK": reminder["PK"], "SK": reminder["SK"]})
    assert job is not None and job["status"] == "cancelled" and "due_pk" not in job


def test_changing_the_answer_counts_only_the_latest(client: Any, store: dict[str, Any]) -> None:
    link = issue(store)
    nonce = nonce_of(client.http.get(f"/s/{link.token}").body.decode())
    assert post(client, link.token, score="3", comment="late", nonce=nonce).status_code == 200
    # WHEN the customer reopens the link and changes their mind
    again = client.http.get(f"/s/{link.token}").body.decode()
    assert checked_score(again) == "3"
    assert post(client, link.token, score="8", comment="", nonce=nonce).status_code == 200
    # THEN one answer stands, with the comment given earlier (the latest non-empty one wins),
    # and the day's counters hold it once
    stored = response_item(store)
    assert stored is not None and (stored["score"], stored["category"], stored.get("comment")) == (8, "passive", "late")
    counts = today_counts(store)
    assert {name: value for name, value in counts.items() if "#" not in name} == {
        "responses": 1,
        "nps_responses": 1,
        "nps_score_sum": 8,
        "nps_passive": 1,
        "nps_detractor": 0,
        "theme_delivery": 1,  # the comment that stands, counted once
    }
    # AND so do the breakdowns
    assert {name: value for name, value in counts.items() if name.startswith("channel#")} == {
        "channel#email#nps_responses": 1,
        "channel#email#nps_score_sum": 8,
        "channel#email#nps_passive": 1,
        "channel#email#nps_detractor": 0,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"score": "11"}, "Please choose a score."),
        ({"score": ""}, "Please choose a score."),
        ({"score": "5", "comment": "x" * 2001}, "Your comment is too long"),
    ],
)
def test_invalid_answers_are_refused_and_not_recorded(
    client: Any, store: dict[str, Any], fields: dict[str, str], message: str
) -> None:
    link = issue(store)
    nonce = nonce_of(client.http.get(f"/s/{link.token}").body.decode())
    answer = post(client, link.token, nonce=nonce, **fields)
    assert answer.status_code == 400
    assert message in answer.body.decode()
    assert response_item(store) is None


def test_unknown_and_expired_links_get_a_friendly_page_in_the_readers_language(
    client: Any, store: dict[str, Any]
) -> None:
    expired = issue(store, now=wall_clock() - timedelta(days=31))
    for path in (f"/s/{expired.token}", "/s/NoSuchTokenNoSuchToken", "/s/x"):
        page = client.http.get(path, headers={"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.5"})
        html = page.body.decode()
        assert page.status_code == 404
        assert '<html lang="ar" dir="rtl">' in html
        assert "انتهت صلاحية هذا الرابط أو أنه غير موجود" in html
    nonce = answers.nonce(expired.token)
    assert post(client, expired.token, score="9", nonce=nonce).status_code == 404
    assert response_item(store) is None


def test_the_page_speaks_the_customers_language_and_direction(client: Any, store: dict[str, Any]) -> None:
    for language, text in (
        ("ar", "ما مدى احتمال أن تنصح"),
        ("fa", "چقدر احتمال دارد"),
        ("he", "מה הסיכוי שתמליצו"),
        ("el", "Πόσο πιθανό είναι"),
    ):
        link = issue(store, language=language, order_id=f"o-{language}")
        html = client.http.get(f"/s/{link.token}?score=2").body.decode()
        direction = "ltr" if language == "el" else "rtl"
        assert f'<html lang="{language}" dir="{direction}">' in html
        assert text in html
        assert "How likely" not in html and "Send my answer" not in html


def _patch(client: Any, store: dict[str, Any], **settings: Any) -> None:
    answer = client.http.patch(
        f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps(settings)
    )
    assert answer.status_code == 200, answer.body


def test_every_respondent_is_invited_to_review_unless_the_store_asks_for_promoters_only(
    client: Any, store: dict[str, Any]
) -> None:
    _patch(client, store, review_links=[{"name": "Google", "url": "https://g.example/review"}])
    link = issue(store)
    nonce = answers.nonce(link.token)
    thanks = post(client, link.token, score="6", nonce=nonce).body.decode()
    assert 'href="https://g.example/review"' in thanks and "Review us on Google" in thanks
    _patch(client, store, review_invite="promoters")
    other = issue(store, order_id="1002")
    assert "Review us on" not in post(client, other.token, score="6", nonce=answers.nonce(other.token)).body.decode()
    assert (
        "Review us on Google" in post(client, other.token, score="10", nonce=answers.nonce(other.token)).body.decode()
    )


def test_csat_and_ces_scales(client: Any, store: dict[str, Any]) -> None:
    csat = issue(store, survey_type="csat")
    html = client.http.get(f"/s/{csat.token}?score=4").body.decode()
    assert re.findall(r'name="score" value="(\d+)"', html) == ["1", "2", "3", "4", "5"]
    assert "How satisfied are you" in html and checked_score(html) == "4"
    ces = issue(store, survey_type="ces", order_id="1003")
    html = client.http.get(f"/s/{ces.token}?score=9").body.decode()
    assert re.findall(r'name="score" value="(\d+)"', html) == [str(n) for n in range(1, 8)]
    assert checked_score(html) is None


def test_behind_a_stage_path_the_page_posts_back_under_that_path(
    client: Any, store: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.messaging import links

    # GIVEN the API deployed under API Gateway's stage path, as the stack's PUBLIC_BASE_URL says
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://abc123.execute-api.us-east-1.amazonaws.com/api")
    PROCESS.reset()
    link = issue(store)
    assert link.url.startswith("https://abc123.execute-api.us-east-1.amazonaws.com/api/s/")
    # WHEN the customer opens the survey and the unsubscribe page
    survey = client.http.get(f"/s/{link.token}").body.decode()
    unsubscribe = client.http.get(
        f"/u/{links.unsubscribe_token(store['store_id'], 'ana@example.com', 'ana@example.com')}"
    ).body.decode()
    # THEN their forms post back under /api (a path without it is not the API: the answer would be lost)
    assert f'action="/api/s/{link.token}"' in survey
    assert re.search(r'action="/api/u/[^"]+"', unsubscribe)
    # AND after answering, "change my answer" leads back under /api too
    thanks = post(client, link.token, score="9", comment="", nonce=nonce_of(survey)).body.decode()
    assert f'href="/api/s/{link.token}"' in thanks
    PROCESS.reset()
