"""The API description (OpenAPI 3.1), generated from the routes the app actually registers.

Paths, methods, path parameters and summaries (each view's docstring, first line) come from
``app.routes``, so a route cannot be missing from the description; what a docstring cannot
say (who may call, what goes in and out) comes from :data:`DOCS`.  Built on first request and
kept: it costs nothing at import time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

OPERATOR = "operator"
STORE_KEY = "storeApiKey"
SUPPORT_KEY = "supportKey"
SUPPORT_SESSION = "supportSession"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    OPERATOR: {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator token: OPERATOR_TOKEN in the local stage, the SSM parameter named by OPERATOR_TOKEN_PARAM in prod.",
    },
    STORE_KEY: {"type": "http", "scheme": "bearer", "description": "The store's API key (ak_...), shown once when the store is created."},
    SUPPORT_KEY: {"type": "http", "scheme": "bearer", "description": "The store's support key (sk_...), shown once when the store is created."},
    SUPPORT_SESSION: {
        "type": "apiKey",
        "in": "cookie",
        "name": "aftercare_support",
        "description": "The support inbox's signed session cookie, set by POST /stores/{store_id}/inbox/session.",
    },
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}},
        }
    },
}

ERRORS = {
    "400": "Invalid input; `error.field` names the offending field.",
    "401": "Missing or wrong credentials.",
    "404": "No such resource (or another store's).",
    "413": "Body larger than 1 MB.",
}

STANDARD_WEBHOOK = "Signed per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the store's webhook secret."


@dataclass(frozen=True)
class Doc:
    """What the description says about one operation beyond its path and summary."""

    request: str | None = None
    responses: dict[str, str] = field(default_factory=dict)
    security: tuple[str, ...] | None = None  # None: decided by the path's shape
    media: str = "application/json"


DOCS: dict[tuple[str, str], Doc] = {
    ("POST", "/stores"): Doc(
        "`name`, `sender_email`, `timezone` (IANA), `language`, `support_email`, optional `support_phone`.",
        {"201": "The store's settings with `store_id`, `api_key`, `support_key` and `webhook_secret` (shown only this once)."},
        (OPERATOR,),
    ),
    ("GET", "/stores/{store_id}"): Doc(responses={"200": "The store's settings, defaults filled in."}),
    ("PATCH", "/stores/{store_id}"): Doc("Any subset of the settings; all are validated before anything is written.", {"200": "The changed settings."}),
    ("POST", "/webhooks/shopify/{store_id}"): Doc(
        "Shopify order JSON with `X-Shopify-Hmac-Sha256`, `X-Shopify-Topic`, `X-Shopify-Event-Id`/`X-Shopify-Webhook-Id`, `X-Shopify-Shop-Domain`.",
        {"200": "Accepted (a repeated event is accepted once)."},
        (),
    ),
    ("POST", "/webhooks/woocommerce/{store_id}"): Doc(
        "WooCommerce order JSON with `X-WC-Webhook-Signature` and `X-WC-Webhook-Topic`; the unsigned ping `webhook_id=N` is answered 200.",
        {"200": "Accepted (a repeated event is accepted once)."},
        (),
    ),
    ("POST", "/webhooks/orders/{store_id}"): Doc("A generic order event. " + STANDARD_WEBHOOK, {"200": "Accepted (a repeated event is accepted once)."}, ()),
    ("GET", "/s/{token}"): Doc(responses={"200": "The survey page (HTML); `?score=N` only preselects, nothing is recorded."}, security=(), media="text/html"),
    ("POST", "/s/{token}"): Doc(
        "Form (`application/x-www-form-urlencoded`): `score`, `comment`, `nonce` (the page form's hidden input).",
        {"200": "Thank-you page (HTML)."},
        (),
        "text/html",
    ),
    ("GET", "/u/{token}"): Doc(responses={"200": "The unsubscribe page (HTML): what the person receives now per channel, the choice, resubscribe and the store's contact."}, security=(), media="text/html"),
    ("POST", "/u/{token}"): Doc(
        "RFC 8058 one-click (`List-Unsubscribe=One-Click`), the page's choice, or `resubscribe=email` with the page's `nonce`.",
        {"200": "Unsubscribed, or subscribed again.", "403": "A resubscribe without the page's nonce: nothing changed."},
        (),
        "text/html",
    ),
    ("GET", "/stores/{store_id}/cases"): Doc(
        responses={"200": '`{"cases": [{"case_id", "status", "priority", ...}], "next": cursor or null}`; query `status`, `limit` (1-100), `after` (a `next`)'},
        security=(STORE_KEY, SUPPORT_KEY),
    ),
    ("GET", "/stores/{store_id}/cases/{case_id}"): Doc(responses={"200": "One case with its history."}, security=(STORE_KEY, SUPPORT_KEY)),
    ("PATCH", "/stores/{store_id}/cases/{case_id}"): Doc(
        "Acknowledge, assign, or resolve with a note.", {"200": "The changed case."}, (STORE_KEY, SUPPORT_KEY)
    ),
    ("GET", "/stores/{store_id}/inbox"): Doc(responses={"200": "The support inbox (HTML), or its sign-in form."}, security=(SUPPORT_SESSION,), media="text/html"),
    ("GET", "/stores/{store_id}/stats"): Doc(responses={"200": "At least `responses`, `nps` (or `csat`) and `response_rate`."}),
    ("GET", "/stores/{store_id}/dashboard"): Doc(
        responses={"200": "The dashboard (HTML): score week by week, responses, response rate, categories, open cases, latest comments; `?days=30` (default) or `90`. Without a session, its sign-in form."},
        security=(SUPPORT_SESSION,),
        media="text/html",
    ),
    ("POST", "/stores/{store_id}/dashboard/session"): Doc(
        "Form: `support_key`, optional `name` and `days`.",
        {"303": "Signed in: the support session cookie is set and the dashboard follows.", "401": "Wrong support key: the sign-in form again (HTML)."},
        (),
        "text/html",
    ),
    ("GET", "/stores/{store_id}/responses.csv"): Doc(
        responses={"200": "Every response answered from `from` to `to` (`YYYY-MM-DD`, inclusive; default the last 90 days), newest first: UTF-8 CSV with a BOM; cells that start like a formula are prefixed with `'`."},
        security=(STORE_KEY, SUPPORT_SESSION),
        media="text/csv",
    ),
    ("GET", "/stores/{store_id}/customers/{email_or_phone}"): Doc(
        responses={"200": "Everything stored about the customer (GDPR access): profile, consents, orders with items, survey responses, cases, suppressions, pending and past jobs, messages sent."}
    ),
    ("DELETE", "/stores/{store_id}/customers/{email_or_phone}"): Doc(
        responses={"200": "Erased (GDPR): `{erased, customers, orders, items_deleted, items_scrubbed}`; answers stay for the statistics without personal data. A second call is a 404."}
    ),
    ("GET", "/openapi.json"): Doc(responses={"200": "This document."}, security=()),
}

_PARAMETER = re.compile(r"{([^}]+)}")
_document: dict[str, Any] | None = None


def _default_security(path: str) -> tuple[str, ...]:
    if path.startswith("/stores/{store_id}/inbox"):
        return (SUPPORT_SESSION,)
    if path.startswith("/stores/{store_id}"):
        return (STORE_KEY,)
    return ()


def _summary(entry: Any, method: str, path: str) -> str:
    """The view's docstring, first line; else its name in words."""
    doc = (getattr(getattr(entry, "view_function", None), "__doc__", None) or "").strip()
    if doc:
        return doc.splitlines()[0].strip()
    name = getattr(entry, "view_name", None) or f"{method} {path}"
    return name.replace("_", " ").capitalize()


def operation(method: str, path: str, entry: Any) -> dict[str, Any]:
    """The OpenAPI operation of one Chalice route entry."""
    doc = DOCS.get((method, path), Doc())
    security = doc.security if doc.security is not None else _default_security(path)
    responses: dict[str, Any] = {
        code: {"description": text, "content": {doc.media: {}}} for code, text in (doc.responses or {"200": "Success."}).items()
    }
    for code, text in ERRORS.items():
        responses.setdefault(code, {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    op: dict[str, Any] = {
        "operationId": getattr(entry, "view_name", None) or f"{method.lower()}_{path}",
        "summary": _summary(entry, method, path),
        "responses": responses,
        "security": [{scheme: []} for scheme in security],
    }
    names = [name.rstrip("+") for name in _PARAMETER.findall(path)]
    if names:
        op["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]
    if method in ("POST", "PUT", "PATCH"):
        content_types = list(getattr(entry, "content_types", None) or ["application/json"])
        op["requestBody"] = {
            "required": True,
            "description": doc.request or "See the README.",
            "content": {kind: {} for kind in content_types},
        }
    return op


def build(routes: dict[str, dict[str, Any]], server_url: str | None = None) -> dict[str, Any]:
    """The document for ``app.routes`` (path -> method -> route entry)."""
    paths: dict[str, Any] = {}
    for path in sorted(routes):
        paths[path] = {method.lower(): operation(method, path, entry) for method, entry in sorted(routes[path].items())}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Aftercare",
            "version": "1.0",
            "description": "After-sales follow-up for online stores. Errors are JSON `{\"error\": {\"code\", \"message\", \"field\"}}` with a 4xx status.",
        },
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": {"Error": ERROR_SCHEMA}},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def document(routes: dict[str, dict[str, Any]], server_url: str | None = None) -> dict[str, Any]:
    """:func:`build`, once per process."""
    global _document
    if _document is None:
        _document = build(routes, server_url)
    return _document


def reset() -> None:
    global _document
    _document = None
