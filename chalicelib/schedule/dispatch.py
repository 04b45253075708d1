"""``dispatch``: find what is due and hand it to the send queue.

It reads only the sparse due index (keys only), shard by shard, so its cost follows the
number of jobs due, never the number pending.  Each due job is leased (its ``due_at``
pushed a few minutes ahead with a conditional write) before it is queued: a job that waits
in the queue is not queued again by the next tick, and a job whose message is lost comes
back when the lease ends.  ``send`` claims every occurrence exactly once anyway.

Trouble stops nothing but the part it touches: a shard whose query fails is skipped (the
next tick reads it again), a job whose lease cannot be taken is left for the next tick, and
a batch SQS does not take has its leases given back so the next tick queues it again (what
cannot be given back returns when its lease ends).  A claimed job is in the due index too,
due when its claim's lease ends, so an attempt that died is found and settled by ``send``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.clock import iso
from chalicelib.core.errors import Unavailable
from chalicelib.platform.observability import logger
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

LEASE = timedelta(minutes=10)
PAGE = 100


@dataclass
class DispatchResult:
    due: int = 0
    queued: int = 0
    lost_lease: int = 0
    errors: int = 0  # storage or queue calls that failed (their work waits for a later tick)
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
    sqs: SQSClient,
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
        try:
            for entry in _due_keys(table, shard, now, result):
                if time_left_ms() < reserve_ms:
                    result.out_of_time = True
                    break
                result.due += 1
                if not _lease(table, entry, lease_until, now, result):
                    continue
                # ``now`` travels with the job: send judges quiet hours and caps at the tick's time.
                batch.append({"pk": entry["PK"], "sk": entry["SK"], "due_at": entry["due_at"], "now": iso(now)})
                if len(batch) == 10:
                    _send_batch(table, sqs, queue_url, batch, lease_until, result)
                    batch = []
        except Unavailable:
            result.errors += 1  # this shard's query failed: the next tick reads it again
            logger.warning("due shard not read", extra={"shard": shard})
        if result.out_of_time:
            break
    if batch:
        _send_batch(table, sqs, queue_url, batch, lease_until, result)
    return result


def _lease(table: db.Table, entry: dict[str, Any], lease_until: str, now: datetime, result: DispatchResult) -> bool:
    try:
        table.update(
            keys.of(entry),
            Update().set({"due_at": lease_until, "leased_at": iso(now)}),
            condition=db.Expr("due_at = :seen", values={":seen": entry["due_at"]}),
            return_values="NONE",
        )
    except db.ConditionFailed:
        result.lost_lease += 1  # another tick took it, or it was finished meanwhile
        return False
    except Unavailable:
        result.errors += 1  # perhaps leased after all: then it returns when the lease ends
        return False
    return True


def _send_batch(
    table: db.Table,
    sqs: SQSClient,
    queue_url: str,
    batch: list[dict[str, str]],
    lease_until: str,
    result: DispatchResult,
) -> None:
    entries: list[SendMessageBatchRequestEntryTypeDef] = [
        {"Id": str(i), "MessageBody": json.dumps(msg)} for i, msg in enumerate(batch)
    ]
    try:
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    except (ClientError, BotoCoreError) as exc:
        # Perhaps queued after all (an answer lost): send claims each occurrence once anyway.
        logger.warning("batch not queued", extra={"jobs": len(batch), "error": type(exc).__name__})
        result.errors += 1
        _give_back(table, batch, lease_until, result)
        return
    failed_ids = {str(f.get("Id")) for f in answer.get("Failed") or []}
    queued = [msg for i, msg in enumerate(batch) if str(i) not in failed_ids]
    if failed_ids:
        logger.warning("jobs not queued", extra={"jobs": len(failed_ids), "of": len(batch)})
        result.errors += 1
        _give_back(table, [msg for i, msg in enumerate(batch) if str(i) in failed_ids], lease_until, result)
    result.queued += len(queued)
    result.messages.extend(queued)


def _give_back(table: db.Table, batch: list[dict[str, str]], lease_until: str, result: DispatchResult) -> None:
    """Undo the leases of jobs that were not queued, so the next tick finds them."""
    for msg in batch:
        try:
            table.update(
                {"PK": msg["pk"], "SK": msg["sk"]},
                Update().set({"due_at": msg["due_at"]}),
                condition=db.Expr("due_at = :lease", values={":lease": lease_until}),
                return_values="NONE",
            )
        except db.ConditionFailed:
            pass  # taken by a later tick, or finished meanwhile
        except Unavailable:
            result.errors += 1  # it returns when its lease ends
