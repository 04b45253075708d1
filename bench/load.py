"""End to end on the local stack: a bounded load test of signed webhooks over loopback against ``python -m devstack run``, started by the bench on free ports; webhooks accepted per second, p50/p99 latency, and every unique order stored once.

A fixed count of generic webhooks (some orders delivered twice, as stores retry) goes out from a
small threaded urllib client; the run stops by itself. The floor is ``GET /openapi.json`` (a
route that touches no AWS) through the same server in the same run. ``chalice local`` serves one
request at a time, so this measures the stack's path, not Lambda's concurrency."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TITLE = "End to end on the local stack"
ROOT = Path(__file__).resolve().parent.parent
UNIQUE = 80
REPEATS = 20  # of those orders, delivered a second time
FLOOR = 50
THREADS = 4


def _call(
    url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, float, bytes]:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            data, status = answer.read(), answer.status
    except urllib.error.HTTPError as exc:
        data, status = exc.read(), exc.code
    return status, (time.perf_counter() - started) * 1000, data


def outcomes_accepted(answers: list[tuple[int, float, bytes]]) -> int:
    return sum(1 for status, _, data in answers if status == 200 and json.loads(data).get("status") == "accepted")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


RETRIES = 8  # as the fault world's senders; Shopify retries 8 times over 4 hours
retried: list[int] = []  # the status of each 5xx answer that was retried


def _deliver(api: str, store_id: str, secret: str, n: int) -> tuple[int, float, bytes]:
    """One webhook, retried on a 5xx as stores do, backing off (the same webhook-id, so a retry
    of one that was stored is a duplicate); the latency is the first attempt's."""
    first = _attempt(api, store_id, secret, n)
    answer = first
    for attempt in range(RETRIES):
        if answer[0] < 500:
            break
        retried.append(answer[0])
        time.sleep(min(0.5 * 2**attempt, 8.0))
        answer = _attempt(api, store_id, secret, n)
    return answer[0], first[1], answer[2]


def _attempt(api: str, store_id: str, secret: str, n: int) -> tuple[int, float, bytes]:
    """One delivery, signed when it is sent (the signature's timestamp must be fresh)."""
    from chalicelib.intake.signatures import standard_sign

    event = {
        "order_id": f"L-{n}",
        "status": "created",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "customer": {"email": f"l{n}@example.com"},
        "items": [{"sku": "A", "title": "A"}],
    }
    body = json.dumps(event).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": f"load-{n}",
        "webhook-timestamp": str(stamp),
        "webhook-signature": standard_sign(secret, f"load-{n}", stamp, body),
    }
    return _call(f"{api}/webhooks/orders/{store_id}", "POST", body, headers)


def _stored_orders(aws: str, table: str, store_id: str) -> list[str]:
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=aws,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    found: list[str] = []
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "#t = :o AND store_id = :s",
        "ExpressionAttributeNames": {"#t": "type"},
        "ExpressionAttributeValues": {":o": {"S": "order"}, ":s": {"S": store_id}},
    }
    while True:  # a scan, in the bench only: it checks what the stack stored
        page = client.scan(**request)
        found += [item["order_id"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def main() -> dict[str, Any]:
    from devstack.run import free_port

    ports = [free_port("127.0.0.1", start) for start in (48100, 48200, 48300)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with tempfile.TemporaryDirectory() as tmp:
        state, log = Path(tmp) / "devstack.json", Path(tmp) / "run.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devstack",
                    "run",
                    "--no-scheduler",
                    "--moto-port",
                    str(ports[0]),
                    "--api-port",
                    str(ports[1]),
                    "--outbox-port",
                    str(ports[2]),
                    "--state",
                    str(state),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 180
            while "Create a store" not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    print(f"the stack did not start:\n{log.read_text()[-2000:]}")
                    return {}
                time.sleep(0.3)
            endpoints = json.loads(state.read_text())
            api = endpoints["api"].rstrip("/")
            store = {
                "name": "Load",
                "sender_email": "load@example.com",
                "timezone": "Europe/Athens",
                "language": "en",
                "support_email": "care@example.com",
            }
            status, _, data = _call(
                f"{api}/stores",
                "POST",
                json.dumps(store).encode(),
                {"Content-Type": "application/json", "Authorization": f"Bearer {endpoints['operator_token']}"},
            )
            assert status == 201, data
            created = json.loads(data)
            deliveries = list(range(UNIQUE)) + list(range(REPEATS))
            floor = [_call(f"{api}/openapi.json")[1] for _ in range(FLOOR)]
            started = time.perf_counter()
            with ThreadPoolExecutor(THREADS) as pool:
                answers = list(
                    pool.map(lambda n: _deliver(api, created["store_id"], created["webhook_secret"], n), deliveries)
                )
            wall = time.perf_counter() - started
            floor += [_call(f"{api}/openapi.json")[1] for _ in range(FLOOR)]
            import devstack  # the table name comes from the stage

            table = devstack.stage_environment("local")["TABLE_NAME"]
            stored = _stored_orders(endpoints["aws"], table, created["store_id"])
            errors = [data[:300] for status, _, data in answers if status >= 400][:3]
            stack_log = [line for line in log.read_text().splitlines() if "Error" in line or "Traceback" in line][:5]
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    statuses: dict[int, int] = {}
    for status, _, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    outcomes: dict[str, int] = {}
    for status, _, data in answers:
        if status == 200:
            name = str(json.loads(data).get("status"))
            outcomes[name] = outcomes.get(name, 0) + 1
    latencies = [ms for _, ms, _ in answers]
    # Every order answered 200 is stored, once; one never accepted (a 5xx to the last retry) is not.
    accepted = {f"L-{n}" for n, (status, _, _) in zip(deliveries, answers, strict=True) if status == 200}
    once = sorted(stored) == sorted(accepted)
    first_5xx = len(retried)
    f50 = statistics.median(floor)
    figures: dict[str, Any] = {
        "webhooks": len(deliveries),
        "accepted_per_s": outcomes_accepted(answers) / wall,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "floor_p50_ms": f50,
        "floor_p99_ms": _percentile(floor, 99),
        "statuses": statuses,
        "outcomes": outcomes,
        "stored": len(stored),
        "unique": UNIQUE,
        "stored_once": once,
        "never_accepted": UNIQUE - len(accepted),
        "retries": first_5xx,
        "retry_statuses": sorted(set(retried)),
    }
    print(
        f"webhooks sent               {len(deliveries)} ({UNIQUE} orders, {REPEATS} of them twice) from {THREADS} threads in {wall:.1f} s"
    )
    print(
        "answers                     "
        + ", ".join(f"{v} x {k}" for k, v in sorted(statuses.items()))
        + "; "
        + ", ".join(f"{v} {k}" for k, v in sorted(outcomes.items()))
    )
    print(
        f"retries after a 5xx         {first_5xx}, answered {', '.join(f'{code} x{retried.count(code)}' for code in sorted(set(retried))) or 'none'} (moto's server is not safe for concurrent transactions: it copies a table another thread is changing; the app answers that storage error with a 503 and Retry-After)"
    )
    print(f"accepted per second         {figures['accepted_per_s']:.1f}")
    print(
        f"latency p50 / p99           {figures['p50_ms']:.0f} / {figures['p99_ms']:.0f} ms; floor GET /openapi.json {f50:.0f} / {figures['floor_p99_ms']:.0f} ms: p50 {figures['p50_ms'] / f50:.1f}x the floor"
    )
    for sample in errors:
        print(f"  an error answer: {sample.decode(errors='replace')}")
    for line in stack_log:
        print(f"  stack log: {line[:200]}")
    print(
        f"orders stored               {len(stored)} for {UNIQUE} unique orders, {len(accepted)} of them accepted: "
        + ("every accepted order stored once" if once else "NOT every accepted order stored once")
        + f"; {UNIQUE - len(accepted)} never accepted within {RETRIES} retries"
    )
    return figures


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    return [
        f"Local stack under load: {figures['webhooks']} signed webhooks, {figures['accepted_per_s']:.1f} accepted/s, p50 {figures['p50_ms']:.0f} ms / p99 {figures['p99_ms']:.0f} ms ({figures['p50_ms'] / figures['floor_p50_ms']:.1f}x a route without AWS); {figures['stored']} orders stored for {figures['unique']} unique, every accepted one {'once' if figures['stored_once'] else 'NOT once'}, {figures.get('never_accepted', 0)} never accepted; {figures['retries']} retries after a 5xx"
    ]


if __name__ == "__main__":
    main()
