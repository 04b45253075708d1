"""Support signs in to the inbox in a real browser, sees the case, acknowledges and resolves it."""

from __future__ import annotations

from typing import Any

from tests.support.browser import screenshot
from tests.support.cases import answer_survey, open_cases, set_store


def test_support_signs_in_acknowledges_and_resolves_a_case(client: Any, store: dict[str, Any], page: Any) -> None:
    # GIVEN a detractor's answer has opened a case
    answer_survey(client, store, score=2, comment="The strap snapped on day two", customer="lena@example.org")
    case_id = open_cases(client, store)[0]["case_id"]

    # WHEN support opens the inbox and signs in with the support key
    page.goto(f"/stores/{store['store_id']}/inbox")
    page.get_by_label("Your name").fill("Dana")
    page.get_by_label("Support key").fill(store["support_key"])
    page.get_by_role("button", name="Sign in").click()

    # THEN the case is listed with the comment, the score and a mail link to the customer
    card = page.locator(f"#case-{case_id}")
    card.wait_for()
    assert "The strap snapped on day two" in card.inner_text()
    assert "Score 2" in card.inner_text()
    assert card.get_by_role("link", name="lena@example.org").get_attribute("href") == "mailto:lena@example.org"
    screenshot(page, "inbox-open-case")

    # WHEN support acknowledges it
    card.get_by_role("button", name="Acknowledge").click()

    # THEN the page confirms it and shows the case in progress, acknowledged by Dana
    page.get_by_role("status").wait_for()
    assert "Acknowledged" in page.get_by_role("status").inner_text()
    card = page.locator(f"#case-{case_id}")
    assert card.get_attribute("data-status") == "acknowledged"
    assert "acknowledged by Dana" in card.inner_text()

    # WHEN support resolves it with an outcome and a note
    card.get_by_text("Resolve", exact=True).click()
    card.get_by_label("Outcome").select_option("replaced")
    card.get_by_label("Note").fill("Sent a new strap by courier")
    card.get_by_role("button", name="Mark resolved").click()

    # THEN the inbox is clear and the case is resolved with who, how and why
    page.get_by_role("status").wait_for()
    assert "Resolved" in page.get_by_role("status").inner_text()
    assert page.locator(f"#case-{case_id}").count() == 0
    resolved = open_cases(client, store, "resolved")
    assert [(c["case_id"], c["outcome"], c["note"], c["resolved_by"]) for c in resolved] == [
        (case_id, "replaced", "Sent a new strap by courier", "Dana")
    ]
    screenshot(page, "inbox-resolved")

    # WHEN support asks the inbox for resolved cases
    page.get_by_label("Show").select_option("resolved")
    page.get_by_role("button", name="Find").click()
    # THEN the case is back in view, resolved, and the filter says what is shown
    card = page.locator(f"#case-{case_id}")
    card.wait_for()
    assert card.get_attribute("data-status") == "resolved"
    assert page.get_by_label("Show").input_value() == "resolved"
    assert "The strap snapped on day two" in card.inner_text()


def test_inbox_reads_right_to_left_for_a_hebrew_store(client: Any, store: dict[str, Any], page: Any) -> None:
    # GIVEN a Hebrew-speaking store with a case
    set_store(client, store, language="he")
    answer_survey(client, store, score=3, comment="המוצר הגיע שבור", language="he")

    # WHEN support signs in
    page.goto(f"/stores/{store['store_id']}/inbox")
    page.get_by_label("מפתח תמיכה").fill(store["support_key"])
    page.get_by_role("button", name="כניסה").click()

    # THEN the inbox is laid out right to left with the Hebrew comment
    page.get_by_role("heading", name="תיבת התמיכה").wait_for()
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "המוצר הגיע שבור" in page.locator("article").first.inner_text()
    screenshot(page, "inbox-hebrew")
