"""One digit system per language in pages, emails and SMS; text of the other direction set
apart; right-to-left SMS that start right to left and stay within their segments."""

from __future__ import annotations

import re

import pytest

from chalicelib.core.models import LANGUAGES, RTL_LANGUAGES
from chalicelib.messaging import compose, sms_inbound, transports
from chalicelib.rendering import templating
from chalicelib.stores import overrides

STORE = {
    "store_id": "st1",
    "name": "Cedar & Sage",
    "support_email": "care@cedarsage.example",
    "sender_email": "hello@cedarsage.example",
}
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
FSI, PDI, RLM = "\u2068", "\u2069", "\u200f"


pytestmark = pytest.mark.usefixtures("public_base_url")


def digits_in(text: str) -> set[str]:
    """Which digit systems a text uses (ignoring digits inside links)."""
    text = re.sub(r"https?://\S+", "", text)
    found = set()
    if re.search(r"[0-9]", text):
        found.add("latin")
    if any(ch in ARABIC_INDIC for ch in text):
        found.add("arabic-indic")
    if any(ch in PERSIAN for ch in text):
        found.add("persian")
    return found


EXPECTED = {"en": "latin", "el": "latin", "he": "latin", "ar": "latin", "fa": "persian"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_writes_numbers_in_one_digit_system(language: str) -> None:
    assert templating.numerals(2000, language) == ("۲۰۰۰" if language == "fa" else "2000")
    assert digits_in(templating.format_number(2000, language)) == {EXPECTED[language]}
    assert digits_in(templating.format_share(0.8, language)) == {EXPECTED[language]}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["survey", "survey_reminder", "warranty"])
def test_emails_and_sms_use_the_language_digits_only(kind: str, language: str) -> None:
    context = overrides.sample_context(kind)
    context["order_name"] = None  # an order name is the store's own text, shown as given
    email = compose.compose_email(kind, language, context, STORE, unsubscribe=None)
    sms = compose.compose_sms(kind, language, context, STORE)
    visible = re.sub(r"<[^>]+>", " ", email.html)
    for text in (visible, email.text, sms):
        assert digits_in(text) <= {EXPECTED[language]}, text


def test_the_persian_sms_scale_is_in_persian_digits_and_every_script_answers() -> None:
    body = compose.compose_sms("survey", "fa", overrides.sample_context("survey"), STORE)
    assert "۰" in body and "۱۰" in body and not re.search(r"[0-9]", body.split("\n")[0])
    for reply in ("9", "٩", "۹", "۱۰", "10", "١٠"):
        read = sms_inbound.read_reply(reply)
        assert read.intent == sms_inbound.Intent.SCORE and read.score in (9, 10), reply


@pytest.mark.parametrize("language", sorted(RTL_LANGUAGES))
@pytest.mark.parametrize("kind", overrides.KINDS)
def test_rtl_sms_start_right_to_left_and_isolate_the_store_name(kind: str, language: str) -> None:
    body = compose.compose_sms(kind, language, overrides.sample_context(kind), STORE)
    assert body.startswith(RLM + FSI + "Cedar & Sage" + PDI)
    assert body.count(FSI) == body.count(PDI)
    assert transports.segments(body) <= transports.MAX_SEGMENTS


@pytest.mark.parametrize("language", ["en", "el"])
def test_ltr_sms_carry_no_marks_unless_they_embed_right_to_left_text(language: str) -> None:
    body = compose.compose_sms("survey", language, overrides.sample_context("survey"), STORE)
    assert not set(body) & {FSI, PDI, RLM}
    assert language != "en" or transports.is_gsm(body)  # English stays GSM-7
    hebrew_store = {**STORE, "name": "חנות הזית"}
    body = compose.compose_sms("thank_you", language, overrides.sample_context("thank_you"), hebrew_store)
    assert body.startswith(FSI + "חנות הזית" + PDI + ":")


def test_a_shortened_sms_closes_every_isolate_it_cut() -> None:
    store = {**STORE, "name": "A Very Long Family Name For A Tea And Ceramics Shop"}
    context = overrides.sample_context("usage_tips")
    context["tips"] = [{"title": "Teapot", "text": "Warm the pot with hot water first. " * 10, "links": []}]
    body = compose.compose_sms("usage_tips", "ar", context, store)
    assert transports.segments(body) <= transports.MAX_SEGMENTS
    assert body.count(FSI) == body.count(PDI)
    assert transports.close_isolates(FSI + "Cedar") == FSI + "Cedar" + PDI
    assert transports.close_isolates(FSI + "a" + PDI) == FSI + "a" + PDI


@pytest.mark.parametrize("language", sorted(RTL_LANGUAGES))
def test_product_tips_in_rtl_emails_keep_their_own_direction(language: str) -> None:
    context = overrides.sample_context("delivery_checkin")
    context["tips"] = [{"title": "Ceramic teapot", "text": "Warm the pot with hot water first.", "links": []}]
    email = compose.compose_email("delivery_checkin", language, context, STORE, unsubscribe=None)
    assert '<span dir="auto">Warm the pot with hot water first.</span>' in email.html
    assert '<span dir="auto">Cedar &amp; Sage</span>' in email.html
    assert FSI + "Warm the pot with hot water first." + PDI in email.text


def test_isolation_escapes_html() -> None:
    assert str(templating.isolate("<b>Tea</b>", "ar", html=True)) == '<span dir="auto">&lt;b&gt;Tea&lt;/b&gt;</span>'
    assert templating.isolate("Tea", "en", html=False) == "Tea"
    assert templating.isolate("Tea", "he", html=False) == FSI + "Tea" + PDI
