"""Per-SKU product settings a store gives: usage tips (text and links), warranty months and
a review link.  Messages read them at send time, so a store can add tips after an order.

``title`` and ``tips`` are a text, or one text per language (``{"en": "...", "ar": "..."}``):
a message uses the customer's language, else the store's, else the first one given."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from chalicelib.core import validate
from chalicelib.core.clock import iso
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.storage import db, keys
from chalicelib.storage.items import plain

FIELDS = ("title", "tips", "tips_links", "warranty_months", "review_url")


def validate_product(body: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field: {unknown[0]}", field=unknown[0])
    out: dict[str, Any] = {}
    if body.get("title") is not None:
        out["title"] = _per_language(body["title"], "title", 200)
    if body.get("tips") is not None:
        out["tips"] = _per_language(body["tips"], "tips", 2000)
    if body.get("tips_links") is not None:
        out["tips_links"] = validate.links(body["tips_links"], "tips_links")
    if body.get("warranty_months") is not None:
        out["warranty_months"] = validate.integer(body["warranty_months"], "warranty_months", low=0, high=240)
    if body.get("review_url") is not None:
        out["review_url"] = validate.url(body["review_url"], "review_url")
    return out


def _per_language(value: Any, field: str, max_length: int) -> str | dict[str, str]:
    """A text, or a text per supported language (at least one)."""
    if not isinstance(value, Mapping):
        return validate.text(value, field, max_length=max_length)
    if not value:
        raise InvalidInput(f"{field} needs at least one language", field=field)
    out: dict[str, str] = {}
    for code, text in value.items():
        language = validate.language(code, f"{field}.{code}")
        out[language] = validate.text(text, f"{field}.{code}", max_length=max_length)
    return out


def text_for(product: Mapping[str, Any], field: str, language: str, fallback: str) -> str | None:
    """The product's ``field`` in ``language``, else in ``fallback`` (the store's), else the first given."""
    value = product.get(field)
    if not isinstance(value, Mapping):
        return str(value) if value else None
    for code in (language, fallback):
        if value.get(code):
            return str(value[code])
    return next((str(v) for v in value.values() if v), None)


def _sku(sku: str) -> str:
    return validate.text(sku, "sku", max_length=100)


def put_product(table: db.Table, store_id: str, sku: str, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Replace a product's settings (PUT semantics: what is not sent is cleared)."""
    sku = _sku(sku)
    item = {
        **keys.product(store_id, sku),
        "type": "product",
        "store_id": store_id,
        "sku": sku,
        **validate_product(body),
        "updated_at": iso(now),
    }
    table.put(item)
    return item


def get_product(table: db.Table, store_id: str, sku: str) -> dict[str, Any]:
    item = table.get(keys.product(store_id, _sku(sku)))
    if item is None:
        raise NotFound("no such product")
    return item


def products_for(table: db.Table, store_id: str, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The settings of the given SKUs that have any, by SKU (one batch read)."""
    wanted = sorted({s for s in skus if s})
    if not wanted:
        return {}
    return {item["sku"]: item for item in table.batch_get([keys.product(store_id, s) for s in wanted])}


def has_tips(product: Mapping[str, Any] | None) -> bool:
    return bool(product and (product.get("tips") or product.get("tips_links")))


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:

    return {
        "sku": item["sku"],
        **{f: plain(item.get(f)) for f in FIELDS if item.get(f) is not None},
        "updated_at": item.get("updated_at"),
    }
