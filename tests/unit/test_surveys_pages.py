"""Pure parts of the pages: language negotiation, the script's CSP hash, unsubscribe scope."""

from __future__ import annotations

import base64
import hashlib

from chalicelib.messaging import unsubscribe
from chalicelib.surveys import pages


def test_the_readers_first_supported_language_wins() -> None:
    assert pages.preferred_language("ar-EG,ar;q=0.9,en;q=0.8") == "ar"
    assert pages.preferred_language("de-DE,de;q=0.9,he;q=0.5,el;q=0.7") == "el"
    assert pages.preferred_language("fr, fa;q=0") == "en"
    assert pages.preferred_language(None) == "en"
    assert pages.preferred_language("garbage;q=x,,;") == "en"


def test_the_csp_allows_exactly_the_pages_script() -> None:
    digest = base64.b64encode(hashlib.sha256(pages.SCRIPT.encode()).digest()).decode()
    csp = pages.page_headers(with_script=True)["Content-Security-Policy"]
    assert csp.endswith(f"script-src 'sha256-{digest}'")
    assert "script-src" not in pages.page_headers()["Content-Security-Policy"]


def test_one_click_means_everything_and_the_form_may_choose_surveys_only() -> None:
    assert unsubscribe.scope_of({"List-Unsubscribe": "One-Click"}) == "all"
    assert unsubscribe.scope_of({"choice": "surveys"}) == "surveys"
    assert unsubscribe.scope_of({"choice": "everything"}) == "all"
    assert unsubscribe.scope_of({}) == "all"
    assert unsubscribe.scope_of({"choice": "something-else"}) == "all"
