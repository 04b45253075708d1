"""Stores: creation, settings, credentials.

Settings are validated field by field against :data:`FIELDS`; an unknown field or a bad
value is rejected with the field's name and nothing is written.  API keys carry their
store id (``ak_<store>_<secret>``) so a key can be told apart as wrong (401) or as another
store's (404); only their SHA-256 is stored, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import validate, weekends
from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from chalicelib.core.models import LANGUAGES, THEMES
from chalicelib.platform import outbound
from chalicelib.platform.config import settings
from chalicelib.platform.process import PROCESS
from chalicelib.storage import db, items, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import StoreItem, as_store

Validator = Callable[[Any, str], Any]


def _optional(inner: Validator) -> Validator:
    def check(value: Any, field: str) -> Any:
        return None if value is None or value == "" else inner(value, field)

    return check


def _text(max_length: int) -> Validator:
    return lambda v, f: validate.text(v, f, max_length=max_length)


def _int(low: int, high: int) -> Validator:
    return lambda v, f: validate.integer(v, f, low=low, high=high)


def _choice(*options: str) -> Validator:
    return lambda v, f: validate.choice(v, f, options)


def _weekdays(value: Any, field: str) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in value)
    ):
        raise InvalidInput(f"{field} must be a non-empty list of weekdays, 0 = Monday to 6 = Sunday", field=field)
    return sorted(set(value))


def _keywords(value: Any, field: str) -> list[str]:
    if (
        not isinstance(value, list)
        or len(value) > 200
        or not all(isinstance(w, str) and 0 < len(w.strip()) <= 60 for w in value)
    ):
        raise InvalidInput(f"{field} must be a list of up to 200 words or phrases", field=field)
    return [w.strip() for w in value]


def _theme_keywords(value: Any, field: str) -> dict[str, list[str]]:
    """``{theme: [words]}``: one list per theme, in any of the languages (the comment is read
    in every language at once, so a word needs no language of its own)."""
    if not isinstance(value, dict) or not set(value) <= set(THEMES):
        raise InvalidInput(f"{field} must map themes ({', '.join(THEMES)}) to lists of words", field=field)
    out = {theme: _keywords(words, field) for theme, words in value.items()}
    if sum(len(words) for words in out.values()) > 400:
        raise InvalidInput(f"{field} may hold up to 400 words or phrases in all", field=field)
    return {theme: words for theme, words in out.items() if words}


FOLLOWUP_KINDS = (
    "thank_you",
    "delivery_checkin",
    "usage_tips",
    "survey",
    "survey_reminder",
    "birthday",
    "anniversary",
    "warranty",
    "winback",
)
CHANNEL_CHOICES = ("auto", "email", "sms", "both", "whatsapp")


def _followups(value: Any, field: str) -> dict[str, bool]:
    if (
        not isinstance(value, dict)
        or not set(value) <= set(FOLLOWUP_KINDS)
        or not all(isinstance(v, bool) for v in value.values())
    ):
        raise InvalidInput(
            f"{field} must map follow-up kinds ({', '.join(FOLLOWUP_KINDS)}) to true or false", field=field
        )
    return dict(value)


def _channels(value: Any, field: str) -> dict[str, str]:
    if (
        not isinstance(value, dict)
        or not set(value) <= set(FOLLOWUP_KINDS)
        or not all(v in CHANNEL_CHOICES for v in value.values())
    ):
        raise InvalidInput(f"{field} must map follow-up kinds to one of {', '.join(CHANNEL_CHOICES)}", field=field)
    return dict(value)


# The messages that may go by WhatsApp (each with its approved utility template), and the
# values a template's body may take, in the template's order of {{1}}, {{2}}...
WHATSAPP_KINDS = ("thank_you", "survey", "made_it_right")
WHATSAPP_PARAMETERS = ("first_name", "store_name", "order_name", "survey_url")
_PHONE_NUMBER_ID = re.compile(
    r"phone-number-id-[0-9a-zA-Z]{1,99}|arn:aws[a-z-]*:social-messaging:[a-z0-9-]+:\d{12}:phone-number-id/[0-9a-zA-Z]+"
)
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_META_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def _whatsapp_phone_number_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _PHONE_NUMBER_ID.fullmatch(value):
        raise InvalidInput(
            f"{field} must be an End User Messaging Social phone number id (phone-number-id-...) or its ARN",
            field=field,
        )
    return value


def _whatsapp_templates(value: Any, field: str) -> dict[str, dict[str, Any]]:
    """``{kind: {"name", "languages": {our language: Meta's code}, "parameters": [...]}}``."""
    if not isinstance(value, dict) or not set(value) <= set(WHATSAPP_KINDS):
        raise InvalidInput(f"{field} must map {', '.join(WHATSAPP_KINDS)} to a template", field=field)
    out: dict[str, dict[str, Any]] = {}
    for kind, template in value.items():
        where = f"{field}.{kind}"
        if not isinstance(template, dict) or not set(template) <= {"name", "languages", "parameters"}:
            raise InvalidInput(f"{where} must be an object with name, languages and parameters", field=where)
        name, languages, parameters = template.get("name"), template.get("languages"), template.get("parameters", [])
        if not isinstance(name, str) or not _TEMPLATE_NAME.fullmatch(name):
            raise InvalidInput(
                f"{where}.name must be the template's name (lower-case letters, digits, _)", field=f"{where}.name"
            )
        if (
            not isinstance(languages, dict)
            or not languages
            or not all(_our_language(k) for k in languages)
            or not all(isinstance(v, str) and _META_LANGUAGE.fullmatch(v) for v in languages.values())
        ):
            raise InvalidInput(
                f"{where}.languages must map languages ({', '.join(LANGUAGES)}) to the template's "
                "WhatsApp language codes (en, en_US, el...)",
                field=f"{where}.languages",
            )
        if (
            not isinstance(parameters, list)
            or len(parameters) > 10
            or not all(isinstance(p, str) and p in WHATSAPP_PARAMETERS for p in parameters)
        ):
            raise InvalidInput(
                f"{where}.parameters must list the body's values in order, from {', '.join(WHATSAPP_PARAMETERS)}",
                field=f"{where}.parameters",
            )
        out[kind] = {"name": name, "languages": dict(languages), "parameters": list(parameters)}
    return out


def _our_language(value: Any) -> bool:
    return isinstance(value, str) and value in LANGUAGES


@dataclass(frozen=True)
class Field:
    check: Validator
    default: Any = None
    required: bool = False
    secret: bool = False  # write-only: never shown back


FIELDS: dict[str, Field] = {
    # identity and contacts
    "name": Field(lambda v, f: validate.plain_text(v, f, max_length=200), required=True),
    "sender_email": Field(validate.sendable_email, required=True),
    "timezone": Field(validate.timezone, required=True),
    "language": Field(validate.language, required=True),
    "languages": Field(
        _optional(lambda v, f: [validate.language(x, f) for x in v] if isinstance(v, list) else validate.language(v, f))
    ),
    "support_email": Field(validate.sendable_email, required=True),
    "support_phone": Field(_optional(validate.phone)),
    "second_contact_email": Field(_optional(validate.sendable_email)),
    "second_contact_phone": Field(_optional(validate.phone)),
    "slack_webhook_url": Field(_optional(validate.url)),  # and the address rule: see WEBHOOK_FIELDS
    # platforms
    "shopify_webhook_secret": Field(_optional(_text(200)), secret=True),
    "shop_domain": Field(_optional(_text(255))),
    "birthday_field": Field(_text(100), default="birthday"),
    "email_consent_field": Field(_text(100), default="email_marketing_consent"),
    "sms_consent_field": Field(_text(100), default="sms_marketing_consent"),
    "whatsapp_consent_field": Field(_text(100), default="whatsapp_consent"),
    # follow-ups
    "followups": Field(_followups, default={}),
    "channels": Field(_channels, default={}),
    "default_transit_days": Field(_int(0, 60), default=5),
    "tips_delay_days": Field(_int(0, 90), default=3),
    "survey_type": Field(_choice("nps", "csat", "ces"), default="nps"),
    "survey_delay_days": Field(_int(0, 90), default=7),
    "survey_reminder_days": Field(_int(1, 30), default=3),
    "survey_cooldown_days": Field(_int(0, 365), default=30),
    "survey_expiry_days": Field(_int(1, 365), default=30),
    "weekly_cap": Field(_int(1, 50), default=3),
    "quiet_start": Field(validate.hhmm, default="09:00"),
    "quiet_end": Field(validate.hhmm, default="20:00"),
    "send_days": Field(_weekdays),  # unset: the customer's local week (weekends.py)
    "winback_days": Field(_int(7, 1000), default=120),
    "warranty_notice_days": Field(_int(1, 365), default=30),
    "birthday_coupon": Field(_optional(_text(60))),
    "next_event": Field(_optional(_text(300))),
    "next_event_url": Field(_optional(validate.url)),
    "review_links": Field(lambda v, f: validate.links(v, f, name_length=60), default=[]),
    "review_invite": Field(_choice("everyone", "promoters"), default="everyone"),
    # escalation
    "nps_threshold": Field(_int(0, 10), default=6),
    "csat_threshold": Field(_int(1, 5), default=2),
    "ces_threshold": Field(_int(1, 7), default=5),
    "negative_keywords": Field(_keywords, default=[]),
    "urgent_keywords": Field(_keywords, default=[]),
    "theme_keywords": Field(_theme_keywords, default={}),
    "sla_minutes": Field(_int(5, 10080), default=60),
    "business_start": Field(validate.hhmm, default="09:00"),
    "business_end": Field(validate.hhmm, default="17:00"),
    "business_days": Field(_weekdays),  # unset: the store's local week (weekends.py)
    "made_it_right": Field(validate.boolean, default=False),
    # SMS
    "sms_origination": Field(_optional(_text(100))),
    # WhatsApp
    "whatsapp_phone_number_id": Field(_optional(_whatsapp_phone_number_id)),
    "whatsapp_templates": Field(_whatsapp_templates, default={}),
}

CREDENTIAL_ATTRS = ("api_key_hash", "support_key_hash", "webhook_secret", "previous_webhook_secret")


@dataclass(frozen=True)
class KeyKind:
    """A kind of store key: ``<prefix>_<store_id>_<secret>``, kept only as a hash in ``attr``."""

    prefix: str
    attr: str
    size: int  # bytes of randomness in the secret

    def new(self, store_id: str) -> str:
        return f"{self.prefix}_{store_id}_{secrets.token_urlsafe(self.size)}"


KEY_KINDS = {"api": KeyKind("ak", "api_key_hash", 32), "support": KeyKind("sk", "support_key_hash", 24)}
WEBHOOK_FIELDS = ("slack_webhook_url",)  # addresses Aftercare itself sends requests to


def validate_settings(
    body: Mapping[str, Any], *, creating: bool, resolve: outbound.Resolver = outbound.system_resolver
) -> dict[str, Any]:
    """Validate a whole body or raise InvalidInput naming the first bad or unknown field.
    Webhook addresses are resolved with ``resolve`` and must be public outside the local stage."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field: {unknown[0]}", field=unknown[0])
    out: dict[str, Any] = {}
    for name, spec in FIELDS.items():
        if name in body:
            value = body[name]
            if value is None and spec.required:
                raise InvalidInput(f"{name} is required", field=name)
            out[name] = spec.check(value, name)
        elif creating and spec.required:
            raise InvalidInput(f"{name} is required", field=name)
    for name in WEBHOOK_FIELDS:
        if out.get(name):
            out[name] = outbound.webhook_url(
                out[name], name, allow_local=settings().allow_local_webhooks, resolve=resolve
            )
    return out


def with_defaults(store: StoreItem) -> StoreItem:
    """A store's settings with every default filled in (what the rules read)."""
    merged = {name: spec.default for name, spec in FIELDS.items()}
    merged.update({k: v for k, v in store.items() if v is not None})
    return as_store(merged)


def public_view(store: StoreItem) -> dict[str, Any]:
    settings = with_defaults(store)
    # Days left unset follow the local week (weekends.py); shown as they apply to the store.
    week = weekends.week_of(str(settings.get("timezone") or ""))
    settings["send_days"] = settings.get("send_days") or week.send_days
    settings["business_days"] = settings.get("business_days") or week.business_days
    shown = {name: items.plain(settings.get(name)) for name, spec in FIELDS.items() if not spec.secret}
    shown["store_id"] = store["store_id"]
    shown["created_at"] = store.get("created_at")
    shown["shopify_webhook_secret_set"] = bool(store.get("shopify_webhook_secret"))
    return shown


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_id() -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "st" + "".join(secrets.choice(alphabet) for _ in range(14))


@dataclass(frozen=True)
class NewStore:
    store_id: str
    api_key: str
    support_key: str
    webhook_secret: str
    store: StoreItem


def create_store(
    table: db.Table, body: Mapping[str, Any], now: datetime, *, resolve: outbound.Resolver = outbound.system_resolver
) -> NewStore:
    settings = validate_settings(body, creating=True, resolve=resolve)
    store_id = _new_id()
    api_key, support_key = KEY_KINDS["api"].new(store_id), KEY_KINDS["support"].new(store_id)
    webhook_secret = _new_webhook_secret()
    item = {
        **keys.store(store_id),
        "type": "store",
        "store_id": store_id,
        **settings,
        KEY_KINDS["api"].attr: hash_secret(api_key),
        KEY_KINDS["support"].attr: hash_secret(support_key),
        "webhook_secret": webhook_secret,
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    table.create(item)
    _cache().put(store_id, as_store(item))
    return NewStore(store_id, api_key, support_key, webhook_secret, as_store(item))


def _b64(raw: bytes) -> str:

    return base64.b64encode(raw).decode()


def _new_webhook_secret() -> str:
    return "whsec_" + _b64(secrets.token_bytes(32))


# After a rotation the old webhook secret still verifies for a day, so a platform can be
# given the new one without losing the deliveries signed meanwhile.
SECRET_OVERLAP = timedelta(hours=24)


def webhook_secrets(store: Mapping[str, Any], now: datetime) -> list[str]:
    """The store's webhook secrets that verify at ``now``: the current one, and the previous
    one until its overlap ends."""
    current = [str(store["webhook_secret"])]
    previous, until = store.get("previous_webhook_secret"), store.get("previous_webhook_secret_until")
    if previous and until and now < parse_iso(str(until)):
        current.append(str(previous))
    return current


@dataclass(frozen=True)
class Rotation:
    webhook_secret: str
    previous_valid_until: datetime


def rotate_webhook_secret(table: db.Table, store_id: str, now: datetime) -> Rotation:
    """A new webhook secret; the one it replaces keeps verifying for :data:`SECRET_OVERLAP`.
    Conditional on the secret read, so two rotations at once cannot lose the overlap."""
    store = get_store(table, store_id, fresh=True)
    new, until = _new_webhook_secret(), now + SECRET_OVERLAP
    try:
        item = table.update(
            keys.store(store_id),
            Update().set(
                {
                    "webhook_secret": new,
                    "previous_webhook_secret": store["webhook_secret"],
                    "previous_webhook_secret_until": iso(until),
                    "webhook_secret_rotated_at": iso(now),
                    "updated_at": iso(now),
                }
            ),
            condition=db.Expr("webhook_secret = :seen", values={":seen": store["webhook_secret"]}),
        )
    except db.ConditionFailed:
        raise Conflict("the webhook secret changed meanwhile; reload and try again") from None
    assert item is not None
    _cache().put(store_id, as_store(item))
    return Rotation(new, until)


def rotate_key(table: db.Table, store: StoreItem, body: Mapping[str, Any], now: datetime) -> dict[str, str]:
    """``POST /stores/{store_id}/keys/rotate`` with ``{"key": "api" | "support"}``: a new key of
    that kind, shown in this answer only; the old one stops working at once (a leaked key must).
    Conditional on the hash of the ``store`` the caller was authenticated against, so two
    rotations at once (or one against a stale copy) cannot leave a key nobody saw."""
    unknown = sorted(set(body) - {"key"})
    if unknown:
        raise InvalidInput(f"unknown field: {unknown[0]}", field=unknown[0])
    kind = body.get("key")
    if kind not in KEY_KINDS:
        raise InvalidInput("key must be api or support", field="key")
    store_id, attr = store["store_id"], KEY_KINDS[str(kind)].attr
    new = KEY_KINDS[str(kind)].new(store_id)
    try:
        item = table.update(
            keys.store(store_id),
            Update().set({attr: hash_secret(new), f"{kind}_key_rotated_at": iso(now), "updated_at": iso(now)}),
            condition=db.Expr("#h = :seen", names={"#h": attr}, values={":seen": store.get(attr)}),
        )
    except db.ConditionFailed:
        _cache().drop(store_id)  # the copy it was checked against is old: the next try reads afresh
        raise Conflict("the key changed meanwhile; nothing was rotated, try again") from None
    assert item is not None
    _cache().put(store_id, as_store(item))
    return {"key": str(kind), f"{kind}_key": new, "rotated_at": iso(now)}


def update_store(
    table: db.Table,
    store_id: str,
    body: Mapping[str, Any],
    now: datetime,
    *,
    resolve: outbound.Resolver = outbound.system_resolver,
) -> StoreItem:
    if not body:
        raise InvalidInput("nothing to change: send at least one setting")
    settings = validate_settings(body, creating=False, resolve=resolve)
    sets = {k: v for k, v in settings.items() if v is not None}
    removes = [k for k, v in settings.items() if v is None]
    try:
        item = table.update(
            keys.store(store_id),
            Update().set({**sets, "updated_at": iso(now)}).remove(*removes),
            condition=db.Expr("attribute_exists(PK)"),
        )
    except db.ConditionFailed:
        raise NotFound("no such store") from None
    assert item is not None
    store = as_store(item)
    _cache().put(store_id, store)
    return store


class StoreCache:
    """Stores are read on every webhook; keep them for a minute per warm process."""

    ttl_seconds = 60.0

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, StoreItem]] = {}

    def get(self, store_id: str) -> StoreItem | None:
        hit = self._items.get(store_id)
        if hit and time.monotonic() - hit[0] < self.ttl_seconds:
            return hit[1]
        return None

    def put(self, store_id: str, item: StoreItem) -> None:
        self._items[store_id] = (time.monotonic(), item)

    def drop(self, store_id: str) -> None:
        self._items.pop(store_id, None)

    def clear(self) -> None:
        self._items.clear()


def _cache() -> StoreCache:
    return PROCESS.once(StoreCache)


def get_store(table: db.Table, store_id: str, *, fresh: bool = False) -> StoreItem:
    """The store item (cached up to a minute unless ``fresh``), or NotFound."""
    if not fresh:
        hit = _cache().get(store_id)
        if hit is not None:
            return hit
    if not store_id or len(store_id) > 64:
        raise NotFound("no such store")
    item = table.get(keys.store(store_id), consistent=fresh)
    if item is None:
        raise NotFound("no such store")
    store = as_store(item)
    _cache().put(store_id, store)
    return store


def _key_store_id(key: str, prefix: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != prefix:
        return None
    return parts[1]


def authenticate(table: db.Table, store_id: str, presented: str | None, *, kind: str = "api") -> StoreItem:
    """The store when ``presented`` is its key.  Missing or wrong key: 401; a valid key of
    another store: 404 (the resource is not that caller's to see)."""
    prefix, attr = KEY_KINDS[kind].prefix, KEY_KINDS[kind].attr
    if not presented:
        raise Unauthorized("missing credentials: send Authorization: Bearer <key>")
    owner = _key_store_id(presented, prefix)
    if owner is None:
        raise Unauthorized("invalid credentials")
    if owner != store_id:
        try:
            other = get_store(table, owner)
        except NotFound:
            raise Unauthorized("invalid credentials") from None
        if hmac.compare_digest(str(other.get(attr, "")), hash_secret(presented)):
            raise NotFound("no such store")
        raise Unauthorized("invalid credentials")
    store = get_store(table, store_id)
    if not hmac.compare_digest(str(store.get(attr, "")), hash_secret(presented)):
        raise Unauthorized("invalid credentials")
    return store


def authenticate_api_or_support(table: db.Table, store_id: str, presented: str | None) -> StoreItem:
    """The store, for its API key or its support key: support works cases through the API
    too.  A key says which it is by its prefix (``sk_`` for support)."""
    kind = "support" if presented and presented.startswith(KEY_KINDS["support"].prefix + "_") else "api"
    return authenticate(table, store_id, presented, kind=kind)
