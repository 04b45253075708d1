"""dispatch reads what is due, not what is pending: items read and time per run at 1,000, 10,000 and 100,000 pending jobs with 100 due.

Each size gets a fresh moto (moto keeps every stream record, so memory would grow); jobs are
written straight into moto's table (the bench measures dispatch, not the fill). The time of a
run is shown against the run at the smallest size: goal, flat in pending jobs."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from bench._meter import AwsMeter, moto_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TITLE = "Dispatch scale"
SIZES = (1_000, 10_000, 100_000)
PENDING = SIZES[-1]
DUE = 100
LIMIT = 150


class CountingClient:
    """A DynamoDB client that counts the items its reads return (queries, gets, batch gets)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.items_read = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def query(self, **kwargs: Any) -> Any:
        answer = self.client.query(**kwargs)
        self.items_read += len(answer.get("Items", []))
        return answer

    def get_item(self, **kwargs: Any) -> Any:
        answer = self.client.get_item(**kwargs)
        self.items_read += 1 if answer.get("Item") else 0
        return answer

    def batch_get_item(self, **kwargs: Any) -> Any:
        answer = self.client.batch_get_item(**kwargs)
        self.items_read += sum(len(v) for v in answer.get("Responses", {}).values())
        return answer


def _write_jobs(table: Any, count: int, due: datetime, prefix: str, shards: int) -> None:
    from chalicelib.core.models import JobKind
    from chalicelib.schedule import jobs
    from chalicelib.storage import keys

    store = moto_table(table.name)
    store.stream_shard = None  # moto keeps every stream record in memory
    for i in range(count):
        item = jobs.job_item(
            keys.order_pk("stbench", f"{prefix}{i}"),
            JobKind.SURVEY,
            due,
            store_id="stbench",
            shards=shards,
            customer_id=f"c{i}@example.com",
            order_id=f"{prefix}{i}",
        )
        store.put_item(table.dump(item))


def measure(pending: int = PENDING, due: int = DUE) -> dict[str, Any]:
    """Fill a fresh embedded table and run one dispatch tick; the figures it cost."""
    import boto3

    import devstack
    from chalicelib.platform.config import settings
    from chalicelib.schedule import dispatch
    from chalicelib.storage import db

    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    devstack.provision()
    cfg = settings()
    plain = db.Table(boto3.client("dynamodb"), cfg.table_name, due_shards=cfg.due_shards)
    started = time.monotonic()
    _write_jobs(plain, pending, now + timedelta(days=30), "p", cfg.due_shards)
    _write_jobs(plain, due, now - timedelta(minutes=1), "d", cfg.due_shards)
    filled = time.monotonic() - started
    counting = CountingClient(boto3.client("dynamodb"))
    sqs = boto3.client("sqs")
    meter = AwsMeter()
    for client in (counting.client, sqs):
        meter.attach(client)
    started, cpu = time.perf_counter(), time.process_time()
    result = dispatch.run(
        db.Table(cast("DynamoDBClient", counting), cfg.table_name, due_shards=cfg.due_shards),
        sqs,
        cfg.send_queue_url,
        now,
        cfg.due_shards,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "pending": pending,
        "due": due,
        "queued": result.queued,
        "items_read": counting.items_read,
        "dispatch_counted": result.items_read,
        "requests": sum(meter.calls.values()),
        "calls": dict(meter.calls),
        "sqs_requests": sum(v for k, v in meter.calls.items() if k.startswith("SendMessage")),
        "rcu": meter.rcu,
        "wcu": meter.wcu,
        "ms": seconds * 1000,
        "cpu_ms": cpu_seconds * 1000,
        "our_cpu_ms": (cpu_seconds - meter.inside) * 1000,
        "moto_cpu_ms": meter.inside * 1000,
        "fill_seconds": round(filled, 1),
    }


def one_size(pending: int, due: int = DUE) -> dict[str, Any]:
    from moto import mock_aws

    import devstack

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    devstack.use_local_environment()
    try:
        with mock_aws():
            return measure(pending, due)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        devstack.reset_caches()


def main(pending: int | None = None, due: int = DUE) -> dict[str, Any]:
    """All sizes (or only ``pending``); the figures of the largest, and each size's under ``sizes``."""
    sizes = (
        (pending,)
        if pending is not None
        else tuple(int(s) for s in os.environ.get("BENCH_PENDING", ",".join(map(str, SIZES))).split(","))
    )
    rows = [one_size(size, due) for size in sizes]
    floor = rows[0]
    print(
        f"{'pending':>8} {'due':>4} {'queued':>6} {'items read':>10} {'requests':>8} {'RCU':>5} {'WCU':>5} {'wall ms':>7} {'our CPU ms':>10} {'vs first':>8} {'moto CPU ms':>11}"
    )
    for row in rows:
        ratio = row["our_cpu_ms"] / floor["our_cpu_ms"]
        print(
            f"{row['pending']:>8} {row['due']:>4} {row['queued']:>6} {row['items_read']:>10} {row['requests']:>8} {row['rcu']:>5g} {row['wcu']:>5g} {row['ms']:>7.0f} {row['our_cpu_ms']:>10.0f} {ratio:>7.2f}x {row['moto_cpu_ms']:>11.0f}"
        )
    worst = max(row["items_read"] for row in rows)
    print("requests of one run: " + ", ".join(f"{v} {k}" for k, v in sorted(rows[-1]["calls"].items())))
    print(f"items read by dispatch: at most {worst} (limit {LIMIT}: {'ok' if worst < LIMIT else 'TOO MANY'}).")
    print(
        "Our CPU excludes the time inside AWS calls; moto's query of an index walks the whole table, which DynamoDB does not, so moto's share grows with the table and ours does not."
    )
    largest = dict(rows[-1])
    largest["sizes"] = rows
    return largest


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    rows = figures["sizes"]
    reads = ", ".join(f"{r['items_read']}" for r in rows)
    sizes = " / ".join(f"{r['pending']:,}" for r in rows)
    ratio = rows[-1]["our_cpu_ms"] / rows[0]["our_cpu_ms"]
    return [
        f"Dispatch, {figures['due']} due: {reads} items read at {sizes} pending; our CPU at the largest is {ratio:.2f}x the smallest (goal: flat)"
    ]


if __name__ == "__main__":
    main()
