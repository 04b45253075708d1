"""The internal shapes every part shares.  Platform formats end at intake: the rest of the
system sees only these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class OrderStatus(str, Enum):
    CREATED = "created"
    PAID = "paid"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class JobKind(str, Enum):
    THANK_YOU = "thank_you"
    DELIVERY_CHECKIN = "delivery_checkin"
    USAGE_TIPS = "usage_tips"
    SURVEY = "survey"
    SURVEY_REMINDER = "survey_reminder"
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    WARRANTY = "warranty"
    WINBACK = "winback"
    CASE_REALERT = "case_realert"
    ALERT_RETRY = "alert_retry"
    MADE_IT_RIGHT = "made_it_right"
    WEBHOOK_DELIVERY = "webhook_delivery"  # one signed event to one of a store's endpoints


class JobStatus(str, Enum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    FAILED = "failed"
    DONE = "done"  # finished without a message (a lookup that planned other jobs)


class Channel(str, Enum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"  # a route of the SMS channel (see messaging/whatsapp.py), never chosen on its own


LANGUAGES = ("en", "ar", "fa", "he", "el")
RTL_LANGUAGES = frozenset({"ar", "fa", "he"})
# What a comment is about (chalicelib/support/themes.py), in the order reports list them.
THEMES = ("delivery", "damaged", "quality", "wrong_item", "price", "support", "refund", "praise")


@dataclass(frozen=True)
class LineItem:
    sku: str
    title: str
    quantity: int = 1
    warranty_months: int | None = None


@dataclass(frozen=True)
class CustomerInfo:
    """What an order tells about its customer; every field may be missing."""

    email: str | None = None  # normalised (lower-case domain, validated syntax)
    phone: str | None = None  # E.164
    first_name: str | None = None
    language: str | None = None  # one of LANGUAGES, or None
    timezone: str | None = None  # IANA
    birthday: str | None = None  # "MM-DD" or "YYYY-MM-DD"
    email_consent: bool | None = None  # marketing consent; None = not stated
    sms_consent: bool | None = None
    whatsapp_consent: bool | None = None  # opt-in to WhatsApp messages (WhatsApp requires one)

    @property
    def customer_id(self) -> str | None:
        """One identity per store: the email when there is one, else the phone."""
        return self.email or self.phone


@dataclass(frozen=True)
class OrderEvent:
    """One normalised order event from any source."""

    source: str  # "shopify" | "woocommerce" | "generic" | "api"
    event_id: str  # the dedupe key within the source
    store_id: str
    order_id: str
    status: OrderStatus
    occurred_at: datetime
    customer: CustomerInfo
    ordered_at: datetime | None = None
    items: tuple[LineItem, ...] = field(default_factory=tuple)
    total: str | None = None
    currency: str | None = None
    order_name: str | None = None  # what the customer sees, e.g. "#1001"


@dataclass(frozen=True)
class Page:
    """A server-rendered page as a subject module builds it; the route only sends it."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Redirect:
    """Where a form post sends the browser next: a 303, so a reload never posts again."""

    location: str
    headers: dict[str, str] = field(default_factory=dict)
