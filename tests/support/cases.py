"""Answers, cases and alerts as support meets them: a store's settings changed through the
API, a survey answered through its page, the cases listed, the alerts a support queue gets."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.platform.aws import clients
from chalicelib.platform.config import settings
from chalicelib.storage import db
from chalicelib.stores import registry
from tests.conftest import auth
from tests.support import surveys


def subscribe_queue() -> str:
    """A queue subscribed to the escalation topic, as a support team's email/SMS would be."""
    sqs, sns = clients().sqs, clients().sns
    url = sqs.create_queue(QueueName="support-watch")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=settings().escalation_topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def alerts_in(url: str) -> list[dict[str, Any]]:
    out = []
    while True:
        messages = (
            clients().sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        )
        if not messages:
            return out
        for message in messages:
            out.append(json.loads(message["Body"]))
            clients().sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def response(**overrides: Any) -> dict[str, Any]:
    base = {
        "store_id": "",
        "customer_id": "maya@example.org",
        "order_id": "1001",
        "kind": "survey",
        "survey_type": "nps",
        "score": 3,
        "category": "detractor",
        "comment": "The kettle arrived broken and nobody answers.",
        "language": "en",
        "channel": "email",
        "products": [{"sku": "KT-1", "title": "Copper kettle"}],
        "answered_at": "2026-12-01T10:00:00Z",
    }
    return {**base, **overrides}


def set_store(client: Any, store: dict[str, Any], **settings_: Any) -> dict[str, Any]:
    answer = client.http.patch(
        f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps(settings_)
    )
    assert answer.status_code == 200, answer.body
    return registry.get_store(db.table(), store["store_id"], fresh=True)


def answer_survey(
    client: Any,
    store: dict[str, Any],
    *,
    score: int,
    comment: str,
    order_id: str = "1001",
    customer: str = "maya@example.org",
    language: str = "en",
) -> Any:
    """Issue a survey for an order and answer it through the survey page's form."""
    link = surveys.issue(store, order_id=order_id, customer=customer, language=language)
    answer = surveys.post_answer(client, link.token, score=score, comment=comment)
    assert answer.status_code == 200, answer.body
    return answer


def open_cases(client: Any, store: dict[str, Any], status: str = "open") -> list[dict[str, Any]]:
    answer = client.http.get(f"/stores/{store['store_id']}/cases?status={status}", headers=auth(store["api_key"]))
    assert answer.status_code == 200, answer.body
    return list(answer.json_body["cases"])
