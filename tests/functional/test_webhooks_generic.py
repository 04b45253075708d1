"""The generic order endpoint (Standard Webhooks): signatures, schema, the life of an order."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chalicelib.storage import keys
from tests.fixtures import body_of, standard_headers
from tests.support.intake import count_items, customer, jobs_of, order, orders
from tests.support.orders import EVENT, send

# The fixtures are dated around this instant: the world runs at it, whatever the calendar says.
pytestmark = pytest.mark.world_time("2026-11-22T10:05:00Z")


def test_a_signed_event_creates_the_order_once(client: Any, store: dict[str, Any]) -> None:
    first = send(client, store, EVENT)
    second = send(client, store, EVENT)
    assert first.status_code == 200 and first.json_body == {"status": "accepted", "order_id": "A-1001"}
    assert second.json_body["status"] == "duplicate"
    assert len(orders(store["store_id"])) == 1
    person = customer(store["store_id"], "nikos@example.gr")
    assert person is not None
    assert (person["phone"], person["language"], person["timezone"], person["birthday"]) == (
        "+306944000111",
        "el",
        "Europe/Athens",
        "02-29",
    )
    assert person["email_consent"] is True and "sms_consent" not in person
    # a warranty reminder and a birthday greeting are planned
    assert any(sk.startswith("JOB#warranty") for sk in jobs_of(keys.order_pk(store["store_id"], "A-1001")))
    assert "JOB#birthday" in jobs_of(keys.customer_pk(store["store_id"], "nikos@example.gr"))


def test_the_signature_may_list_several_for_secret_rotation(client: Any, store: dict[str, Any]) -> None:
    response = send(client, store, EVENT, extra_signatures=("v1,b2xkLXNlY3JldC1zaWduYXR1cmU=", "v2,whatever"))
    assert response.status_code == 200


def test_wrong_signatures_and_stale_timestamps_are_refused(client: Any, store: dict[str, Any]) -> None:
    before = count_items()
    body = body_of(EVENT)
    url = f"/webhooks/orders/{store['store_id']}"
    other_secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    assert client.http.post(url, headers=standard_headers(other_secret, body, "m1"), body=body).status_code == 401
    old = send(client, store, EVENT, timestamp=int(time.time()) - 6 * 60)
    assert old.status_code == 401 and "5 minutes" in old.json_body["error"]["message"]
    future = send(client, store, EVENT, timestamp=int(time.time()) + 6 * 60)
    assert future.status_code == 401
    headers = standard_headers(store["webhook_secret"], body, "m1")
    del headers["webhook-signature"]
    assert client.http.post(url, headers=headers, body=body).status_code == 401
    signed_for_other_id = standard_headers(store["webhook_secret"], body, "m1")
    signed_for_other_id["webhook-id"] = "m2"
    assert client.http.post(url, headers=signed_for_other_id, body=body).status_code == 401
    assert count_items() == before


@pytest.mark.parametrize(
    "change,field",
    [
        ({"colour": "blue"}, "colour"),
        ({"customer": {**EVENT["customer"], "nickname": "N"}}, "customer.nickname"),  # type: ignore[dict-item]
        ({"items": [{"sku": "A", "title": "B", "size": "L"}]}, "items[0].size"),
        ({"status": "shipped"}, "status"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"order_id": ""}, "order_id"),
        ({"order_id": "shopify:1"}, "order_id"),
        ({"items": [{"sku": "A", "title": "B", "quantity": 0}]}, "items[0].quantity"),
        ({"items": [{"sku": "A", "title": "B", "warranty_months": 999}]}, "items[0].warranty_months"),
        ({"customer": {"email_consent": "yes"}}, "customer.email_consent"),
        ({"total": "lots"}, "total"),
        ({"currency": "euro"}, "currency"),
    ],
)
def test_schema_errors_name_the_field_and_write_nothing(
    client: Any, store: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    before = count_items()
    response = send(client, store, {**EVENT, **change})
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == field
    assert (
        field in response.json_body["error"]["message"]
        or field.split(".")[-1] in response.json_body["error"]["message"]
    )
    assert count_items() == before


def test_a_missing_order_id_is_a_400(client: Any, store: dict[str, Any]) -> None:
    event = {k: v for k, v in EVENT.items() if k != "order_id"}
    response = send(client, store, event)
    assert response.status_code == 400 and response.json_body["error"]["message"] == "missing order_id"


def test_unusable_contact_data_is_dropped_with_a_warning_and_the_order_kept(client: Any, store: dict[str, Any]) -> None:
    event = {**EVENT, "customer": {"email": "nikos(at)example", "phone": "12", "first_name": "Nikos"}}
    response = send(client, store, event)
    assert response.status_code == 200
    assert response.json_body["warnings"] == [
        "customer.email: not a valid email address",
        "customer.phone: not a valid phone number",
    ]
    stored = order(store["store_id"], "A-1001")
    assert stored is not None and "customer_id" not in stored
    # no customer, so no messages
    assert list(jobs_of(keys.order_pk(store["store_id"], "A-1001"))) == []


def test_a_delivered_then_cancelled_order(client: Any, store: dict[str, Any]) -> None:
    send(client, store, EVENT, "m1")
    send(client, store, {**EVENT, "status": "delivered", "occurred_at": "2026-11-25T12:00:00Z"}, "m2")
    assert order(store["store_id"], "A-1001")["status"] == "delivered"  # type: ignore[index]
    assert "JOB#delivery_checkin" in jobs_of(keys.order_pk(store["store_id"], "A-1001"))
    send(client, store, {**EVENT, "status": "cancelled", "occurred_at": "2026-11-26T12:00:00Z"}, "m3")
    jobs = jobs_of(keys.order_pk(store["store_id"], "A-1001"))
    assert jobs and all(j["status"] == "cancelled" for j in jobs.values())


# --- the README example, pasted into bash against `make run` ---------------------------------
@pytest.mark.parametrize("when", ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00+05:00", "1066-10-14T09:00:00Z"])
def test_an_event_time_outside_any_plausible_range_is_a_400_and_writes_nothing(
    client: Any, store: dict[str, Any], when: str
) -> None:
    # GIVEN a correctly signed order event dated in year 9999, or before the year 1 once read as UTC, or in 1066
    before = count_items()
    # WHEN the platform sends it, as created and as delivered
    answers = [
        send(client, store, {**EVENT, "status": status, "occurred_at": when}, message_id=f"msg-{status}")
        for status in ("created", "delivered")
    ]
    # THEN each gets a 400 naming occurred_at (not a 500 from date arithmetic), and nothing is written
    assert [a.status_code for a in answers] == [400, 400]
    assert all(a.json_body["error"]["field"] == "occurred_at" for a in answers)
    assert count_items() == before
