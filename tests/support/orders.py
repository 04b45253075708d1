"""Orders as a store's platform sends them: signed generic webhooks through the real route."""

from __future__ import annotations

from typing import Any

from tests.fixtures import body_of, standard_headers

DANA = "dana@example.com"


def customer(email: str = DANA, **fields: Any) -> dict[str, Any]:
    return {
        "email": email,
        "first_name": "Dana",
        "language": "en",
        "timezone": "Europe/Athens",
        "email_consent": True,
        **fields,
    }


def post_order(client: Any, store: dict[str, Any], order_id: str, status: str, when: str, who: dict[str, Any]) -> None:
    event = {
        "order_id": order_id,
        "status": status,
        "occurred_at": when,
        "order_name": f"#{order_id}",
        "customer": who,
        "items": [{"sku": "TEA-1", "title": "Ceramic teapot", "quantity": 1}],
    }
    body = body_of(event)
    answer = client.http.post(
        f"/webhooks/orders/{store['store_id']}",
        headers=standard_headers(store["webhook_secret"], body, f"{order_id}-{status}"),
        body=body,
    )
    assert answer.status_code in (200, 201, 202), answer.body


EVENT = {
    "order_id": "A-1001",
    "status": "created",
    "occurred_at": "2026-11-22T10:00:00Z",
    "order_name": "#1001",
    "customer": {
        "email": "Nikos@Example.gr",
        "phone": "+306944000111",
        "first_name": "Nikos",
        "language": "el-GR",
        "timezone": "Europe/Athens",
        "birthday": "02-29",
        "email_consent": True,
        "sms_consent": None,
    },
    "items": [{"sku": "CS-BOARD-L", "title": "Olive wood cutting board", "quantity": 1, "warranty_months": 24}],
    "total": "64.00",
    "currency": "EUR",
}


def send(client: Any, store: dict[str, Any], event: dict[str, Any], message_id: str = "msg_1", **kwargs: Any) -> Any:
    body = body_of(event)
    return client.http.post(
        f"/webhooks/orders/{store['store_id']}",
        headers=standard_headers(store["webhook_secret"], body, message_id, **kwargs),
        body=body,
    )
