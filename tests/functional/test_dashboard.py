"""The dashboard page: signed in like the inbox, it shows the score week by week, responses,
response rate, the category split, open cases and the latest comments."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.core.clock import wall_clock
from chalicelib.reports import dashboard, stats
from chalicelib.storage import db
from chalicelib.support import escalation
from tests.support.cases import set_store
from tests.support.surveys import answered

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def sign_in(client: Any, store: dict[str, Any], key: str, **extra: str) -> Any:
    body = urlencode({"support_key": key, "name": "Dana", **extra})
    return client.http.post(f"/stores/{store['store_id']}/dashboard/session", headers=FORM, body=body)


def signed_in_cookie(client: Any, store: dict[str, Any]) -> str:
    answer = sign_in(client, store, store["support_key"])
    assert answer.status_code == 303, answer.body
    return str(answer.headers["Set-Cookie"]).split(";")[0]


def surveys_sent(store: dict[str, Any], count: int) -> None:
    """Count surveys sent today, as the engine does when it sends one."""
    for _ in range(count):
        db.table().transact([stats.sent_op(store["store_id"], "survey", wall_clock())])


def test_a_visitor_without_a_session_gets_the_sign_in_form(client: Any, store: dict[str, Any]) -> None:
    # GIVEN nobody signed in
    page = client.http.get(f"/stores/{store['store_id']}/dashboard")
    # THEN the page is the sign-in form, with no numbers on it
    assert page.status_code == 200
    html = page.body.decode()
    assert 'name="support_key"' in html and f'action="/stores/{store["store_id"]}/dashboard/session"' in html
    assert 'id="trend"' not in html

    # WHEN someone tries the API key instead of the support key, then the support key with the 90-day view
    wrong = sign_in(client, store, store["api_key"])
    right = sign_in(client, store, store["support_key"], days="90")

    # THEN the wrong key is refused on the form; the right one signs in for the store's pages
    assert wrong.status_code == 401 and "That support key is not right." in wrong.body.decode()
    assert "Set-Cookie" not in wrong.headers
    assert right.status_code == 303
    assert right.headers["Location"] == f"http://localhost:8000/stores/{store['store_id']}/dashboard?days=90"
    assert f"Path=/stores/{store['store_id']};" in right.headers["Set-Cookie"]


def test_the_dashboard_shows_the_trend_the_numbers_open_cases_and_comments(client: Any, store: dict[str, Any]) -> None:
    # GIVEN four surveys sent and three answers over three weeks: two promoters and a detractor with a comment
    now = wall_clock()
    surveys_sent(store, 4)
    answered(store, "D-1", "maya@example.org", 10, "", now - timedelta(days=15))
    answered(store, "D-2", "eva@example.org", 9, "Beautiful <b>teapot</b>", now - timedelta(days=8))
    answered(store, "D-3", "nikos@example.gr", 2, "Cracked on arrival", now)
    from chalicelib.platform.aws import clients
    from chalicelib.stores import registry

    item = registry.get_store(db.table(), store["store_id"], fresh=True)
    detractor = db.table().get({"PK": f"STORE#{store['store_id']}#ORDER#D-3", "SK": "RESPONSE#post_delivery"})
    assert detractor is not None
    escalation.on_response(db.table(), clients(), item, detractor, now)

    # WHEN support, signed in, opens the dashboard
    cookie = signed_in_cookie(client, store)
    page = client.http.get(f"/stores/{store['store_id']}/dashboard", headers={"Cookie": cookie})

    # THEN it is a strict-CSP page with no script, showing NPS 33, three responses and a 75% response rate
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    html = page.body.decode()
    assert "<script" not in html and " src=" not in html and 'href="http' not in html
    assert re.search(
        r'id="tile-score" data-low-sample><dt><abbr title="Net Promoter Score">NPS</abbr> '
        r'<span class="badge few" title="Fewer than 30 answers: [^"]*">Few answers</span></dt><dd dir="ltr">33</dd>',
        html,
    )
    # AND three answers are too few to trust: the score says so and gives its 95% interval
    assert (
        '<dd class="note" id="score-interval">95% confidence interval: \u2066-73\u2069 to \u2066100\u2069</dd>' in html
    )
    assert 'id="low-sample-note">Fewer than 30 answers' in html
    assert '<div class="tile" id="tile-responses"><dt>Responses</dt><dd>3</dd>' in html
    assert '<div class="tile" id="tile-rate"><dt>Response rate</dt><dd dir="ltr">75%</dd>' in html
    # AND the chart has one point per week with answers, in an inline SVG
    assert '<svg class="chart" id="trend"' in html
    assert html.count('class="point"') == 3  # 15, 8 and 0 days ago fall in three different weeks
    # AND the category split, the open case by priority with a link to the inbox, and the comments, escaped
    assert 'data-category="promoter"><span class="swatch good"></span>Promoters: <strong>2</strong>' in html
    assert 'data-category="detractor"><span class="swatch bad"></span>Detractors: <strong>1</strong>' in html
    assert '<li data-priority="high"><span class="badge high">High</span> 1</li>' in html
    assert f'href="/stores/{store["store_id"]}/inbox"' in html
    assert html.index("Cracked on arrival") < html.index("Beautiful &lt;b&gt;teapot&lt;/b&gt;")
    assert f'href="/stores/{store["store_id"]}/responses.csv?from=' in html


def test_the_period_switches_between_30_and_90_days(client: Any, store: dict[str, Any]) -> None:
    # GIVEN an answer 60 days ago
    answered(store, "P-1", "maya@example.org", 10, "Still love it", wall_clock() - timedelta(days=60))
    cookie = signed_in_cookie(client, store)

    # WHEN support looks at 30 days, then 90
    month = client.http.get(f"/stores/{store['store_id']}/dashboard", headers={"Cookie": cookie}).body.decode()
    quarter = client.http.get(
        f"/stores/{store['store_id']}/dashboard?days=90", headers={"Cookie": cookie}
    ).body.decode()

    # THEN the month has no answer, the quarter has it, and the current period is marked
    assert "No answers in this period yet." in month and 'id="tile-responses"><dt>Responses</dt><dd>0</dd>' in month
    assert 'id="tile-responses"><dt>Responses</dt><dd>1</dd>' in quarter and "Still love it" in quarter
    assert re.search(r'href="[^"]*dashboard\?days=90" aria-current="page">Last 90 days', quarter)


def test_a_session_of_another_store_is_not_enough(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a cookie for this store
    cookie = signed_in_cookie(client, store)
    # WHEN it is presented to another store's dashboard (a store that exists)
    import json

    from tests.conftest import OPERATOR, STORE_BODY

    other = client.http.post(
        "/stores", headers={**OPERATOR, "Content-Type": "application/json"}, body=json.dumps(STORE_BODY)
    ).json_body
    page = client.http.get(f"/stores/{other['store_id']}/dashboard", headers={"Cookie": cookie}).body.decode()
    # THEN that dashboard asks for its own support key
    assert 'name="support_key"' in page and 'id="trend"' not in page


def test_an_arabic_store_reads_right_to_left_with_csat(client: Any, store: dict[str, Any]) -> None:
    # GIVEN an Arabic-speaking store asking CSAT, with one satisfied answer
    set_store(client, store, language="ar", survey_type="csat")
    answered(store, "A-1", "+306944000111", 5, "ممتاز", wall_clock(), language="ar")
    cookie = signed_in_cookie(client, store)

    # WHEN support opens the dashboard
    html = client.http.get(f"/stores/{store['store_id']}/dashboard", headers={"Cookie": cookie}).body.decode()

    # THEN it is Arabic, right to left, with CSAT as a percentage and the chart's axis on the right
    assert '<html lang="ar" dir="rtl">' in html
    assert "لوحة المتابعة" in html and "رضا العملاء" in html
    assert '<dd dir="ltr">100%</dd>' in html
    # and under it the 95% Wilson interval of one satisfied answer in one, its numbers kept whole
    interval = re.search(r'<dd class="note" id="score-interval">([^<]+)</dd>', html)
    assert interval is not None and "\u206621%\u2069" in interval.group(1) and "\u2066100%\u2069" in interval.group(1)
    axis = re.search(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="end" direction="ltr">', html)
    assert axis is not None and float(axis.group(1)) > 600


def test_weeks_start_where_the_language_starts_them_and_weigh_days_by_answers() -> None:
    # GIVEN a Sunday with one detractor (NPS -100) and the Monday after with three promoters (NPS 100)
    series = [{"day": "2026-11-22", "responses": 1, "nps": -100.0}, {"day": "2026-11-23", "responses": 3, "nps": 100.0}]
    # WHEN weeks start on Monday (Greek), then on Sunday (English)
    monday = dashboard.weekly(series, "nps", dashboard.first_week_day("el"))
    sunday = dashboard.weekly(series, "nps", dashboard.first_week_day("en"))
    # THEN Greek has two weeks; English has one, whose score counts every answer once
    assert [(w.start, w.responses, w.score) for w in monday] == [
        (date(2026, 11, 16), 1, -100.0),
        (date(2026, 11, 23), 3, 100.0),
    ]
    assert [(w.start, w.responses, w.score) for w in sunday] == [(date(2026, 11, 22), 4, 50.0)]
    assert dashboard.first_week_day("ar") == 5 and dashboard.first_week_day("he") == 6


def test_the_chart_runs_right_to_left_for_rtl_languages_and_breaks_at_silent_weeks() -> None:
    weeks = [
        dashboard.Week(date(2026, 11, 1), 2, 50.0),
        dashboard.Week(date(2026, 11, 8), 0, None),
        dashboard.Week(date(2026, 11, 15), 1, -20.0),
    ]
    ltr = dashboard.chart(weeks, "nps", "en", rtl=False)
    rtl = dashboard.chart(weeks, "nps", "he", rtl=True)
    assert ltr.points[0].x < ltr.points[2].x and rtl.points[0].x > rtl.points[2].x
    assert ltr.path.count("M") == 2 and "L" not in ltr.path
    assert ltr.points[0].y < ltr.zero_y < ltr.points[2].y  # type: ignore[operator]


def test_every_language_has_its_dashboard(client: Any, store: dict[str, Any]) -> None:
    # GIVEN an answer, and the store speaking each language in turn
    answered(store, "L-1", "maya@example.org", 8, "Καλό", wall_clock())
    titles = {"en": "Dashboard", "ar": "لوحة المتابعة", "fa": "داشبورد", "he": "לוח בקרה", "el": "Πίνακας ελέγχου"}
    for language, title in titles.items():
        set_store(client, store, language=language)
        cookie = signed_in_cookie(client, store)
        # WHEN support opens the dashboard
        html = client.http.get(f"/stores/{store['store_id']}/dashboard", headers={"Cookie": cookie}).body.decode()
        # THEN it is in that language and direction, with the answer counted
        direction = "rtl" if language in ("ar", "fa", "he") else "ltr"
        assert f'<html lang="{language}" dir="{direction}">' in html, language
        assert f"<h1>{title}</h1>" in html, language
        assert 'class="point"' in html, language


def test_comments_name_the_order_as_people_know_it(client: Any, store: dict[str, Any]) -> None:
    from chalicelib.storage import keys

    # GIVEN an order the platform calls "#3001", stored under its internal id C-3001, and an answer to it
    db.table().put(
        {
            **keys.order(store["store_id"], "C-3001"),
            "type": "order",
            "store_id": store["store_id"],
            "order_id": "C-3001",
            "order_name": "#3001",
        }
    )
    answered(store, "C-3001", "maya@example.org", 3, "The lid cracked", wall_clock() - timedelta(hours=2))
    # WHEN support opens the dashboard
    html = client.http.get(
        f"/stores/{store['store_id']}/dashboard", headers={"Cookie": signed_in_cookie(client, store)}
    ).body.decode()
    # THEN the comment is listed under the order's name, as in the inbox, never the internal id
    assert "The lid cracked" in html and "Order #3001" in html and "C-3001" not in html
