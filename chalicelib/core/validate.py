"""Small validators shared by every input path.  Each raises InvalidInput naming the field."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.core.errors import InvalidInput
from chalicelib.core.models import LANGUAGES

_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")


def _parsed_email(value: Any, field: str) -> Any:
    """email_validator's reading of an address (no DNS lookups), or InvalidInput naming the field."""
    if not isinstance(value, str) or not _EMAIL_SHAPE.match(value.strip()):
        raise InvalidInput(f"{field} must be an email address", field=field)
    from email_validator import EmailNotValidError, validate_email  # lazy: heavy at import (make bench, import time)

    try:
        return validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"{field} is not a valid email address: {exc}", field=field) from None


def email(value: Any, field: str) -> str:
    """A syntactically valid address, normalised (no DNS lookups)."""
    result = _parsed_email(value, field)
    return f"{result.local_part}@{result.domain.lower()}"


def sendable_email(value: Any, field: str) -> str:
    """An address SES can put in a header: an internationalised domain is kept in its ASCII
    (punycode) form; an internationalised local part would need SMTPUTF8, which SES does not
    offer, so it is refused."""
    result = _parsed_email(value, field)
    if result.ascii_email is None or not result.local_part.isascii():
        raise InvalidInput(
            f"{field} must have a plain ASCII part before the @ (email cannot be sent from or to it); an international domain is fine",
            field=field,
        )
    local, _, domain = result.ascii_email.rpartition("@")
    return f"{local}@{domain.lower()}"


def one_line(value: Any, *, max_length: int | None = None) -> str:
    """Text fit for a header or one line of an alert: line breaks, other control characters
    (C0, C1) and bidirectional overrides become spaces, runs of spaces one space."""
    text = "".join(" " if _unsafe_char(ch) else ch for ch in str(value))
    text = " ".join(text.split())
    return text[:max_length] if max_length is not None else text


_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\u0085\u2028\u2029")


def _unsafe_char(ch: str) -> bool:

    return ch in _BIDI_CONTROLS or ch in _LINE_BREAKS or unicodedata.category(ch) in ("Cc", "Cs")


def plain_text(value: Any, field: str, *, max_length: int) -> str:
    """One line of text (a store's name): control characters and overrides neutralised."""
    return text(one_line(text(value, field, max_length=max_length * 2)), field, max_length=max_length)


def phone(value: Any, field: str, region: str | None = None) -> str:
    """An E.164 number; national numbers need a region."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be a phone number", field=field)
    import phonenumbers  # lazy: heavy at import (make bench, import time)

    try:
        parsed = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{field} is not a phone number", field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"{field} is not a valid phone number", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def region_of_zone(zone: str | None) -> str | None:
    """The country of an IANA zone ("Europe/Athens" → "GR"), for reading national phone numbers."""
    from babel.core import get_global  # lazy: heavy at import (make bench, import time)

    territories: Mapping[str, str] = get_global("zone_territories")
    return territories.get(zone or "")


def timezone(value: Any, field: str) -> str:

    if not isinstance(value, str) or not value or ("/" not in value and value != "UTC"):
        raise InvalidInput(f"{field} must be an IANA time zone such as Europe/Paris", field=field)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{field} is not a known IANA time zone: {value}", field=field) from None
    return value


def language(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be one of {', '.join(LANGUAGES)}", field=field)
    code = value.strip().replace("_", "-").split("-")[0].lower()
    if code not in LANGUAGES:
        raise InvalidInput(f"{field} must be one of {', '.join(LANGUAGES)}", field=field)
    return code


def text(value: Any, field: str, *, max_length: int, min_length: int = 1) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    stripped = value.strip()
    if not min_length <= len(stripped) <= max_length:
        raise InvalidInput(f"{field} must be {min_length} to {max_length} characters", field=field)
    return stripped


def integer(value: Any, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be a whole number", field=field)
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}", field=field)
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false", field=field)
    return value


def url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value.strip()) or len(value) > 2000:
        raise InvalidInput(f"{field} must be an http(s) URL", field=field)
    return value.strip()


def choice(value: Any, field: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise InvalidInput(f"{field} must be one of {', '.join(options)}", field=field)
    return str(value)


def hhmm(value: Any, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise InvalidInput(f"{field} must be a time of day as HH:MM", field=field)
    return value


def links(value: Any, field: str, *, most: int = 5, name_length: int = 80) -> list[dict[str, str]]:
    """A list of ``{name, url}`` objects (review links, how-to links)."""
    if not isinstance(value, list) or len(value) > most:
        raise InvalidInput(f"{field} must be a list of up to {most} {{name, url}} objects", field=field)
    out = []
    for i, link in enumerate(value):
        if not isinstance(link, dict) or set(link) != {"name", "url"}:
            raise InvalidInput(f"{field}[{i}] must have exactly name and url", field=field)
        out.append(
            {
                "name": text(link["name"], f"{field}[{i}].name", max_length=name_length),
                "url": url(link["url"], f"{field}[{i}].url"),
            }
        )
    return out


def as_dict(value: Any) -> dict[str, Any]:
    """A part of a foreign payload read leniently: a JSON object, or empty when it is not one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """Likewise for a JSON array."""
    return value if isinstance(value, list) else []


def parse_json(body: bytes, *, want: type = dict) -> Any:
    """A JSON body, or InvalidInput naming the problem.

    Besides malformed JSON this refuses what makes ``json.loads`` fail in other ways
    (nesting deeper than the recursion limit, integers of thousands of digits): bad input
    is a 400, never a 500.
    """
    if not body:
        raise InvalidInput("empty body: send a JSON object")
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError:
        raise InvalidInput("malformed JSON: a number is too long") from None
    except RecursionError:
        raise InvalidInput("malformed JSON: nested too deeply") from None
    if not isinstance(value, want):
        raise InvalidInput(f"body must be a JSON {'object' if want is dict else 'array'}")
    return value


def int_param(query: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """A whole-number query parameter in range (ASCII digits only), or InvalidInput naming it."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def bearer(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value: str | None = headers.get("authorization") if headers else None
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
