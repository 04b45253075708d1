"""The HTTP edge: JSON bodies in, JSON (or HTML) out, and domain errors turned into the
public error shape ``{"error": {"code", "message"}}`` in exactly one place."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote

from chalice.app import Response

from chalicelib.core.errors import AftercareError, InvalidInput, PayloadTooLarge, Unavailable
from chalicelib.core.models import Page, Redirect
from chalicelib.core.validate import parse_json
from chalicelib.rendering.headers import HTML_HEADERS
from chalicelib.storage import items

MAX_BODY_BYTES = 1_000_000

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}


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


def page_response(answer: Page | Redirect) -> Response:
    """A page with the strict HTML headers, or a redirect that no cache keeps (it may set a cookie)."""

    if isinstance(answer, Redirect):
        headers: dict[str, str | list[str]] = {
            "Location": answer.location,
            "Cache-Control": "no-store",
            **answer.headers,
        }
        return Response(body="", status_code=303, headers=headers)
    return html_response(answer.body, answer.status, answer.headers)


def attachment(filename: str) -> dict[str, str]:
    """The header that makes a browser save the body as ``filename`` instead of showing it."""

    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_response(body: str, filename: str) -> Response:
    """A spreadsheet download: never cached (it holds customers' words), never sniffed as a page."""

    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        **attachment(filename),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=body, status_code=200, headers=headers)


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


def path_param(raw: str) -> str:
    """A path segment as the caller meant it, percent-decoded: a SKU, an email or a phone may
    hold characters a URL must encode ("/", "+", " ")."""

    return unquote(raw)


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
