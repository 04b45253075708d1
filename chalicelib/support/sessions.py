"""The support sign-in (inbox, dashboard, CSV export): a signed cookie, no session table.

Signing in with the store's support key yields a cookie holding the store, an expiry 12
hours ahead, the name support typed, a random nonce and the session's role, signed with the stage secret
(:mod:`chalicelib.platform.signing`).  It is HttpOnly, SameSite=Strict, Secure when the public URL
is https, and scoped to the store's pages (inbox, dashboard, CSV export).  Forms carry a CSRF token derived from the
nonce, so a page of another site cannot post actions even if the cookie travelled.

The inbox and the dashboard share one sign-in: one form (``pages/signin.html``), one check of
the support key, one message when it is wrong; each page only says where it leads
(:class:`SignInTarget`).

The role says which key opened the session: ``support`` (the support key: inbox, dashboard,
CSV export) or ``api`` (the store's API key, through the console: the owner's pages, and the
support pages too, since that key may work cases through the API).  A cookie from before
roles were written is a support one.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlparse, urlsplit

from chalicelib.core.clock import epoch
from chalicelib.core.errors import Forbidden, NotFound, Unauthorized
from chalicelib.core.models import Page, Redirect
from chalicelib.core.validate import bearer
from chalicelib.platform import signing
from chalicelib.rendering import templating
from chalicelib.storage import db
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry

COOKIE = "aftercare_support"
LIFETIME = timedelta(hours=12)
_PURPOSE = "support-session"
_CSRF = "support-csrf"
SUPPORT, API = "support", "api"
ROLES = (SUPPORT, API)


@dataclass(frozen=True)
class Session:
    store_id: str
    name: str
    nonce: str
    expires: int
    role: str = SUPPORT

    @property
    def csrf(self) -> str:
        return signing.sign(_CSRF, f"{self.store_id}|{self.nonce}")

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(str(presented).encode(), self.csrf.encode())


def issue(store_id: str, name: str, now: datetime, *, role: str = SUPPORT) -> tuple[Session, str]:
    if role not in ROLES:
        raise ValueError(f"unknown session role {role!r}")
    session = Session(store_id, name.strip()[:100] or "support", secrets.token_urlsafe(12), epoch(now + LIFETIME), role)
    token = signing.sign(
        _PURPOSE,
        json.dumps(
            {"s": session.store_id, "u": session.name, "n": session.nonce, "e": session.expires, "r": session.role},
            separators=(",", ":"),
        ),
    )
    return session, token


def read(store_id: str, token: str | None, now: datetime) -> Session | None:
    """The session a cookie holds, when genuine, this store's and not expired."""
    if not token:
        return None
    payload = signing.verify(_PURPOSE, token)
    if payload is None:
        return None
    try:
        data = json.loads(payload)
        session = Session(str(data["s"]), str(data["u"]), str(data["n"]), int(data["e"]), str(data.get("r") or SUPPORT))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if session.role not in ROLES:
        return None
    if session.store_id != store_id or session.expires <= epoch(now):
        return None
    return session


def cookie_value(headers: Any) -> str | None:
    """Our cookie from a request's ``Cookie`` header."""

    raw = headers.get("cookie") if headers else None
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def cookie_path(base_url: str, store_id: str) -> str:
    """The store's pages: the inbox, the dashboard and the CSV export share one sign-in."""

    return f"{urlparse(base_url).path.rstrip('/')}/stores/{store_id}"


def set_cookie(token: str, base_url: str, store_id: str) -> str:
    secure = "; Secure" if base_url.startswith("https://") else ""
    return f"{COOKIE}={token}; Path={cookie_path(base_url, store_id)}; Max-Age={int(LIFETIME.total_seconds())}; HttpOnly; SameSite=Strict{secure}"


def clear_cookie(base_url: str, store_id: str) -> str:
    secure = "; Secure" if base_url.startswith("https://") else ""
    return f"{COOKIE}=; Path={cookie_path(base_url, store_id)}; Max-Age=0; HttpOnly; SameSite=Strict{secure}"


def require_same_origin(headers: Any) -> None:
    """Refuse a sign-in posted from another site (login CSRF).  Browsers name the posting
    page's origin on every cross-site form POST; it must be the host this request was sent
    to.  A request without ``Origin`` (a script, curl) has no page to forge from."""

    origin = (headers.get("origin") if headers else None) or ""
    if not origin:
        return
    host = (headers.get("host") or "").lower()
    if urlsplit(origin).netloc.lower() != host:
        raise Forbidden("sign-in must come from this site's own page")


def current(store_id: str, headers: Any, now: datetime) -> Session | None:
    """The session of the request's cookie, when it is a live one for this store."""

    return read(store_id, cookie_value(headers), now)


def store_for_reader(table: db.Table, store_id: str, headers: Any, now: datetime) -> StoreItem:
    """The store, for its API key or a signed-in support session (a download from a page)."""

    api_key = bearer(headers)
    if api_key:
        return registry.authenticate(table, store_id, api_key)
    if current(store_id, headers, now) is None:
        raise Unauthorized("missing credentials: send Authorization: Bearer <API key>, or sign in to the inbox")
    return registry.get_store(table, store_id)


# --- the one sign-in form --------------------------------------------------------------------
@dataclass(frozen=True)
class SignInTarget:
    """Where a sign-in leads: the page it opens (``inbox``, ``dashboard`` or ``console``: the
    form's heading and words), the path the form posts to, the URL the browser goes to once
    signed in, the fields the form carries through (the dashboard's period), and the key it
    takes: the support key, or the API key for the console (the session's role)."""

    page: str
    action: str
    after: str
    carry: Mapping[str, str] = field(default_factory=dict)
    key: str = SUPPORT


def signin_page(store: StoreItem, target: SignInTarget, *, failed: bool = False, name: str | None = None) -> Page:
    """The sign-in form, in the store's language; after a wrong key, a 401 that says so and keeps the name."""

    language = templating.language_or(store.get("language"), "en")
    context = {
        "store_name": store.get("name"),
        "page": target.page,
        "action": target.action,
        "carry": dict(target.carry),
        "failed": failed,
        "name": name,
    }
    return Page(401 if failed else 200, templating.render("pages/signin.html", language, context, store))


def sign_in(
    table: db.Table,
    store: StoreItem,
    form: Mapping[str, str],
    headers: Any,
    target: SignInTarget,
    base_url: str,
    now: datetime,
) -> Page | Redirect:
    """A session for whoever types the store's key of the target's kind on the store's own
    page; a wrong key shows the form again.  A support session opens the inbox, the dashboard
    and the CSV export alike; an API-key session (role ``api``) opens the console too."""

    require_same_origin(headers)
    store_id = str(store["store_id"])
    presented = (form.get(f"{target.key}_key") or "").strip() or None
    try:
        registry.authenticate(table, store_id, presented, kind=target.key)
    except (Unauthorized, NotFound):
        return signin_page(store, target, failed=True, name=form.get("name"))
    name = form.get("name") or ("owner" if target.key == API else "")
    _session, token = issue(store_id, name, now, role=target.key)
    return Redirect(target.after, {"Set-Cookie": set_cookie(token, base_url, store_id)})
