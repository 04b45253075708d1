"""What moto's SES was asked to send."""

from __future__ import annotations

from typing import Any


def emails_to(address: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        m
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if address in (getattr(m, "destinations", {}) or {}).get("ToAddresses", [])
    ]
