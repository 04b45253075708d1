"""A store's support email and phone receive its alerts, and only its alerts."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.platform.aws import clients
from chalicelib.platform.config import settings
from tests.conftest import auth


def subscriptions() -> dict[str, tuple[str, dict[str, Any]]]:
    sns = clients().sns
    out = {}
    for sub in sns.list_subscriptions_by_topic(TopicArn=settings().escalation_topic_arn)["Subscriptions"]:
        if sub["Protocol"] in ("email", "sms"):
            attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
            out[sub["Endpoint"]] = (sub["Protocol"], json.loads(attributes.get("FilterPolicy", "{}")))
    return out


def test_support_contacts_are_subscribed_to_their_stores_alerts(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store created with a support email and phone (the fixture)
    sid = store["store_id"]
    # THEN both are subscribed to the escalation topic, filtered to this store
    assert subscriptions() == {
        "care@cedarsage.example": ("email", {"store_id": [sid]}),
        "+302101234567": ("sms", {"store_id": [sid]}),
    }
    # WHEN the store changes its support email and drops its phone
    answer = client.http.patch(
        f"/stores/{sid}",
        headers=auth(store["api_key"]),
        body=json.dumps({"support_email": "help@cedarsage.example", "support_phone": None}),
    )
    assert answer.status_code == 200, answer.body
    # THEN the new address replaces the old one and the phone no longer gets alerts
    assert subscriptions() == {"help@cedarsage.example": ("email", {"store_id": [sid]})}
    # AND the store's settings do not show the subscription bookkeeping
    assert "alert_subscriptions" not in answer.json_body
