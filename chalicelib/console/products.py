"""The products page: one SKU's usage tips and title per language, tip links, warranty months
and review link, read and saved with the rules of ``PUT /stores/{id}/products/{sku}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.console import words
from chalicelib.console.view import Ctx, Moved, Shown
from chalicelib.core import validate
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.models import LANGUAGES
from chalicelib.stores import products


def _per_language(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return {"": str(value)} if value else {}


def _shown(item: Mapping[str, Any] | None, fallback: str) -> dict[str, Any]:
    """A stored product as the form shows it (a single text is shown in the store's language)."""
    item = item or {}
    titles, tips = _per_language(item.get("title")), _per_language(item.get("tips"))
    for values in (titles, tips):
        if "" in values:
            values[fallback] = values.pop("")
    return {
        "title": titles,
        "tips": tips,
        "tips_links": "\n".join(
            f"{link.get('name', '')} | {link.get('url', '')}" for link in item.get("tips_links") or []
        ),
        "warranty_months": "" if item.get("warranty_months") is None else str(item["warranty_months"]),
        "review_url": item.get("review_url") or "",
    }


def page(
    ctx: Ctx,
    query: Mapping[str, str],
    *,
    typed: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    sku = (query.get("sku") or "").strip()[:100]
    item, missing = None, False
    if sku and typed is None:
        try:
            item = products.get_product(ctx.table, ctx.store_id, sku)
        except NotFound:
            missing = True
        except InvalidInput:
            sku, missing = "", True
    return {
        "sku": sku,
        "missing": missing,
        "product": typed if typed is not None else _shown(item, ctx.language),
        "errors": errors or {},
        "languages": [(code, words.LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "updated_at": ctx.when(item.get("updated_at")) if item else "",
    }


def _body(form: Mapping[str, str]) -> dict[str, Any]:
    """The form as the JSON API's body (what is left empty is not sent: PUT clears it)."""
    body: dict[str, Any] = {}
    for field in ("title", "tips"):
        values = {code: form.get(f"{field}.{code}", "").strip() for code in LANGUAGES}
        if any(values.values()):
            body[field] = {code: text for code, text in values.items() if text}
    lines = [line for line in form.get("tips_links", "").splitlines() if line.strip()]
    if lines:
        body["tips_links"] = [
            {"name": name.strip(), "url": url.strip()} if bar else {"name": "", "url": name.strip()}
            for name, bar, url in (line.partition("|") for line in lines)
        ]
    months = form.get("warranty_months", "").strip()
    if months:
        body["warranty_months"] = int(months) if months.isascii() and months.isdigit() and len(months) < 6 else months
    if form.get("review_url", "").strip():
        body["review_url"] = form["review_url"].strip()
    return body


def save(ctx: Ctx, clients: Any, form: Mapping[str, str]) -> Shown | Moved:
    """Replace the SKU's settings; every wrong field is named and nothing is saved."""
    sku = (form.get("sku") or "").strip()
    body = _body(form)
    errors: dict[str, str] = {}
    try:
        validate.text(sku, "sku", max_length=100)  # the PUT's rule for the SKU
    except InvalidInput as exc:
        errors["sku"] = exc.message
    for field, value in body.items():
        try:
            products.validate_product({field: value})
        except InvalidInput as exc:
            errors[exc.field or field] = exc.message
    if errors:
        typed = {
            "title": {code: form.get(f"title.{code}", "") for code in LANGUAGES},
            "tips": {code: form.get(f"tips.{code}", "") for code in LANGUAGES},
            "tips_links": form.get("tips_links", ""),
            "warranty_months": form.get("warranty_months", ""),
            "review_url": form.get("review_url", ""),
        }
        return Shown("products", page(ctx, {"sku": sku}, typed=typed, errors=errors), 400)
    products.put_product(ctx.table, ctx.store_id, sku, body, ctx.now)
    return Moved("products", "product_saved", {"sku": sku})
