"""The API description (OpenAPI 3.1), generated from the routes the app actually registers.

Paths, methods, path parameters and summaries (each view's docstring, first line) come from
``app.routes``, so a route cannot be missing from the description; what a docstring cannot
say (who may call, what goes in and out) comes from :data:`DOCS`.  Built on first request and
kept: it costs nothing at import time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.models import LANGUAGES
from chalicelib.platform.process import PROCESS
from chalicelib.stores.overrides import KINDS, PARTS

OPERATOR = "operator"
STORE_KEY = "storeApiKey"
SUPPORT_KEY = "supportKey"
SUPPORT_SESSION = "supportSession"
OWNER_SESSION = "ownerSession"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    OPERATOR: {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator token: OPERATOR_TOKEN in the local stage, the SSM parameter named by OPERATOR_TOKEN_PARAM in prod.",
    },
    STORE_KEY: {
        "type": "http",
        "scheme": "bearer",
        "description": "The store's API key (ak_...), shown once when the store is created.",
    },
    SUPPORT_KEY: {
        "type": "http",
        "scheme": "bearer",
        "description": "The store's support key (sk_...), shown once when the store is created.",
    },
    SUPPORT_SESSION: {
        "type": "apiKey",
        "in": "cookie",
        "name": "aftercare_support",
        "description": "The support inbox's signed session cookie, set by POST /stores/{store_id}/inbox/session.",
    },
    OWNER_SESSION: {
        "type": "apiKey",
        "in": "cookie",
        "name": "aftercare_support",
        "description": "The console's signed session cookie (role api), set by POST /stores/{store_id}/console/session with the store's API key.",
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
    "403": "A form from another site, or an out-of-date form.",
    "404": "No such resource (or another store's).",
    "409": "The resource changed meanwhile, or the change does not apply to its state.",
    "413": "Body larger than 1 MB.",
    "415": "A body of a media type this operation does not take.",
    "429": "Too many requests for this link; `Retry-After` says when to try again.",
    "503": "Storage or network trouble; retry after `Retry-After` seconds.",
}
JSON = "application/json"
HTML = "text/html"
CSV = "text/csv"
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
SEE_OTHER = {"Location": {"description": "Where the browser goes next.", "schema": {"type": "string"}}}

STANDARD_WEBHOOK = "Signed per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the store's webhook secret."


@dataclass(frozen=True)
class Doc:
    """What the description says about one operation beyond its path and summary.

    ``responses`` are the success answers; ``errors`` maps each other status the operation
    answers to the media types it answers it in (JSON errors unless said otherwise)."""

    request: str | None = None
    responses: dict[str, str] = field(default_factory=dict)
    security: tuple[str, ...] | None = None  # None: decided by the path's shape
    media: str = JSON
    errors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    query: tuple[dict[str, Any], ...] = ()
    form: tuple[str, ...] = ()  # the fields of a form body


def _json_errors(*codes: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(codes, (JSON,))


STORE_READ = _json_errors("401", "404", "503")
STORE_WRITE = _json_errors("400", "401", "404", "413", "415", "503")
WEBHOOK = _json_errors("400", "401", "404", "409", "413", "415", "503")
PAGE_READ: dict[str, tuple[str, ...]] = {"404": (HTML, JSON), "503": (JSON,)}
PAGE_FORM: dict[str, tuple[str, ...]] = {
    "400": (HTML, JSON),
    "403": (HTML,),
    "404": (HTML, JSON),
    "413": (JSON,),
    "415": (JSON,),
    "503": (JSON,),
}
SIGN_IN: dict[str, tuple[str, ...]] = {
    "400": (JSON,),
    "401": (HTML,),
    "403": (JSON,),
    "404": (JSON,),
    "413": (JSON,),
    "415": (JSON,),
    "503": (JSON,),
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


DATE = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}

DOCS: dict[tuple[str, str], Doc] = {
    ("POST", "/stores"): Doc(
        "`name`, `sender_email`, `timezone` (IANA), `language`, `support_email`, optional `support_phone`.",
        {
            "201": "The store's settings with `store_id`, `api_key`, `support_key` and `webhook_secret` (shown only this once)."
        },
        (OPERATOR,),
        errors=_json_errors("400", "401", "413", "415", "503"),
    ),
    ("GET", "/stores/{store_id}"): Doc(
        responses={"200": "The store's settings, defaults filled in."}, errors=STORE_READ
    ),
    ("PATCH", "/stores/{store_id}"): Doc(
        "Any subset of the settings; all are validated before anything is written.",
        {"200": "The changed settings."},
        errors=STORE_WRITE,
    ),
    ("POST", "/webhooks/shopify/{store_id}"): Doc(
        "Shopify order JSON with `X-Shopify-Hmac-Sha256`, `X-Shopify-Topic`, `X-Shopify-Event-Id`/`X-Shopify-Webhook-Id`, `X-Shopify-Shop-Domain`.",
        {"200": "Accepted (a repeated event is accepted once)."},
        (),
        errors=WEBHOOK,
    ),
    ("POST", "/webhooks/woocommerce/{store_id}"): Doc(
        "WooCommerce order JSON with `X-WC-Webhook-Signature` and `X-WC-Webhook-Topic`; the unsigned ping `webhook_id=N` is answered 200.",
        {"200": "Accepted (a repeated event is accepted once)."},
        (),
        errors=WEBHOOK,
    ),
    ("POST", "/webhooks/orders/{store_id}"): Doc(
        "A generic order event. " + STANDARD_WEBHOOK,
        {"200": "Accepted (a repeated event is accepted once)."},
        (),
        errors=WEBHOOK,
    ),
    ("GET", "/s/{token}"): Doc(
        responses={"200": "The survey page (HTML); `?score=N` only preselects, nothing is recorded."},
        security=(),
        media=HTML,
        errors=PAGE_READ,
        query=(_query("score", {"type": "string", "maxLength": 4}, "A score to preselect."),),
    ),
    ("POST", "/s/{token}"): Doc(
        "Form (`application/x-www-form-urlencoded`): `score`, `comment`, `nonce` (the page form's hidden input).",
        {"200": "Thank-you page (HTML)."},
        (),
        HTML,
        errors={**PAGE_FORM, "429": (HTML,)},
        form=("score", "comment", "nonce"),
    ),
    ("GET", "/u/{token}"): Doc(
        responses={
            "200": "The unsubscribe page (HTML): what the person receives now per channel, the choice, resubscribe and the store's contact."
        },
        security=(),
        media=HTML,
        errors=PAGE_READ,
    ),
    ("POST", "/u/{token}"): Doc(
        "RFC 8058 one-click (`List-Unsubscribe=One-Click`), the page's `choice`, or `resubscribe` with the page's `nonce`"
        " (a resubscribe without it answers 403 and changes nothing).",
        {"200": "Unsubscribed, or subscribed again."},
        (),
        HTML,
        errors=PAGE_FORM,
        form=("List-Unsubscribe", "choice", "resubscribe", "nonce"),
    ),
    ("GET", "/stores/{store_id}/cases"): Doc(
        responses={
            "200": '`{"cases": [{"case_id", "status", "priority", ...}], "next": cursor or null}`; query `status`, `limit` (1-100), `after` (a `next`)'
        },
        security=(STORE_KEY, SUPPORT_KEY),
        errors=_json_errors("400", "401", "404", "503"),
        query=(
            _query(
                "status",
                {"type": "string", "enum": ["open", "acknowledged", "resolved"]},
                "Which cases (default `open`).",
            ),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (default 100)."),
            _query("after", {"type": "string", "maxLength": 2000}, "The `next` cursor of the previous page."),
        ),
    ),
    ("GET", "/stores/{store_id}/cases/{case_id}"): Doc(
        responses={"200": "One case with its history."}, security=(STORE_KEY, SUPPORT_KEY), errors=STORE_READ
    ),
    ("PATCH", "/stores/{store_id}/cases/{case_id}"): Doc(
        "Acknowledge, assign, or resolve with a note.",
        {"200": "The changed case."},
        (STORE_KEY, SUPPORT_KEY),
        errors={**STORE_WRITE, "409": (JSON,)},
    ),
    ("GET", "/stores/{store_id}/inbox"): Doc(
        responses={"200": "The support inbox (HTML), or its sign-in form."},
        security=(SUPPORT_SESSION,),
        media=HTML,
        errors=_json_errors("404", "503"),
        query=(
            _query("done", {"type": "string", "maxLength": 40}, "What the last action did (a notice)."),
            _query(
                "view",
                {"type": "string", "enum": ["active", "open", "acknowledged", "resolved"]},
                "Which cases: open and in progress (default), or one status.",
            ),
            _query(
                "q",
                {"type": "string", "maxLength": 320},
                "An order number, an email or a phone: that order's or customer's cases.",
            ),
        ),
    ),
    ("POST", "/stores/{store_id}/inbox/session"): Doc(
        "Form: `support_key`, optional `name`.",
        {"303": "Signed in: the support session cookie is set and the inbox follows."},
        (),
        HTML,
        errors=SIGN_IN,
        form=("support_key", "name"),
    ),
    ("POST", "/stores/{store_id}/inbox/signout"): Doc(
        "Form: `csrf`.",
        {"303": "Signed out: the cookie is cleared."},
        (SUPPORT_SESSION,),
        HTML,
        errors=_json_errors("400", "403", "413", "415", "503"),
        form=("csrf",),
    ),
    ("POST", "/stores/{store_id}/inbox/cases/{case_id}"): Doc(
        "Form: `csrf`, `action` (acknowledge, assign, resolve), `assignee`, `outcome`, `note`.",
        {"303": "Done (or not signed in): back to the inbox."},
        (SUPPORT_SESSION,),
        HTML,
        errors={
            "400": (HTML, JSON),
            "403": (JSON,),
            "404": (HTML, JSON),
            "409": (HTML,),
            "413": (JSON,),
            "415": (JSON,),
            "503": (JSON,),
        },
        form=("csrf", "action", "assignee", "outcome", "note"),
    ),
    ("GET", "/stores/{store_id}/stats"): Doc(
        responses={
            "200": "At least `responses`, `nps` (or `csat`, `ces`) and `response_rate`; every score with "
            "`low_sample` (fewer than 30 answers) and its 95% confidence interval (`nps_ci` for NPS, "
            "`csat_ci`, a Wilson interval, for CSAT); `series` grouped by `group`, each period with its "
            "`by_channel`, `by_language` and `by_kind`; the same three and `by_product` (worst first) "
            "for the whole range; `cases` with the median seconds to acknowledge and to resolve."
        },
        errors=_json_errors("400", "401", "404", "503"),
        query=(
            _query("days", {"type": "integer", "minimum": 1, "maximum": 366}, "Days to sum (default 30)."),
            _query(
                "group",
                {"type": "string", "enum": ["day", "week", "month"]},
                "How `series` groups the days (default day): UTC days, ISO weeks from Monday, calendar months.",
            ),
        ),
    ),
    ("GET", "/stores/{store_id}/dashboard"): Doc(
        responses={
            "200": "The dashboard (HTML): score (low-sample flag, NPS confidence interval) week by week, responses, response rate, time to first response and to resolution, categories, themes, the products with the lowest scores, open cases, latest comments; `?days=30` (default) or `90`. Without a session, its sign-in form."
        },
        security=(SUPPORT_SESSION,),
        media=HTML,
        errors=_json_errors("404", "503"),
        query=(_query("days", {"type": "string", "enum": ["30", "90"]}, "The period (default 30)."),),
    ),
    ("POST", "/stores/{store_id}/dashboard/session"): Doc(
        "Form: `support_key`, optional `name` and `days`.",
        {
            "303": "Signed in: the support session cookie is set and the dashboard follows.",
            "401": "Wrong support key: the sign-in form again (HTML).",
        },
        (),
        HTML,
        errors=SIGN_IN,
        form=("support_key", "name", "days"),
    ),
    ("GET", "/stores/{store_id}/responses.csv"): Doc(
        responses={
            "200": "Every response answered from `from` to `to` (`YYYY-MM-DD`, inclusive; default the last 90 days), newest first: UTF-8 CSV with a BOM; cells that start like a formula are prefixed with `'`."
        },
        security=(STORE_KEY, SUPPORT_SESSION),
        media=CSV,
        errors=_json_errors("400", "401", "404", "503"),
        query=(_query("from", DATE, "First day, inclusive."), _query("to", DATE, "Last day, inclusive.")),
    ),
    ("GET", "/stores/{store_id}/customers/{email_or_phone}"): Doc(
        responses={
            "200": "Everything stored about the customer (GDPR access): profile, consents, orders with items, survey responses, cases, suppressions, pending and past jobs, messages sent (no link tokens)."
        },
        errors=STORE_READ,
    ),
    ("DELETE", "/stores/{store_id}/customers/{email_or_phone}"): Doc(
        responses={
            "200": "Erased (GDPR): `{erased, customers, orders, items_deleted, items_scrubbed}`; answers stay for the statistics without personal data. A second call is a 404."
        },
        errors=STORE_READ,
    ),
    ("GET", "/openapi.json"): Doc(responses={"200": "This document."}, security=(), errors={}),
    ("POST", "/stores/{store_id}/customers"): Doc(
        '`{"customers": [...]}`: profiles to create or update.',
        {"200": "`{received, written, transactions}`."},
        errors=STORE_WRITE,
    ),
    ("PUT", "/stores/{store_id}/products/{sku}"): Doc(
        "A product's usage tips, tip links, warranty months and review link.",
        {"200": "The product."},
        errors=STORE_WRITE,
    ),
    ("GET", "/stores/{store_id}/products/{sku}"): Doc(responses={"200": "The product."}, errors=STORE_READ),
    ("PUT", "/stores/{store_id}/templates/{name}/{lang}"): Doc(
        '`{"source": ...}`: Jinja text, checked in the sandbox.', {"200": "The saved override."}, errors=STORE_WRITE
    ),
    ("GET", "/stores/{store_id}/templates/{name}/{lang}"): Doc(
        responses={"200": "The override."}, errors={**STORE_READ, "400": (JSON,)}
    ),
    ("DELETE", "/stores/{store_id}/templates/{name}/{lang}"): Doc(
        responses={"200": "`{deleted: true}`."}, errors={**STORE_READ, "400": (JSON,)}
    ),
    ("GET", "/stores/{store_id}/jobs"): Doc(
        responses={
            "200": "`{jobs: [...], next}`: an order's or a customer's follow-ups by due time (a skipped one with its reason, a"
            " waiting one with `deferred_reason`), or with `status=failed` alone the store's failed ones, newest first."
        },
        errors=_json_errors("400", "401", "404", "503"),
        query=(
            _query(
                "status",
                {"type": "string", "enum": ["pending", "claimed", "sent", "skipped", "cancelled", "failed", "done"]},
                "Only jobs in this status.",
            ),
            _query("order_id", {"type": "string", "minLength": 1, "maxLength": 200}, "One order's follow-ups."),
            _query(
                "customer",
                {"type": "string", "minLength": 1, "maxLength": 320},
                "One customer's follow-ups, by email or phone (404 when unknown).",
            ),
            _query("limit", {"type": "string", "pattern": "^[0-9]{1,3}$"}, "Page size, 1 to 100 (default 100)."),
            _query("after", {"type": "string", "maxLength": 1024}, "The `next` cursor of the previous page."),
        ),
    ),
    ("POST", "/stores/{store_id}/endpoints"): Doc(
        "`url` (https, public), `events` (a list of `response.created`, `response.updated`, `case.opened`,"
        " `case.acknowledged`, `case.resolved`, `customer.unsubscribed`, `order.skipped`), optional `description`.",
        {
            "201": "The endpoint with `endpoint_id` and its Standard Webhooks `secret` (`whsec_...`, shown only this once)."
        },
        errors={**STORE_WRITE, "409": (JSON,)},
    ),
    ("GET", "/stores/{store_id}/endpoints"): Doc(
        responses={
            "200": "`{endpoints: [...]}`: each with `state` (`enabled`/`disabled`), `disabled_reason`, `failing_since` and `recent_deliveries`; never the secret."
        },
        errors=STORE_READ,
    ),
    ("DELETE", "/stores/{store_id}/endpoints/{endpoint_id}"): Doc(
        responses={"200": "`{deleted: true}`; its pending deliveries are not sent."}, errors=STORE_READ
    ),
    ("POST", "/stores/{store_id}/keys/rotate"): Doc(
        '`{"key": "api"}` or `{"key": "support"}`.',
        {
            "200": "`{key, api_key | support_key, rotated_at}`: the new key, shown this once; the old one no longer works."
        },
        errors={**STORE_WRITE, "409": (JSON,)},
    ),
    ("POST", "/stores/{store_id}/endpoints/{endpoint_id}/rotate"): Doc(
        "Nothing (an empty JSON object).",
        {
            "200": "`{endpoint_id, secret, previous_secret_valid_until}`: deliveries are signed with both secrets until then."
        },
        errors={**STORE_WRITE, "409": (JSON,)},
    ),
    ("POST", "/stores/{store_id}/endpoints/{endpoint_id}/enable"): Doc(
        "Nothing (an empty JSON object).", {"200": "The endpoint, enabled."}, errors=STORE_WRITE
    ),
    ("GET", "/stores/{store_id}/endpoints/{endpoint_id}/deliveries"): Doc(
        responses={
            "200": "`{deliveries: [{message_id, event_type, status, created_at, next_attempt_at, reason, attempts}], next}`, newest first."
        },
        errors=_json_errors("400", "401", "404", "503"),
        query=(
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (default 50)."),
            _query("after", {"type": "string", "maxLength": 2000}, "The `next` cursor of the previous page."),
        ),
    ),
}

CONSOLE_PAGES = {
    "": "The console's setup page: webhook addresses with copy buttons, the masked secret and its rotation, the last webhook of each source, the Shopify and WooCommerce guides.",
    "/settings": "The console's settings page: every setting in its group, each group a form.",
    "/messages": "The console's messages page: a message kind in a language previewed as sent (email and SMS with its encoding and segments), the store's templates, test sends.",
    "/products": "The console's products page: one SKU's tips per language, tip links, warranty months and review link.",
    "/schedule": "The console's schedule page: an order's or a customer's follow-ups with their reasons, the failed jobs with a retry.",
}
CONSOLE_QUERY: dict[str, tuple[dict[str, Any], ...]] = {
    "/messages": (
        _query("kind", {"type": "string", "enum": list(KINDS)}, "The message previewed."),
        _query("lang", {"type": "string", "enum": list(LANGUAGES)}, "Its language."),
    ),
    "/products": (_query("sku", {"type": "string", "maxLength": 100}, "The SKU opened."),),
    "/schedule": (
        _query("order_id", {"type": "string", "maxLength": 200}, "One order's follow-ups."),
        _query("customer", {"type": "string", "maxLength": 320}, "One customer's follow-ups, by email or phone."),
        _query("status", {"type": "string", "maxLength": 20}, "Only this status."),
    ),
}
CONSOLE_FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "secret": ("Form: `csrf`. Answers the setup page with the new secret shown once.", ("csrf",)),
    "settings": (
        "Form: `csrf`, `group`, and the group's fields (checkbox groups as `field.value`).",
        (),
    ),
    "templates": (
        "Form: `csrf`, `name`, `lang`, `source`, optional `delete`.",
        ("csrf", "name", "lang", "source", "delete"),
    ),
    "test": ("Form: `csrf`, `kind`, `lang`, `channel` (email or sms).", ("csrf", "kind", "lang", "channel")),
    "products": (
        "Form: `csrf`, `sku`, `title.<lang>`, `tips.<lang>`, `tips_links`, `warranty_months`, `review_url`.",
        (),
    ),
    "jobs/retry": ("Form: `csrf`, `ref` (a failed job's reference from the schedule page).", ("csrf", "ref")),
}
CONSOLE_FORM_ERRORS: dict[str, tuple[str, ...]] = {
    "400": (HTML, JSON),
    "403": (HTML, JSON),
    "404": (JSON,),
    "409": (JSON,),
    "413": (JSON,),
    "415": (JSON,),
    "503": (JSON,),
}
for _suffix, _text in CONSOLE_PAGES.items():
    DOCS[("GET", "/stores/{store_id}/console" + _suffix)] = Doc(
        responses={"200": _text + " Without an owner session, the console's sign-in form."},
        security=(OWNER_SESSION,),
        media=HTML,
        errors=_json_errors("404", "503"),
        query=(_query("done", {"type": "string", "maxLength": 40}, "What the last action did (a notice)."),)
        + CONSOLE_QUERY.get(_suffix, ()),
    )
for _action, (_text, _fields) in CONSOLE_FORMS.items():
    DOCS[("POST", f"/stores/{{store_id}}/console/{_action}")] = Doc(
        _text,
        {"200": "The page again (the new secret).", "303": "Done, or not signed in: on to the page (with `done`)."},
        (OWNER_SESSION,),
        HTML,
        errors=CONSOLE_FORM_ERRORS,
        form=_fields,
    )
DOCS[("POST", "/stores/{store_id}/console/session")] = Doc(
    "Form: `api_key` (the store's API key; the support key does not open the console).",
    {"303": "Signed in: the owner session cookie is set and the console follows."},
    (),
    HTML,
    errors=SIGN_IN,
    form=("api_key",),
)
DOCS[("POST", "/stores/{store_id}/console/signout")] = Doc(
    "Form: `csrf`.",
    {"303": "Signed out: the cookie is cleared."},
    (OWNER_SESSION,),
    HTML,
    errors=_json_errors("400", "404", "413", "415", "503") | {"403": (HTML,)},
    form=("csrf",),
)

_PARAMETER = re.compile(r"{([^}]+)}")


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


def _path_schema(name: str, path: str) -> dict[str, Any]:
    """What a path parameter looks like (a schema-driven client sends only such values)."""

    if name == "store_id":
        return {"type": "string", "pattern": "^st[0-9a-z]{14}$"}
    if name == "token" and path.startswith("/s/"):
        return {"type": "string", "pattern": "^[0-9A-Za-z]{22}$"}
    if name == "token":
        return {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,900}\\.[A-Za-z0-9_-]{1,100}$"}
    if name == "endpoint_id":
        return {"type": "string", "pattern": "^ep[0-9a-z]{16}$"}
    if name == "case_id":
        return {"type": "string", "pattern": "^cs[0-9a-f]{16}$"}
    if name == "name":
        return {"type": "string", "pattern": f"^({'|'.join(KINDS)})\\.({'|'.join(PARTS)})$"}
    if name == "lang":
        return {"type": "string", "enum": list(LANGUAGES)}
    if name == "sku":
        return {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$"}
    if name == "email_or_phone":
        return {"type": "string", "pattern": "^[A-Za-z0-9.+_@-]{1,320}$"}
    return {"type": "string", "pattern": "^[^/]+$"}


def _body_schema(kind: str, doc: Doc) -> dict[str, Any]:
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = {name: {"type": "string", "maxLength": 2000} for name in doc.form}
        return {"type": "object", "properties": fields, "additionalProperties": False}
    if kind == "application/json":
        return {"type": "object"}
    return {"type": "string"}


def _answer(description: str, media: tuple[str, ...], code: str) -> dict[str, Any]:
    content = {
        m: {"schema": {"$ref": "#/components/schemas/Error"}} if m == JSON and code >= "400" else {} for m in media
    }
    answer: dict[str, Any] = {"description": description, "content": content}
    if code in ("429", "503"):
        answer["headers"] = RETRY_AFTER
    if code == "303":
        answer["headers"] = SEE_OTHER
        answer.pop("content")
    return answer


def operation(method: str, path: str, entry: Any) -> dict[str, Any]:
    """The OpenAPI operation of one Chalice route entry: every status it answers, in which
    media type, its parameters' shapes and the credentials it takes."""
    known = (method, path) in DOCS
    doc = DOCS.get((method, path), Doc())
    security = doc.security if doc.security is not None else _default_security(path)
    responses: dict[str, Any] = {}
    for code, text in (doc.responses or {"200": "Success."}).items():
        media: tuple[str, ...] = (HTML,) if code == "401" and doc.media == HTML else (doc.media,)
        responses[code] = _answer(text, media, code)
    errors: Mapping[str, tuple[str, ...]] = (
        doc.errors if known else (STORE_WRITE if method in ("POST", "PUT", "PATCH") else STORE_READ)
    )
    for code, media in errors.items():
        responses.setdefault(code, _answer(ERRORS[code], media, code))
    op: dict[str, Any] = {
        "operationId": getattr(entry, "view_name", None) or f"{method.lower()}_{path}",
        "summary": _summary(entry, method, path),
        "responses": dict(sorted(responses.items())),
        "security": [{scheme: []} for scheme in security],
    }
    names = [name.rstrip("+") for name in _PARAMETER.findall(path)]
    parameters = [{"name": name, "in": "path", "required": True, "schema": _path_schema(name, path)} for name in names]
    parameters += list(doc.query)
    if parameters:
        op["parameters"] = parameters
    if method in ("POST", "PUT", "PATCH"):
        content_types = list(getattr(entry, "content_types", None) or [JSON])
        op["requestBody"] = {
            "required": True,
            "description": doc.request or "See the README.",
            "content": {kind: {"schema": _body_schema(kind, doc)} for kind in content_types},
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
            "description": 'After-sales follow-up for online stores. Errors are JSON `{"error": {"code", "message", "field"}}` with a 4xx status.',
        },
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": {"Error": ERROR_SCHEMA}},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def document(routes: dict[str, dict[str, Any]], server_url: str | None = None) -> dict[str, Any]:
    """:func:`build`, once per process."""
    return PROCESS.once(lambda: build(routes, server_url), key=build)
