"""One order walked through time: every follow-up arrives once, at an allowed moment.

Orders arrive through the real generic webhook (signed per Standard Webhooks); time moves
with devstack.deliver."""

from __future__ import annotations

import json
from typing import Any

import pytest

import devstack
from chalicelib.storage import keys
from chalicelib.storage.expression import Update
from tests.conftest import auth
from tests.support.orders import DANA, customer, post_order
from tests.support.world import at, subjects_to


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_an_order_gets_each_follow_up_once_at_an_allowed_moment(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store whose teapot has usage tips, and Dana (Athens) ordering on a Monday morning
    sid = store["store_id"]
    put = client.http.put(
        f"/stores/{sid}/products/TEA-1",
        headers=auth(store["api_key"]),
        body=json.dumps(
            {
                "tips": "Warm the pot with hot water first.",
                "tips_links": [{"name": "How-to video", "url": "https://cedarsage.example/v/tea"}],
            }
        ),
    )
    assert put.status_code == 200, put.body
    post_order(client, store, "1001", "created", "2027-03-01T08:00:00Z", customer())  # 10:00 in Athens

    # WHEN a minute passes THEN the thank-you has gone out
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    assert subjects_to(DANA) == ["Thank you for your order #1001"]

    # WHEN the parcel is delivered on Wednesday evening (21:30 in Athens)
    post_order(client, store, "1001", "delivered", "2027-03-03T19:30:00Z", customer())
    devstack.deliver(app, at("2027-03-03T19:31:00Z"))
    # THEN the check-in waits for the morning
    assert len(subjects_to(DANA)) == 1
    devstack.deliver(app, at("2027-03-04T07:00:00Z"))
    assert subjects_to(DANA)[-1] == "Did your order #1001 arrive safely?"

    # WHEN three days pass (Saturday 21:30: too late) THEN the tips wait for Monday (Sunday is off)
    devstack.deliver(app, at("2027-03-06T19:31:00Z"))
    devstack.deliver(app, at("2027-03-07T10:00:00Z"))
    assert len(subjects_to(DANA)) == 2
    devstack.deliver(app, at("2027-03-08T07:00:00Z"))
    assert subjects_to(DANA)[-1] == "Tips for your new purchase"

    # WHEN the survey falls due 7 days after delivery, at night THEN it goes the next morning
    devstack.deliver(app, at("2027-03-10T19:31:00Z"))
    assert len(subjects_to(DANA)) == 3
    devstack.deliver(app, at("2027-03-11T07:00:00Z"))
    assert subjects_to(DANA)[-1] == "How did we do, Dana?"

    # WHEN the fallback survey (order date + transit + delay) comes due THEN no second survey goes
    devstack.deliver(app, at("2027-03-13T09:00:00Z"))
    assert subjects_to(DANA).count("How did we do, Dana?") == 1

    # WHEN three days pass without an answer (Sunday: it waits for Monday) THEN one reminder goes
    devstack.deliver(app, at("2027-03-14T07:01:00Z"))
    assert "A quick reminder: how did we do?" not in subjects_to(DANA)
    devstack.deliver(app, at("2027-03-15T07:01:00Z"))
    devstack.deliver(app, at("2027-03-18T07:01:00Z"))
    assert subjects_to(DANA).count("A quick reminder: how did we do?") == 1

    # WHEN a year has passed since the first order THEN the anniversary arrives, once
    devstack.deliver(app, at("2028-03-01T08:01:00Z"))
    devstack.deliver(app, at("2028-03-01T09:00:00Z"))
    received = subjects_to(DANA)
    assert received.count("One year together") == 1
    # and every message went exactly once
    assert len(received) == len(set(received)), received


@pytest.mark.world_time("2027-02-10T09:00:00Z")
def test_a_customer_is_greeted_on_their_birthday(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN Mia, whose birthday is 5 March, ordering in February
    sid = store["store_id"]
    post_order(
        client,
        store,
        "2001",
        "created",
        "2027-02-10T09:00:00Z",
        customer("mia@example.com", first_name="Mia", birthday="1990-03-05"),
    )
    devstack.deliver(app, at("2027-02-10T09:01:00Z"))
    # WHEN the day before her birthday passes THEN no greeting yet
    devstack.deliver(app, at("2027-03-04T10:00:00Z"))
    assert "Happy birthday, Mia!" not in subjects_to("mia@example.com")
    # WHEN her birthday comes, 10:00 in Athens
    devstack.deliver(app, at("2027-03-05T08:00:00Z"))
    # THEN she is greeted once, and next year's greeting is already scheduled
    assert subjects_to("mia@example.com").count("Happy birthday, Mia!") == 1
    devstack.deliver(app, at("2027-03-05T09:00:00Z"))
    assert subjects_to("mia@example.com").count("Happy birthday, Mia!") == 1
    from chalicelib.storage import db

    birthday = db.table().get(keys.job(keys.customer_pk(sid, "mia@example.com"), "birthday"), consistent=True)
    assert birthday is not None and birthday["status"] == "pending" and birthday["due"] == "2028-03-05T08:00:00Z"


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_a_cancelled_order_gets_nothing_more(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN an order that got its thank-you
    sam = customer("sam@example.com", first_name="Sam")
    post_order(client, store, "3001", "created", "2027-03-01T08:00:00Z", sam)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    assert subjects_to("sam@example.com") == ["Thank you for your order #3001"]
    # WHEN it is cancelled the next day
    post_order(client, store, "3001", "cancelled", "2027-03-02T08:00:00Z", sam)
    # THEN nothing about it is sent in the weeks after (the survey fallback included)
    for moment in ("2027-03-13T09:00:00Z", "2027-03-20T09:00:00Z"):
        devstack.deliver(app, at(moment))
    assert subjects_to("sam@example.com") == ["Thank you for your order #3001"]


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_an_answered_survey_gets_no_reminder(app: Any, client: Any, store: dict[str, Any]) -> None:
    from chalicelib.storage import db, keys

    # GIVEN a survey sent after delivery
    post_order(client, store, "4001", "created", "2027-03-01T08:00:00Z", customer("ana@example.com", first_name="Ana"))
    post_order(
        client, store, "4001", "delivered", "2027-03-02T08:00:00Z", customer("ana@example.com", first_name="Ana")
    )
    devstack.deliver(app, at("2027-03-09T08:01:00Z"))
    assert "How did we do, Ana?" in subjects_to("ana@example.com")
    reminder = db.table().get(keys.job(keys.order_pk(store["store_id"], "4001"), "survey_reminder"), consistent=True)
    assert reminder is not None and reminder["status"] == "pending"
    # WHEN the customer answers (the survey item records it)
    db.table().update(keys.survey(reminder["data"]["token"]), Update().set({"answered_at": "2027-03-10T10:00:00Z"}))
    # THEN the reminder is not sent
    devstack.deliver(app, at("2027-03-12T09:00:00Z"))
    assert "A quick reminder: how did we do?" not in subjects_to("ana@example.com")
    reminder = db.table().get(keys.job(keys.order_pk(store["store_id"], "4001"), "survey_reminder"), consistent=True)
    assert reminder is not None and reminder["status"] in ("skipped", "cancelled")
