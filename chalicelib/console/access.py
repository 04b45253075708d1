"""Who opens the console: the store's owner, signed in with the store's API key.

The session is the support pages' signed cookie (:mod:`chalicelib.support.sessions`) with the
``api`` role, opened through the one sign-in form (:func:`chalicelib.support.sessions.sign_in`
with a ``console`` target); a support session (the support key) does not open the console."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.support import sessions


def owner(store_id: str, headers: Any, now: datetime) -> sessions.Session | None:
    """The request's session when it is a live owner session of this store."""
    session = sessions.read(store_id, sessions.cookie_value(headers), now)
    return session if session is not None and session.role == sessions.API else None
