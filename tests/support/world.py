"""A small world for engine tests: orders written by intake's own code, time moved with
devstack.deliver, and what customers received read back from moto's SES and SNS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import iso
from chalicelib.core.models import CustomerInfo, LineItem, OrderEvent, OrderStatus
from chalicelib.intake import service
from chalicelib.storage import db
from chalicelib.stores import registry


def customer_info(email: str | None = "dana@example.com", **fields: Any) -> CustomerInfo:
    defaults: dict[str, Any] = {
        "first_name": "Dana",
        "language": "en",
        "timezone": "Europe/Athens",
        "email_consent": True,
    }
    defaults.update(fields)
    return CustomerInfo(email=email, **defaults)


def order_event(
    store_id: str,
    order_id: str,
    status: OrderStatus,
    at: datetime,
    customer: CustomerInfo,
    items: tuple[LineItem, ...] = (),
) -> OrderEvent:
    return OrderEvent(
        source="api",
        event_id=f"{order_id}-{status.value}",
        store_id=store_id,
        order_id=order_id,
        status=status,
        occurred_at=at,
        customer=customer,
        ordered_at=at if status is OrderStatus.CREATED else None,
        items=items or (LineItem(sku="TEA-1", title="Ceramic teapot"),),
        order_name=f"#{order_id}",
    )


def ingest(store: dict[str, Any], event: OrderEvent, now: datetime) -> None:
    """The event written by intake's own code, as a webhook carrying it would be (received at ``now``)."""
    settings = registry.with_defaults(registry.get_store(db.table(), event.store_id, fresh=True))
    outcome = service.ingest(db.table(), event, settings, now)
    assert outcome.status in ("accepted", "duplicate"), outcome


def emails_to(address: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        m
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if address in (getattr(m, "destinations", {}) or {}).get("ToAddresses", [])
    ]


def subjects_to(address: str) -> list[str]:
    return [m.subject for m in emails_to(address)]


def sms_to(phone: str) -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return [
        body for number, body in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values() if number == phone
    ]


def job(store_id: str, owner_pk: str, sk: str) -> dict[str, Any]:
    item = db.table().get({"PK": owner_pk, "SK": sk}, consistent=True)
    assert item is not None
    return item


def at(text: str) -> datetime:
    from chalicelib.core.clock import parse_iso

    return parse_iso(text)


__all__ = ["at", "customer_info", "emails_to", "ingest", "iso", "job", "order_event", "sms_to", "subjects_to"]
