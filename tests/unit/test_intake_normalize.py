"""Normalising what platforms send: contacts, languages, birthdays, consents."""

from __future__ import annotations

import pytest

from chalicelib.intake import normalize as n


def test_contacts_are_normalised_and_bad_ones_dropped_by_name_only() -> None:
    notes = n.Notes()
    info = n.customer(
        notes,
        emails=[("email", "not an email"), ("customer.email", " Eleni.P@Example.COM ")],
        phones=[("phone", "555-555-SHIP"), ("shipping_address.phone", "210 123 4567")],
        region="GR",
    )
    assert info.email == "eleni.p@example.com"
    assert info.customer_id == "eleni.p@example.com"
    assert info.phone == "+302101234567"
    assert notes.dropped == ["email: not a valid email address", "phone: not a valid phone number"]
    assert all("@" not in note and "555" not in note for note in notes.dropped)


def test_the_phone_is_the_identity_when_there_is_no_email() -> None:
    info = n.customer(n.Notes(), phones=[("phone", "+30 694 400 0111")])
    assert info.customer_id == "+306944000111"


@pytest.mark.parametrize(
    "locale,expected",
    [("el", "el"), ("ar-SA", "ar"), ("fa_IR", "fa"), ("HE", "he"), ("de-DE", None), (None, None), (7, None)],
)
def test_languages_come_from_locales(locale: object, expected: str | None) -> None:
    assert n.language(locale) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1988-04-17", "1988-04-17"),
        ("04-17", "04-17"),
        ("--04-17", "04-17"),
        ("17/04/1988", "1988-04-17"),
        ("1988-04-17T00:00:00Z", "1988-04-17"),
        ("02-29", "02-29"),
        ("1990-02-29", None),
        ("13-01", None),
        ("next tuesday", None),
        ("1788-04-17", None),
    ],
)
def test_birthdays_are_calendar_days(text: str, expected: str | None) -> None:
    assert n.birthday(text, "birthday", n.Notes()) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (True, True),
        ("yes", True),
        ("1", True),
        ({"state": "subscribed"}, True),
        ({"state": "not_subscribed"}, False),
        ({"state": "unsubscribed"}, False),
        ({"state": "pending"}, None),
        ("no", False),
        (0, False),
        (None, None),
        ("maybe", None),
        (7, None),
    ],
)
def test_consent_is_stated_or_not(value: object, expected: bool | None) -> None:
    assert n.consent(value) is expected


def test_amounts_stay_decimal_text() -> None:
    assert n.amount("106.00") == "106.00"
    assert n.amount(12) == "12"
    assert n.amount("NaN") is None
    assert n.amount("ten") is None
    assert n.currency("eur") == "EUR"
    assert n.currency("€") is None
