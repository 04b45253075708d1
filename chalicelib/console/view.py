"""What every console page shares: the request's context, the two ends of an action (a page
drawn again, or a redirect with a notice) and the way times are written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.core.clock import parse_iso
from chalicelib.rendering import templating
from chalicelib.storage import db
from chalicelib.storage.items import StoreItem
from chalicelib.support.sessions import Session
from chalicelib.surveys.tokens import page_path


@dataclass(frozen=True)
class Ctx:
    table: db.Table
    store: StoreItem  # with defaults
    session: Session
    now: datetime
    base_url: str

    @property
    def store_id(self) -> str:
        return str(self.store["store_id"])

    @property
    def language(self) -> str:
        return templating.language_or(self.store.get("language"), "en")

    @property
    def gettext(self) -> Any:
        return templating.translations(self.language).gettext

    @property
    def path(self) -> str:
        """The console's path as the browser sees it (under the API's stage when deployed)."""
        return console_path(self.base_url, self.store_id)

    def when(self, value: Any) -> str:
        return when(value, self.store, self.language)


def console_path(base_url: str, store_id: str) -> str:
    return page_path(base_url, f"/stores/{store_id}/console")


@dataclass(frozen=True)
class Shown:
    """Draw ``section`` with ``context`` (a form with errors is drawn again, 400)."""

    section: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True)
class Moved:
    """Go to ``section`` (303), saying ``done``; ``query`` and ``anchor`` keep the place."""

    section: str
    done: str
    query: Mapping[str, str] = field(default_factory=dict)
    anchor: str = ""


def when(value: Any, store: StoreItem, language: str) -> str:
    """An ISO instant as the language writes it, in the store's time zone."""
    if not value:
        return ""
    from babel.dates import format_datetime  # lazy: heavy at import (make bench, import time)

    zone = ZoneInfo(str(store.get("timezone") or "UTC"))
    moment = parse_iso(str(value)) if not isinstance(value, datetime) else value
    return templating.numerals(format_datetime(moment, "medium", tzinfo=zone, locale=language), language)
