"""Support signs in to the dashboard in a real browser and sees the trend after a few answers."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from typing import Any

import pytest

import devstack
from chalicelib.core.clock import wall_clock
from chalicelib.reports import stats
from chalicelib.storage import db
from tests.conftest import auth
from tests.support.browser import screenshot
from tests.support.cases import answered

README_SCREENSHOT = devstack.ROOT / "docs" / "screenshots" / "dashboard-en.png"
README_PHONE_SCREENSHOT = devstack.ROOT / "docs" / "screenshots" / "dashboard-en-phone.png"


def test_support_signs_in_and_sees_the_score_trend_and_the_numbers(
    client: Any, store: dict[str, Any], page: Any
) -> None:
    # GIVEN five surveys sent over the last weeks and four answers, one of them angry
    now = wall_clock()
    for _ in range(5):
        db.table().transact([stats.sent_op(store["store_id"], "survey", now)])
    answered(store, "1001", "maya@example.org", 10, "The teapot pours beautifully.", now - timedelta(days=20))
    answered(store, "1002", "eva@example.org", 6, "Fine, but the lid rattles.", now - timedelta(days=13))
    answered(store, "1003", "lena@example.org", 9, "Arrived early, very well packed.", now - timedelta(days=6))
    answered(store, "1004", "nikos@example.gr", 10, "Second one I bought. Perfect.", now)

    # WHEN support opens the dashboard on a laptop and signs in with the support key
    page.set_viewport_size({"width": 1100, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(f"/stores/{store['store_id']}/dashboard")
    page.get_by_label("Your name").fill("Dana")
    page.get_by_label("Support key").fill(store["support_key"])
    page.get_by_role("button", name="Sign in").click()

    # THEN the numbers are there: NPS 50 from four answers, 80% response rate
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.locator("#tile-score dd").inner_text() == "50"
    assert page.locator("#tile-responses dd").inner_text() == "4"
    assert page.locator("#tile-rate dd").inner_text() == "80%"
    # AND the chart draws one point per week that had answers, and is drawn (not empty)
    chart = page.get_by_role("img", name="Net Promoter Score week by week")
    assert chart.is_visible()
    assert page.locator("#trend circle.point").count() == 4
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 150
    # AND the latest comment comes first
    assert page.locator(".comments blockquote").first.inner_text() == "Second one I bought. Perfect."

    # WHEN support switches to the 90-day view
    page.get_by_role("link", name="Last 90 days").click()
    # THEN that view is the current one
    assert page.get_by_role("link", name="Last 90 days").get_attribute("aria-current") == "page"
    page.get_by_role("link", name="Last 30 days").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    # AND nothing was blocked by the page's strict content security policy
    assert problems == []
    shot = screenshot(page, "dashboard-en")
    README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, README_SCREENSHOT)


CHART_TEXT = """() => {
  const svg = document.querySelector('#trend');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].map(t => ({
    text: t.textContent, size: parseFloat(getComputedStyle(t).fontSize) * scale, height: t.getBoundingClientRect().height }));
}"""


SIGN_IN = {
    "en": ("Your name", "Support key", "Sign in", "Dashboard"),
    "ar": ("اسمك", "مفتاح الدعم", "تسجيل الدخول", "لوحة المتابعة"),
}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_chart_stays_legible_on_a_phone(client: Any, store: dict[str, Any], page: Any, language: str) -> None:
    # GIVEN answers over the last weeks, to a store in this language
    assert (
        client.http.patch(
            f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps({"language": language})
        ).status_code
        == 200
    )
    name, key, sign_in, heading = SIGN_IN[language]
    now = wall_clock()
    for _ in range(4):
        db.table().transact([stats.sent_op(store["store_id"], "survey", now)])
    answered(store, "2001", "maya@example.org", 10, "Pours beautifully.", now - timedelta(days=20))
    answered(store, "2002", "eva@example.org", 3, "The lid rattles.", now - timedelta(days=6))
    answered(store, "2003", "nikos@example.gr", 9, "Perfect.", now)
    # WHEN support opens the dashboard on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/stores/{store['store_id']}/dashboard")
    page.get_by_label(name).fill("Dana")
    page.get_by_label(key).fill(store["support_key"])
    page.get_by_role("button", name=sign_in).click()
    page.get_by_role("heading", name=heading).wait_for()
    # THEN every label of the chart is drawn at 11 px or more (measured after the SVG's scaling)
    labels = page.evaluate(CHART_TEXT)
    assert labels and all(label["size"] >= 11 and label["height"] >= 11 for label in labels), labels
    # AND the chart scrolls inside its own frame, the page itself does not scroll sideways
    frame = page.locator(".chart-scroll")
    assert frame.evaluate("f => f.scrollWidth > f.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # AND the latest week is in view when the page opens
    last = page.locator("#trend circle.point").last.bounding_box()
    shown = frame.bounding_box()
    assert last is not None and shown is not None and shown["x"] <= last["x"] <= shown["x"] + shown["width"]
    shot = screenshot(page, f"dashboard-{language}-phone")
    if language == "en":
        README_PHONE_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, README_PHONE_SCREENSHOT)
