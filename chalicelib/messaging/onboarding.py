"""A store's creation and settings changes, with what they set up outside the table: SES must
verify the sender before it sends from it, and support's email and phone must be subscribed to
the store's alerts.  Either failing is logged and never undoes the change (saving again retries)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.messaging import transports
from chalicelib.platform.aws import Clients
from chalicelib.platform.observability import logger
from chalicelib.storage import db
from chalicelib.stores import registry
from chalicelib.support import alerts

ALERT_CONTACTS = frozenset({"support_email", "support_phone"})


def create(table: db.Table, clients: Clients, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The new store as ``POST /stores`` answers it: its settings and, this once, its keys and secret."""

    created = registry.create_store(table, body, now)
    logger.info("store created", extra={"store_id": created.store_id})
    transports.ensure_sender(clients.sesv2, created.store["sender_email"])
    alerts.route_alerts(table, clients.sns, created.store)
    return {
        **registry.public_view(created.store),
        "api_key": created.api_key,
        "support_key": created.support_key,
        "webhook_secret": created.webhook_secret,
    }


def update(table: db.Table, clients: Clients, store_id: str, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Change a store's settings; a new sender is verified again and new support contacts are
    subscribed again (and only then: each asks the person to confirm by email or SMS)."""

    item = registry.update_store(table, store_id, body, now)
    if "sender_email" in body:
        transports.ensure_sender(clients.sesv2, item["sender_email"])
    if ALERT_CONTACTS & set(body):
        alerts.route_alerts(table, clients.sns, item)
    return registry.public_view(item)
