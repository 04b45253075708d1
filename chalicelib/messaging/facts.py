"""What a send decision needs to know about a job: the store, the customer, the order, the language, caps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.models import Channel, JobKind
from chalicelib.messaging import policy, suppression, transports, whatsapp
from chalicelib.platform.aws import Clients
from chalicelib.platform.config import settings
from chalicelib.rendering import templating
from chalicelib.storage import db, keys
from chalicelib.storage.items import (
    CustomerItem,
    JobItem,
    OrderItem,
    StoreItem,
    SuppressionItem,
    as_customer,
    as_order,
    line_items,
)
from chalicelib.stores import products as product_settings
from chalicelib.surveys import tokens


# --- facts ---------------------------------------------------------------------------
@dataclass
class Facts:
    situation: policy.Situation
    customer: CustomerItem | None
    order: OrderItem | None
    products: dict[str, dict[str, Any]]
    language: str


def gather(table: db.Table, clients: Clients, job: JobItem, store: StoreItem, now: datetime) -> Facts:
    store_id = str(job["store_id"])
    customer_id = job.get("customer_id")
    order_id = job.get("order_id")
    customer_item = table.get(keys.customer(store_id, customer_id), consistent=True) if customer_id else None
    order_item = (
        table.get(keys.order(store_id, order_id), consistent=True)
        if order_id and job["kind"] != JobKind.WINBACK.value
        else None
    )
    customer = as_customer(customer_item) if customer_item else None
    order = as_order(order_item) if order_item else None
    data = job.get("data") or {}
    kind = str(job["kind"])

    products: dict[str, dict[str, Any]] = {}
    if order and kind in (JobKind.DELIVERY_CHECKIN.value, JobKind.USAGE_TIPS.value):
        products = product_settings.products_for(
            table, store_id, (line["sku"] for line in line_items(order.get("items")))
        )

    nothing_to_say = None
    if kind == JobKind.USAGE_TIPS.value:
        if not any(product_settings.has_tips(p) for p in products.values()):
            nothing_to_say = "no_tips"
    elif kind == JobKind.SURVEY_REMINDER.value:
        if not data.get("token") or tokens.is_answered(table, str(data["token"])):
            nothing_to_say = "survey_answered"

    suppressions: dict[str, SuppressionItem | None] = {}
    ses_listed = False
    for channel in (Channel.EMAIL.value, Channel.SMS.value):
        contact = policy.contact_for(customer, channel, order)
        if contact:
            suppressions[channel] = suppression.lookup(table, store_id, contact, channel)
            if channel == Channel.EMAIL.value and settings().ses_suppression_check:
                ses_listed = transports.ses_suppressed(clients.sesv2, contact)

    recent: list[datetime] = []
    if customer_id:
        low, high = keys.sent_message_range(iso(now - policy.WEEK), iso(now))
        cond = db.Expr(
            "PK = :pk AND SK BETWEEN :low AND :high",
            values={":pk": keys.customer_pk(store_id, customer_id), ":low": low, ":high": high},
        )
        # The thank-you answers the customer's own order: it neither waits for nor uses up the cap.
        recent = [
            parse_iso(str(item["sent_at"]))
            for item in table.query_all(cond, consistent=True)
            if item.get("sent_at") and item.get("kind") not in policy.IMMEDIATE
        ]

    language = templating.language_for(
        (order or {}).get("language") or (customer or {}).get("language") or data.get("language"), store
    )
    situation = policy.Situation(
        kind=kind,
        store=store,
        customer=customer,
        order=order,
        now=now,
        suppressions=suppressions,
        ses_suppressed=ses_listed,
        recent_sends=recent,
        channel_hint=data.get("channel") if kind == JobKind.SURVEY_REMINDER.value else None,
        nothing_to_say=nothing_to_say,
        whatsapp_ready=whatsapp.template_for(store, customer, kind, language) is not None,
    )
    return Facts(situation, customer, order, products, language)
