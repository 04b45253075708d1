"""Negative answers reach support within the answer's own request: SNS topic and webhook."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from chalicelib.platform.aws import clients
from chalicelib.storage import db, keys
from chalicelib.stores import registry
from chalicelib.support import cases, escalation
from tests.support.cases import alerts_in, answer_survey, open_cases, response, set_store, subscribe_queue

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday


class Webhook:
    """A Slack-compatible incoming webhook on localhost that keeps what it receives."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = status
        self.delay = delay
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                hook.received.append(json.loads(self.rfile.read(length)))
                time.sleep(hook.delay)
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/support"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


def test_detractor_answer_alerts_topic_and_webhook_within_its_request(
    client: Any, store: dict[str, Any], webhook: Webhook
) -> None:
    # GIVEN a store with a Slack-compatible webhook and a support queue on the escalation topic
    set_store(client, store, slack_webhook_url=webhook.url)
    queue = subscribe_queue()

    # WHEN a customer answers the survey page with a detractor score
    answer_survey(client, store, score=2, comment="The kettle arrived broken and nobody answers.")

    # THEN as soon as that request returns, a case is open and both channels hold one alert with its link
    listed = open_cases(client, store)
    assert len(listed) == 1 and listed[0]["status"] == "open"
    link = f"http://localhost:8000/stores/{store['store_id']}/inbox#case-{listed[0]['case_id']}"
    alerts = alerts_in(queue)
    assert len(alerts) == 1
    assert link in alerts[0]["Message"] and "broken" in alerts[0]["Message"]
    assert alerts[0]["Subject"].startswith("[HIGH] Negative feedback")
    assert alerts[0]["MessageAttributes"]["store_id"]["Value"] == store["store_id"]
    assert alerts[0]["MessageAttributes"]["priority"]["Value"] == "high"
    assert len(webhook.received) == 1
    assert link in webhook.received[0]["text"]
    assert webhook.received[0]["blocks"][-1]["elements"][0]["url"] == link


def test_promoter_answer_alerts_nobody(client: Any, store: dict[str, Any], webhook: Webhook) -> None:
    # GIVEN a store with a webhook
    set_store(client, store, slack_webhook_url=webhook.url)
    queue = subscribe_queue()
    # WHEN a promoter answers with kind words
    answer_survey(client, store, score=10, comment="No problems at all, lovely kettle")
    # THEN there is no case and no alert
    assert open_cases(client, store) == []
    assert alerts_in(queue) == [] and webhook.received == []


def test_second_bad_answer_updates_the_same_case_without_a_second_alert(client: Any, store: dict[str, Any]) -> None:
    # GIVEN an open case for an order
    item = set_store(client, store, nps_threshold=6)
    queue = subscribe_queue()
    first = escalation.on_response(db.table(), clients(), item, response(store_id=store["store_id"]), NOW)

    # WHEN the customer changes the answer to another bad one
    second = escalation.on_response(
        db.table(), clients(), item, response(store_id=store["store_id"], score=2, comment="Still broken."), NOW
    )

    # THEN it is the same case, carrying the latest answer, and support was alerted once
    assert first is not None and second is not None and second["case_id"] == first["case_id"]
    assert second["score"] == 2 and second["comment"] == "Still broken."
    assert len(second["answers"]) == 2
    assert len(alerts_in(queue)) == 1


def test_passive_score_with_negative_comment_opens_a_case(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store with the default thresholds
    item = registry.get_store(db.table(), store["store_id"], fresh=True)

    # WHEN a passive (8) answers in Arabic that they are not happy
    case = escalation.on_response(
        db.table(),
        clients(),
        item,
        response(store_id=store["store_id"], score=8, category="passive", comment="مش مبسوط من الخدمة", language="ar"),
        NOW,
    )

    # THEN a case is opened for support, and a promoter's kind words open nothing
    assert case is not None and case["priority"] == "normal"
    assert (
        escalation.on_response(
            db.table(),
            clients(),
            item,
            response(store_id=store["store_id"], order_id="1002", score=9, comment="بدون مشكلة"),
            NOW,
        )
        is None
    )


@pytest.mark.world_time("2026-12-01T10:00:00Z")
def test_failed_webhook_is_retried_through_the_job_index(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a webhook that is down
    with Webhook(status=500) as down:
        item = set_store(client, store, slack_webhook_url=down.url)

        # WHEN a detractor answers
        case = escalation.on_response(db.table(), clients(), item, response(store_id=store["store_id"]), NOW)

    # THEN a retry job for the webhook alone waits in the due index, a minute or two away
    assert case is not None
    pending = list(db.table().partition(keys.case_pk(store["store_id"], case["case_id"]), "JOB#alert_retry"))
    assert len(pending) == 1
    assert pending[0]["data"]["channels"] == ["slack"]
    assert pending[0]["due_at"] == "2026-12-01T10:01:30Z"


def test_urgent_words_raise_priority_and_order_the_list(client: Any, store: dict[str, Any]) -> None:
    # GIVEN two negative answers, the later one mentioning a chargeback
    item = registry.get_store(db.table(), store["store_id"], fresh=True)
    escalation.on_response(
        db.table(), clients(), item, response(store_id=store["store_id"], order_id="A", score=5, comment="meh"), NOW
    )
    escalation.on_response(
        db.table(),
        clients(),
        item,
        response(store_id=store["store_id"], order_id="B", score=5, comment="I filed a chargeback with my bank"),
        NOW,
    )

    # WHEN support lists open cases
    listed = cases.list_cases(db.table(), store["store_id"], "open")

    # THEN the urgent one comes first
    assert [c["order_id"] for c in listed] == ["B", "A"]
    assert listed[0]["priority"] == "urgent"


def test_a_hanging_webhook_costs_at_most_three_seconds_and_is_retried(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a webhook that takes far too long to answer
    with Webhook(delay=4) as slow:
        item = set_store(client, store, slack_webhook_url=slow.url)

        # WHEN a detractor answers
        started = time.monotonic()
        case = escalation.on_response(db.table(), clients(), item, response(store_id=store["store_id"]), NOW)
        took = time.monotonic() - started

    # THEN the answer's request gave up on it after about three seconds, and a retry is scheduled
    assert case is not None
    assert took < 5
    pending = list(db.table().partition(keys.case_pk(store["store_id"], case["case_id"]), "JOB#alert_retry"))
    assert [j["data"]["channels"] for j in pending] == [["slack"]]
