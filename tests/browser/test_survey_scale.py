"""The survey scale as a customer sees it, on a phone, a tablet and a laptop, in all five
languages: one row from tablet width up, two balanced rows on a phone; in right-to-left
languages 0 sits at the right, in the email as on the page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.core.models import LANGUAGES, RTL_LANGUAGES
from tests.conftest import auth
from tests.support.browser import (
    DESKTOP,
    PHONE,
    TABLET,
    boxes,
    rows,
    score_link,
    screenshot,
    send_survey_email,
    survey_page_url,
)

# the horizontal centre of the text itself (not of its cell) in each element
TEXT_CENTRES = """sel => [...document.querySelectorAll(sel)].map(e => {
  const r = document.createRange(); r.selectNodeContents(e); const b = r.getBoundingClientRect(); return b.left + b.width / 2; })"""
SIZES = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_scale_sits_on_one_row_from_tablet_up_and_in_two_balanced_rows_on_a_phone(
    store: dict[str, Any], page: Any, language: str
) -> None:
    # GIVEN a survey in the customer's language
    url = survey_page_url(store, language, f"scale-{language}")
    for name, size in SIZES.items():
        # WHEN the customer opens it on this screen
        page.set_viewport_size(size)
        page.goto(url)
        buttons = boxes(page, ".scale label")
        assert len(buttons) == 11
        # THEN 0-10 sit on one row from tablet width up, 0-5 and 6-10 on a phone; never one alone
        expected = [6, 5] if name == "phone" else [11]
        assert rows(buttons) == expected, (language, name, buttons)
        # AND every button stays a comfortable touch target
        assert min(b["w"] for b in buttons) >= (44 if name == "phone" else 36), (language, name)
        assert max(b["x"] + b["w"] for b in buttons) <= size["width"]
        screenshot(page, f"scale-{language}-{name}")
    # AND the scale runs in the reading direction: 0 at the right in right-to-left languages
    page.set_viewport_size(DESKTOP)
    page.goto(url)
    zero, ten = boxes(page, "label[for=score-0]")[0], boxes(page, "label[for=score-10]")[0]
    assert (zero["x"] > ten["x"]) is (language in RTL_LANGUAGES)


@pytest.mark.parametrize("language", ["ar", "fa", "he", "en"])
def test_the_email_scale_runs_the_same_way_as_the_page(
    app: Any, store: dict[str, Any], page: Any, live_server: str, language: str
) -> None:
    # GIVEN the survey email as it was sent
    html = send_survey_email(app, store, f"dana-{language}@example.com", language, f"30{LANGUAGES.index(language)}")
    rtl = language in RTL_LANGUAGES
    for name, size in SIZES.items():
        # WHEN the customer reads it (the real HTML, in the browser)
        page.set_viewport_size(size)
        page.set_content(html)
        buttons = boxes(page, "table.scale a")
        assert len(buttons) == 11
        # THEN the scale sits on one row at every width, and 0 is at the right in RTL languages
        assert rows(buttons) == [11], (language, name, buttons)
        xs = [b["x"] for b in buttons]
        assert xs == sorted(xs, reverse=rtl), (language, name, xs)
        assert min(b["x"] for b in buttons) >= 0 and max(b["x"] + b["w"] for b in buttons) <= size["width"]
        email_zero_right = buttons[0]["x"] > buttons[10]["x"]
        # AND "not at all likely" stands at the 0 end
        low, high = page.evaluate(TEXT_CENTRES, "table.scale + table td")
        assert (low > high) is rtl, (language, name, low, high)
        screenshot(page, f"email-scale-{language}-{name}")
    # AND the page behind the link runs the same way as the email
    page.set_viewport_size(DESKTOP)
    page.goto(score_link(html, 1))
    zero, ten = boxes(page, "label[for=score-0]")[0], boxes(page, "label[for=score-10]")[0]
    assert (zero["x"] > ten["x"]) is email_zero_right is rtl


@pytest.mark.parametrize(("survey_type", "phone_rows"), [("ces", [4, 3]), ("csat", [5])])
def test_shorter_scales_fold_evenly_or_not_at_all(
    client: Any, store: dict[str, Any], page: Any, survey_type: str, phone_rows: list[int]
) -> None:
    # GIVEN a store that asks CES (1-7) or CSAT (1-5)
    body = json.dumps({"survey_type": survey_type})
    assert (
        client.http.patch(f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=body).status_code == 200
    )
    url = survey_page_url(store, "he", f"short-{survey_type}")
    count = sum(phone_rows)
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        page.goto(url)
        buttons = boxes(page, ".scale label")
        # THEN a phone folds 1-7 into 4 and 3 and keeps 1-5 on one row; wider screens keep one row
        assert rows(buttons) == (phone_rows if name == "phone" else [count]), (survey_type, name)
        assert min(b["w"] for b in buttons) >= 44
