"""Text of the other direction keeps its own in right-to-left messages: an English product
tip in the Arabic check-in ends with its full stop on the right, and the store's Latin name
in an Arabic question reads as one piece."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.messaging import compose
from chalicelib.stores import overrides
from tests.support.browser import PHONE, screenshot, survey_page_url

STORE = {
    "store_id": "st1",
    "name": "Cedar & Sage",
    "support_email": "care@cedarsage.example",
    "sender_email": "hello@cedarsage.example",
}
TIP = "Warm the pot with hot water first."

# x of the first and last character of `text` inside the element holding it
ENDS = """text => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const box = i => { const r = document.createRange(); r.setStart(node, at + i); r.setEnd(node, at + i + 1); return r.getBoundingClientRect(); };
    const first = box(0), last = box(text.length - 1);
    return {first: first.left, last: last.left};
  }
  return null;
}"""


@pytest.mark.parametrize("language", ["ar", "fa", "he"])
def test_an_english_tip_in_a_right_to_left_check_in_keeps_its_full_stop_at_the_end(page: Any, language: str) -> None:
    # GIVEN the delivery check-in with an English tip, in a right-to-left language
    context = overrides.sample_context("delivery_checkin")
    context["tips"] = [{"title": "Ceramic teapot", "text": TIP, "links": []}]
    email = compose.compose_email("delivery_checkin", language, context, STORE, unsubscribe=None)
    # WHEN it is read in the browser
    page.set_viewport_size(PHONE)
    page.set_content(email.html)
    # THEN the tip reads left to right: "W" at the left, the full stop at its right end
    ends = page.evaluate(ENDS, TIP)
    assert ends is not None and ends["first"] < ends["last"], ends
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    screenshot(page, f"checkin-tip-{language}")


def test_the_store_name_in_an_arabic_question_reads_as_one_piece(store: dict[str, Any], page: Any) -> None:
    page.goto(survey_page_url(store, "ar", "bidi-1"))
    ends = page.evaluate(ENDS, "Cedar & Sage")
    assert ends is not None and ends["first"] < ends["last"], ends
    assert page.locator("#question span[dir=auto]").inner_text() == "Cedar & Sage"
