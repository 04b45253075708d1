"""A customer opens the unsubscribe link in Chromium, sees what they receive, leaves and comes back."""

from __future__ import annotations

from typing import Any

from chalicelib.messaging import links, suppression
from chalicelib.storage import db, keys
from tests.support.browser import screenshot

EMAIL = "ana@example.com"


def test_the_unsubscribe_page_shows_the_status_and_takes_the_person_back(store: dict[str, Any], page: Any) -> None:
    # GIVEN a Hebrew-speaking customer with an email and a phone
    db.table().put(
        {
            **keys.customer(store["store_id"], EMAIL),
            "type": "customer",
            "email": EMAIL,
            "phone": "+306912345678",
            "language": "he",
        }
    )
    link = f"/u/{links.unsubscribe_token(store['store_id'], EMAIL, EMAIL)}"
    # WHEN they open the link
    page.goto(link)
    # THEN the page is right to left and says they receive everything on both channels, and where to write
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("#status-email", "data-receives") == "everything"
    assert page.get_attribute("#status-sms", "data-receives") == "everything"
    assert "care@cedarsage.example" in page.inner_text("#contact")
    assert "+30" in page.inner_text("#status-sms") and "5678" in page.inner_text("#status-sms")
    assert page.locator("#resubscribe").count() == 0
    # WHEN they stop surveys only
    page.check("#choice-surveys")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_selector("#status-email")
    # THEN the page confirms it and shows order messages only by email
    assert page.get_attribute("#status-email", "data-receives") == "orders"
    item = suppression.lookup(db.table(), store["store_id"], EMAIL, "email")
    assert item is not None and item["scope"] == "surveys"
    # WHEN they open the link again another day
    page.goto(link)
    assert page.get_attribute("#status-email", "data-receives") == "orders"
    assert page.is_disabled("#choice-surveys")
    screenshot(page, "unsubscribe-he")
    # AND change their mind
    page.click("#resubscribe")
    page.wait_for_selector("#resubscribed")
    # THEN they receive everything again, stored and shown
    assert page.get_attribute("#status-email", "data-receives") == "everything"
    assert suppression.lookup(db.table(), store["store_id"], EMAIL, "email") is None
    assert page.locator("#resubscribe").count() == 0
    screenshot(page, "resubscribed-he")
