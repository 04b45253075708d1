"""send throughput: messages per second through the ``send`` handler, every policy check on, SES and SMS answered by a botocore Stubber; DynamoDB requests and write units per message.

Orders come in as generic webhooks, one ``dispatch`` queues their thank-you jobs, and batches
of 10 SQS records go through the ``send`` handler as Lambda would hand them over. DynamoDB and
SQS are moto; the CPU inside those calls is subtracted. The floor is a bare ``on_sqs_message``
handler given the same batches."""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._meter import AwsMeter, InstantStubber, without_stream

TITLE = "Send throughput"
ORDERS = 30  # moto copies the whole table for every transaction item: keep it small
BATCH = 10
NOW = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Athens
SES = {"SendEmail": {"MessageId": "bench-email"}}
SES_ERRORS = {"GetSuppressedDestination": "NotFoundException"}
SNS = {"Publish": {"MessageId": "bench-sms"}}
SMS = {"SendTextMessage": {"MessageId": "bench-sms"}}


def prepare(orders: int) -> tuple[Any, list[dict[str, Any]], Any]:
    """A store, ``orders`` orders taken through the webhook, one dispatch: the app, the queued
    batches and the new store."""
    from chalice.test import Client

    import devstack
    from app import app
    from chalicelib.intake.signatures import standard_sign
    from chalicelib.platform import aws, resources
    from chalicelib.storage import db
    from chalicelib.stores import registry

    provisioned = devstack.provision()
    without_stream(provisioned.table)
    created = registry.create_store(
        db.table(),
        {
            "name": "Bench",
            "sender_email": "b@example.com",
            "timezone": "Europe/Athens",
            "language": "en",
            "support_email": "s@example.com",
        },
        NOW,
    )
    with Client(app, stage_name="local", project_dir=str(devstack.ROOT)) as client:
        for n in range(orders):
            event = {
                "order_id": f"S-{n}",
                "status": "created",
                "occurred_at": (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "customer": {"email": f"s{n}@example.com", "language": "en"},
                "items": [{"sku": "CS-BOARD-L", "title": "Board"}],
            }
            body = json.dumps(event).encode()
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "webhook-id": f"msg-s-{n}",
                "webhook-timestamp": str(stamp),
                "webhook-signature": standard_sign(created.webhook_secret, f"msg-s-{n}", stamp, body),
            }
            answer = client.http.post(f"/webhooks/orders/{created.store_id}", headers=headers, body=body)
            assert answer.status_code == 200, answer.body
    app.handler_map["dispatch"](devstack.scheduled_event(NOW + timedelta(hours=1)), devstack._Context("dispatch"))
    sqs = aws.clients().sqs
    url = sqs.get_queue_url(QueueName=resources.SEND_QUEUE)["QueueUrl"]
    arn = f"arn:aws:sqs:{devstack.REGION}:{devstack.ACCOUNT}:{resources.SEND_QUEUE}"
    batches = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=BATCH, AttributeNames=["All"], WaitTimeSeconds=0, VisibilityTimeout=900
        ).get("Messages", [])
        if not messages:
            break
        batches.append(devstack._sqs_records(messages, arn))
    return app, batches, created


def stubbed_providers() -> list[InstantStubber]:
    from chalicelib.platform import aws

    clients = aws.clients()
    return [
        InstantStubber(clients.sesv2, SES, SES_ERRORS),
        InstantStubber(clients.sns, SNS),
        InstantStubber(clients.sms, SMS),
    ]


def bare_cpu(batches: list[dict[str, Any]]) -> float:
    """CPU seconds of a Chalice SQS handler that only reads each record's body."""
    from chalice.app import Chalice

    import devstack

    bare = Chalice(app_name="bare", configure_logs=False)

    @bare.on_sqs_message(queue="bench", batch_size=BATCH, name="send")
    def send(event: Any) -> None:
        for record in event:
            json.loads(record.body)

    started = time.process_time()
    for batch in batches:
        bare.handler_map["send"](batch, devstack._Context("send"))
    return time.process_time() - started


def local_environment() -> dict[str, str]:
    import devstack

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    devstack.use_local_environment()
    os.environ["SES_SUPPRESSION_CHECK"] = "on"  # every check, as in production
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    devstack.reset_caches()
    return saved


def main() -> dict[str, Any]:
    import time_machine
    from moto import mock_aws

    import devstack

    saved = local_environment()
    try:
        with mock_aws(), time_machine.travel(NOW, tick=True):
            return _run()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        devstack.reset_caches()


def _run() -> dict[str, Any]:
    import devstack
    from chalicelib.platform import aws

    app, batches, _ = prepare(ORDERS)
    meter = AwsMeter()
    meter.attach(aws.clients().dynamodb)
    meter.attach(aws.clients().sqs)
    providers = AwsMeter()
    stubs = stubbed_providers()
    for stub in stubs:
        providers.attach(stub.client)
        stub.activate()
    messages = sum(len(b["Records"]) for b in batches)
    per_batch, failures = [], 0
    wall = time.perf_counter()
    for batch in batches:
        inside = meter.inside
        started = time.process_time()
        answer = app.handler_map["send"](batch, devstack._Context("send")) or {}
        per_batch.append(time.process_time() - started - (meter.inside - inside))
        failures += len(answer.get("batchItemFailures", []))
    wall = time.perf_counter() - wall
    for stub in stubs:
        stub.deactivate()
    ours = sum(per_batch)
    floor = bare_cpu(batches)
    sent = (
        providers.calls.get("SendEmail", 0)
        + providers.calls.get("Publish", 0)
        + providers.calls.get("SendTextMessage", 0)
    )
    ddb = {
        k: v
        for k, v in meter.calls.items()
        if k not in ("ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "SendMessage", "SendMessageBatch")
    }
    figures: dict[str, Any] = {
        "messages": messages,
        "sent": sent,
        "failures": failures,
        "per_second": messages / ours,
        "per_second_with_moto": messages / wall,
        "batch_ms": statistics.median(per_batch) * 1000,
        "bare_batch_ms": floor / len(batches) * 1000,
        "ratio": ours / floor,
        "ddb_requests_per_message": sum(ddb.values()) / messages,
        "ddb": {k: v / messages for k, v in ddb.items()},
        "wcu_per_message": meter.wcu / messages,
        "ddb_requests_per_sent": sum(ddb.values()) / max(1, sent),
        "wcu_per_sent": meter.wcu / max(1, sent),
        "rcu_per_message": meter.rcu / messages,
        "provider_calls": dict(providers.calls),
    }
    print(
        f"messages through send       {messages:>8} in {len(batches)} batches of {BATCH}; provider sends {sent}, failed records {failures}"
    )
    print(
        f"our CPU per batch of 10     {figures['batch_ms']:>8.1f} ms (median); bare SQS handler {figures['bare_batch_ms']:.2f} ms: {figures['ratio']:.0f}x"
    )
    print(
        f"messages per second         {figures['per_second']:>8.0f} on our CPU alone (one core); {figures['per_second_with_moto']:.0f} with moto answering, wall"
    )
    print(
        f"DynamoDB per message        {figures['ddb_requests_per_message']:>8.2f} requests: "
        + ", ".join(f"{v:.2g} {k}" for k, v in sorted(figures["ddb"].items()))
    )
    print(f"DynamoDB units per message  {figures['wcu_per_message']:>8.2f} WCU, {figures['rcu_per_message']:.2f} RCU")
    print(
        f"per message sent            {figures['ddb_requests_per_sent']:>8.2f} DynamoDB requests, {figures['wcu_per_sent']:.2f} WCU (records that send nothing included)"
    )
    print("provider calls (stubbed): " + ", ".join(f"{v} {k}" for k, v in sorted(providers.calls.items())))
    return figures


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    return [
        f"send: {figures['per_second']:.0f} messages/s on one core (every policy check on, SES stubbed), {figures['ddb_requests_per_message']:.2f} DynamoDB requests and {figures['wcu_per_message']:.1f} WCU per message"
    ]


if __name__ == "__main__":
    main()
