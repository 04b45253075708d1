"""CRM sync: up to 500 customers per call, validated first, written in chunks."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.storage import keys
from tests.conftest import auth
from tests.support.intake import all_items, count_items, customer, jobs_of


def sync(client: Any, store: dict[str, Any], body: Any, key: str | None = None) -> Any:
    return client.http.post(
        f"/stores/{store['store_id']}/customers", headers=auth(key or store["api_key"]), body=json.dumps(body)
    )


def people(count: int) -> list[dict[str, Any]]:
    return [
        {
            "email": f"Customer{i}@Example.com",
            "phone": f"+3069440{i:05d}",
            "first_name": f"Name{i}",
            "language": "el",
            "timezone": "Europe/Athens",
            "birthday": "1990-06-15",
            "email_consent": i % 2 == 0,
            "sms_consent": None,
        }
        for i in range(count)
    ]


def test_customers_are_upserted_in_chunks_of_at_most_100_items(client: Any, store: dict[str, Any]) -> None:
    # (500 per call is checked against a fake table in tests/unit: moto copies the whole table
    # on every transaction, which makes large syncs slow here)
    response = sync(client, store, {"customers": people(30)})
    assert response.status_code == 200, response.body
    body = response.json_body
    # each customer is 4 items (record, email alias, phone alias, birthday greeting): 25 a chunk
    assert body == {"received": 30, "written": 30, "transactions": 2}
    stored = [i for i in all_items() if i.get("type") == "customer"]
    assert len(stored) == 30
    one = customer(store["store_id"], "customer7@example.com")
    assert one is not None
    assert (one["phone"], one["language"], one["birthday"], one["email_consent"]) == (
        "+306944000007",
        "el",
        "1990-06-15",
        False,
    )
    assert "sms_consent" not in one and "orders_count" not in one
    assert "JOB#birthday" in jobs_of(keys.customer_pk(store["store_id"], "customer7@example.com"))


def test_a_second_sync_updates_without_duplicating_and_keeps_what_it_does_not_state(
    client: Any, store: dict[str, Any]
) -> None:
    sync(client, store, {"customers": people(3)})
    before = count_items()
    again = sync(
        client, store, {"customers": [{"email": "customer1@example.com", "first_name": "Eleni", "sms_consent": True}]}
    )
    assert again.status_code == 200
    one = customer(store["store_id"], "customer1@example.com")
    assert one is not None and one["first_name"] == "Eleni" and one["sms_consent"] is True
    assert one["birthday"] == "1990-06-15" and one["phone"] == "+306944000001"
    assert count_items() == before


def test_one_bad_record_names_its_index_and_field_and_nothing_is_written(client: Any, store: dict[str, Any]) -> None:
    before = count_items()
    cases = [
        ({"email": "not-an-email"}, "customers[2].email"),
        ({"phone": "6944000111"}, "customers[2].phone"),
        ({"timezone": "Mars/Olympus"}, "customers[2].timezone"),
        ({"birthday": "1990-02-30"}, "customers[2].birthday"),
        ({"language": "xx"}, "customers[2].language"),
        ({"email_consent": "yes"}, "customers[2].email_consent"),
        ({"shoe_size": 42}, "customers[2].shoe_size"),
    ]
    for change, field in cases:
        records = people(4)
        records[2] = {**records[2], **change}
        response = sync(client, store, {"customers": records})
        assert response.status_code == 400, field
        assert response.json_body["error"]["field"] == field
        assert "customers[2]" in response.json_body["error"]["message"]
    no_contact = sync(client, store, {"customers": [{"first_name": "Anon"}]})
    assert no_contact.status_code == 400 and no_contact.json_body["error"]["field"] == "customers[0].email"
    twice = sync(client, store, {"customers": [{"email": "a@example.com"}, {"email": "A@example.com"}]})
    assert twice.status_code == 400 and "customers[0]" in twice.json_body["error"]["message"]
    too_many = sync(client, store, {"customers": people(501)})
    assert too_many.status_code == 400 and "500" in too_many.json_body["error"]["message"]
    assert sync(client, store, {"customers": []}).status_code == 400
    assert count_items() == before


def test_sync_needs_the_stores_own_api_key(client: Any, store: dict[str, Any]) -> None:
    assert (
        client.http.post(
            f"/stores/{store['store_id']}/customers", headers={"Content-Type": "application/json"}, body="{}"
        ).status_code
        == 401
    )
    assert sync(client, store, {"customers": people(1)}, key=f"ak_{store['store_id']}_wrong").status_code == 401


def test_two_records_sharing_a_phone_are_a_400_naming_both_and_nothing_is_written(
    client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a sync where two people (different emails) give the same phone number
    body = {
        "customers": [
            {"email": "ana@example.com", "phone": "+306944000111"},
            {"email": "bo@example.com", "phone": "+306944000111"},
        ]
    }
    before = count_items()
    # WHEN the store sends it
    answer = sync(client, store, body)
    # THEN it gets a 400 that names the clashing records, not a server error, and nothing is written
    assert answer.status_code == 400
    assert (
        "customers[1]" in answer.json_body["error"]["message"]
        and "customers[0]" in answer.json_body["error"]["message"]
    )
    assert count_items() == before
