"""Store overrides of message templates, per template and language.

A store names a template as ``<kind>.<part>`` (``survey.html``, ``survey.txt``,
``survey.subject``, ``survey.sms``).  Its text is checked when saved: it must parse and
render in Jinja's sandbox with a sample message, or the save is refused with the line and
the error.  At send time the overrides of the message's language are read in one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.models import LANGUAGES
from chalicelib.rendering import templating
from chalicelib.storage import db, keys
from chalicelib.storage.items import StoreItem

KINDS = (
    "thank_you",
    "delivery_checkin",
    "usage_tips",
    "survey",
    "survey_reminder",
    "birthday",
    "anniversary",
    "warranty",
    "winback",
    "made_it_right",
)
PARTS = {
    "html": "email/{kind}.html",
    "txt": "email/{kind}.txt",
    "subject": "email/{kind}.subject.txt",
    "sms": "sms/{kind}.txt",
}
MAX_SOURCE = 20_000


def template_path(name: str) -> str:
    """``survey.html`` → ``email/survey.html``; InvalidInput for a name that is not a template."""
    kind, _, part = str(name).rpartition(".")
    if kind not in KINDS or part not in PARTS:
        raise InvalidInput(
            f"template must be <kind>.<part>: kind one of {', '.join(KINDS)}; part one of {', '.join(PARTS)}",
            field="name",
        )
    return PARTS[part].format(kind=kind)


def sample_context(kind: str) -> dict[str, Any]:
    """A message as full as any real one, so an override that renders here renders at send time."""
    score_urls = [{"score": s, "url": f"https://example.invalid/s/token?score={s}"} for s in range(0, 11)]
    return {
        "kind": kind,
        "first_name": "Dana",
        "order_name": "#1001",
        "items": [{"sku": "SKU-1", "title": "Ceramic teapot", "quantity": 1}],
        "tips": [
            {
                "title": "Ceramic teapot",
                "text": "Warm it with hot water first.",
                "links": [{"name": "Video", "url": "https://example.invalid/v"}],
            }
        ],
        "event": {"text": "Spring tasting evening", "url": "https://example.invalid/event"},
        "coupon": "HAPPY10",
        "product": "Ceramic teapot",
        "warranty_ends": "1 March 2027",
        "first_order_date": "1 March 2026",
        "support": "care@example.invalid",
        "survey": {"type": "nps", "url": "https://example.invalid/s/token", "scores": score_urls, "low": 0, "high": 10},
        "unsubscribe_url": "https://example.invalid/u/token",
        "subject": "Subject",
    }


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    return language


def save(table: db.Table, store: StoreItem, name: str, language: str, source: Any, now: datetime) -> dict[str, Any]:
    path = template_path(name)
    language = _language(language)
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE:
        raise InvalidInput(f"source must be template text of 1 to {MAX_SOURCE} characters", field="source")
    kind = name.rpartition(".")[0]
    problem = templating.validate_override(path, language, source, sample_context(kind), store)
    if problem is not None:
        where = f"line {problem.line}: " if problem.line else ""
        raise InvalidInput(f"template does not render: {where}{problem.error}", field="source")
    item = {
        **keys.template_override(store["store_id"], name, language),
        "type": "template_override",
        "store_id": store["store_id"],
        "name": name,
        "language": language,
        "path": path,
        "source": source,
        "updated_at": iso(now),
    }
    table.put(item)
    return item


def get(table: db.Table, store_id: str, name: str, language: str) -> dict[str, Any]:
    template_path(name)
    item = table.get(keys.template_override(store_id, name, _language(language)))
    if item is None:
        raise NotFound("no override for this template and language")
    return item


def delete(table: db.Table, store_id: str, name: str, language: str) -> None:
    template_path(name)
    table.delete(keys.template_override(store_id, name, _language(language)))


def for_store(table: db.Table, store_id: str, language: str) -> dict[str, str]:
    """Template path → source of a store's overrides in one language (one query)."""
    return {
        str(item["path"]): str(item["source"])
        for item in table.partition(keys.template_overrides_pk(store_id))
        if item.get("language") == language
    }


def public_view(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item.get(k) for k in ("name", "language", "source", "updated_at")}
