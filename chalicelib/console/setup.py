"""The setup page: where to point each platform, the webhook secret and its rotation, the last
webhook of each source, and a guide for Shopify and WooCommerce."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.console.view import Ctx, Shown
from chalicelib.intake import activity, shopify
from chalicelib.stores import registry

SOURCES = (
    ("shopify", "shopify", "Shopify"),
    ("woocommerce", "woocommerce", "WooCommerce"),
    ("generic", "orders", None),
)
SHOPIFY_TOPICS = (
    *shopify.ORDER_TOPICS,
    *shopify.FULFILLMENT_TOPICS,
    shopify.REFUND_TOPIC,
)
WOOCOMMERCE_TOPICS = ("Order created", "Order updated")


def webhook_url(base_url: str, path: str, store_id: str) -> str:
    return f"{base_url.rstrip('/')}/webhooks/{path}/{store_id}"


def masked(secret: str) -> str:
    """``whsec_`` and the last four characters: enough to tell two secrets apart."""
    return f"{secret[:6]}{'•' * 8}{secret[-4:]}" if len(secret) > 12 else "•" * 8


def _outcome(ctx: Ctx, entry: Mapping[str, Any] | None, reasons: Mapping[str, str]) -> dict[str, Any] | None:
    if not entry:
        return None
    return {
        "slot": entry.get("slot"),
        "status": entry.get("status"),
        "at": ctx.when(entry.get("at")),
        "order_id": entry.get("order_id"),
        "reason": entry.get("reason"),
        "reason_label": reasons.get(str(entry.get("reason") or ""), entry.get("reason")),
        "message": entry.get("message"),
    }


def page(ctx: Ctx, query: Mapping[str, str], *, new_secret: str | None = None) -> dict[str, Any]:
    _ = ctx.gettext
    store = ctx.store
    recorded = activity.latest(ctx.table, ctx.store_id)
    reasons = {
        "signature": _("The signature does not match: check the secret"),
        "invalid": _("The body could not be read"),
        "unknown_topic": _("A topic Aftercare does not take"),
        "too_large": _("The body is larger than 1 MB"),
    }
    sources = []
    for source, path, name in SOURCES:
        item = recorded.get(source) or {}
        last = activity.last_outcome(item)
        sources.append(
            {
                "source": source,
                "name": name or _("Any other platform"),
                "url": webhook_url(ctx.base_url, path, ctx.store_id),
                "last": _outcome(ctx, last, reasons),
                "refused": _outcome(ctx, item.get(activity.REFUSED), reasons)
                if last and last["slot"] != activity.REFUSED
                else None,
            }
        )
    previous_until = None
    secrets_now = registry.webhook_secrets(store, ctx.now)
    if len(secrets_now) > 1:
        previous_until = ctx.when(store.get("previous_webhook_secret_until"))
    return {
        "sources": sources,
        "secret_masked": masked(str(store["webhook_secret"])),
        "new_secret": new_secret,
        "previous_until": previous_until,
        "rotated_at": ctx.when(store.get("webhook_secret_rotated_at")),
        "shopify_secret_set": bool(store.get("shopify_webhook_secret")),
        "shopify_topics": SHOPIFY_TOPICS,
        "compliance_topics": shopify.COMPLIANCE_TOPICS,
        "woocommerce_topics": WOOCOMMERCE_TOPICS,
    }


def rotate(ctx: Ctx, clients: Any, form: Mapping[str, str]) -> Shown:
    """A new webhook secret, shown this once in full; the old one verifies until the overlap ends."""
    rotation = registry.rotate_webhook_secret(ctx.table, ctx.store_id, ctx.now)
    fresh = Ctx(
        ctx.table,
        registry.with_defaults(registry.get_store(ctx.table, ctx.store_id)),
        ctx.session,
        ctx.now,
        ctx.base_url,
    )
    return Shown("setup", {**page(fresh, {}, new_secret=rotation.webhook_secret), "notice_code": "rotated"})
