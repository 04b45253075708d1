"""``dispatch``: find what is due and hand it to the send queue.

It reads only the sparse due index (keys only), shard by shard, so its cost follows the
number of jobs due, never the number pending.  Each due job is leased (its ``due_at``
pushed a few minutes ahead with a conditional write) before it is queued: a job that waits
in the queue is not queued again by the next tick, and a job whose message is lost comes
back when the lease ends.  ``send`` claims every occurrence exactly once anyway.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib import db, keys
from chalicelib.clock import iso

LEASE = timedelta(minutes=10)
PAGE = 100


@dataclass
class DispatchResult:
    due: int = 0
    queued: int = 0
    lost_lease: int = 0
    items_read: int = 0
    out_of_time: bool = False
    messages: list[dict[str, str]] = field(default_factory=list)


def _due_keys(table: db.Table, shard: int, now: datetime, result: DispatchResult) -> Iterator[dict[str, Any]]:
    cond = db.Expr(
        "due_pk = :shard AND due_at <= :now",
        values={":shard": keys.due_shard_pk(shard), ":now": iso(now)},
    )
    start = None
    while True:
        page, start = table.query(cond, index=keys.DUE_INDEX, limit=PAGE, start=start)
        result.items_read += len(page)
        yield from page
        if not start:
            return


def run(
    table: db.Table,
    sqs: Any,
    queue_url: str,
    now: datetime,
    shards: int,
    time_left_ms: Callable[[], int] = lambda: 60_000,
    reserve_ms: int = 5_000,
) -> DispatchResult:
    result = DispatchResult()
    batch: list[dict[str, str]] = []
    lease_until = iso(now + LEASE)
    for shard in range(shards):
        for entry in _due_keys(table, shard, now, result):
            if time_left_ms() < reserve_ms:
                result.out_of_time = True
                break
            result.due += 1
            try:
                table.update(
                    {"PK": entry["PK"], "SK": entry["SK"]},
                    db.set_expr({"due_at": lease_until, "leased_at": iso(now)}),
                    condition=db.Expr("due_at = :seen", values={":seen": entry["due_at"]}),
                    return_values="NONE",
                )
            except db.ConditionFailed:
                result.lost_lease += 1  # another tick took it, or it was finished meanwhile
                continue
            # ``now`` travels with the job: send judges quiet hours and caps at the tick's time.
            batch.append({"pk": entry["PK"], "sk": entry["SK"], "due_at": entry["due_at"], "now": iso(now)})
            if len(batch) == 10:
                _send_batch(sqs, queue_url, batch, result)
                batch = []
        if result.out_of_time:
            break
    if batch:
        _send_batch(sqs, queue_url, batch, result)
    return result


def _send_batch(sqs: Any, queue_url: str, batch: list[dict[str, str]], result: DispatchResult) -> None:
    entries = [{"Id": str(i), "MessageBody": json.dumps(msg)} for i, msg in enumerate(batch)]
    answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    failed = answer.get("Failed") or []
    if failed:
        # The lease brings these back in a few minutes; say so loudly rather than lose them.
        raise RuntimeError(f"{len(failed)} of {len(batch)} jobs were not queued: {failed[0].get('Message')}")
    result.queued += len(batch)
    result.messages.extend(batch)
