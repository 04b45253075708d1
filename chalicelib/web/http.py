"""The HTTP edge: JSON bodies in, JSON (or HTML) out, and domain errors turned into the
public error shape ``{"error": {"code", "message"}}`` in exactly one place."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from chalice.app import Response

from chalicelib.core.errors import AftercareError, InvalidInput, PayloadTooLarge, Unavailable
from chalicelib.storage import items

MAX_BODY_BYTES = 1_000_000

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no token in a Referer to other sites; our own forms keep their Origin
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return items.number(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(body: Any) -> str:
    """Compact JSON that can always be sent as UTF-8: a lone surrogate that came in with outside
    text (JSON may escape one, ``"\\ud800"``) and is echoed back becomes U+FFFD."""
    text = json.dumps(body, ensure_ascii=False, default=_default, separators=(",", ":"))
    return _LONE_SURROGATE.sub("\ufffd", text)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def html_response(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**HTML_HEADERS, **(headers or {})})


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return json_response({"error": error}, status)


def raw_body(request: Any) -> bytes:
    """The request body as sent, bounded in size."""
    body = request.raw_body or b""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body over {MAX_BODY_BYTES} bytes")
    return body


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


def json_body(request: Any) -> dict[str, Any]:
    body: dict[str, Any] = parse_json(raw_body(request))
    return body


def form_body(request: Any) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body; repeated fields keep the last value."""

    body = raw_body(request)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("form body is not UTF-8") from None
    try:
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=50))
    except ValueError:
        raise InvalidInput("form body has more than 50 fields") from None


def int_param(query: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """A whole-number query parameter in range (ASCII digits only), or InvalidInput naming it."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def translate_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map domain errors to the public error shape; anything else stays a bug (500).

    :class:`Unavailable` carries ``Retry-After``.  A network error from an AWS client that no
    layer below translated (no connection, a timeout) is storage or network trouble too: 503."""
    from botocore.exceptions import (  # lazy: heavy at import (make bench, import time)
        BotoCoreError,
        ParamValidationError,
    )

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except Unavailable as exc:
            return _unavailable(exc)
        except AftercareError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.field)
        except BotoCoreError as exc:
            if isinstance(exc, ParamValidationError):
                raise
            return _unavailable(Unavailable("a dependency is unreachable, please retry"))

    return wrapper


def _unavailable(exc: Unavailable) -> Response:
    response = error_response(exc.status, exc.code, exc.message, exc.field)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def reshape_chalice_error(response: Response) -> Response:
    """Chalice answers some errors itself (``{"Code", "Message"}``); give them our shape."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = "internal_error" if response.status_code >= 500 else str(body["Code"])
        message = "internal error" if response.status_code >= 500 else str(body["Message"])
        return error_response(response.status_code, code, message)
    return response
