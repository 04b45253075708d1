"""Who opens the console: the store's owner, signed in with the store's API key.

The session is the support pages' signed cookie (:mod:`chalicelib.support.sessions`) with the
``api`` role; a support session (the support key) does not open the console."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.core.errors import NotFound, Unauthorized
from chalicelib.storage import db
from chalicelib.stores import registry
from chalicelib.support import sessions


def sign_in(
    table: db.Table, store_id: str, form: Mapping[str, str], headers: Any, now: datetime, *, base_url: str
) -> str | None:
    """The ``Set-Cookie`` of a new owner session when the form's ``api_key`` is the store's,
    else None.  A sign-in posted from another site's page is refused (Forbidden)."""
    sessions.require_same_origin(headers)
    try:
        registry.authenticate(table, store_id, (form.get("api_key") or "").strip() or None, kind="api")
    except (Unauthorized, NotFound):
        return None
    _session, token = sessions.issue(store_id, form.get("name") or "owner", now, role=sessions.API)
    return sessions.set_cookie(token, base_url, store_id)


def owner(store_id: str, headers: Any, now: datetime) -> sessions.Session | None:
    """The request's session when it is a live owner session of this store."""
    session = sessions.read(store_id, sessions.cookie_value(headers), now)
    return session if session is not None and session.role == sessions.API else None
