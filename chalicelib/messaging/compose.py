"""Message content: the context a template sees, and the email and SMS built from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.core.clock import parse_iso
from chalicelib.messaging import policy, transports
from chalicelib.messaging.facts import Facts
from chalicelib.rendering import templating
from chalicelib.storage.items import JobItem, StoreItem, line_items
from chalicelib.stores import products as product_settings


# --- message content -----------------------------------------------------------------
@dataclass(frozen=True)
class Email:
    subject: str
    html: str
    text: str
    headers: dict[str, str]


def _date(text: str | None, language: str, zone: Any) -> str | None:
    if not text:
        return None
    from babel.dates import format_date  # lazy: heavy at import (make bench, import time)

    return format_date(parse_iso(text).astimezone(zone).date(), format="long", locale=language)


def message_context(
    job: JobItem, store: StoreItem, facts: Facts, decision: policy.Decision, now: datetime
) -> dict[str, Any]:
    """What a template may use, in plain values (no items from the table leak in)."""
    customer, order, data = facts.customer or {}, facts.order or {}, job.get("data") or {}
    zone = policy.zone_of(facts.customer, store)
    items = line_items(order.get("items"))
    tips = []
    for item in items:
        product = facts.products.get(item["sku"])
        if product and (product.get("tips") or product.get("tips_links")):
            fallback = str(store.get("language") or "en")
            title = product_settings.text_for(product, "title", facts.language, fallback) or item["title"]
            tips.append(
                {
                    "title": title,
                    "text": product_settings.text_for(product, "tips", facts.language, fallback) or "",
                    "links": list(product.get("tips_links") or []),
                }
            )
    event = None
    if decision.marketing_extras and store.get("next_event"):
        event = {"text": store["next_event"], "url": store.get("next_event_url")}
    return {
        "kind": job["kind"],
        "first_name": customer.get("first_name") or order.get("first_name"),
        "order_name": order.get("order_name")
        or order.get("name")
        or (f"#{job['order_id']}" if job.get("order_id") else None),
        "items": items,
        "tips": tips,
        "event": event,
        "coupon": store.get("birthday_coupon"),
        "product": data.get("title"),
        "warranty_ends": _date(data.get("warranty_ends"), facts.language, zone),
        "first_order_date": _date(data.get("first_order_at"), facts.language, zone),
        "support": store.get("support_email"),
        "survey": None,
    }


def survey_context(store: StoreItem, url: str, score_urls: list[tuple[int, str]]) -> dict[str, Any]:
    survey_type = str(store.get("survey_type") or "nps")
    scores = [{"score": s, "url": u} for s, u in score_urls]
    return {
        "survey": {
            "type": survey_type,
            "url": url,
            "scores": scores,
            "low": scores[0]["score"],
            "high": scores[-1]["score"],
        }
    }


def compose_email(
    kind: str,
    language: str,
    context: Mapping[str, Any],
    store: StoreItem,
    store_overrides: Mapping[str, str] | None = None,
    *,
    unsubscribe: str | None,
) -> Email:
    values = {**context, "unsubscribe_url": unsubscribe}
    subject = templating.render(f"email/{kind}.subject.txt", language, values, store, store_overrides)
    values["subject"] = " ".join(subject.split())
    html = templating.render(f"email/{kind}.html", language, values, store, store_overrides)
    text = templating.render(f"email/{kind}.txt", language, values, store, store_overrides)
    headers: dict[str, str] = {}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return Email(values["subject"], html, text, headers)


def compose_sms(
    kind: str,
    language: str,
    context: Mapping[str, Any],
    store: StoreItem,
    store_overrides: Mapping[str, str] | None = None,
) -> str:
    body = templating.render(f"sms/{kind}.txt", language, dict(context), store, store_overrides)
    body = "\n".join(line.strip() for line in body.splitlines() if line.strip())
    return transports.fit_sms(templating.start_direction(body, language))
