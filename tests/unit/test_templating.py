"""Rendered messages in five languages: direction, language, unsubscribe headers, no English
left in the translated ones, SMS within two segments; store overrides checked when saved."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.core.models import LANGUAGES, RTL_LANGUAGES
from chalicelib.messaging import compose, transports
from chalicelib.rendering import templating
from chalicelib.stores import overrides

STORE = {
    "store_id": "st1",
    "name": "Cedar & Sage",
    "support_email": "care@cedarsage.example",
    "sender_email": "hello@cedarsage.example",
}
UNSUBSCRIBE = "https://aftercare.example/u/abc.def"


pytestmark = pytest.mark.usefixtures("public_base_url")


def english_phrases() -> list[str]:
    """Every English message text, split at its placeholders into fragments worth looking for."""
    from babel.messages.pofile import read_po

    with (templating.LOCALE / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    fragments = []
    for message in catalog:
        if message.id:
            fragments += [f.strip(" ,.:!?") for f in re.split(r"%\(\w+\)s", str(message.id))]
    return [f for f in fragments if len(f) >= 8]


def sample(kind: str, **extra: Any) -> dict[str, Any]:
    context = overrides.sample_context(kind)
    context.update(extra)
    return context


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", overrides.KINDS)
def test_every_email_has_its_language_direction_and_alignment(kind: str, language: str) -> None:
    email = compose.compose_email(kind, language, sample(kind), STORE, unsubscribe=UNSUBSCRIBE)
    direction = "rtl" if language in RTL_LANGUAGES else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in email.html
    assert f'<body dir="{direction}"' in email.html
    if language in RTL_LANGUAGES:
        paragraphs = re.findall(r"<p [^>]*>", email.html)
        assert paragraphs and all("text-align:right" in p for p in paragraphs)
    assert "<svg" not in email.html and "<script" not in email.html
    assert not re.search(r'src="https?://', email.html)  # no external assets
    assert email.subject and email.text


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
@pytest.mark.parametrize("kind", overrides.KINDS)
def test_no_english_is_left_in_translated_messages(kind: str, language: str) -> None:
    email = compose.compose_email(kind, language, sample(kind), STORE, unsubscribe=UNSUBSCRIBE)
    sms = compose.compose_sms(kind, language, sample(kind), STORE)
    rendered = " ".join([email.subject, email.text, email.html, sms])
    left = [phrase for phrase in english_phrases() if phrase in rendered]
    assert left == []


def test_every_catalogue_translates_every_message() -> None:
    from babel.messages.pofile import read_po

    for language in LANGUAGES:
        if language == "en":
            continue
        with (templating.LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        assert [m.id for m in catalog if m.id and not m.string] == [], language


@pytest.mark.parametrize("language", LANGUAGES)
def test_non_transactional_emails_carry_one_click_unsubscribe(language: str) -> None:
    email = compose.compose_email("survey", language, sample("survey"), STORE, unsubscribe=UNSUBSCRIBE)
    assert email.headers == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert UNSUBSCRIBE in email.html and UNSUBSCRIBE in email.text


def test_the_survey_email_shows_the_scale_as_buttons() -> None:
    email = compose.compose_email("survey", "en", sample("survey"), STORE, unsubscribe=UNSUBSCRIBE)
    for score in range(11):
        assert f'href="https://example.invalid/s/token?score={score}"' in email.html
    assert "Not at all likely" in email.html and "Extremely likely" in email.html


def test_store_names_are_escaped_in_html_but_not_in_text() -> None:
    store = {**STORE, "name": "<b>Tea</b> & Co"}
    email = compose.compose_email("winback", "en", sample("winback"), store, unsubscribe=UNSUBSCRIBE)
    assert "<b>Tea</b>" not in email.html and "&lt;b&gt;Tea&lt;/b&gt; &amp; Co" in email.html
    assert "<b>Tea</b> & Co" in email.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", overrides.KINDS)
def test_sms_stay_within_two_segments_even_with_long_names(kind: str, language: str) -> None:
    store = {**STORE, "name": "The Very Long Name Of A Family Tea And Ceramics Shop"}
    context = sample(
        kind, product="An Extraordinarily Long Handmade Ceramic Teapot With Bamboo Handle", order_name="#100000000001"
    )
    context["survey"] = {**context["survey"], "url": "https://feedback.cedarsage.example/s/" + "A" * 22}
    body = compose.compose_sms(kind, language, context, store)
    assert transports.segments(body) <= 2, body
    if kind in ("survey", "survey_reminder"):
        assert body.endswith(context["survey"]["url"])  # the link survives any shortening


def test_segments_count_gsm_and_ucs2() -> None:
    assert transports.segments("a" * 160) == 1 and transports.segments("a" * 161) == 2
    assert transports.segments("a" * 306) == 2 and transports.segments("a" * 307) == 3
    assert transports.segments("{" * 80) == 1 and transports.segments("{" * 81) == 2  # escaped chars count twice
    assert (
        transports.segments("ش" * 70) == 1
        and transports.segments("ش" * 134) == 2
        and transports.segments("ش" * 135) == 3
    )
    assert transports.segments("Ωραία") == 1  # Greek capitals in the GSM set
    assert transports.segments("ω" * 134) == 2 and transports.segments("ω" * 135) == 3


def test_valid_overrides_pass_and_broken_ones_name_the_line() -> None:
    ok = templating.validate_override(
        "email/winback.txt", "en", "Hi {{ first_name }}!\n{{ _('Hello,') }}", overrides.sample_context("winback")
    )
    assert ok is None
    syntax = templating.validate_override(
        "email/winback.txt", "en", "line one\n{% if %}", overrides.sample_context("winback")
    )
    assert syntax is not None and syntax.line == 2
    unknown = templating.validate_override(
        "email/winback.txt", "en", "a\nb\n{{ nothing.here }}", overrides.sample_context("winback")
    )
    assert unknown is not None and unknown.line == 3 and "nothing" in unknown.error


def test_overrides_cannot_reach_python_internals() -> None:
    problem = templating.validate_override(
        "email/winback.txt", "en", "{{ first_name.__class__.__mro__ }}", overrides.sample_context("winback")
    )
    assert problem is not None


def test_an_override_replaces_the_built_in_text() -> None:
    custom = {"sms/winback.txt": "{{ store.name }} misses you, {{ first_name }}!"}
    body = compose.compose_sms("winback", "en", sample("winback"), STORE, custom)
    assert body == "Cedar & Sage misses you, Dana!"


@pytest.mark.parametrize(
    ("wanted", "languages", "chosen"),
    [
        ("ar", None, "ar"),
        ("ar-EG", ["en", "el"], "en"),
        ("el-GR", ["en", "el"], "el"),
        ("xx", None, "en"),
        (None, ["en"], "en"),
        ("he", "he", "he"),
    ],
)
def test_customers_are_written_to_in_their_language_when_the_store_speaks_it(
    wanted: str | None, languages: Any, chosen: str
) -> None:
    assert templating.language_for(wanted, {"language": "en", "languages": languages}) == chosen
