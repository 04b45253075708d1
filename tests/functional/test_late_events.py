"""Late events never burst: an order from the past, imported or delivered late, plans only
what is still ahead, and says on the order what it skipped and why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import devstack
from chalicelib.core.clock import parse_iso
from tests.conftest import auth
from tests.fixtures import body_of, standard_headers
from tests.support.world import emails_to, subjects_to

NOW = "2026-11-20T10:00:00Z"
CUSTOMER = {
    "email": "ines@example.pt",
    "first_name": "Inês",
    "language": "en",
    "timezone": "Europe/Lisbon",
    "email_consent": True,
}


def send(client: Any, store: dict[str, Any], event: dict[str, Any], message_id: str) -> Any:
    body = body_of(event)
    return client.http.post(
        f"/webhooks/orders/{store['store_id']}",
        headers=standard_headers(store["webhook_secret"], body, message_id),
        body=body,
    )


def order_event(order_id: str, status: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "status": status,
        "occurred_at": at,
        "order_name": f"#{order_id}",
        "customer": CUSTOMER,
        "items": [{"sku": "TEA-1", "title": "Ceramic teapot", "quantity": 1}],
        **extra,
    }


def schedule(client: Any, store: dict[str, Any], **query: str) -> list[dict[str, Any]]:
    response = client.http.get(
        f"/stores/{store['store_id']}/jobs?" + "&".join(f"{k}={v}" for k, v in query.items()),
        headers=auth(store["api_key"]),
    )
    assert response.status_code == 200, response.body
    return list(response.json_body["jobs"])


@pytest.mark.world_time(NOW)
def test_a_year_of_order_history_imported_today_sends_nothing_stale(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a store imports twelve months of past orders, one a month, in a single sitting
    now = parse_iso(NOW)
    for month in range(12, 0, -1):
        placed = now - timedelta(days=30 * month)
        response = send(client, store, order_event(f"H-{month}", "created", placed.isoformat()), f"import-{month}")
        assert response.status_code == 200 and response.json_body["status"] == "accepted", response.body
    # WHEN the scheduler runs right after the import, and again a minute later
    devstack.deliver(app, now + timedelta(minutes=1))
    devstack.deliver(app, now + timedelta(minutes=2))
    # THEN not one of those orders is thanked or surveyed in the same minute
    assert emails_to("ines@example.pt") == []
    # AND the oldest order shows every follow-up it skipped, each with its reason
    oldest = schedule(client, store, order_id="H-12")
    skipped = {row["kind"]: row for row in oldest if row["status"] == "skipped"}
    assert {"thank_you", "survey", "winback"} <= set(skipped)
    assert {row["reason"] for row in skipped.values()} == {"late_event"}
    # AND what is still ahead stays planned: the anniversary of the first order, next year
    ahead = [
        row
        for row in schedule(client, store, customer="ines@example.pt", status="pending")
        if row["kind"] == "anniversary"
    ]
    assert len(ahead) == 1 and parse_iso(ahead[0]["due"]) > now


@pytest.mark.world_time(NOW)
def test_an_order_two_days_old_is_still_thanked(app: Any, client: Any, store: dict[str, Any]) -> None:
    placed = parse_iso(NOW) - timedelta(days=2)
    assert send(client, store, order_event("R-1", "created", placed.isoformat()), "recent").status_code == 200
    devstack.deliver(app, parse_iso(NOW) + timedelta(minutes=1))
    assert len(subjects_to("ines@example.pt")) == 1  # the thank-you, and nothing else yet


@pytest.mark.world_time(NOW)
def test_a_creation_that_arrives_after_the_fulfilment_still_plans_its_follow_ups(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN the platform delivers "fulfilled" first and "created" a little later
    placed = parse_iso(NOW) - timedelta(hours=2)
    fulfilled = order_event(
        "L-1", "fulfilled", (placed + timedelta(hours=1)).isoformat(), ordered_at=placed.isoformat()
    )
    assert send(client, store, fulfilled, "late-1").json_body["status"] == "accepted"
    created = send(client, store, order_event("L-1", "created", placed.isoformat()), "late-2")
    # THEN the creation is accepted, not dropped as stale
    assert created.status_code == 200 and created.json_body["status"] == "accepted", created.body
    # AND its plan stands: the thank-you, the win-back and the anniversary
    kinds = {row["kind"] for row in schedule(client, store, order_id="L-1")} | {
        row["kind"] for row in schedule(client, store, customer="ines@example.pt")
    }
    assert {"thank_you", "winback", "anniversary"} <= kinds
    # AND the order keeps its later status
    rows = client.http.get(
        f"/stores/{store['store_id']}/customers/ines@example.pt", headers=auth(store["api_key"])
    ).json_body
    assert [o["status"] for o in rows["orders"]] == ["fulfilled"]
    # AND a repeat of the creation changes nothing more
    assert (
        send(client, store, order_event("L-1", "created", placed.isoformat()), "late-3").json_body["status"] == "stale"
    )
    devstack.deliver(app, parse_iso(NOW) + timedelta(minutes=1))
    assert len(emails_to("ines@example.pt")) == 1  # one thank-you


@pytest.mark.world_time(NOW)
def test_the_schedule_route_names_an_unknown_status(client: Any, store: dict[str, Any]) -> None:
    response = client.http.get(
        f"/stores/{store['store_id']}/jobs?status=lost&order_id=X", headers=auth(store["api_key"])
    )
    assert response.status_code == 400 and response.json_body["error"]["field"] == "status"


@pytest.mark.world_time(NOW)
def test_a_schedule_is_paged_with_a_cursor_bound_to_it(client: Any, store: dict[str, Any]) -> None:
    placed = parse_iso(NOW) - timedelta(days=400)
    assert send(client, store, order_event("P-1", "created", placed.isoformat()), "page-1").status_code == 200
    everything = schedule(client, store, order_id="P-1")
    assert len(everything) >= 3
    first = client.http.get(
        f"/stores/{store['store_id']}/jobs?order_id=P-1&limit=2", headers=auth(store["api_key"])
    ).json_body
    assert first["jobs"] == everything[:2] and first["next"]
    rest = client.http.get(
        f"/stores/{store['store_id']}/jobs?order_id=P-1&limit=100&after={first['next']}", headers=auth(store["api_key"])
    ).json_body
    assert rest["jobs"] == everything[2:] and rest["next"] is None
    # a cursor of one order's schedule does not page another's
    other = client.http.get(
        f"/stores/{store['store_id']}/jobs?order_id=P-2&after={first['next']}", headers=auth(store["api_key"])
    )
    assert other.status_code == 400 and other.json_body["error"]["field"] == "after"
