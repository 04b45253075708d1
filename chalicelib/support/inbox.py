"""The support inbox page: open and acknowledged cases as cards, search, and the inbox's
forms (sign in, sign out, act on a case) with the page or redirect each one answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from chalicelib.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.core.models import Page, Redirect
from chalicelib.core.validate import region_of_zone
from chalicelib.customers import exports
from chalicelib.rendering import templating
from chalicelib.storage import db, keys
from chalicelib.storage.items import StoreItem, line_labels
from chalicelib.stores import registry
from chalicelib.support import escalation, sessions, themes
from chalicelib.support.cases import (
    ACKNOWLEDGED,
    OPEN,
    RESOLVED,
    case_id_for,
    elapsed_seconds,
    list_cases,
    parse_change,
)
from chalicelib.support.sentiment import PRIORITY_RANK


# --- the support inbox page ------------------------------------------------------------------
def _outcome_labels(_: Any) -> list[tuple[str, str]]:
    return [
        ("refunded", _("Refunded")),
        ("replaced", _("Replaced")),
        ("explained", _("Explained")),
        ("unreachable", _("Could not reach the customer")),
        ("other", _("Other")),
    ]


def _waiting(since: str | None, now: datetime, language: str) -> str:
    from babel.dates import format_timedelta  # lazy: heavy at import (make bench, import time)

    seconds = elapsed_seconds(since, now) or 0.0
    return str(format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=language))


def _card(item: Mapping[str, Any], now: datetime, language: str, _: Any) -> dict[str, Any]:
    contacts = item.get("contacts") or {}
    labels = {"urgent": _("Urgent"), "high": _("High"), "normal": _("Normal")}
    items = ", ".join(line_labels(item.get("items")))
    names = themes.labels(_)
    return {
        "case_id": item["case_id"],
        "status": item["status"],
        "priority": item.get("priority") or "normal",
        "priority_label": labels.get(str(item.get("priority")), str(item.get("priority"))),
        "customer_label": contacts.get("name")
        or contacts.get("email")
        or contacts.get("phone")
        or item.get("customer_id"),
        "email": contacts.get("email"),
        "phone": contacts.get("phone"),
        "order": item.get("order_name") or item.get("order_id"),
        "products": items,
        "score": item.get("score"),
        "scale": str(item.get("survey_type") or "").upper(),
        "comment": item.get("comment"),
        "themes": [{"name": str(t), "label": names.get(str(t), str(t))} for t in item.get("themes") or []],
        "language": item.get("language"),
        "answers": int(item.get("answers_count") or len(item.get("answers") or [])),
        "assignee": item.get("assignee"),
        "acknowledged_by": item.get("acknowledged_by"),
        "waiting": _waiting(str(item.get("opened_at") or item.get("created_at") or ""), now, language),
    }


def inbox_path(base_url: str, store_id: str) -> str:

    return f"{urlparse(base_url).path.rstrip('/')}/stores/{store_id}/inbox"


def inbox_url(base_url: str, store_id: str) -> str:
    return f"{base_url.rstrip('/')}/stores/{store_id}/inbox"


ACTIVE = "active"  # the inbox's default view: open and acknowledged cases
VIEWS = (ACTIVE, OPEN, ACKNOWLEDGED, RESOLVED)
MAX_QUERY = 320


def find_cases(table: db.Table, store_id: str, query: str, region: str | None = None) -> list[dict[str, Any]]:
    """The cases of a customer (an email or a phone number, as typed) or of an order (its
    number, with or without "#", or its platform id), by key lookups only, never a scan."""

    text = query.strip()[:MAX_QUERY]
    if not text:
        return []
    pairs: list[tuple[str, str]] = []  # (customer_id, order_id)
    try:
        customer_id = exports.resolve(table, store_id, text, region)
    except NotFound:
        customer_id = None
    if customer_id is not None:
        links = table.partition(keys.customer_pk(store_id, customer_id), keys.customer_order_sk(""))
        pairs += [(customer_id, str(link["order_id"])) for link in links if link.get("order_id")]
    number = text.lstrip("#").strip()
    if number and "@" not in number:
        candidates = dict.fromkeys([number, f"shopify:{number}", f"woocommerce:{number}"])
        for order in table.batch_get([keys.order(store_id, order_id) for order_id in candidates]):
            if order.get("customer_id"):
                pairs.append((str(order["customer_id"]), str(order["order_id"])))
    found = table.batch_get([keys.case(store_id, case_id_for(c, o)) for c, o in dict.fromkeys(pairs)])
    return sorted(found, key=lambda c: (PRIORITY_RANK.get(str(c.get("priority")), 9), str(c.get("opened_at") or "")))


def inbox_page(
    table: db.Table,
    store: StoreItem,
    *,
    signed_in_as: str,
    csrf: str,
    base_url: str,
    now: datetime,
    notice: str | None = None,
    error: str | None = None,
    view: str = ACTIVE,
    query: str | None = None,
) -> str:
    """The inbox: open cases then acknowledged ones (or one status, or the cases a search
    finds), each most urgent first, then oldest."""

    language = templating.language_or(store.get("language"), "en")
    _ = templating.translations(language).gettext
    store_id = str(store["store_id"])
    view = view if view in VIEWS else ACTIVE
    titles = {
        OPEN: (_("Waiting for someone"), _("No open cases. Well done.")),
        ACKNOWLEDGED: (_("In progress"), _("Nothing in progress.")),
        RESOLVED: (_("Resolved"), _("No resolved cases yet.")),
    }
    if query and query.strip():
        # A search looks through every status, resolved included, unless one status is chosen.

        region = region_of_zone(str(store.get("timezone") or ""))
        found = [c for c in find_cases(table, store_id, query, region) if view == ACTIVE or c.get("status") == view]
        sections = [
            {
                "status": "found",
                "title": _("Cases found"),
                "empty": _("No case matches that order, email or phone."),
                "cases": [_card(i, now, language, _) for i in found],
            }
        ]
    else:
        shown = (OPEN, ACKNOWLEDGED) if view == ACTIVE else (view,)
        sections = [
            {
                "status": status,
                "title": titles[status][0],
                "empty": titles[status][1],
                "cases": [_card(i, now, language, _) for i in list_cases(table, store_id, status)],
            }
            for status in shown
        ]
    views = [
        (ACTIVE, _("Open and in progress")),
        (OPEN, _("Waiting for someone")),
        (ACKNOWLEDGED, _("In progress")),
        (RESOLVED, _("Resolved")),
    ]
    context = {
        "views": views,
        "view": view,
        "query": (query or "").strip()[:MAX_QUERY],
        "store_name": store.get("name"),
        "signed_in_as": signed_in_as,
        "csrf": csrf,
        "sections": sections,
        "outcomes": _outcome_labels(_),
        "notice": notice,
        "error": error,
        "inbox_path": inbox_path(base_url, store_id),
    }
    return templating.render("pages/inbox.html", language, context, store)


def inbox_message(code: str | None, language: str) -> str | None:
    """The sentence shown after an inbox action (the code travels in the redirect)."""

    _ = templating.translations(language).gettext
    messages = {
        "acknowledged": _("Acknowledged. The re-alert is cancelled."),
        "resolved": _("Resolved. Thank you."),
        "assigned": _("Assigned."),
    }
    return messages.get(code or "")


# --- the inbox's requests ----------------------------------------------------------------------
CASE_FIELDS = ("action", "assignee", "outcome", "note")  # what a case's form may change
DONE = {"acknowledge": "acknowledged", "resolve": "resolved", "assign": "assigned"}  # action → message code
OUT_OF_DATE = "this form is out of date; reload the inbox"


def signin_target(base_url: str, store_id: str) -> sessions.SignInTarget:
    return sessions.SignInTarget("inbox", f"{inbox_path(base_url, store_id)}/session", inbox_url(base_url, store_id))


def show(
    table: db.Table, store_id: str, headers: Any, query: Mapping[str, str] | None, base_url: str, now: datetime
) -> Page:
    """The inbox for a signed-in session, else the sign-in form; ``done`` names the action
    just taken (it travels in the redirect after a form), ``view`` and ``q`` narrow the list."""

    store = registry.with_defaults(registry.get_store(table, store_id))
    session = sessions.current(store_id, headers, now)
    if session is None:
        return sessions.signin_page(store, signin_target(base_url, store_id))
    params = query or {}
    language = templating.language_or(store.get("language"), "en")
    body = inbox_page(
        table,
        store,
        signed_in_as=session.name,
        csrf=session.csrf,
        base_url=base_url,
        now=now,
        notice=inbox_message(params.get("done"), language),
        view=params.get("view") or ACTIVE,
        query=params.get("q"),
    )
    return Page(200, body)


FormReader = Callable[[], Mapping[str, str]]  # reads the posted form when it is needed, not before


def sign_in(
    table: db.Table, store_id: str, read_form: FormReader, headers: Any, base_url: str, now: datetime
) -> Page | Redirect:
    """The shared sign-in, leading back to the inbox (an unknown store is a 404 whatever was posted)."""

    store = registry.with_defaults(registry.get_store(table, store_id))
    return sessions.sign_in(table, store, read_form(), headers, signin_target(base_url, store_id), base_url, now)


def sign_out(store_id: str, headers: Any, read_form: FormReader, base_url: str, now: datetime) -> Redirect:
    """Clear the cookie.  A live session must send its CSRF token, so another site cannot sign
    support out; an expired one is cleared without (there is nothing left to protect)."""

    session = sessions.current(store_id, headers, now)
    if session is not None and not session.csrf_ok(read_form().get("csrf")):
        raise Forbidden(OUT_OF_DATE)
    return Redirect(inbox_url(base_url, store_id), {"Set-Cookie": sessions.clear_cookie(base_url, store_id)})


def change_case(
    table: db.Table,
    store_id: str,
    case_id: str,
    headers: Any,
    read_form: FormReader,
    base_url: str,
    now: datetime,
) -> Page | Redirect:
    """Acknowledge, assign or resolve a case from its card, under the signed-in name.  Done:
    back to the card with a message; refused (already done, a missing note): the inbox again
    with the reason, so nothing typed is lost to an error page.  Blank fields are fields not
    given; anything else the form sends is ignored."""

    session = sessions.current(store_id, headers, now)
    if session is None:
        return Redirect(inbox_url(base_url, store_id))
    form = read_form()
    if not session.csrf_ok(form.get("csrf")):
        raise Forbidden(OUT_OF_DATE)
    store = registry.with_defaults(registry.get_store(table, store_id))
    fields = {k: v for k, v in form.items() if v != "" and k in CASE_FIELDS}
    try:
        change = parse_change({**fields, "by": session.name})
        escalation.change_case(table, store, case_id, change, now)
    except (Conflict, InvalidInput) as exc:
        body = inbox_page(
            table, store, signed_in_as=session.name, csrf=session.csrf, base_url=base_url, now=now, error=exc.message
        )
        return Page(exc.status, body)
    return Redirect(f"{inbox_url(base_url, store_id)}?done={DONE[change.action]}#case-{case_id}")
