"""A customer answers from a real survey email, in English and in Arabic, in Chromium."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.storage import db, keys
from chalicelib.surveys import tokens
from tests.conftest import auth
from tests.support.browser import score_link, screenshot, send_survey_email


def stored_answer(link: str) -> dict[str, Any] | None:
    """The answer recorded for the survey behind a link (whatever kind the engine named it)."""
    token = link.split("/s/")[1].split("?")[0]
    survey = db.table().get(keys.survey(token), consistent=True)
    assert survey is not None
    return db.table().get(keys.response(survey["store_id"], survey["order_id"], survey["kind"]), consistent=True)


def test_english_survey_from_the_email_to_the_thank_you_page(
    app: Any, client: Any, store: dict[str, Any], page: Any, live_server: str
) -> None:
    reviews = {"review_links": [{"name": "Google", "url": "https://g.example/review/cedar-sage"}]}
    assert (
        client.http.patch(
            f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps(reviews)
        ).status_code
        == 200
    )
    link = score_link(send_survey_email(app, store, "dana@example.com", "en", "1001"), 9)
    assert link.startswith(live_server)
    # WHEN the customer taps "9" in the email
    page.goto(link)
    # THEN the page is English, left to right, with 9 already chosen and the matching question
    assert page.get_attribute("html", "lang") == "en" and page.get_attribute("html", "dir") == "ltr"
    assert page.is_checked("#score-9")
    assert page.text_content("#comment-label") == "Glad to hear it! What did you love?"
    # AND the keyboard reaches the chosen score first, then the comment, then the button
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "score-9"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "comment"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    screenshot(page, "survey-en")
    # WHEN they add a comment and send
    page.fill("#comment", "The teapot pours without a drip.")
    page.click("button[type=submit]")
    # THEN they are thanked, and the answer is stored once
    page.wait_for_selector("h1")
    assert page.text_content("h1") == "Thank you for your answer!"
    assert page.get_attribute("a[href='https://g.example/review/cedar-sage']", "rel") == "noopener noreferrer"
    screenshot(page, "thanks-en")
    stored = stored_answer(link)
    assert stored is not None and (stored["score"], stored["comment"]) == (9, "The teapot pours without a drip.")


def test_arabic_survey_is_right_to_left_and_follows_the_score(
    app: Any, store: dict[str, Any], page: Any, live_server: str
) -> None:
    link = score_link(send_survey_email(app, store, "layla@example.com", "ar", "2002"), 8)
    page.goto(link)
    assert page.get_attribute("html", "lang") == "ar" and page.get_attribute("html", "dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.evaluate("getComputedStyle(document.querySelector('legend')).textAlign") in ("start", "right")
    # the scale runs right to left: 0 sits right of 10
    left_of = page.evaluate(
        "document.querySelector('label[for=score-0]').getBoundingClientRect().left"
        " > document.querySelector('label[for=score-1]').getBoundingClientRect().left"
    )
    assert left_of is True
    assert page.is_checked("#score-8")
    assert page.text_content("#comment-label") == "ما الذي يمكننا تحسينه؟"
    assert "ما مدى احتمال أن تنصح" in page.text_content("legend")
    screenshot(page, "survey-ar")
    # WHEN the customer picks 3 instead THEN the question follows (the inline script runs under the CSP)
    page.click("#score-3")
    assert page.is_checked("#score-3")
    assert page.text_content("#comment-label") == "نأسف لذلك. ما الذي حدث؟"
    page.fill("#comment", "وصل الإبريق مكسورًا")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    assert page.text_content("h1") == "شكرًا على إجابتك!"
    assert page.get_attribute("html", "dir") == "rtl"
    screenshot(page, "thanks-ar")
    stored = stored_answer(link)
    assert stored is not None and (stored["score"], stored["category"], stored["comment"]) == (
        3,
        "detractor",
        "وصل الإبريق مكسورًا",
    )
    assert tokens.is_answered(db.table(), stored["token"])
