"""Comment themes where stores and support see them: the store's own keywords, the stored
answer, cases (API and inbox), the daily counters behind GET /stats, and the dashboard."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.core.clock import wall_clock
from chalicelib.storage import db, keys
from chalicelib.surveys import answers, tokens
from tests.conftest import auth
from tests.support.cases import answer_survey, open_cases, set_store
from tests.support.surveys import answered, issue, post_answer

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def stored_themes(store: dict[str, Any], order_id: str = "1001") -> list[str]:
    item = db.table().get(keys.response(store["store_id"], order_id, "post_delivery"), consistent=True)
    assert item is not None
    return list(item.get("themes") or [])


def stats_themes(client: Any, store: dict[str, Any], days: int = 7) -> dict[str, int]:
    answer = client.http.get(f"/stores/{store['store_id']}/stats?days={days}", headers=auth(store["api_key"]))
    assert answer.status_code == 200, answer.body
    return dict(answer.json_body["themes"])


def session_cookie(client: Any, store: dict[str, Any], page: str) -> str:
    body = urlencode({"support_key": store["support_key"], "name": "Dana"})
    answer = client.http.post(f"/stores/{store['store_id']}/{page}/session", headers=FORM, body=body)
    assert answer.status_code == 303, answer.body
    return str(answer.headers["Set-Cookie"]).split(";")[0]


# --- the store's own keywords ------------------------------------------------------------------
def test_a_store_saves_its_own_theme_keywords(client: Any, store: dict[str, Any]) -> None:
    # WHEN the store adds words of its own for two themes, in two languages
    url = f"/stores/{store['store_id']}"
    keywords = {"delivery": ["Hermes", "ΕΛΤΑ Courier"], "damaged": ["  wobbly lid "]}
    saved = client.http.patch(url, headers=auth(store["api_key"]), body=json.dumps({"theme_keywords": keywords}))
    # THEN they are kept (trimmed) and shown back
    assert saved.status_code == 200, saved.body
    shown = client.http.get(url, headers=auth(store["api_key"])).json_body["theme_keywords"]
    assert shown == {"delivery": ["Hermes", "ΕΛΤΑ Courier"], "damaged": ["wobbly lid"]}


@pytest.mark.parametrize(
    "bad",
    [
        {"shipping": ["Hermes"]},  # not a theme
        {"delivery": "Hermes"},  # not a list
        {"delivery": ["x" * 61]},  # too long
        {"delivery": [""]},
        {"delivery": [3]},
        ["delivery", "Hermes"],  # not a mapping
        {"delivery": [f"w{n}" for n in range(150)], "price": [f"p{n}" for n in range(150)], "refund": ["r"] * 150},
    ],
)
def test_bad_theme_keywords_are_a_400_that_names_the_field_and_save_nothing(
    client: Any, store: dict[str, Any], bad: Any
) -> None:
    url = f"/stores/{store['store_id']}"
    set_store(client, store, theme_keywords={"price": ["dear"]})
    # WHEN the store sends keywords that are not a theme's list of words, with another change
    answer = client.http.patch(
        url, headers=auth(store["api_key"]), body=json.dumps({"theme_keywords": bad, "weekly_cap": 9})
    )
    # THEN it is told which field is wrong, and nothing of the request is saved
    assert answer.status_code == 400
    assert answer.json_body["error"]["field"] == "theme_keywords"
    shown = client.http.get(url, headers=auth(store["api_key"])).json_body
    assert shown["theme_keywords"] == {"price": ["dear"]} and shown["weekly_cap"] != 9


# --- the answer and its case -------------------------------------------------------------------
def test_an_answer_is_stored_with_its_themes_and_a_changed_comment_retags_it(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a store that calls its courier by name
    set_store(client, store, theme_keywords={"delivery": ["Hermes"]})
    link = issue(store)

    def post(score: int, comment: str) -> None:
        assert post_answer(client, link.token, score=score, comment=comment).status_code == 200

    # WHEN the customer answers on the page, naming the courier and a crushed box
    post(5, "Hermes lost it for a week and the box came crushed")
    # THEN the stored answer carries both themes
    assert stored_themes(store) == ["delivery", "damaged"]
    # WHEN they change the comment, and then send only a score
    post(9, "Arrived fine, love it")
    assert stored_themes(store) == ["praise"]
    post(10, "")
    # THEN the themes follow the comment that stands
    assert stored_themes(store) == ["praise"]


def test_cases_show_the_themes_of_their_comment_in_the_api_and_the_inbox(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a Greek store and a detractor whose comment is about damage and a refund
    set_store(client, store, language="el")
    answer_survey(client, store, score=2, comment="Ήρθε σπασμένο, θέλω επιστροφή χρημάτων", language="el")

    # WHEN support lists the cases and opens the case
    listed = open_cases(client, store)
    case_id = listed[0]["case_id"]
    one = client.http.get(f"/stores/{store['store_id']}/cases/{case_id}", headers=auth(store["api_key"])).json_body

    # THEN the case carries the themes
    assert listed[0]["themes"] == ["damaged", "refund"]
    assert one["themes"] == ["damaged", "refund"]

    # AND the inbox card names them in the store's language
    cookie = session_cookie(client, store, "inbox")
    page = client.http.get(f"/stores/{store['store_id']}/inbox", headers={"Cookie": cookie}).body.decode()
    card = page[page.index(f'id="case-{case_id}"') :]
    assert '<li class="theme" data-theme="damaged">Ζημιά</li>' in card
    assert '<li class="theme" data-theme="refund">Επιστροφή χρημάτων</li>' in card


def test_a_case_without_themes_shows_none(client: Any, store: dict[str, Any]) -> None:
    answer_survey(client, store, score=1, comment="")
    listed = open_cases(client, store)
    assert listed[0]["themes"] == []
    cookie = session_cookie(client, store, "inbox")
    page = client.http.get(f"/stores/{store['store_id']}/inbox", headers={"Cookie": cookie}).body.decode()
    assert 'class="theme"' not in page


# --- counters and the dashboard ----------------------------------------------------------------
def test_stats_count_each_theme_per_day_and_a_changed_answer_moves_its_count(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN three answers over three days in three languages, and one of them changed later
    now = wall_clock()
    answered(store, "T1", "a@example.org", 3, "الطلب ما وصل لحد الآن", now - timedelta(days=2), language="ar")
    answered(store, "T2", "b@example.org", 4, "Late and too expensive", now - timedelta(days=1))
    token = answered(store, "T3", "c@example.org", 2, "המוצר הגיע שבור", now - timedelta(days=1), language="he")
    survey = tokens.load(db.table(), token, now, consistent=True)
    assert survey is not None
    answers.record_answer(db.table(), survey, score=9, comment="מעולה, ממליץ בחום", via="page", now=now)

    # WHEN the store asks for its stats
    themes = stats_themes(client, store)

    # THEN each theme is counted once per answer as it stands now
    assert themes == {
        "delivery": 2,
        "damaged": 0,
        "quality": 0,
        "wrong_item": 0,
        "price": 1,
        "support": 0,
        "refund": 0,
        "praise": 1,
    }
    # AND the counters sit on the days' items, where the summary reads them
    today = db.table().get(keys.stats_day(store["store_id"], now.strftime("%Y-%m-%d")))
    assert today is not None and today["theme_praise"] == 1
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    earlier = db.table().get(keys.stats_day(store["store_id"], yesterday))
    assert earlier is not None and earlier["theme_damaged"] == 0 and earlier["theme_price"] == 1


def test_the_dashboard_lists_the_periods_themes_with_their_counts(client: Any, store: dict[str, Any]) -> None:
    # GIVEN no answers yet, then three comments about delivery and one about price in the period
    cookie = session_cookie(client, store, "dashboard")
    empty = client.http.get(f"/stores/{store['store_id']}/dashboard", headers={"Cookie": cookie}).body.decode()
    assert "No themes in this period." in empty and 'id="themes"' not in empty

    now = wall_clock()
    answered(store, "D1", "a@example.org", 3, "Arrived late", now - timedelta(days=3))
    answered(store, "D2", "b@example.org", 4, "Still waiting, it never arrived", now - timedelta(days=2))
    answered(store, "D3", "c@example.org", 5, "Late, and overpriced", now - timedelta(days=1))
    answered(store, "D4", "d@example.org", 6, "Ordered for my sister", now - timedelta(days=40))  # outside 30 days

    # WHEN support opens the dashboard
    page = client.http.get(f"/stores/{store['store_id']}/dashboard", headers={"Cookie": cookie}).body.decode()

    # THEN the themes are listed most frequent first, with their counts, and no empty theme
    listing = page[page.index('id="themes"') : page.index("</ul>", page.index('id="themes"'))]
    assert listing.index('data-theme="delivery"') < listing.index('data-theme="price"')
    assert 'data-theme="delivery">Delivery: <strong>3</strong>' in listing
    assert 'data-theme="price">Price: <strong>1</strong>' in listing
    assert 'data-theme="praise"' not in listing
    assert "No themes in this period." not in page
