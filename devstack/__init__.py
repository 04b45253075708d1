"""The embedded local stack: Aftercare's resources on moto, and time moved by hand.

Never deployed.  ``provision()`` builds the table, queues and topics from
``infra/resources.json`` (the very template that is deployed), so tests, ``make run`` and
production cannot drift.  ``deliver(app, now)`` runs one ``dispatch`` tick at ``now`` and
feeds every queued SQS/SNS message to the app's handlers until nothing is left.

It redelivers as Lambda and SQS do, on the world's clock rather than the wall's: a record
that fails (its handler raises, or reports it among the batch's failures) is held until its
visibility timeout has passed in ``now`` terms, so a later ``deliver`` hands it over again
with its receive count; after the queue's ``maxReceiveCount`` (its RedrivePolicy) it goes to
the dead-letter queue.  SNS-fed handlers are retried twice, as Lambda retries asynchronous
invocations, then dropped.  Nothing a handler raises aborts the drain.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, MessageTypeDef

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "resources.json"
CONFIG = ROOT / ".chalice" / "config.json"
ACCOUNT = "123456789012"
REGION = "us-east-1"
TAP_PREFIX = "devstack-tap-"
HELD_PREFIX = "devstack-held-"  # failed records wait here for their (world-clock) visibility timeout
RECEIVES = "devstack-receives"
SNS_ATTEMPTS = 3  # Lambda's asynchronous invocations: the first and two retries
SNS_RETRY_SECONDS = 60
# Deployed wiring the local stack does without: SES feedback events and two-way SMS replies
# reach their topics in AWS only; locally the taps feed those handlers instead.
NOT_EMULATED = frozenset(
    {"AWS::SES::ConfigurationSet", "AWS::SES::ConfigurationSetEventDestination", "AWS::SNS::TopicPolicy"}
)

__all__ = ["Delivered", "Provisioned", "deliver", "provision", "stage_environment", "template", "use_local_environment"]


def template() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(TEMPLATE.read_text())
    return document


def stage_environment(stage: str = "local") -> dict[str, str]:
    """The environment variables Chalice gives the stage's functions."""
    config = json.loads(CONFIG.read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def use_local_environment(endpoint: str | None = None) -> dict[str, str]:
    """Point this process at the embedded AWS with the local stage's variables."""
    env = stage_environment("local")
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env["AWS_DEFAULT_REGION"] = REGION
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    os.environ.update(env)
    reset_caches()
    return env


def reset_caches() -> None:
    """Forget everything the process built (clients, settings, table, secrets, stores), as a new Lambda would."""
    from chalicelib.platform.process import PROCESS

    PROCESS.reset()


@dataclass
class Provisioned:
    table: str
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> url
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> arn
    taps: dict[str, str] = field(default_factory=dict)  # topic name -> tap queue url


def _resolve(value: Any, arns: Mapping[str, str]) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        logical, attr = value["Fn::GetAtt"]
        if attr != "Arn":
            raise ValueError(f"devstack cannot resolve {logical}.{attr}")
        return arns[logical]
    if isinstance(value, dict):
        return {k: _resolve(v, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, arns) for v in value]
    return value


def _create_table(ddb: DynamoDBClient, props: Mapping[str, Any]) -> str:
    name = str(props["TableName"])
    kwargs: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props["BillingMode"],
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if props.get("SSESpecification"):
        kwargs["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
    try:
        ddb.create_table(**kwargs)
    except ddb.exceptions.ResourceInUseException:
        return name
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
    return name


def _queue_attributes(props: Mapping[str, Any], arns: Mapping[str, str]) -> dict[QueueAttributeNameType, str]:
    attrs: dict[QueueAttributeNameType, str] = {}
    cfn_to_api: tuple[tuple[str, QueueAttributeNameType], ...] = (
        ("VisibilityTimeout", "VisibilityTimeout"),
        ("MessageRetentionPeriod", "MessageRetentionPeriod"),
    )
    for cfn, api in cfn_to_api:
        if cfn in props:
            attrs[api] = str(props[cfn])
    if "RedrivePolicy" in props:
        policy = _resolve(props["RedrivePolicy"], arns)
        attrs["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": policy["deadLetterTargetArn"], "maxReceiveCount": str(policy["maxReceiveCount"])}
        )
    return attrs


def provision(session: Any | None = None) -> Provisioned:
    """Create every resource of ``infra/resources.json`` where boto3 points (idempotent)."""
    import boto3

    session = session or boto3.session.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", REGION))
    ddb, sqs, sns = session.client("dynamodb"), session.client("sqs"), session.client("sns")
    resources = template()["Resources"]
    arns: dict[str, str] = {}
    result = Provisioned(table="")
    pending = dict(resources)
    # Queues that others point at (dead-letter queues) first, then the rest.
    order = sorted(pending, key=lambda logical: "RedrivePolicy" in pending[logical].get("Properties", {}))
    for logical in order:
        resource = pending[logical]
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            result.table = _create_table(ddb, props)
        elif kind == "AWS::SQS::Queue":
            url = sqs.create_queue(QueueName=props["QueueName"], Attributes=_queue_attributes(props, arns))["QueueUrl"]
            arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            result.queues[logical] = url
        elif kind == "AWS::SNS::Topic":
            arn = sns.create_topic(Name=props["TopicName"])["TopicArn"]
            arns[logical] = arn
            result.topics[logical] = arn
            result.taps[props["TopicName"]] = _tap(sqs, sns, props["TopicName"], arn)
        elif kind in NOT_EMULATED:
            continue
        else:
            raise ValueError(f"devstack does not know how to provision {kind} ({logical})")
    return result


def _tap(sqs: SQSClient, sns: SNSClient, topic_name: str, topic_arn: str) -> str:
    """A queue subscribed to a topic, so the local stack can hand its messages to handlers."""
    url: str = sqs.create_queue(QueueName=TAP_PREFIX + topic_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


# --- moving time ----------------------------------------------------------------------
@dataclass
class Delivered:
    """What one ``deliver`` call handed to the app."""

    dispatch: list[Any] = field(default_factory=list)
    send: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)  # each failed receive (it comes back later)
    sns: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    dead_lettered: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what handlers raised

    @property
    def count(self) -> int:
        return len(self.send) + len(self.sns)


class _Context:
    """A Lambda context with a generous, fixed time budget."""

    function_name = "devstack"
    function_version = "$LATEST"
    invoked_function_arn = ""
    memory_limit_in_mb = 512
    aws_request_id = "devstack"
    log_group_name = "devstack"
    log_stream_name = "devstack"

    def __init__(self, name: str) -> None:
        self.function_name = name

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def scheduled_event(now: datetime) -> dict[str, Any]:
    from chalicelib.core.clock import iso

    return {
        "version": "0",
        "id": f"devstack-{iso(now)}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": iso(now),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/aftercare-dispatch"],
        "detail": {},
    }


def _invoke(app: Any, name: str, event: Mapping[str, Any]) -> Any:
    return app.handler_map[name](dict(event), _Context(name))


def _sqs_records(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {k: str(v) for k, v in m.get("Attributes", {}).items()},
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def _sns_record(envelope: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{envelope.get('TopicArn', '')}:devstack",
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope.get("MessageId", ""),
                    "TopicArn": envelope.get("TopicArn", ""),
                    "Subject": envelope.get("Subject"),
                    "Message": envelope.get("Message", ""),
                    "Timestamp": envelope.get("Timestamp", ""),
                    "MessageAttributes": envelope.get("MessageAttributes", {}),
                },
            }
        ]
    }


# Which handler consumes which topic (the same pairs app.py declares).
SNS_HANDLERS = {
    "aftercare-inbound-sms": "inbound_sms",
    "aftercare-inbound-whatsapp": "inbound_whatsapp",
    "aftercare-ses-feedback": "ses_feedback",
}


@dataclass(frozen=True)
class _Source:
    """A queue devstack drains into a handler, and how failures there come back."""

    url: str
    arn: str
    handler: str
    visibility: int  # seconds a failed record stays hidden
    max_receives: int
    dead_letter_url: str | None
    batch: bool  # an SQS batch handler (else one SNS record per invocation)


def _send_source(sqs: SQSClient) -> _Source:
    from chalicelib.platform import resources

    url = sqs.get_queue_url(QueueName=resources.SEND_QUEUE)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "RedrivePolicy", "QueueArn"])[
        "Attributes"
    ]
    redrive = json.loads(attrs.get("RedrivePolicy") or "{}")
    dead_letter = None
    if redrive.get("deadLetterTargetArn"):
        dead_letter = sqs.get_queue_url(QueueName=str(redrive["deadLetterTargetArn"]).rsplit(":", 1)[1])["QueueUrl"]
    return _Source(
        url,
        attrs.get("QueueArn") or f"arn:aws:sqs:{REGION}:{ACCOUNT}:{resources.SEND_QUEUE}",
        "send",
        int(attrs.get("VisibilityTimeout") or 30),
        int(redrive.get("maxReceiveCount") or 10**9),
        dead_letter,
        True,
    )


def _tap_sources(sqs: SQSClient, app: Any) -> list[_Source]:
    sources = []
    for topic, handler in SNS_HANDLERS.items():
        if handler not in app.handler_map:
            continue
        try:
            url = sqs.get_queue_url(QueueName=TAP_PREFIX + topic)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            continue
        sources.append(_Source(url, "", handler, SNS_RETRY_SECONDS, SNS_ATTEMPTS, None, False))
    return sources


def _held_url(sqs: SQSClient, source: _Source) -> str:
    return str(sqs.create_queue(QueueName=HELD_PREFIX + source.url.rsplit("/", 1)[1])["QueueUrl"])


def _receive_all(sqs: SQSClient, url: str) -> list[MessageTypeDef]:
    out: list[MessageTypeDef] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not batch:
            return out
        out.extend(batch)


def _release_held(sqs: SQSClient, source: _Source, now: datetime) -> None:
    """Failed records whose visibility timeout has passed by ``now`` go back to their queue."""
    from chalicelib.core.clock import parse_iso

    held_url = _held_url(sqs, source)
    waiting = []
    for message in _receive_all(sqs, held_url):
        held = json.loads(message["Body"])
        if parse_iso(held["visible_at"]) <= now:
            attributes: dict[str, MessageAttributeValueTypeDef] = {
                RECEIVES: {"DataType": "Number", "StringValue": str(held["receives"])}
            }
            sqs.send_message(QueueUrl=source.url, MessageBody=held["body"], MessageAttributes=attributes)
            sqs.delete_message(QueueUrl=held_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            waiting.append(message["ReceiptHandle"])
    for handle in waiting:  # visible again for the next deliver (the wall clock has not moved)
        sqs.change_message_visibility(QueueUrl=held_url, ReceiptHandle=handle, VisibilityTimeout=0)


def _receives(message: Mapping[str, Any]) -> int:
    earlier = (message.get("MessageAttributes") or {}).get(RECEIVES, {}).get("StringValue")
    return int(earlier or 0) + int(message.get("Attributes", {}).get("ApproximateReceiveCount") or 1)


def _retry_later(
    sqs: SQSClient, source: _Source, message: Mapping[str, Any], receives: int, now: datetime, delivered: Delivered
) -> None:
    """Hold a failed record for its visibility timeout, or dead-letter it after max receives."""
    from datetime import timedelta

    from chalicelib.core.clock import iso

    if receives >= source.max_receives:
        if source.dead_letter_url:
            sqs.send_message(QueueUrl=source.dead_letter_url, MessageBody=message["Body"])
        delivered.dead_lettered.append(json.loads(message["Body"]))
        return
    held = {
        "body": message["Body"],
        "receives": receives,
        "visible_at": iso(now + timedelta(seconds=source.visibility)),
    }
    sqs.send_message(QueueUrl=_held_url(sqs, source), MessageBody=json.dumps(held))


def _drain_send_queue(app: Any, sqs: SQSClient, source: _Source, now: datetime, delivered: Delivered) -> int:
    answer = sqs.receive_message(
        QueueUrl=source.url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=0,
    )
    messages = answer.get("Messages", [])
    if not messages or "send" not in app.handler_map:
        return 0
    receives = {m["MessageId"]: _receives(m) for m in messages}
    for message in messages:
        message.setdefault("Attributes", {})["ApproximateReceiveCount"] = str(receives[message["MessageId"]])
    try:
        result = _invoke(app, "send", _sqs_records(messages, source.arn)) or {}
        failed_ids = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    except Exception as exc:  # a crashed invocation: Lambda would see the whole batch again
        delivered.errors.append(f"send: {type(exc).__name__}: {exc}")
        failed_ids = {m["MessageId"] for m in messages}
    for message in messages:
        body = json.loads(message["Body"])
        if message["MessageId"] in failed_ids:
            delivered.failed.append(body)
            _retry_later(sqs, source, message, receives[message["MessageId"]], now, delivered)
        else:
            delivered.send.append(body)
        sqs.delete_message(QueueUrl=source.url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def _drain_tap(app: Any, sqs: SQSClient, source: _Source, now: datetime, delivered: Delivered) -> int:
    handled = 0
    for message in _receive_all(sqs, source.url):
        envelope = json.loads(message["Body"])
        try:
            _invoke(app, source.handler, _sns_record(envelope))
            delivered.sns.append((source.handler, envelope))
        except Exception as exc:
            delivered.errors.append(f"{source.handler}: {type(exc).__name__}: {exc}")
            _retry_later(sqs, source, message, _receives(message), now, delivered)
        sqs.delete_message(QueueUrl=source.url, ReceiptHandle=message["ReceiptHandle"])
        handled += 1
    return handled


def deliver(app: Any, now: datetime, *, max_rounds: int = 200) -> Delivered:
    """One ``dispatch`` tick at ``now``, then every queued event to its handler until none is
    left.  Records that failed at earlier ticks come back once their visibility timeout has
    passed by ``now``; nothing a handler raises stops the drain (see the module docstring)."""
    import boto3

    sqs = boto3.client("sqs", region_name=os.environ.get("AWS_DEFAULT_REGION", REGION))
    delivered = Delivered()
    sources = [_send_source(sqs), *_tap_sources(sqs, app)]
    for source in sources:
        _release_held(sqs, source, now)
    try:
        delivered.dispatch.append(_invoke(app, "dispatch", scheduled_event(now)))
    except Exception as exc:  # the next tick runs dispatch again, as EventBridge would
        delivered.errors.append(f"dispatch: {type(exc).__name__}: {exc}")
    for _ in range(max_rounds):
        moved = 0
        for source in sources:
            moved += (
                _drain_send_queue(app, sqs, source, now, delivered)
                if source.batch
                else _drain_tap(app, sqs, source, now, delivered)
            )
        if not moved:
            break
    return delivered
