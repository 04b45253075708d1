"""Webhook signatures, always over the raw body as received (never re-serialised JSON), always
compared in constant time.

* Shopify and WooCommerce: base64 HMAC-SHA256 of the body with a shared secret.
* Standard Webhooks (the generic endpoint): ``webhook-signature: v1,<base64> [v1,<base64> ...]``
  over ``{webhook-id}.{webhook-timestamp}.{body}``, the key being the base64 part of a
  ``whsec_`` secret; several signatures may be sent while a secret is rotated.

Each check takes the secrets that verify now: after a store rotates its webhook secret, the
old one keeps verifying for an overlap (:func:`chalicelib.stores.registry.webhook_secrets`),
so deliveries signed before the platform was given the new one are not lost.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from chalicelib.core.errors import Unauthorized

TOLERANCE_SECONDS = 5 * 60
MAX_SIGNATURES = 10
MAX_TIMESTAMP_DIGITS = 12


def hmac_base64(key: bytes, content: bytes) -> str:
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def _each(secrets: str | Sequence[str]) -> list[str]:
    return [secrets] if isinstance(secrets, str) else list(secrets)


def require_body_hmac(secrets: str | Sequence[str], body: bytes, presented: str | None, header: str) -> None:
    """Raise Unauthorized unless ``presented`` is the base64 HMAC of ``body`` under one of ``secrets``."""
    if not presented:
        raise Unauthorized(f"missing {header} header")
    given = presented.strip().encode("utf-8", "replace")
    matches = [hmac.compare_digest(hmac_base64(s.encode(), body).encode(), given) for s in _each(secrets)]
    if not any(matches):
        raise Unauthorized(f"{header} does not match the body")


def standard_key(secret: str) -> bytes:
    """The signing key of a ``whsec_<base64>`` secret."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return encoded.encode()


def standard_sign(secret: str, message_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message (what a sender puts in ``webhook-signature``)."""
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + hmac_base64(standard_key(secret), content)


def require_standard(
    secrets: str | Sequence[str],
    message_id: str | None,
    timestamp: str | None,
    signatures: str | None,
    body: bytes,
    now: datetime,
) -> None:
    """Raise Unauthorized unless one of the ``v1`` signatures matches under one of ``secrets``
    and the timestamp is within five minutes of ``now`` (a replayed old message is refused)."""
    if not message_id or not timestamp or not signatures:
        raise Unauthorized("missing webhook-id, webhook-timestamp or webhook-signature header")
    raw_time = timestamp.strip()
    # Digits only, and few enough to be a time: a 400-digit number would overflow the float
    # comparison below before any signature is checked.
    if not (raw_time.isascii() and raw_time.isdigit()) or len(raw_time) > MAX_TIMESTAMP_DIGITS:
        raise Unauthorized("webhook-timestamp must be whole seconds since the epoch")
    sent_at = int(raw_time)
    if abs(now.timestamp() - sent_at) > TOLERANCE_SECONDS:
        raise Unauthorized("webhook-timestamp is more than 5 minutes away from now")
    expected = [standard_sign(secret, message_id, raw_time, body).encode() for secret in _each(secrets)]
    for candidate in signatures.split()[:MAX_SIGNATURES]:
        version, _, _ = candidate.partition(",")
        given = candidate.encode("utf-8", "replace")
        if version == "v1" and any(hmac.compare_digest(e, given) for e in expected):
            return
    raise Unauthorized("no webhook-signature matches the message")
