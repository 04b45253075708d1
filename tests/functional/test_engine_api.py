"""The engine's store API: products, template overrides, and the sender identity."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

import devstack
from chalicelib.core.models import OrderStatus
from chalicelib.support import escalation
from tests.conftest import STORE_BODY, auth
from tests.support.world import at, customer_info, emails_to, ingest, order_event

# Orders here are placed on Monday 2027-03-01; the world starts there.
pytestmark = pytest.mark.world_time("2027-03-01T08:00:00Z")


def test_creating_a_store_asks_ses_to_verify_its_sender(client: Any, store: dict[str, Any]) -> None:
    identities = [i["IdentityName"] for i in boto3.client("sesv2").list_email_identities()["EmailIdentities"]]
    assert STORE_BODY["sender_email"] in identities
    # WHEN the sender changes THEN the new one is requested too
    changed = client.http.patch(
        f"/stores/{store['store_id']}",
        headers=auth(store["api_key"]),
        body=json.dumps({"sender_email": "news@cedarsage.example"}),
    )
    assert changed.status_code == 200
    identities = [i["IdentityName"] for i in boto3.client("sesv2").list_email_identities()["EmailIdentities"]]
    assert "news@cedarsage.example" in identities


def test_products_hold_tips_warranty_and_review_link(client: Any, store: dict[str, Any]) -> None:
    path = f"/stores/{store['store_id']}/products/KET-1"
    body = {
        "title": "Kettle",
        "tips": "Descale monthly.",
        "tips_links": [{"name": "Manual", "url": "https://cedarsage.example/m.pdf"}],
        "warranty_months": 24,
        "review_url": "https://reviews.example/kettle",
    }
    put = client.http.put(path, headers=auth(store["api_key"]), body=json.dumps(body))
    assert put.status_code == 200 and put.json_body["warranty_months"] == 24
    got = client.http.get(path, headers=auth(store["api_key"]))
    assert got.json_body["tips_links"] == body["tips_links"]
    bad = client.http.put(path, headers=auth(store["api_key"]), body=json.dumps({"warranty_months": "two"}))
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "warranty_months"
    assert client.http.get(path).status_code == 401


def test_a_broken_override_is_refused_with_its_line(client: Any, store: dict[str, Any]) -> None:
    path = f"/stores/{store['store_id']}/templates/thank_you.subject/en"
    broken = client.http.put(
        path, headers=auth(store["api_key"]), body=json.dumps({"source": "Thanks!\n{% if order_name %}"})
    )
    assert broken.status_code == 400
    assert "line 2" in broken.json_body["error"]["message"]
    unknown = client.http.put(
        f"/stores/{store['store_id']}/templates/nothing.html/en",
        headers=auth(store["api_key"]),
        body=json.dumps({"source": "x"}),
    )
    assert unknown.status_code == 400


def test_an_override_changes_what_customers_receive(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN the store's own subject for thank-yous in English
    path = f"/stores/{store['store_id']}/templates/thank_you.subject/en"
    saved = client.http.put(
        path,
        headers=auth(store["api_key"]),
        body=json.dumps({"source": "{{ first_name }}, your tea is on its way ({{ order_name }})"}),
    )
    assert saved.status_code == 200, saved.body
    # WHEN an order comes in
    ingest(
        store,
        order_event(
            store["store_id"],
            "77",
            OrderStatus.CREATED,
            at("2027-03-01T08:00:00Z"),
            customer_info("lee@example.com", first_name="Lee"),
        ),
        at("2027-03-01T08:00:00Z"),
    )
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN the customer sees the store's subject
    assert [m.subject for m in emails_to("lee@example.com")] == ["Lee, your tea is on its way (#77)"]
    # and once removed, the built-in text is back
    assert client.http.delete(path, headers=auth(store["api_key"])).status_code == 200
    assert client.http.get(path, headers=auth(store["api_key"])).status_code == 404


def test_an_arabic_customer_gets_a_right_to_left_survey_in_arabic(app: Any, store: dict[str, Any]) -> None:
    # GIVEN an Arabic-speaking customer whose order was delivered
    sid = store["store_id"]
    layla = customer_info("layla@example.com", first_name="ليلى", language="ar", timezone="Asia/Dubai")
    ingest(
        store,
        order_event(sid, "88", OrderStatus.CREATED, at("2027-03-01T08:00:00Z"), layla),
        at("2027-03-01T08:00:00Z"),
    )
    ingest(
        store,
        order_event(sid, "88", OrderStatus.DELIVERED, at("2027-03-02T08:00:00Z"), layla),
        at("2027-03-02T08:00:00Z"),
    )
    # WHEN the survey falls due (12:00 in Dubai)
    devstack.deliver(app, at("2027-03-09T08:01:00Z"))
    # THEN it is in Arabic, right to left, with a button per score
    survey = [m for m in emails_to("layla@example.com") if "ما رأيك" in m.subject]
    assert len(survey) == 1
    assert '<html lang="ar" dir="rtl">' in survey[0].body and survey[0].body.count("?score=") == 11


def test_did_we_make_it_right_asks_on_a_one_to_five_scale(app: Any, store: dict[str, Any]) -> None:
    from chalicelib.storage import db
    from chalicelib.stores import registry

    # GIVEN a refunded order whose case was resolved yesterday
    sid = store["store_id"]
    noor = customer_info("noor@example.com", first_name="Noor")
    ingest(
        store, order_event(sid, "99", OrderStatus.CREATED, at("2027-03-01T08:00:00Z"), noor), at("2027-03-01T08:00:00Z")
    )
    ingest(
        store,
        order_event(sid, "99", OrderStatus.REFUNDED, at("2027-03-04T08:00:00Z"), noor),
        at("2027-03-04T08:00:00Z"),
    )
    case = {
        "store_id": sid,
        "case_id": "c-99",
        "customer_id": "noor@example.com",
        "order_id": "99",
        "language": "en",
        "outcome": "refunded",
    }
    db.table().put(
        escalation.made_it_right_job(
            registry.get_store(db.table(), sid), case, at("2027-03-04T09:00:00Z"), shards=db.table().due_shards
        )
    )
    # WHEN a day passes
    devstack.deliver(app, at("2027-03-05T09:01:00Z"))
    # THEN the customer is asked, with five buttons to answer
    asked = [m for m in emails_to("noor@example.com") if m.subject == "Did we make it right?"]
    assert len(asked) == 1 and asked[0].body.count("?score=") == 5


def test_product_tips_are_given_per_language_with_the_stores_as_fallback(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN tips for the teapot in English and Arabic (the store speaks English)
    sid = store["store_id"]
    body = {
        "title": {"en": "Ceramic teapot", "ar": "إبريق شاي خزفي"},
        "tips": {"en": "Warm the pot with hot water first.", "ar": "سخّن الإبريق بالماء الساخن أولاً."},
    }
    put = client.http.put(f"/stores/{sid}/products/TEA-1", headers=auth(store["api_key"]), body=json.dumps(body))
    assert put.status_code == 200 and put.json_body["tips"]["ar"].startswith("سخّن"), put.body
    bad = client.http.put(
        f"/stores/{sid}/products/TEA-1", headers=auth(store["api_key"]), body=json.dumps({"tips": {"xx": "?"}})
    )
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "tips.xx"
    # WHEN an Arabic and a Greek customer get their delivery check-in
    for order_id, email, language in (("T-1", "layla@example.com", "ar"), ("T-2", "eleni@example.gr", "el")):
        who = customer_info(email, first_name="X", language=language)
        ingest(
            store,
            order_event(sid, order_id, OrderStatus.CREATED, at("2027-03-01T08:00:00Z"), who),
            at("2027-03-01T08:00:00Z"),
        )
        ingest(
            store,
            order_event(sid, order_id, OrderStatus.DELIVERED, at("2027-03-02T08:00:00Z"), who),
            at("2027-03-02T08:00:00Z"),
        )
    devstack.deliver(app, at("2027-03-02T08:01:00Z"))
    # THEN each reads the tip in their language, or in the store's when theirs is not given
    arabic = [m.body for m in emails_to("layla@example.com") if "سخّن الإبريق" in m.body]
    greek = [m.body for m in emails_to("eleni@example.gr") if "Warm the pot" in m.body]
    assert len(arabic) == 1 and "إبريق شاي خزفي" in arabic[0] and "Warm the pot" not in arabic[0]
    assert len(greek) == 1
