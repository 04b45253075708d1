"""The items of the single table, typed, and the readers of their stored values.

Each entity is a ``TypedDict`` with the attributes its writers set.  Every attribute is
optional to the type checker: items written before an attribute existed lack it, and the
code that reads them already copes.  Numbers come back from DynamoDB as ``Decimal``
(:data:`Number`); :func:`plain`, :func:`whole` and :func:`line_items` turn stored values into
the plain Python values the rules and the API speak, and :func:`hhmm` reads a stored
``"HH:MM"``.  An item read from the table becomes its entity through one of the ``as_*``
functions (no conversion: the table hands back the item as written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import time
from decimal import Decimal
from typing import Any, TypedDict, cast

Number = int | Decimal
"""A stored number: ``int`` as written, ``Decimal`` as read back."""


class Keyed(TypedDict, total=False):
    PK: str
    SK: str


class Listed(Keyed, total=False):
    """An item listed in a store's collection (the ``gsi1`` index)."""

    gsi1pk: str
    gsi1sk: str


class StoreItem(Keyed, total=False):
    type: str
    store_id: str
    created_at: str
    updated_at: str
    api_key_hash: str
    support_key_hash: str
    webhook_secret: str
    alert_subscriptions: dict[str, str]
    # identity and contacts
    name: str
    sender_email: str
    timezone: str
    language: str
    languages: str | list[str]
    support_email: str
    support_phone: str
    second_contact_email: str
    second_contact_phone: str
    slack_webhook_url: str
    # platforms
    shopify_webhook_secret: str
    shop_domain: str
    birthday_field: str
    email_consent_field: str
    sms_consent_field: str
    whatsapp_consent_field: str
    # follow-ups
    followups: dict[str, bool]
    channels: dict[str, str]
    default_transit_days: Number
    tips_delay_days: Number
    survey_type: str
    survey_delay_days: Number
    survey_reminder_days: Number
    survey_cooldown_days: Number
    survey_expiry_days: Number
    weekly_cap: Number
    quiet_start: str
    quiet_end: str
    send_days: Sequence[Number]
    winback_days: Number
    warranty_notice_days: Number
    birthday_coupon: str
    next_event: str
    next_event_url: str
    review_links: list[dict[str, str]]
    review_invite: str
    # escalation
    nps_threshold: Number
    csat_threshold: Number
    ces_threshold: Number
    negative_keywords: list[str]
    urgent_keywords: list[str]
    theme_keywords: dict[str, list[str]]
    sla_minutes: Number
    business_start: str
    business_end: str
    business_days: Sequence[Number]
    made_it_right: bool
    # SMS
    sms_origination: str
    # WhatsApp
    whatsapp_phone_number_id: str
    whatsapp_templates: dict[str, dict[str, Any]]


class StoredLine(TypedDict, total=False):
    """One line of an order as stored (``items``)."""

    sku: str
    title: str
    quantity: Number
    warranty_months: Number


class LineView(TypedDict):
    """One line of an order as the rest of the product shows it."""

    sku: str
    title: str
    quantity: int


class OrderItem(Keyed, total=False):
    type: str
    store_id: str
    order_id: str
    customer_id: str
    source: str
    status: str
    status_rank: Number
    source_updated_at: str
    created_at: str
    paid_at: str
    fulfilled_at: str
    delivered_at: str
    cancelled_at: str
    refunded_at: str
    updated_at: str
    first_seen_at: str
    ordered_at: str
    order_name: str
    name: str
    first_name: str
    language: str
    items: list[StoredLine]
    total: str
    currency: str


class CustomerItem(Listed, total=False):
    type: str
    store_id: str
    customer_id: str
    email: str
    phone: str
    first_name: str
    name: str
    language: str
    timezone: str
    birthday: str
    email_consent: bool
    sms_consent: bool
    whatsapp_consent: bool
    created_at: str
    updated_at: str
    first_order_at: str
    last_order_at: str
    last_order_id: str
    orders_count: Number
    last_survey_at: str


class ContactItem(Keyed, total=False):
    type: str
    store_id: str
    channel: str
    customer_id: str
    updated_at: str


class CustomerOrderItem(Keyed, total=False):
    type: str
    store_id: str
    customer_id: str
    order_id: str
    ordered_at: str


class JobItem(Keyed, total=False):
    type: str
    kind: str
    status: str
    store_id: str
    customer_id: str
    order_id: str
    case_id: str
    due: str
    due_pk: str
    due_at: str
    data: dict[str, Any]  # what the kind needs (a token, a product, a year): arbitrary JSON
    attempts: Number
    created_at: str
    claimed_at: str
    finished_at: str
    reason: str
    gsi1pk: str
    gsi1sk: str


class LateFollowupItem(Keyed, total=False):
    type: str
    store_id: str
    order_id: str
    name: str
    due: str
    event: str
    reason: str
    noticed_at: str


class SendClaimItem(Keyed, total=False):
    type: str
    job_sk: str
    kind: str
    store_id: str
    attempt: str
    claimed_at: str
    sent_at: str
    expires_at: Number


class SentMessageItem(Keyed, total=False):
    type: str
    kind: str
    channel: str
    sent_at: str
    order_id: str
    message_ids: dict[str, str]
    survey_tokens: list[str]
    expires_at: Number


class PhoneMessageItem(Keyed, total=False):
    type: str
    store_id: str
    customer_id: str
    kind: str
    message_id: str
    sent_at: str
    expires_at: Number


class SurveyItem(Keyed, total=False):
    type: str
    token: str
    store_id: str
    customer_id: str
    order_id: str
    kind: str
    channel: str
    contact: str
    survey_type: str
    language: str
    created_at: str
    expires: str
    expires_at: Number
    answered_at: str
    score: Number
    answers: Number


class PhoneSurveyItem(Keyed, total=False):
    type: str
    token: str
    store_id: str
    expires: str
    expires_at: Number


class Comment(TypedDict, total=False):
    text: str
    at: str | None
    channel: str | None
    via: str | None


class ResponseItem(Listed, total=False):
    type: str
    store_id: str
    customer_id: str
    order_id: str
    kind: str
    token: str
    survey_type: str
    score: Number
    category: str
    comment: str
    comments: list[Comment]
    language: str
    channel: str
    answered_via: str
    contact: str
    products: list[StoredLine]
    order_name: str
    themes: list[str]
    answered_at: str
    first_answered_at: str
    version: Number
    stats_skus: list[str]
    stats_other: bool


class CommentListingItem(Keyed, total=False):
    type: str
    response_pk: str
    response_sk: str
    answered_at: str
    expires_at: Number


class CaseItem(Listed, total=False):
    type: str
    store_id: str
    case_id: str
    status: str
    priority: str
    reasons: list[str]
    urgent_terms: list[str]
    customer_id: str
    contacts: dict[str, str | None]
    order_id: str
    order_name: str
    items: list[LineView]
    survey_type: str
    score: Number
    category: str
    comment: str
    comments: list[Comment]
    themes: list[str]
    language: str
    channel: str
    answers: list[dict[str, Any]]
    answers_count: Number
    messages: list[dict[str, Any]]
    events: list[dict[str, Any]]
    created_at: str
    updated_at: str
    opened_at: str
    acknowledged_at: str
    acknowledged_by: str
    assignee: str
    resolved_at: str
    resolved_by: str
    outcome: str
    note: str
    version: Number


class SuppressionItem(Keyed, total=False):
    """A contact's suppression for one channel (a store's, or ``phone_optout`` for a number)."""

    type: str
    store_id: str
    contact: str
    channel: str
    scope: str
    reason: str
    created_at: str


class EventMarkerItem(Keyed, total=False):
    type: str
    store_id: str
    order_id: str
    status: str
    received_at: str
    expires_at: Number


class StatsDayItem(Keyed, total=False):
    """A store's counters of one UTC day; every other attribute is a counter (``ADD``),
    but for the day's case timings (lists of seconds, see :mod:`chalicelib.reports.stats`)."""

    type: str
    store_id: str
    day: str
    ack_seconds: list[Number]
    resolve_seconds: list[Number]


class StatsProductsDayItem(Keyed, total=False):
    """A store's per-SKU counters of one UTC day: ``skus`` (the SKUs counted by name),
    ``sku#<sku>#<counter>``, ``title#<sku>`` and ``other#<counter>``."""

    type: str
    store_id: str
    day: str
    skus: set[str]


class ProductItem(Keyed, total=False):
    type: str
    store_id: str
    sku: str
    updated_at: str


class TemplateOverrideItem(Keyed, total=False):
    type: str
    store_id: str
    name: str
    language: str
    path: str
    source: str
    updated_at: str


class DataRequestItem(Keyed, total=False):
    type: str
    store_id: str
    request_id: str
    source: str
    received_at: str
    asked_for: dict[str, str]


# --- from the table to an entity -------------------------------------------------------------
def as_store(item: Mapping[str, Any]) -> StoreItem:
    return cast(StoreItem, item)


def as_order(item: Mapping[str, Any]) -> OrderItem:
    return cast(OrderItem, item)


def as_customer(item: Mapping[str, Any]) -> CustomerItem:
    return cast(CustomerItem, item)


def as_job(item: Mapping[str, Any]) -> JobItem:
    return cast(JobItem, item)


def as_survey(item: Mapping[str, Any]) -> SurveyItem:
    return cast(SurveyItem, item)


def as_response(item: Mapping[str, Any]) -> ResponseItem:
    return cast(ResponseItem, item)


def as_case(item: Mapping[str, Any]) -> CaseItem:
    return cast(CaseItem, item)


def as_suppression(item: Mapping[str, Any]) -> SuppressionItem:
    return cast(SuppressionItem, item)


# --- stored values ----------------------------------------------------------------------------
def number(value: Decimal) -> int | float:
    """A stored number as JSON writes it: whole numbers as ``int``."""
    return int(value) if value == value.to_integral_value() else float(value)


def plain(value: Any) -> Any:
    """A stored value (arbitrary nesting) with every ``Decimal`` made :func:`number`."""
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def whole(value: object, default: int = 0) -> int:
    """A stored counter or setting as ``int``; ``default`` when unset or not a number."""
    return int(value) if isinstance(value, (int, Decimal)) else default


def hhmm(text: str) -> time:
    """A stored ``"HH:MM"`` (validated when it was saved)."""
    hours, minutes = str(text).split(":")
    return time(int(hours), int(minutes))


def line_items(lines: Iterable[object] | None) -> list[LineView]:
    """The lines of an order (or of a response, a case) as shown: every line a mapping,
    ``sku`` and ``title`` as text, ``quantity`` 1 unless stated."""
    return [
        {
            "sku": str(line.get("sku") or ""),
            "title": str(line.get("title") or ""),
            "quantity": int(line.get("quantity") or 1),
        }
        for line in lines or []
        if isinstance(line, Mapping)
    ]


def line_labels(lines: Iterable[object] | None) -> list[str]:
    """What support reads for each line: its title, else its SKU."""
    return [str(line.get("title") or line.get("sku")) for line in lines or [] if isinstance(line, Mapping)]
