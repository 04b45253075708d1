"""Support signs in to the dashboard in a real browser and sees the trend after a few answers."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from typing import Any

import pytest

import devstack
from chalicelib.core.clock import wall_clock
from chalicelib.platform.aws import clients
from chalicelib.reports import stats
from chalicelib.storage import db, keys
from chalicelib.storage.items import as_response
from chalicelib.stores import registry
from chalicelib.support import cases, escalation
from tests.conftest import auth
from tests.support.browser import screenshot
from tests.support.insight import order_item
from tests.support.surveys import answered

README_SCREENSHOT = devstack.ROOT / "docs" / "screenshots" / "dashboard-en.png"
README_PHONE_SCREENSHOT = devstack.ROOT / "docs" / "screenshots" / "dashboard-en-phone.png"


def test_support_signs_in_and_sees_the_score_trend_and_the_numbers(
    client: Any, store: dict[str, Any], page: Any
) -> None:
    # GIVEN five surveys sent over the last weeks and four answers on orders of teapots, lids
    # and cups, one of them angry, whose case support took up two hours and a half later
    now = wall_clock()
    for _ in range(5):
        db.table().transact([stats.sent_op(store["store_id"], "survey", now)])
    for order_id, skus in (
        ("1001", ["TEA-1"]),
        ("1002", ["LID-3", "TEA-1"]),
        ("1003", ["CUP-2"]),
        ("1004", ["TEA-1", "CUP-2"]),
    ):
        db.table().put(order_item(store["store_id"], order_id, skus, TEA_SET))
    answered(store, "1001", "maya@example.org", 10, "The teapot pours beautifully.", now - timedelta(days=20))
    answered(store, "1002", "eva@example.org", 6, "Fine, but the lid rattles.", now - timedelta(days=13))
    answered(store, "1003", "lena@example.org", 9, "Arrived early, very well packed.", now - timedelta(days=6))
    answered(store, "1004", "nikos@example.gr", 10, "Second one I bought. Perfect.", now)
    take_up_the_case(store, "1002", now - timedelta(days=13), timedelta(hours=2, minutes=30))

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
    assert page.locator("#tile-score dd[dir=ltr]").inner_text() == "50"
    assert page.locator("#tile-responses dd").inner_text() == "4"
    assert page.locator("#tile-rate dd").inner_text() == "80%"
    # AND four answers are marked as few, with the score's 95% interval; the first response took 2 h 30
    assert page.locator("#tile-score .badge.few").inner_text() == "Few answers"
    assert page.locator("#score-interval").inner_text() == "95% confidence interval: \u2066-35\u2069 to \u2066100\u2069"
    assert page.locator("#tile-first-response dd.time").inner_text() == "2 hours 30 minutes"
    # AND the products come worst first: the lid (one answer of 6), then the teapot, then the cup
    assert page.locator("#products tbody tr").evaluate_all("rows => rows.map(r => r.dataset.sku)") == [
        "LID-3",
        "TEA-1",
        "CUP-2",
    ]
    assert page.locator("#products tr[data-sku=LID-3] td").first.inner_text() == "Teapot lid LID-3"
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


TEA_SET = {"TEA-1": "Ceramic teapot", "LID-3": "Teapot lid", "CUP-2": "Tea cup"}


def take_up_the_case(store: dict[str, Any], order_id: str, answered_at: datetime, after: timedelta) -> None:
    """The answer's case opened when it was given, acknowledged ``after`` that."""
    item = registry.get_store(db.table(), store["store_id"], fresh=True)
    response = db.table().get(keys.response(store["store_id"], order_id, "post_delivery"))
    assert response is not None
    opened = escalation.on_response(db.table(), clients(), item, as_response(response), answered_at)
    assert opened is not None
    change = cases.Change("acknowledge", "Dana")
    escalation.change_case(db.table(), item, str(opened["case_id"]), change, answered_at + after)


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
    for order_id, skus in (("2001", ["TEA-1"]), ("2002", ["LID-3"]), ("2003", ["TEA-1", "CUP-2"])):
        db.table().put(order_item(store["store_id"], order_id, skus, TEA_SET))
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
    # AND the products with the lowest scores fit too, the lid first
    assert page.locator("#products tbody tr").first.get_attribute("data-sku") == "LID-3"
    # AND the latest week is in view when the page opens
    last = page.locator("#trend circle.point").last.bounding_box()
    shown = frame.bounding_box()
    assert last is not None and shown is not None and shown["x"] <= last["x"] <= shown["x"] + shown["width"]
    shot = screenshot(page, f"dashboard-{language}-phone")
    if language == "en":
        README_PHONE_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, README_PHONE_SCREENSHOT)
