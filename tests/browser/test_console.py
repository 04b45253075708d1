"""The store owner walks the console in a real browser: signs in with the API key, copies
the Shopify address, sees a signed webhook accepted and a forged one refused with the reason,
meets a validation error and then saves a setting, previews an Arabic SMS, sends a test email
and finds it in the dev outbox, and sees a skipped follow-up with its reason.  The README's
pictures of the console are taken on the way (desktop and phone, English and Arabic)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

import devstack
from chalicelib.core.clock import wall_clock
from chalicelib.platform import resources
from devstack import outbox
from tests.support.browser import DESKTOP, PHONE, screenshot
from tests.support.cases import set_store
from tests.support.console import late_order, signed_webhook

DOCS = devstack.ROOT / "docs" / "screenshots"
PAGES = {
    "setup": "",
    "settings": "/settings",
    "messages": "/messages?kind=survey",
    "products": "/products?sku=TEA-1",
    "schedule": "/schedule?order_id=H-1",
}


def keep(page: Any, name: str) -> None:
    """A README picture: what a visitor sees first (the viewport, not the whole long page)."""
    shot = screenshot(page, name)
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=False)
    assert shot.exists()


def pictures(page: Any, console: str, language: str) -> None:
    for name, suffix in PAGES.items():
        for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
            page.set_viewport_size(size)
            page.goto(console + suffix)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (name, label)
            keep(page, f"console-{name}-{language}-{label}")


def test_the_owner_walks_the_console(client: Any, store: dict[str, Any], page: Any, live_server: str) -> None:
    console = f"/stores/{store['store_id']}/console"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.set_viewport_size(DESKTOP)

    # WHEN the owner opens the console and signs in with the API key
    page.goto(console)
    page.get_by_label("API key").fill(store["api_key"])
    page.get_by_role("button", name="Sign in").click()
    # THEN the setup page lists the three webhook addresses
    page.get_by_role("heading", name="Webhook addresses").wait_for()
    shopify_url = f"{live_server}/webhooks/shopify/{store['store_id']}"
    assert page.locator("#url-shopify").input_value() == shopify_url

    # WHEN the owner copies the Shopify address THEN it is on the clipboard and the button says so
    copy = page.locator("button[data-copy='url-shopify']")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == shopify_url

    # WHEN Shopify sends a signed order THEN the setup page shows it accepted
    assert signed_webhook(live_server, store, store["webhook_secret"], "walk-1").json()["status"] == "accepted"
    page.reload()
    row = page.locator("#last-shopify")
    assert row.get_attribute("data-outcome") == "accepted" and "Accepted" in row.inner_text()
    # WHEN a delivery signed with a wrong secret comes THEN it shows refused, with the reason
    assert signed_webhook(live_server, store, "a-wrong-secret", "walk-2").status_code == 401
    page.reload()
    row = page.locator("#last-shopify")
    assert row.get_attribute("data-outcome") == "refused"
    assert "The signature does not match: check the secret" in row.inner_text()

    # WHEN the owner types a support email that is not one and saves the group
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Support email").fill("care at cedarsage")
    page.get_by_role("button", name="Save Identity and contacts").click()
    # THEN the error is named next to the field and nothing is saved
    page.locator("#err-support_email").wait_for()
    assert "support_email" in page.locator("#err-support_email").inner_text()
    assert page.get_by_label("Support email").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("alert").first.inner_text().startswith("Nothing was saved")
    # WHEN the owner corrects it THEN it is saved
    page.get_by_label("Support email").fill("help@cedarsage.example")
    page.get_by_role("button", name="Save Identity and contacts").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_role("status").inner_text() == "Saved."
    assert page.get_by_label("Support email").input_value() == "help@cedarsage.example"

    # WHEN the owner previews the survey SMS in Arabic
    page.get_by_role("link", name="Messages").click()
    page.get_by_label("Message", exact=True).select_option("survey")
    page.get_by_label("Language", exact=True).select_option("ar")
    page.get_by_role("button", name="Preview").click()
    # THEN it reads right to left, in UCS-2, with its segment count
    body = page.locator("#sms-body")
    body.wait_for()
    assert body.get_attribute("dir") == "rtl"
    facts = page.locator("#sms-facts").inner_text()
    assert "UCS-2" in facts and "segments" in facts and "right to left" in facts
    assert page.locator("iframe.mail").get_attribute("sandbox") == ""

    # WHEN the owner sends the Arabic survey email as a test
    page.get_by_role("button", name="Email it to help@cedarsage.example").click()
    page.get_by_role("status").wait_for()
    assert "help@cedarsage.example" in page.get_by_role("status").inner_text()
    # THEN it is in the dev outbox, sent to the support email
    box = outbox.serve("127.0.0.1", 0, (resources.ESCALATION_TOPIC,))
    try:
        page.goto(f"http://127.0.0.1:{box.server_address[1]}/")
        assert "help@cedarsage.example" in page.inner_text("body")
        assert page.locator("iframe[sandbox]").count() >= 1
    finally:
        box.shutdown()
        box.server_close()

    # GIVEN an order imported 200 days after it was placed
    placed = (wall_clock() - timedelta(days=200)).isoformat()
    assert late_order(live_server, store, "H-1", placed).json()["status"] == "accepted"
    # WHEN the owner looks up its follow-ups
    page.goto(console)
    page.get_by_role("link", name="Schedule").click()
    page.get_by_label("Order", exact=True).fill("H-1")
    page.get_by_role("button", name="Show follow-ups").click()
    # THEN a skipped one is listed with its reason, in words and as its code
    skipped = page.locator("#jobs tr[data-status='skipped']").first
    skipped.wait_for()
    assert "Its moment had passed when the event arrived" in skipped.inner_text()
    assert "late_event" in skipped.inner_text()

    # AND every page is pictured for the README, in English and in Arabic (right to left)
    pictures(page, console, "en")
    set_store(client, store, language="ar")
    page.goto(console)
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    pictures(page, console, "ar")


def test_the_console_is_keyboard_usable(store: dict[str, Any], page: Any) -> None:
    # GIVEN the sign-in page WHEN the owner only types and presses keys
    page.goto(f"/stores/{store['store_id']}/console")
    page.keyboard.press("Tab")
    page.keyboard.type(store["api_key"])
    page.keyboard.press("Enter")
    # THEN the console opens, and Tab reaches the sections' links, each showing its focus
    page.get_by_role("heading", name="Webhook addresses").wait_for()
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert {"Setup", "Settings", "Messages", "Products", "Schedule"} <= set(reached)
