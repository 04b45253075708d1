"""Hebrew reads as one voice: prefixes attach to their word (never "מ-חנות", never a prefix
before a placeholder that may hold any name), and customers are addressed in the plural
(שלכם) everywhere, never in the singular (שלך) or with a slash (מחובר/ת)."""

from __future__ import annotations

import re

import pytest

from chalicelib.messaging import compose
from chalicelib.rendering import templating
from chalicelib.stores import overrides

HEBREW = templating.LOCALE / "he" / "LC_MESSAGES"
# one prefix letter (ב ה ו כ ל מ ש) standing alone before a hyphen or maqaf
PREFIX_HYPHEN = re.compile(r"(?<![\u05d0-\u05ea])[בהוכלמש][-\u05be]")
PREFIX_ON_PLACEHOLDER = re.compile(r"(?<![\u05d0-\u05ea])[בהוכלמש][-\u05be]?%\(")
SINGULAR = re.compile(
    r"(?<![\u05d0-\u05ea])(שלך|אותך|איתך|אליך|לך|בשבילך|ממך|עליך|חוות דעתך|[\u05d0-\u05ea]+ת/ת)(?![\u05d0-\u05ea])"
)


def hebrew_messages() -> list[tuple[str, str]]:
    from babel.messages.pofile import read_po

    found = []
    for path in sorted(HEBREW.glob("*.po")):
        with path.open("rb") as handle:
            found += [(str(m.id), str(m.string)) for m in read_po(handle) if m.id and m.string]
    return found


def test_prefixes_attach_to_their_word_and_never_to_a_placeholder() -> None:
    bad = [(i, s) for i, s in hebrew_messages() if PREFIX_HYPHEN.search(s) or PREFIX_ON_PLACEHOLDER.search(s)]
    assert bad == []


def test_customers_are_addressed_in_the_plural_everywhere() -> None:
    bad = [(i, s) for i, s in hebrew_messages() if SINGULAR.search(s) or "/" in s.replace("%(", "")]
    assert bad == []


@pytest.mark.parametrize("kind", ["survey", "thank_you", "winback", "anniversary"])
def test_a_hebrew_store_name_reads_without_a_hyphen(kind: str) -> None:
    store = {
        "store_id": "st1",
        "name": "חנות הזית",
        "support_email": "care@olive.example",
        "sender_email": "hi@olive.example",
    }
    email = compose.compose_email(kind, "he", overrides.sample_context(kind), store, unsubscribe=None)
    text = (
        " ".join([email.subject, email.text, re.sub(r"<[^>]+>", "", email.html)])
        .replace("\u2068", "")
        .replace("\u2069", "")
    )
    assert "-חנות" not in text and "\u05beחנות" not in text
