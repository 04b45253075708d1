"""Warranty reminders from the store's product settings, for platforms whose orders don't
carry warranty months (Shopify, WooCommerce)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import devstack
from chalicelib.storage import db, keys
from tests.conftest import auth
from tests.support.orders import DANA, customer, post_order
from tests.support.world import at, job, subjects_to


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_a_product_warranty_set_in_the_catalogue_gets_its_reminder(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN the store keeps a 12-month warranty for the teapot in its product settings
    sid = store["store_id"]
    put = client.http.put(
        f"/stores/{sid}/products/TEA-1", headers=auth(store["api_key"]), body=json.dumps({"warranty_months": 12})
    )
    assert put.status_code == 200, put.body
    # and an order for it arrives without any warranty in the order itself
    post_order(client, store, "W-1", "created", "2027-03-01T08:00:00Z", customer())

    # WHEN a minute passes
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN a reminder is planned 30 days before the warranty ends, and the lookup ran once
    order_pk = keys.order_pk(sid, "W-1")
    reminder = job(sid, order_pk, "JOB#warranty#TEA-1")
    assert reminder["status"] == "pending" and reminder["due"] == "2028-01-31T08:00:00Z"
    assert job(sid, order_pk, "JOB#warranty#catalogue")["status"] == "done"

    # WHEN that day comes THEN the customer is reminded, once
    devstack.deliver(app, at("2028-01-31T08:01:00Z"))
    devstack.deliver(app, at("2028-01-31T09:01:00Z"))
    warranty = [s for s in subjects_to(DANA) if "warranty" in s.lower()]
    assert len(warranty) == 1


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_no_catalogue_warranty_means_no_reminder(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN no product settings at all
    sid = store["store_id"]
    post_order(client, store, "W-2", "created", "2027-03-01T08:00:00Z", customer())
    # WHEN the lookup runs THEN it plans nothing and finishes
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    order_pk = keys.order_pk(sid, "W-2")
    assert job(sid, order_pk, "JOB#warranty#catalogue")["reason"] == "planned 0 warranty reminders"
    assert [str(i["SK"]) for i in db.table().partition(order_pk, "JOB#warranty")] == ["JOB#warranty#catalogue"]
