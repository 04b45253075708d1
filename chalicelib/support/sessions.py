"""The support inbox's sign-in: a signed cookie, no session table.

Signing in with the store's support key yields a cookie holding the store, an expiry 12
hours ahead, the name support typed, a random nonce and the session's role, signed with the stage secret
(:mod:`chalicelib.platform.signing`).  It is HttpOnly, SameSite=Strict, Secure when the public URL
is https, and scoped to the store's pages (inbox, dashboard, CSV export).  Forms carry a CSRF token derived from the
nonce, so a page of another site cannot post actions even if the cookie travelled.

The role says which key opened the session: ``support`` (the support key: inbox, dashboard,
CSV export) or ``api`` (the store's API key, through the console: the owner's pages, and the
support pages too, since that key may work cases through the API).  A cookie from before
roles were written is a support one.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlparse, urlsplit

from chalicelib.core.clock import epoch
from chalicelib.core.errors import Forbidden
from chalicelib.platform import signing

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
