"""The console's pages and forms: one entry for a page (:func:`show`), one for a form
(:func:`act`), and the sign-in and sign-out.  Every page is drawn in the store's language with
its direction, works without scripts, and carries one small script only for the copy buttons
(allowed by its hash in the page's CSP)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from chalicelib.console import access, messages, products, schedule, settings, setup
from chalicelib.console.view import Ctx, Moved, Shown, console_path
from chalicelib.core.models import Page, Redirect
from chalicelib.messaging import onboarding
from chalicelib.rendering import templating
from chalicelib.storage import db
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry
from chalicelib.support import sessions

SECTIONS = ("setup", "settings", "messages", "products", "schedule")
SUFFIX = {"setup": ""}

# The one script: copy buttons (hidden until it runs) copy their field and say so.
SCRIPT = (
    "(function(){var b=document.querySelectorAll('button[data-copy]');"
    "for(var i=0;i<b.length;i++){b[i].hidden=false;}"
    "document.addEventListener('click',function(e){var t=e.target.closest&&e.target.closest('button[data-copy]');"
    "if(!t)return;var f=document.getElementById(t.getAttribute('data-copy'));if(!f)return;"
    "var done=function(){t.textContent=t.getAttribute('data-done');};"
    "var old=function(){f.select();document.execCommand('copy');done();};"
    "if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(f.value).then(done,old);}"
    "else{old();}});})();"
)

Builder = Callable[[Ctx, Mapping[str, str]], dict[str, Any]]
BUILDERS: dict[str, Builder] = {
    "setup": setup.page,
    "settings": lambda ctx, query: settings_page(ctx, query),
    "messages": messages.page,
    "products": products.page,
    "schedule": schedule.page,
}
Action = Callable[[Ctx, Any, Mapping[str, str]], "Shown | Moved"]


def settings_page(
    ctx: Ctx,
    query: Mapping[str, str],
    typed: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    from babel.dates import get_day_names  # lazy: heavy at import (make bench, import time)

    _ = ctx.gettext
    days = get_day_names("wide", locale=ctx.language)
    day_names = [templating.numerals(days[d], ctx.language) for d in range(7)]
    in_force = settings.current(ctx.store)
    titles = settings.group_titles(_)
    groups = []
    for name in settings.GROUPS:
        values = {**in_force, **(typed or {})} if name == group else in_force
        wrong = dict(errors or {}) if name == group else {}
        groups.append(
            {
                "id": name,
                "title": titles[name],
                "fields": settings.form_fields(name, values, wrong, _, day_names),
                "errors": wrong,
            }
        )
    return {"groups": groups, "labels": settings.labels(_), "failed_group": group if errors else None}


def save_settings(ctx: Ctx, clients: Any, form: Mapping[str, str]) -> Shown | Moved:
    group = form.get("group") or ""
    change = settings.read_group(group, form, ctx.store)
    if change.errors:
        return Shown("settings", settings_page(ctx, {}, change.typed, change.errors, group), 400)
    if change.changes:
        onboarding.update(ctx.table, clients, ctx.store_id, change.changes, ctx.now)
    return Moved("settings", "saved" if change.changes else "unchanged", {}, group)


ACTIONS: dict[str, Action] = {
    "secret": setup.rotate,
    "settings": save_settings,
    "templates": messages.save_template,
    "test": messages.send_test,
    "products": products.save,
    "retry": schedule.retry,
}


def _headers(language: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": templating.script_csp(SCRIPT),
        "Content-Language": language,
    }


def _notices(_: Any, store: StoreItem) -> dict[str, str]:
    return {
        "saved": _("Saved."),
        "unchanged": _("Nothing changed."),
        "rotated": _("A new webhook secret is in force."),
        "template_saved": _("The template is saved: messages use it from now on."),
        "template_deleted": _("The override is removed: the built-in template is used again."),
        "test_email": _("A test email went to %(to)s. Locally, it shows in the dev outbox.")
        % {"to": store.get("support_email")},
        "test_sms": _("A test SMS went to %(to)s. Locally, it shows in the dev outbox.")
        % {"to": store.get("support_phone")},
        "product_saved": _("The product is saved."),
        "retried": _("The job is queued again: it goes at the next dispatch."),
    }


def _nav(ctx: Ctx, current: str) -> list[dict[str, Any]]:
    _ = ctx.gettext
    names = {
        "setup": _("Setup"),
        "settings": _("Settings"),
        "messages": _("Messages"),
        "products": _("Products"),
        "schedule": _("Schedule"),
    }
    return [
        {"id": s, "href": ctx.path + ("" if s == "setup" else f"/{s}"), "label": names[s], "current": s == current}
        for s in SECTIONS
    ]


def _render(ctx: Ctx, shown: Shown, notice: str | None = None) -> Page:
    context = {
        "store_name": ctx.store.get("name"),
        "console_path": ctx.path,
        "csrf": ctx.session.csrf,
        "nav": _nav(ctx, shown.section),
        "section": shown.section,
        "notice": notice or _notices(ctx.gettext, ctx.store).get(str(shown.context.get("notice_code") or "")),
        "script": SCRIPT,
        **shown.context,
    }
    body = templating.render(f"pages/console_{shown.section}.html", ctx.language, context, ctx.store)
    return Page(shown.status, body, _headers(ctx.language))


def _store(table: db.Table, store_id: str) -> StoreItem:
    return registry.with_defaults(registry.get_store(table, store_id))


def _ctx(table: db.Table, store_id: str, headers: Any, now: datetime, base_url: str) -> Ctx | None:
    store = _store(table, store_id)
    session = access.owner(store_id, headers, now)
    return None if session is None else Ctx(table, store, session, now, base_url)


def show(
    table: db.Table,
    store_id: str,
    section: str,
    headers: Any,
    query: Mapping[str, str] | None,
    now: datetime,
    *,
    base_url: str,
) -> Page:
    """A console page, or its sign-in form when the request has no owner session."""
    ctx = _ctx(table, store_id, headers, now, base_url)
    if ctx is None:
        return sessions.signin_page(_store(table, store_id), signin_target(base_url, store_id))
    query = query or {}
    notice = _notices(ctx.gettext, ctx.store).get(query.get("done") or "")
    return _render(ctx, Shown(section, BUILDERS[section](ctx, query)), notice)


def act(
    table: db.Table,
    clients: Any,
    store_id: str,
    action: str,
    headers: Any,
    form: Mapping[str, str],
    now: datetime,
    *,
    base_url: str,
) -> Page:
    """A console form: without an owner session, back to the sign-in; with a stale CSRF
    token, refused (403) having changed nothing; else the action, then its page."""
    ctx = _ctx(table, store_id, headers, now, base_url)
    if ctx is None:
        return _redirect(console_path(base_url, store_id))
    fields = dict(form)
    if not ctx.session.csrf_ok(fields.pop("csrf", None)):
        return _forbidden(ctx, _stale(ctx))
    outcome = ACTIONS[action](ctx, clients, fields)
    if isinstance(outcome, Shown):
        return _render(ctx, outcome)
    target = ctx.path + ("" if outcome.section == "setup" else f"/{outcome.section}")
    query = urlencode({**outcome.query, "done": outcome.done})
    return _redirect(f"{target}?{query}" + (f"#{outcome.anchor}" if outcome.anchor else ""))


def _stale(ctx: Ctx) -> str:
    return str(ctx.gettext("This form is out of date: nothing was changed. Reload the page and try again."))


def _forbidden(ctx: Ctx, message: str) -> Page:
    return _render(ctx, Shown("setup", {**setup.page(ctx, {}), "error": message}, 403))


def _redirect(location: str, cookie: str | None = None) -> Page:
    headers = {"Location": location, "Cache-Control": "no-store"}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Page(303, "", headers)


def signin_target(base_url: str, store_id: str) -> sessions.SignInTarget:
    path = console_path(base_url, store_id)
    return sessions.SignInTarget("console", f"{path}/session", path, key=sessions.API)


def sign_in(
    table: db.Table, store_id: str, form: Mapping[str, str], headers: Any, now: datetime, *, base_url: str
) -> Page | Redirect:
    """The owner's sign-in: to the console with a new session, or the form again (401)."""
    target = signin_target(base_url, store_id)
    return sessions.sign_in(table, _store(table, store_id), form, headers, target, base_url, now)


def sign_out(
    table: db.Table, store_id: str, headers: Any, form: Mapping[str, str], now: datetime, *, base_url: str
) -> Page:
    """End the owner's session (the form's CSRF token must be the session's)."""
    ctx = _ctx(table, store_id, headers, now, base_url)
    if ctx is not None and not ctx.session.csrf_ok(form.get("csrf")):
        return _forbidden(ctx, _stale(ctx))
    return _redirect(console_path(base_url, store_id), sessions.clear_cookie(base_url, store_id))
