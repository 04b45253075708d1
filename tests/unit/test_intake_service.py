"""The one transaction of a webhook, and CRM sync's chunks, checked without AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from unittest.mock import create_autospec

import pytest

from chalicelib.core.models import CustomerInfo, LineItem, OrderEvent, OrderStatus
from chalicelib.customers import profiles
from chalicelib.intake import service
from chalicelib.storage import db, keys
from chalicelib.stores.registry import with_defaults

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
STORE = with_defaults({"store_id": "st1", "timezone": "Europe/Athens"})


@pytest.fixture(autouse=True)
def _stage(local_env: dict[str, str]) -> None:
    """Job planning reads the stage's shard count."""


def event(status: OrderStatus = OrderStatus.CREATED, **changes: Any) -> OrderEvent:
    base: dict[str, Any] = dict(
        source="generic",
        event_id="msg_1",
        store_id="st1",
        order_id="A-1",
        status=status,
        occurred_at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        customer=CustomerInfo(email="eleni@example.com", phone="+306944000111", first_name="Eleni", birthday="04-17"),
        items=(LineItem("CS-BOARD-L", "Board", 1, warranty_months=24),),
    )
    base.update(changes)
    return OrderEvent(**base)


def keys_of(ops: list[db.TransactOp]) -> list[tuple[str, str]]:
    return [service._key_of(op) for op in ops]


def test_marker_first_order_second_then_customer_contacts_link_and_jobs_once_each() -> None:
    ops = service.build(event(), STORE, NOW, first_sight=True, cancels=[], shards=4)
    found = keys_of(ops)
    marker, order = keys.event_marker("st1", "generic", "msg_1"), keys.order("st1", "A-1")
    assert found[0] == (marker["PK"], marker["SK"]) and ops[0].condition is not None
    assert found[1] == (order["PK"], order["SK"])
    assert len(set(found)) == len(found) <= 100
    for key in (
        keys.customer("st1", "eleni@example.com"),
        keys.contact("st1", "eleni@example.com"),
        keys.contact("st1", "+306944000111"),
        keys.customer_order("st1", "eleni@example.com", "A-1"),
    ):
        assert (key["PK"], key["SK"]) in found
    assert any(sk.startswith("JOB#") for _, sk in found)
    # the marker expires after about 30 days
    assert ops[0].item is not None and ops[0].item["expires_at"] == int(NOW.timestamp()) + 30 * 86400


def test_a_new_order_counts_once_and_a_later_event_only_moves_forward() -> None:
    first = service.build(event(), STORE, NOW, first_sight=True, cancels=[], shards=4)
    later = service.build(event(OrderStatus.DELIVERED), STORE, NOW, first_sight=False, cancels=[], shards=4)
    assert first[1].condition is not None and first[1].condition.text == "attribute_not_exists(PK)"
    assert later[1].condition is not None and "attribute_exists(PK)" in later[1].condition.text
    customer_first = next(op for op in first if op.key == keys.customer("st1", "eleni@example.com"))
    customer_later = next(op for op in later if op.key == keys.customer("st1", "eleni@example.com"))
    assert customer_first.update is not None and "orders_count" in customer_first.update.names.values()
    assert customer_later.update is not None and "orders_count" not in customer_later.update.names.values()


def test_an_order_without_contact_is_stored_without_customer_or_messages() -> None:
    ops = service.build(
        event(customer=CustomerInfo(first_name="Anon")), STORE, NOW, first_sight=True, cancels=[], shards=4
    )
    assert len(ops) == 2  # the marker and the order, nothing else


def test_sync_of_500_customers_writes_transactions_of_at_most_100_items() -> None:
    table = create_autospec(db.Table, instance=True)
    table.due_shards = 4
    body = {
        "customers": [
            {"email": f"c{i}@example.com", "phone": f"+3069440{i:05d}", "birthday": "06-15"} for i in range(500)
        ]
    }
    result = profiles.sync(table, STORE, body, NOW)
    sizes = [len(call.args[0]) for call in table.transact.call_args_list]
    assert result == profiles.SyncResult(received=500, written=500, transactions=len(sizes))
    assert max(sizes) <= 100 and sum(sizes) == 500 * 4
    assert len(sizes) == 20
