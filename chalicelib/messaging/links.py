"""Links put in messages: one-click unsubscribe, signed so they need no table write."""

from __future__ import annotations

import json

from chalicelib.platform import signing

UNSUBSCRIBE = "unsubscribe"


def unsubscribe_token(store_id: str, customer_id: str, contact: str) -> str:
    return signing.sign(
        UNSUBSCRIBE, json.dumps([store_id, customer_id, contact], separators=(",", ":"), ensure_ascii=False)
    )


def unsubscribe_url(base_url: str, store_id: str, customer_id: str, contact: str) -> str:
    """``{PUBLIC_BASE_URL}/u/{token}``: the page (GET) and the RFC 8058 one-click target (POST)."""
    return f"{base_url}/u/{unsubscribe_token(store_id, customer_id, contact)}"


def read_unsubscribe_token(token: str) -> tuple[str, str, str] | None:
    """(store_id, customer_id, contact) from a genuine token, else None."""
    payload = signing.verify(UNSUBSCRIBE, token)
    if payload is None:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) and v for v in value)):
        return None
    return value[0], value[1], value[2]
