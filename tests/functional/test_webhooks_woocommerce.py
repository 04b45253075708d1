"""WooCommerce webhooks: the creation ping, every handled status, each delivered twice."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.storage import keys
from tests.fixtures import body_of, payload, raw, shopify_headers, woo_headers
from tests.support.intake import all_items, count_items, customer, jobs_of, order, orders

# The fixtures are dated around this instant: the world runs at it, whatever the calendar says.
pytestmark = pytest.mark.world_time("2026-11-20T10:00:00Z")

ORDER_ID = "woocommerce:4821"
ELENI = "eleni.papadopoulou@example.com"


def post(client: Any, store: dict[str, Any], body: bytes, headers: dict[str, str]) -> Any:
    return client.http.post(f"/webhooks/woocommerce/{store['store_id']}", headers=headers, body=body)


def deliver(client: Any, store: dict[str, Any], fixture: str, topic: str = "order.updated", delivery: str = "1") -> Any:
    body = raw(f"woocommerce/{fixture}.json")
    return post(client, store, body, woo_headers(store["webhook_secret"], body, topic, delivery_id=delivery))


def test_the_creation_ping_is_answered_and_changes_nothing(client: Any, store: dict[str, Any]) -> None:
    before = count_items()
    response = post(client, store, b"webhook_id=17", {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.json_body == {"status": "ignored", "reason": "ping"}
    assert count_items() == before
    # an unknown store is still unknown, even for a ping
    assert (
        client.http.post(
            "/webhooks/woocommerce/stnosuchstore000",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=b"webhook_id=17",
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "topic,fixture,status",
    [
        ("order.created", "order_processing", "created"),
        ("order.updated", "order_completed", "fulfilled"),
        ("order.updated", "order_cancelled", "cancelled"),
        ("order.updated", "order_refunded", "refunded"),
    ],
)
def test_each_status_delivered_twice_stores_one_order_and_refuses_a_bad_signature(
    client: Any, store: dict[str, Any], topic: str, fixture: str, status: str
) -> None:
    before = count_items()
    body = raw(f"woocommerce/{fixture}.json")
    forged = post(client, store, body, woo_headers("wrong-secret", body, topic))
    unsigned = post(
        client,
        store,
        body,
        {k: v for k, v in woo_headers(store["webhook_secret"], body, topic).items() if k != "X-WC-Webhook-Signature"},
    )
    assert forged.status_code == 401 and unsigned.status_code == 401
    assert count_items() == before
    # WHEN WooCommerce delivers the same state twice (each attempt has a new delivery id)
    first = deliver(client, store, fixture, topic, delivery="101")
    second = deliver(client, store, fixture, topic, delivery="102")
    # THEN one order in the status, and the second delivery is a duplicate
    assert first.status_code == 200 and first.json_body["status"] == "accepted", first.body
    snapshot = all_items()
    assert second.json_body["status"] == "duplicate"
    assert all_items() == snapshot
    stored = orders(store["store_id"])
    assert len(stored) == 1 and stored[0]["status"] == status
    person = customer(store["store_id"], ELENI)
    assert person is not None and person["orders_count"] == 1


def test_a_new_order_reads_customer_details_from_billing_and_meta_data(client: Any, store: dict[str, Any]) -> None:
    assert deliver(client, store, "order_processing", "order.created").status_code == 200
    person = customer(store["store_id"], ELENI)
    assert person is not None
    assert person["phone"] == "+306912345678"  # national number read with the billing country
    assert person["first_name"] == "Eleni"
    assert person["birthday"] == "1988-04-17"
    assert person["email_consent"] is True and person["sms_consent"] is False
    assert person["first_order_at"] == "2026-11-20T09:40:02Z"
    stored = order(store["store_id"], ORDER_ID)
    assert stored is not None and stored["order_name"] == "#4821" and stored["total"] == "45.00"
    assert stored["items"] == [{"sku": "CS-SPRAY-LAV", "title": "Lavender linen spray", "quantity": 2}]
    assert "JOB#thank_you" in jobs_of(keys.order_pk(store["store_id"], ORDER_ID))


def test_meta_data_keys_come_from_the_store_settings(client: Any, store: dict[str, Any]) -> None:
    import json

    from tests.conftest import auth

    client.http.patch(
        f"/stores/{store['store_id']}",
        headers=auth(store["api_key"]),
        body=json.dumps({"birthday_field": "date_of_birth", "email_consent_field": "newsletter"}),
    )
    order_json = payload("woocommerce/order_processing.json")
    order_json["meta_data"] = [
        {"id": 1, "key": "_date_of_birth", "value": "17/04/1988"},
        {"id": 2, "key": "newsletter", "value": "no"},
    ]
    body = body_of(order_json)
    assert post(client, store, body, woo_headers(store["webhook_secret"], body, "order.created")).status_code == 200
    person = customer(store["store_id"], ELENI)
    assert person is not None and person["birthday"] == "1988-04-17" and person["email_consent"] is False


def test_an_unpaid_order_waits_and_a_repeated_processing_update_is_not_a_second_order(
    client: Any, store: dict[str, Any]
) -> None:
    before = count_items()
    pending = deliver(client, store, "order_pending", "order.created")
    assert pending.json_body == {"status": "ignored", "reason": "status pending"}
    assert count_items() == before
    # WHEN payment moves it to processing, then an admin edit sends processing again
    assert deliver(client, store, "order_processing", "order.updated").json_body["status"] == "accepted"
    edited = payload("woocommerce/order_processing.json")
    edited.update(date_modified_gmt="2026-11-20T12:00:00", customer_note="Please ring twice")
    body = body_of(edited)
    again = post(client, store, body, woo_headers(store["webhook_secret"], body, "order.updated"))
    # THEN it is one order, counted once
    assert again.status_code == 200
    assert customer(store["store_id"], ELENI)["orders_count"] == 1  # type: ignore[index]
    assert len(orders(store["store_id"])) == 1


def test_the_same_person_through_shopify_and_woocommerce_is_one_customer(client: Any, store: dict[str, Any]) -> None:
    deliver(client, store, "order_processing", "order.created")
    body = raw("shopify/orders_create.json")
    client.http.post(
        f"/webhooks/shopify/{store['store_id']}",
        headers=shopify_headers(store["webhook_secret"], body, "orders/create", "ev-1"),
        body=body,
    )
    person = customer(store["store_id"], ELENI)
    assert person is not None and person["orders_count"] == 2
    assert len(orders(store["store_id"])) == 2
    assert len([i for i in all_items() if i.get("type") == "customer"]) == 1


def test_unknown_and_irrelevant_topics(client: Any, store: dict[str, Any]) -> None:
    body = raw("woocommerce/order_processing.json")
    product = post(client, store, body, woo_headers(store["webhook_secret"], body, "product.updated"))
    assert product.status_code == 200 and product.json_body["status"] == "ignored"
    unknown = post(client, store, body, woo_headers(store["webhook_secret"], body, "planet.exploded"))
    assert unknown.status_code == 400 and "planet.exploded" in unknown.json_body["error"]["message"]
    malformed = b'{"id": 4821, "status": '
    bad_json = post(client, store, malformed, woo_headers(store["webhook_secret"], malformed, "order.created"))
    assert bad_json.status_code == 400
    no_id = body_of({k: v for k, v in payload("woocommerce/order_processing.json").items() if k != "id"})
    assert post(client, store, no_id, woo_headers(store["webhook_secret"], no_id, "order.created")).status_code == 400
    assert orders(store["store_id"]) == []


def test_an_order_id_of_superscript_digits_is_a_400_and_writes_nothing(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a correctly signed order whose id is "²³" (digits to str.isdigit, not to int)
    body = body_of({**payload("woocommerce/order_processing.json"), "id": "\u00b2\u00b3"})
    before = count_items()
    # WHEN WooCommerce delivers it
    answer = post(client, store, body, woo_headers(store["webhook_secret"], body, "order.created"))
    # THEN the store gets a 400 naming the order id, and nothing is written
    assert answer.status_code == 400 and "order id" in answer.json_body["error"]["message"]
    assert count_items() == before
