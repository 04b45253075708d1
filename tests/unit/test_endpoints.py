"""The pure rules of outbound webhooks: the retry schedule, when an endpoint is disabled, the
signatures of a rotation's overlap, what a registration may hold, and who hears an event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from chalicelib.core.errors import InvalidInput
from chalicelib.endpoints import deliveries, events, manage
from chalicelib.endpoints.deliveries import Attempt, judge

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def public_dns(host: str) -> list[str]:
    return ["52.1.2.3"]


def test_a_failing_delivery_is_tried_at_the_documented_moments_then_given_up() -> None:
    moments, at, failing_since = [], NOW, NOW
    for number in range(1, deliveries.MAX_ATTEMPTS + 1):
        verdict = judge(Attempt(500), number, failing_since, at)
        if verdict.retry_at is None:
            assert verdict.job_status == "failed" and "gave up after 8 attempts" in verdict.reason
            break
        moments.append(verdict.retry_at - at)
        at = verdict.retry_at
    assert moments == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=24),
    ]
    assert number == 8


def test_a_2xx_ends_the_delivery_and_a_410_disables_the_endpoint() -> None:
    assert judge(Attempt(204), 3, NOW - timedelta(days=9), NOW).job_status == "sent"
    gone = judge(Attempt(410), 1, None, NOW)
    assert gone.job_status == "failed" and gone.disable == "answered 410 Gone" and gone.retry_at is None


def test_five_days_without_a_success_disables_the_endpoint() -> None:
    almost = judge(Attempt(None, "timeout"), 1, NOW - timedelta(days=5) + timedelta(minutes=1), NOW)
    assert almost.disable is None and almost.retry_at == NOW + timedelta(seconds=5)
    over = judge(Attempt(502), 1, NOW - timedelta(days=5), NOW)
    assert over.job_status == "failed" and over.disable and "5 days" in over.disable


def test_a_redirect_is_a_failure_not_followed() -> None:
    assert not Attempt(302).succeeded
    assert judge(Attempt(302), 1, None, NOW).retry_at is not None


def test_both_secrets_of_a_rotation_verify_with_the_official_library() -> None:
    old, new = manage.new_secret(), manage.new_secret()
    payload = json.dumps({"type": "case.opened", "timestamp": "2026-12-01T10:00:00Z", "data": {}}).encode()
    signed = deliveries.headers([new, old], "msg_1", datetime.now(UTC), payload)
    assert len(signed["webhook-signature"].split()) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(payload, signed)["type"] == "case.opened"


def test_only_secrets_inside_their_overlap_sign() -> None:
    endpoint = {
        "secret": "whsec_new",
        "previous_secrets": [
            {"secret": "whsec_recent", "until": "2026-12-01T12:00:00Z"},
            {"secret": "whsec_expired", "until": "2026-12-01T09:00:00Z"},
        ],
    }
    assert manage.valid_secrets(endpoint, NOW) == ["whsec_new", "whsec_recent"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.com/in", "events": ["case.opened"], "extra": 1}, "extra"),
        ({"url": "https://hooks.example.com/in", "events": ["response.*"]}, "events"),
        ({"url": "https://hooks.example.com/in", "events": [7]}, "events"),
        ({"url": "https://hooks.example.com/in", "events": ["case.opened"], "description": "x" * 201}, "description"),
        ({"url": "https://10.0.0.1/in", "events": ["case.opened"]}, "url"),
        ({"url": "http://hooks.example.com/in", "events": ["case.opened"]}, "url"),
        ({"url": None, "events": ["case.opened"]}, "url"),
    ],
)
def test_a_registration_names_the_field_it_refuses(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        manage.parse(body, allow_local=False, resolve=public_dns)
    assert refusal.value.field == field


def test_a_registration_keeps_each_event_once() -> None:
    parsed = manage.parse(
        {"url": "https://hooks.example.com/in", "events": ["case.resolved", "case.opened", "case.opened"]},
        allow_local=False,
        resolve=public_dns,
    )
    assert parsed.events == ["case.opened", "case.resolved"] and parsed.description is None


def test_only_subscribed_endpoints_hear_an_event_with_one_message_id() -> None:
    store = {
        "store_id": "st0000000000000a",
        events.SUBSCRIPTIONS: {"epa": ["case.opened"], "epb": ["case.opened", "case.resolved"], "epc": []},
    }
    assert events.emit(store, events.RESPONSE_CREATED, {}, NOW, shards=4) == []
    ops = events.emit(store, events.CASE_OPENED, {"case_id": "cs1"}, NOW, shards=4)
    items = [op.item for op in ops]
    assert [i["data"]["endpoint_id"] for i in items if i] == ["epa", "epb"]
    assert len({i["data"]["message_id"] for i in items if i}) == 1
    body = json.loads(str(items[0]["data"]["body"])) if items[0] else {}
    assert body == {
        "type": "case.opened",
        "timestamp": "2026-12-01T10:00:00Z",
        "data": {"store_id": "st0000000000000a", "case_id": "cs1"},
    }


def test_message_ids_sort_by_time_and_a_derived_one_repeats() -> None:
    first, later = events.new_message_id(NOW), events.new_message_id(NOW + timedelta(seconds=1))
    assert first.startswith("msg_") and first < later
    assert events.derived_message_id("a", "b") == events.derived_message_id("a", "b") != events.derived_message_id("a")
