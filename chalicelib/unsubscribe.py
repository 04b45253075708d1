"""The ``/u/{token}`` pages: a confirm page (GET) and the unsubscribe itself (POST).

A GET changes nothing (mail scanners follow links).  A POST unsubscribes with no login and
no redirect: ``List-Unsubscribe=One-Click`` in the body (RFC 8058, sent by the mail client)
means every message; the page's form chooses surveys only or everything.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib import db, keys
from chalicelib.surveys import Page, not_found_page, page_path, preferred_language, render_page

ONE_CLICK = "List-Unsubscribe"
CHOICES = {"surveys": "surveys", "everything": "all"}


def _subject(table: db.Table, token: str) -> tuple[dict[str, Any], str, str, str] | None:
    """(store, customer_id, contact, language) behind a genuine token of an existing store."""
    from chalicelib import links, stores, templating
    from chalicelib.errors import NotFound

    found = links.read_unsubscribe_token(token)
    if found is None:
        return None
    store_id, customer_id, contact = found
    try:
        store = stores.with_defaults(stores.get_store(table, store_id))
    except NotFound:
        return None
    customer = table.get(keys.customer(store_id, customer_id))
    language = templating.language_or((customer or {}).get("language"), str(store.get("language") or "en"))
    return store, customer_id, contact, language


def show(table: db.Table, token: str, accept_language: str | None) -> Page:
    subject = _subject(table, token)
    if subject is None:
        return not_found_page(preferred_language(accept_language))
    store, _, contact, language = subject
    return render_page(200, "unsubscribe.html", language, store, {"contact": contact, "action": page_path(f"/u/{token}")})


def scope_of(form: Mapping[str, str]) -> str:
    """``all`` for RFC 8058's one-click body, the "everything" choice or no choice at all;
    ``surveys`` only when the customer chose it."""
    if form.get(ONE_CLICK) == "One-Click":
        return "all"
    return CHOICES.get(str(form.get("choice") or "everything"), "all")


def unsubscribe(table: db.Table, token: str, form: Mapping[str, str], accept_language: str | None, now: datetime) -> Page:
    from chalicelib import suppression
    from chalicelib.observability import count

    subject = _subject(table, token)
    if subject is None:
        return not_found_page(preferred_language(accept_language))
    store, _, contact, language = subject
    scope = scope_of(form)
    reason = "one_click" if form.get(ONE_CLICK) == "One-Click" else "unsubscribe_page"
    item = suppression.suppress(table, str(store["store_id"]), contact, "email", scope, reason, now)
    count("Unsubscribed", scope=str(item.get("scope")))
    return render_page(200, "unsubscribed.html", language, store, {"contact": contact, "scope": item.get("scope")})
