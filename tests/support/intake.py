"""What the intake tests look at: the table's items, as a user of the stored data would."""

from __future__ import annotations

from typing import Any

from chalicelib.storage import db, keys

# The console's record of each source's last webhook (chalicelib/intake/activity.py) is a
# diagnostic overwritten by every delivery, refused ones included; it is not stored data, so
# "nothing changed" is judged without it (tests of the record look at it directly).
DIAGNOSTIC_TYPES = frozenset({"webhook_activity"})


def all_items() -> list[dict[str, Any]]:
    """Every stored item but the diagnostics."""
    table = db.table()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table.name}
    while True:
        page = table.client.scan(**kwargs)
        items += [item for item in map(table.load, page.get("Items", [])) if item.get("type") not in DIAGNOSTIC_TYPES]
        if not page.get("LastEvaluatedKey"):
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_items() -> int:
    return len(all_items())


def orders(store_id: str) -> list[dict[str, Any]]:
    return [i for i in all_items() if i.get("type") == "order" and i.get("store_id") == store_id]


def customer(store_id: str, customer_id: str) -> dict[str, Any] | None:
    return db.table().get(keys.customer(store_id, customer_id))


def order(store_id: str, order_id: str) -> dict[str, Any] | None:
    return db.table().get(keys.order(store_id, order_id))


def jobs_of(owner_pk: str) -> dict[str, dict[str, Any]]:
    """An owner's jobs by sort key."""
    return {str(j["SK"]): j for j in db.table().partition(owner_pk, keys.job_sk(""))}
