"""Time as data.  Handlers take ``now`` from their event; everything below takes it as an argument."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso(moment: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: sorts as text in DynamoDB keys."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 instant; a naive value is taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def event_time(event: Any) -> datetime:
    """The ``time`` of a scheduled (EventBridge) event, as an aware UTC datetime."""
    raw = event.to_dict() if hasattr(event, "to_dict") else event
    return parse_iso(raw["time"])


def wall_clock() -> datetime:
    """The real clock, for request handlers only (a webhook's arrival, a survey answer)."""
    return datetime.now(UTC)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
