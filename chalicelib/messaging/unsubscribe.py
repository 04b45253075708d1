"""The ``/u/{token}`` pages: what the person receives now and a choice (GET), and the
unsubscribe or resubscribe itself (POST).

A GET changes nothing (mail scanners follow links).  A POST unsubscribes with no login and
no redirect: ``List-Unsubscribe=One-Click`` in the body (RFC 8058, sent by the mail client)
means every message; the page's form chooses surveys only or everything.  Resubscribing
takes the page's nonce (a form posted from anywhere else changes nothing) and lifts the
email suppression only: a number that texted STOP starts again by texting START.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.core.errors import NotFound
from chalicelib.core.models import Page
from chalicelib.messaging import links, suppression
from chalicelib.platform import signing
from chalicelib.platform.observability import count
from chalicelib.rendering import templating
from chalicelib.storage import db, keys
from chalicelib.storage.items import CustomerItem, StoreItem, as_customer
from chalicelib.stores import registry
from chalicelib.surveys.pages import not_found_page, preferred_language, render_page
from chalicelib.surveys.tokens import page_path

ONE_CLICK = "List-Unsubscribe"
CHOICES = {"surveys": "surveys", "everything": "all"}
RESUBSCRIBE = "resubscribe"
NONCE_PURPOSE = "unsubscribe-form"


def _subject_and_customer(table: db.Table, token: str) -> tuple[StoreItem, str, str, str, CustomerItem] | None:
    """(store, customer_id, contact, language, customer) behind a genuine token of an existing store."""

    found = links.read_unsubscribe_token(token)
    if found is None:
        return None
    store_id, customer_id, contact = found
    try:
        store = registry.with_defaults(registry.get_store(table, store_id))
    except NotFound:
        return None
    customer = as_customer(table.get(keys.customer(store_id, customer_id)) or {})
    language = templating.language_or(customer.get("language"), str(store.get("language") or "en"))
    return store, customer_id, contact, language, customer


def nonce(token: str) -> str:

    return signing.sign(NONCE_PURPOSE, token)


def nonce_matches(token: str, presented: str | None) -> bool:

    return bool(presented) and signing.verify(NONCE_PURPOSE, str(presented)) == token


def subscriptions(table: db.Table, store_id: str, contact: str, phone: str | None) -> list[dict[str, str]]:
    """What the person receives now, per channel, as the suppression items say:
    ``everything``, ``orders`` (no surveys) or ``nothing``."""

    found = []
    for channel, address in (("email", contact), ("sms", phone)):
        if not address:
            continue
        item = suppression.lookup(table, store_id, address, channel)
        scope = (item or {}).get("scope")
        shown = address if channel == "email" else _masked(address)
        found.append(
            {
                "channel": channel,
                "contact": shown,
                "receives": "nothing" if scope == "all" else "orders" if scope == "surveys" else "everything",
            }
        )
    return found


def _masked(phone: str) -> str:
    """A number shown as ``+30•••••5678``: the link proves the email, not the phone."""
    return phone[:3] + "•" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else phone


def _status_context(
    table: db.Table, token: str, store: StoreItem, contact: str, customer: CustomerItem, base_url: str
) -> dict[str, Any]:
    phone = customer.get("phone") if customer.get("email") == contact or not customer.get("email") else None
    status = subscriptions(table, str(store["store_id"]), contact, str(phone) if phone else None)
    email = next(s for s in status if s["channel"] == "email")
    return {
        "contact": contact,
        "action": page_path(base_url, f"/u/{token}"),
        "nonce": nonce(token),
        "subscriptions": status,
        "email_receives": email["receives"],
        "sms_stopped": any(s["channel"] == "sms" and s["receives"] != "everything" for s in status),
    }


def show(table: db.Table, token: str, accept_language: str | None, *, base_url: str) -> Page:
    subject = _subject_and_customer(table, token)
    if subject is None:
        return not_found_page(preferred_language(accept_language))
    store, _, contact, language, customer = subject
    return render_page(
        200, "unsubscribe.html", language, store, _status_context(table, token, store, contact, customer, base_url)
    )


def scope_of(form: Mapping[str, str]) -> str:
    """``all`` for RFC 8058's one-click body, the "everything" choice or no choice at all;
    ``surveys`` only when the customer chose it."""
    if form.get(ONE_CLICK) == "One-Click":
        return "all"
    return CHOICES.get(str(form.get("choice") or "everything"), "all")


def unsubscribe(
    table: db.Table, token: str, form: Mapping[str, str], accept_language: str | None, now: datetime, *, base_url: str
) -> Page:

    subject = _subject_and_customer(table, token)
    if subject is None:
        return not_found_page(preferred_language(accept_language))
    store, _, contact, language, customer = subject
    if form.get(RESUBSCRIBE) is not None and form.get(ONE_CLICK) != "One-Click":
        return _resubscribe(table, token, form, store, contact, language, customer, base_url)
    scope = scope_of(form)
    reason = "one_click" if form.get(ONE_CLICK) == "One-Click" else "unsubscribe_page"
    item = suppression.suppress(table, str(store["store_id"]), contact, "email", scope, reason, now)
    count("Unsubscribed", scope=str(item.get("scope")))
    return render_page(
        200,
        "unsubscribed.html",
        language,
        store,
        {**_status_context(table, token, store, contact, customer, base_url), "scope": item.get("scope")},
    )


def _resubscribe(
    table: db.Table,
    token: str,
    form: Mapping[str, str],
    store: StoreItem,
    contact: str,
    language: str,
    customer: CustomerItem,
    base_url: str,
) -> Page:

    if not nonce_matches(token, form.get("nonce")):
        count("ResubscribeRefused", reason="nonce")
        return render_page(
            403,
            "unsubscribe.html",
            language,
            store,
            {**_status_context(table, token, store, contact, customer, base_url), "error": "expired"},
        )
    suppression.unsuppress(table, str(store["store_id"]), contact, "email")
    count("Resubscribed")
    return render_page(
        200,
        "unsubscribe.html",
        language,
        store,
        {**_status_context(table, token, store, contact, customer, base_url), "resubscribed": True},
    )
