"""Alerts to support: what an alert says, and its delivery by SNS (email and SMS subscriptions) and a Slack-compatible webhook."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.validate import one_line
from chalicelib.platform import outbound
from chalicelib.platform.aws import Clients
from chalicelib.platform.config import settings
from chalicelib.platform.observability import count, logger
from chalicelib.storage import db, keys
from chalicelib.storage.items import CaseItem, StoreItem, line_labels

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
from chalicelib.storage.expression import Update

SLACK_TIMEOUT_SECONDS = 3
CHANNELS = ("sns", "slack")


# --- alert content -------------------------------------------------------------------------
def case_link(base_url: str, store_id: str, case_id: str) -> str:
    return f"{base_url}/stores/{store_id}/inbox#case-{case_id}"


@dataclass(frozen=True)
class Alert:
    subject: str  # ASCII, under 100 characters (SNS requires it)
    title: str
    lines: tuple[str, ...]
    link: str
    priority: str

    @property
    def body(self) -> str:
        return "\n".join((self.title, "", *self.lines, "", f"Open the case: {self.link}"))


_HEADLINES = {
    "new": "Negative feedback",
    "escalated": "Case escalated",
    "reopened": "Case reopened",
    "realert": "Not acknowledged yet",
}


def _ascii(text: str) -> str:
    return " ".join(text.encode("ascii", "ignore").decode().split())


def build_alert(
    store: StoreItem, case: CaseItem, reason: str, sla_minutes: int | None = None, *, base_url: str
) -> Alert:
    """Subject and readable text of an alert (support reads it on a phone)."""
    priority = str(case.get("priority") or "normal")
    headline = _HEADLINES.get(reason, "Negative feedback")
    order = str(case.get("order_name") or case.get("order_id") or "")
    store_name = str(store.get("name") or store.get("store_id"))
    subject = _ascii(f"[{priority.upper()}] {headline}: order {order}")[:99] or f"[{priority.upper()}] {headline}"
    title = f"{headline} ({priority}) for {store_name}"
    if reason == "realert" and sla_minutes:
        title = f"{headline}: open for {sla_minutes} business minutes ({priority}) for {store_name}"
    contacts = case.get("contacts") or {}
    lines = [f"Order: {order}"]
    if case.get("score") is not None:
        lines.append(
            f"Score: {case['score']} ({str(case.get('survey_type') or '').upper()}, {case.get('category') or 'negative'})"
        )
    if case.get("comment"):
        lines.append(f'Comment: "{one_line(case["comment"], max_length=1000)}"')
    if case.get("urgent_terms"):
        lines.append("Urgent words: " + ", ".join(str(t).rstrip("*") for t in case["urgent_terms"]))
    who = [str(v) for v in (contacts.get("name"), contacts.get("email"), contacts.get("phone")) if v]
    if who:
        lines.append("Customer: " + ", ".join(who))
    items = line_labels(case.get("items"))
    if items:
        lines.append("Items: " + ", ".join(items))
    if case.get("language"):
        lines.append(f"Language: {case['language']}")
    # What customers and stores wrote stays on its own line: a comment with line breaks
    # cannot add lines that look like ours (a second "Open the case" link).
    flat = tuple(one_line(line, max_length=1200) for line in lines)
    return Alert(
        subject,
        one_line(title, max_length=300),
        flat,
        case_link(base_url, str(case["store_id"]), str(case["case_id"])),
        priority,
    )


def slack_payload(alert: Alert) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook body: ``text`` for notifications, ``blocks`` to read."""

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    return {
        "text": f"{alert.title}: {alert.link}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": esc("\n".join(alert.lines))[:3000]}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open the case"}, "url": alert.link}
                ],
            },
        ],
    }


# --- delivery -------------------------------------------------------------------------------
def default_opener() -> Any:
    """An HTTP opener for webhooks: no proxy from the environment (Lambda needs none) and no
    redirects followed, so a checked public address cannot bounce the request elsewhere.
    Outside the local stage it connects only to addresses checked public at that moment."""
    return outbound.opener(allow_local=settings().allow_local_webhooks)


SUPPORT_CONTACTS = (("support_email", "email"), ("support_phone", "sms"))


def route_alerts(table: db.Table, sns: SNSClient, store: StoreItem) -> dict[str, str]:
    """Subscribe the store's support email and phone to the escalation topic, filtered to this
    store's alerts, and drop subscriptions of contacts it no longer has.  SNS mails the address
    a confirmation link first.  A failure is logged, never undoes the store's change: saving
    the contacts again retries.  Returns endpoint -> subscription ARN, also kept on the store."""
    store_id = str(store["store_id"])
    had: dict[str, str] = dict(store.get("alert_subscriptions") or {})
    wanted = {str(store.get(name)): protocol for name, protocol in SUPPORT_CONTACTS if store.get(name)}
    now_subscribed: dict[str, str] = {}
    for endpoint, arn in had.items():
        if endpoint in wanted:
            now_subscribed[endpoint] = arn
            continue
        try:
            sns.unsubscribe(SubscriptionArn=arn)
        except ClientError as exc:  # pending confirmation, or already gone
            logger.warning(
                "alert subscription not removed",
                extra={"store_id": store_id, "error": exc.response.get("Error", {}).get("Code")},
            )
    for endpoint, protocol in wanted.items():
        if endpoint in now_subscribed:
            continue
        try:
            answer = sns.subscribe(
                TopicArn=settings().escalation_topic_arn,
                Protocol=protocol,
                Endpoint=endpoint,
                ReturnSubscriptionArn=True,
                Attributes={"FilterPolicy": json.dumps({"store_id": [store_id]})},
            )
        except ClientError as exc:
            logger.warning(
                "alert subscription not made",
                extra={"store_id": store_id, "error": exc.response.get("Error", {}).get("Code")},
            )
            continue
        now_subscribed[endpoint] = str(answer["SubscriptionArn"])
    if now_subscribed != had:
        table.update(keys.store(store_id), Update().set({"alert_subscriptions": now_subscribed}), return_values="NONE")
    return now_subscribed


def publish(sns: SNSClient, alert: Alert, store_id: str, reason: str) -> str:
    answer = sns.publish(
        TopicArn=settings().escalation_topic_arn,
        Subject=alert.subject,
        Message=alert.body,
        MessageAttributes={
            "store_id": {"DataType": "String", "StringValue": store_id},
            "priority": {"DataType": "String", "StringValue": alert.priority},
            "reason": {"DataType": "String", "StringValue": reason},
        },
    )
    return str(answer["MessageId"])


def post_webhook(opener: Any, url: str, payload: Mapping[str, Any], timeout: float = SLACK_TIMEOUT_SECONDS) -> int:

    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Aftercare"},
        method="POST",
    )
    with opener.open(request, timeout=timeout) as answer:
        return int(answer.status)


def deliver_alert(
    clients: Clients,
    store: StoreItem,
    case: CaseItem,
    reason: str,
    *,
    channels: Sequence[str] = CHANNELS,
    opener: Any | None = None,
) -> list[str]:
    """Send the alert on each channel; the channels that failed (to retry later)."""

    store_id = str(store["store_id"])
    alert = build_alert(store, case, reason, int(store.get("sla_minutes") or 60), base_url=settings().public_base_url)
    failed: list[str] = []
    if "sns" in channels:
        try:
            publish(clients.sns, alert, store_id, reason)
            count("alerts_sent", channel="sns")
        except (ClientError, BotoCoreError) as exc:
            logger.warning(
                "escalation topic publish failed",
                extra={"store_id": store_id, "case_id": case["case_id"], "error": type(exc).__name__},
            )
            failed.append("sns")
    url = store.get("slack_webhook_url")
    if "slack" in channels and url:
        try:
            post_webhook(opener or default_opener(), str(url), slack_payload(alert))
            count("alerts_sent", channel="slack")
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            logger.warning(
                "alert webhook failed",
                extra={"store_id": store_id, "case_id": case["case_id"], "error": type(exc).__name__},
            )
            failed.append("slack")
    return failed
