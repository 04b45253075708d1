"""The README's pictures of what customers meet, retaken from the running app on a phone and
on a laptop: the survey page in English and Arabic, the Arabic survey email and the
unsubscribe page.  (The dashboard's are taken by its own browser test.)"""

from __future__ import annotations

import shutil
from typing import Any

import devstack
from chalicelib.messaging import links
from chalicelib.storage import db, keys
from tests.support.browser import DESKTOP, PHONE, boxes, rows, score_link, screenshot, send_survey_email

DOCS = devstack.ROOT / "docs" / "screenshots"


def keep(page: Any, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot(page, name), DOCS / f"{name}.png")


def test_readme_screenshots_of_the_survey_email_and_pages(
    app: Any, store: dict[str, Any], page: Any, live_server: str
) -> None:
    for language in ("en", "ar"):
        html = send_survey_email(app, store, f"shots-{language}@example.com", language, f"90{len(language)}{language}")
        page.set_viewport_size(PHONE)
        page.set_content(html)
        assert rows(boxes(page, "table.scale a")) == [11]
        if language == "ar":
            keep(page, "email-ar-phone")
        for size, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
            page.set_viewport_size(size)
            page.goto(score_link(html, 9))
            assert page.is_checked("#score-9")
            keep(page, f"survey-{language}-{suffix}")
    # the unsubscribe page, opened again after stopping surveys
    email = "shots-en@example.com"
    db.table().put({**keys.customer(store["store_id"], email), "type": "customer", "email": email, "language": "en"})
    page.set_viewport_size(PHONE)
    page.goto(f"/u/{links.unsubscribe_token(store['store_id'], email, email)}")
    page.check("#choice-surveys")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_selector("#resubscribe")
    keep(page, "unsubscribed-en-phone")
