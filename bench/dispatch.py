"""dispatch reads what is due, not what is pending: items read by one run, 100,000 pending + 100 due."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from typing import Any

PENDING = 100_000
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
    from chalicelib import jobs, keys
    from chalicelib.models import JobKind

    batch: list[dict[str, Any]] = []
    for i in range(count):
        item = jobs.job_item(keys.order_pk("stbench", f"{prefix}{i}"), JobKind.SURVEY, due, store_id="stbench", shards=shards, customer_id=f"c{i}@example.com", order_id=f"{prefix}{i}")
        batch.append({"PutRequest": {"Item": table.dump(item)}})
        if len(batch) == 25:
            _flush(table, batch)
            batch = []
    if batch:
        _flush(table, batch)


def _flush(table: Any, batch: list[dict[str, Any]]) -> None:
    request = {table.name: batch}
    while request:
        request = table.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def measure(pending: int = PENDING, due: int = DUE) -> dict[str, Any]:
    """Fill a fresh embedded table and run one dispatch tick; the figures it cost."""
    import boto3

    import devstack
    from chalicelib import db, dispatch
    from chalicelib.config import settings

    now = datetime(2027, 3, 1, 8, 0, tzinfo=timezone.utc)
    devstack.provision()
    cfg = settings()
    plain = db.Table(boto3.client("dynamodb"), cfg.table_name)
    started = time.monotonic()
    _write_jobs(plain, pending, now + timedelta(days=30), "p", cfg.due_shards)
    _write_jobs(plain, due, now - timedelta(minutes=1), "d", cfg.due_shards)
    filled = time.monotonic() - started
    counting = CountingClient(boto3.client("dynamodb"))
    result = dispatch.run(db.Table(counting, cfg.table_name), boto3.client("sqs"), cfg.send_queue_url, now, cfg.due_shards)
    return {"pending": pending, "due": due, "queued": result.queued, "items_read": counting.items_read, "dispatch_counted": result.items_read, "fill_seconds": round(filled, 1)}


def main(pending: int | None = None, due: int = DUE) -> dict[str, Any]:
    from moto import mock_aws

    import devstack

    pending = pending if pending is not None else int(os.environ.get("BENCH_PENDING", PENDING))
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    devstack.use_local_environment()
    try:
        with mock_aws():
            figures = measure(pending, due)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        devstack.reset_caches()
    verdict = "ok" if figures["items_read"] < LIMIT else "TOO MANY"
    print(f"pending jobs            {figures['pending']:>8}")
    print(f"due jobs                {figures['due']:>8}")
    print(f"queued by one dispatch  {figures['queued']:>8}")
    print(f"items read by dispatch  {figures['items_read']:>8}   (limit {LIMIT}: {verdict})")
    print(f"table filled in         {figures['fill_seconds']:>8} s")
    return figures


if __name__ == "__main__":
    main()
