"""Outbound webhooks as a store's helpdesk meets them: a receiver on localhost gets each event
signed per Standard Webhooks (checked with the official ``standardwebhooks`` package), retried
through the due index until it answers 2xx, and the store sees every attempt."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine

import devstack
from chalicelib.core.clock import iso, parse_iso, wall_clock
from chalicelib.core.errors import InvalidInput
from chalicelib.endpoints import deliveries, manage
from chalicelib.messaging import links
from chalicelib.storage import db, keys
from tests.conftest import auth
from tests.support.cases import answer_survey, open_cases
from tests.support.intake import count_items
from tests.support.orders import customer, send
from tests.support.receiver import Received, Receiver, deliveries_of, endpoints_of, register

NOW = "2026-12-01T10:00:00Z"  # a Tuesday
START = parse_iso(NOW)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def tick(traveller: time_machine.Traveller, app: Any, moment: datetime) -> None:
    """The world's clock at ``moment`` (receivers check the timestamp against it) and one dispatch tick."""
    traveller.move_to(iso(moment))
    devstack.deliver(app, moment)


def verified(received: Received, secret: str) -> dict[str, Any]:
    """The event, when ``secret`` verified it on arrival (standardwebhooks, at that moment)."""
    assert secret in received.verified_with, received.headers
    return received.event


def change_case(client: Any, store: dict[str, Any], case_id: str, **change: Any) -> Any:
    return client.http.patch(
        f"/stores/{store['store_id']}/cases/{case_id}", headers=auth(store["api_key"]), body=json.dumps(change)
    )


@pytest.mark.world_time(NOW)
def test_an_answer_reaches_the_endpoint_signed_and_is_retried_until_accepted(
    app: Any, client: Any, store: dict[str, Any], world_time: time_machine.Traveller
) -> None:
    with Receiver(statuses=[500, 503]) as hook:
        # GIVEN a helpdesk endpoint for new answers, which fails twice before it accepts
        created = register(client, store, hook.url, ["response.created"], description="Helpdesk")
        assert created.status_code == 201, created.body
        secret, endpoint_id = created.json_body["secret"], created.json_body["endpoint_id"]
        hook.secrets = [secret]
        assert secret.startswith("whsec_") and created.json_body["state"] == "enabled"

        # WHEN a customer answers and dispatch runs
        answer_survey(client, store, score=3, comment="The lid cracked.")
        tick(world_time, app, START + timedelta(minutes=1))
        # THEN the first attempt went at once
        assert len(hook.received) == 1
        # AND the retries come 5 s and then 5 min after the attempt before
        tick(world_time, app, START + timedelta(minutes=2))
        assert len(hook.received) == 2
        tick(world_time, app, START + timedelta(minutes=5))
        assert len(hook.received) == 2
        tick(world_time, app, START + timedelta(minutes=8))
        assert len(hook.received) == 3
        tick(world_time, app, START + timedelta(hours=3))
        assert len(hook.received) == 3  # accepted: nothing more

    # THEN every attempt verifies with the official library and carries the same webhook-id
    assert len({r.headers["webhook-id"] for r in hook.received}) == 1
    for received in hook.received:
        event = verified(received, secret)
        assert event["type"] == "response.created"
        assert event["data"]["order_id"] == "1001" and event["data"]["score"] == 3
        assert event["data"]["comment"] == "The lid cracked." and event["data"]["store_id"] == store["store_id"]
    # AND the store sees each attempt, and the endpoint's state, never its secret
    [delivery] = deliveries_of(client, store, endpoint_id)
    assert delivery["status"] == "sent" and delivery["event_type"] == "response.created"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    [listed] = endpoints_of(client, store)
    assert listed["state"] == "enabled" and listed["description"] == "Helpdesk" and "secret" not in listed
    assert listed["failing_since"] is None and listed["last_success_at"]
    assert listed["recent_deliveries"][0]["message_id"] == hook.received[0].headers["webhook-id"]


@pytest.mark.world_time(NOW)
def test_case_changes_reach_the_endpoint_and_a_refused_change_emits_nothing(
    app: Any, client: Any, store: dict[str, Any], world_time: time_machine.Traveller
) -> None:
    with Receiver() as hook:
        # GIVEN a CRM endpoint for case events and a case opened by a bad answer
        created = register(client, store, hook.url, ["case.opened", "case.acknowledged", "case.resolved"])
        secret = created.json_body["secret"]
        hook.secrets = [secret]
        answer_survey(client, store, score=1, comment="Broken and late.")
        case_id = open_cases(client, store)[0]["case_id"]
        # WHEN support acknowledges and resolves it, and repeats both (refused: 409) and sends nonsense (400)
        assert change_case(client, store, case_id, action="acknowledge", by="Noa").status_code == 200
        assert change_case(client, store, case_id, action="acknowledge", by="Noa").status_code == 409
        assert (
            change_case(client, store, case_id, action="resolve", outcome="replaced", note="New lid").status_code == 200
        )
        assert change_case(client, store, case_id, action="resolve", outcome="other").status_code == 409
        assert change_case(client, store, case_id, action="explode").status_code == 400
        tick(world_time, app, START + timedelta(minutes=1))

    # THEN the endpoint heard each change once, and nothing of the refused ones
    events = {e["type"]: e for e in (verified(r, secret) for r in hook.received)}
    assert sorted(hook.types()) == ["case.acknowledged", "case.opened", "case.resolved"]
    assert events["case.opened"]["data"]["case_id"] == case_id and events["case.opened"]["data"]["reopened"] is False
    assert events["case.acknowledged"]["data"]["acknowledged_by"] == "Noa"
    assert (
        events["case.resolved"]["data"]["outcome"] == "replaced"
        and events["case.resolved"]["data"]["note"] == "New lid"
    )


@pytest.mark.world_time(NOW)
def test_an_endpoint_that_answers_410_is_disabled_and_hears_nothing_more(
    app: Any, client: Any, store: dict[str, Any], world_time: time_machine.Traveller
) -> None:
    with Receiver(statuses=[410]) as hook:
        created = register(client, store, hook.url, ["response.created", "response.updated"])
        endpoint_id = created.json_body["endpoint_id"]
        answer_survey(client, store, score=9, comment="Lovely")
        tick(world_time, app, START + timedelta(minutes=1))
        assert len(hook.received) == 1
        # THEN the endpoint is disabled, saying why, and the delivery failed without retries
        [listed] = endpoints_of(client, store)
        assert listed["state"] == "disabled" and "410" in listed["disabled_reason"]
        assert deliveries_of(client, store, endpoint_id)[0]["status"] == "failed"
        # AND later answers are not even queued for it
        answer_survey(client, store, score=10, comment="Again", order_id="1002")
        tick(world_time, app, START + timedelta(hours=1))
        assert len(hook.received) == 1
        assert len(deliveries_of(client, store, endpoint_id)) == 1

        # WHEN the store enables it again THEN the next event goes
        enabled = client.http.post(
            f"/stores/{store['store_id']}/endpoints/{endpoint_id}/enable", headers=auth(store["api_key"]), body="{}"
        )
        assert enabled.status_code == 200 and enabled.json_body["state"] == "enabled", enabled.body
        answer_survey(client, store, score=10, comment="Third", order_id="1003")
        tick(world_time, app, START + timedelta(hours=1, minutes=1))
        assert len(hook.received) == 2


@pytest.mark.world_time(NOW)
def test_an_endpoint_failing_for_five_days_is_disabled(
    app: Any, client: Any, store: dict[str, Any], world_time: time_machine.Traveller
) -> None:
    with Receiver(then=500) as hook:
        register(client, store, hook.url, ["response.created"])
        answer_survey(client, store, score=8, comment="Fine")
        tick(world_time, app, START + timedelta(minutes=1))
        [listed] = endpoints_of(client, store)
        assert listed["state"] == "enabled" and listed["failing_since"] == iso(START + timedelta(minutes=1))
        # WHEN it still fails five days later
        world_time.move_to(iso(START + timedelta(days=5, minutes=10)))
        answer_survey(client, store, score=8, comment="Again", order_id="1002")
        tick(world_time, app, START + timedelta(days=5, minutes=11))
        # THEN it is disabled, saying since when
        [listed] = endpoints_of(client, store)
        assert listed["state"] == "disabled" and "5 days" in listed["disabled_reason"], listed
        heard = len(hook.received)
        tick(world_time, app, START + timedelta(days=7))
        assert len(hook.received) == heard


@pytest.mark.world_time(NOW)
def test_a_rotated_secret_keeps_verifying_for_the_overlap_then_only_the_new_one(
    app: Any, client: Any, store: dict[str, Any], world_time: time_machine.Traveller
) -> None:
    with Receiver() as hook:
        created = register(client, store, hook.url, ["customer.unsubscribed"])
        old, endpoint_id = created.json_body["secret"], created.json_body["endpoint_id"]
        # WHEN the store rotates the secret
        rotated = client.http.post(
            f"/stores/{store['store_id']}/endpoints/{endpoint_id}/rotate", headers=auth(store["api_key"]), body=""
        )
        assert rotated.status_code == 200, rotated.body
        new = rotated.json_body["secret"]
        hook.secrets = [old, new]
        until = parse_iso(rotated.json_body["previous_secret_valid_until"])
        assert new != old and timedelta(hours=23) < until - START <= timedelta(hours=24, minutes=1)
        # AND a customer unsubscribes with one click
        token = links.unsubscribe_token(store["store_id"], "ana@example.com", "ana@example.com")
        assert client.http.post(f"/u/{token}", headers=FORM, body="List-Unsubscribe=One-Click").status_code == 200
        tick(world_time, app, START + timedelta(minutes=1))
        # THEN the delivery verifies with either secret
        first = hook.received[0]
        assert len(first.headers["webhook-signature"].split()) == 2
        for secret in (old, new):
            event = verified(first, secret)
            assert event["type"] == "customer.unsubscribed" and event["data"]["contact"] == "ana@example.com"
            assert event["data"]["scope"] == "all" and event["data"]["reason"] == "one_click"

        # WHEN the overlap is over THEN only the new secret verifies
        world_time.move_to(iso(START + timedelta(hours=25)))
        other = links.unsubscribe_token(store["store_id"], "ben@example.com", "ben@example.com")
        assert client.http.post(f"/u/{other}", headers=FORM, body="choice=surveys").status_code == 200
        tick(world_time, app, START + timedelta(hours=25, minutes=1))
        second = hook.received[1]
        assert verified(second, new)["data"]["scope"] == "surveys"
        assert second.verified_with == (new,)


@pytest.mark.world_time(NOW)
def test_skipped_order_events_reach_the_endpoint_once(
    app: Any, client: Any, store: dict[str, Any], world_time: time_machine.Traveller
) -> None:
    def order(order_id: str, status: str, at: datetime, **extra: Any) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "status": status,
            "occurred_at": at.isoformat(),
            "order_name": f"#{order_id}",
            "customer": customer(),
            "items": [{"sku": "TEA-1", "title": "Ceramic teapot", "quantity": 1}],
            **extra,
        }

    with Receiver() as hook:
        created = register(client, store, hook.url, ["order.skipped"])
        secret = created.json_body["secret"]
        hook.secrets = [secret]
        # GIVEN an order from last year, imported today: its thank-you is late
        assert send(client, store, order("H-1", "created", START - timedelta(days=400)), "imp-1").status_code == 200
        # AND an order whose creation comes after its fulfilment, then twice more (stale: refused)
        placed = START - timedelta(hours=2)
        fulfilled = order("L-1", "fulfilled", placed + timedelta(hours=1), ordered_at=placed.isoformat())
        assert send(client, store, fulfilled, "l-1").json_body["status"] == "accepted"
        assert send(client, store, order("L-1", "created", placed), "l-2").json_body["status"] == "accepted"
        for _ in range(2):
            assert send(client, store, order("L-1", "created", placed), "l-3").json_body["status"] == "stale"
        tick(world_time, app, START + timedelta(minutes=1))

    # THEN the endpoint heard of the late follow-ups and of the refused event, each once
    events = sorted((verified(r, secret)["data"] for r in hook.received), key=lambda d: str(d["reason"]))
    assert [(e["order_id"], e["reason"]) for e in events] == [("H-1", "late_event"), ("L-1", "stale")]
    assert "thank_you" in {s["follow_up"] for s in events[0]["skipped"]}
    assert events[1]["event_id"] == "l-3"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com/in", "events": ["case.opened"]}, "url"),
        ({"url": "not an address", "events": ["case.opened"]}, "url"),
        ({"events": ["case.opened"]}, "url"),
        ({"url": "https://hooks.example.com/in", "events": ["case.exploded"]}, "events"),
        ({"url": "https://hooks.example.com/in", "events": []}, "events"),
        ({"url": "https://hooks.example.com/in", "events": "case.opened"}, "events"),
        ({"url": "https://hooks.example.com/in", "events": ["case.opened"], "secret": "whsec_AAAA"}, "secret"),
        ({"url": "https://hooks.example.com/in", "events": ["case.opened"], "description": 7}, "description"),
    ],
)
def test_a_bad_registration_is_refused_with_its_field_and_stores_nothing(
    client: Any, store: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    before = count_items()
    answer = client.http.post(
        f"/stores/{store['store_id']}/endpoints", headers=auth(store["api_key"]), body=json.dumps(body)
    )
    assert answer.status_code == 400 and answer.json_body["error"]["field"] == field, answer.body
    assert count_items() == before
    assert endpoints_of(client, store) == []


def test_rotate_and_delete_refuse_what_they_do_not_take(client: Any, store: dict[str, Any]) -> None:
    created = register(client, store, "https://hooks.example.com/in", ["case.opened"]).json_body
    base = f"/stores/{store['store_id']}/endpoints"
    key = auth(store["api_key"])
    assert (
        client.http.post(f"{base}/{created['endpoint_id']}/rotate", headers=key, body='{"secret": "x"}').status_code
        == 400
    )
    assert client.http.post(f"{base}/epnosuchendpoint00/rotate", headers=key, body="{}").status_code == 404
    assert client.http.delete(f"{base}/epnosuchendpoint00", headers=key).status_code == 404
    # AND a delete removes it
    assert client.http.delete(f"{base}/{created['endpoint_id']}", headers=key).json_body == {"deleted": True}
    assert endpoints_of(client, store) == []
    assert client.http.delete(f"{base}/{created['endpoint_id']}", headers=key).status_code == 404


class RefusingOpener:
    """Fails the test if a request is made at all."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a refused address was called")


def test_outside_the_local_stage_only_public_https_addresses_are_saved_or_called(
    client: Any, store: dict[str, Any]
) -> None:
    sid = store["store_id"]

    def public_dns(host: str) -> list[str]:
        return ["52.1.2.3"]

    def private_dns(host: str) -> list[str]:
        return ["10.0.0.7"]

    # GIVEN the deployed stages' rule: addresses that are not public https names are refused
    for address in ("https://127.0.0.1/h", "http://hooks.example.com/h", "https://localhost/h", "https://[::1]/h"):
        with pytest.raises(InvalidInput) as refusal:
            manage.create(
                db.table(),
                sid,
                {"url": address, "events": ["case.opened"]},
                wall_clock(),
                allow_local=False,
                resolve=public_dns,
            )
        assert refusal.value.field == "url"
    with pytest.raises(InvalidInput):
        manage.create(
            db.table(),
            sid,
            {"url": "https://hooks.example.com/h", "events": ["response.created"]},
            wall_clock(),
            allow_local=False,
            resolve=private_dns,
        )
    assert endpoints_of(client, store) == []

    # WHEN a name that was public when saved resolves to a private address when its event is sent
    saved = manage.create(
        db.table(),
        sid,
        {"url": "https://hooks.example.com/h", "events": ["response.created"]},
        wall_clock(),
        allow_local=False,
        resolve=public_dns,
    )
    answer_survey(client, store, score=9, comment="Nice")
    endpoint_id = saved.endpoint["endpoint_id"]
    [job] = list(db.table().partition(keys.endpoint_pk(sid, endpoint_id), keys.job_sk("webhook_delivery")))
    outcome = deliveries.run_job(
        db.table(), job, wall_clock(), opener=RefusingOpener(), allow_local=False, resolve=private_dns
    )
    # THEN no request is made, and the attempt says why (to be tried again)
    assert outcome.startswith("pending")
    [delivery] = deliveries_of(client, store, endpoint_id)
    assert "refused address" in delivery["attempts"][0]["error"] and delivery["next_attempt_at"]
