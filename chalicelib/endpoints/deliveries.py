"""Delivering one event to one endpoint: a signed POST, retried through the due index.

A delivery job (see :mod:`.events`) is handed here by the send worker.  Each attempt is claimed
first (a conditional increment of ``attempts``, so a duplicate queue message cannot make two
attempts of one), signed per Standard Webhooks with every valid secret of the endpoint, and
posted through :func:`chalicelib.platform.outbound.opener` (no redirects; outside the local
stage only to public https addresses, checked again here and pinned by the connection).

Its outcome is recorded on the job (the attempt log the store reads) and on the endpoint in one
transaction.  A 2xx ends the delivery.  Anything else is tried again at :data:`RETRY_DELAYS`
after the previous attempt, the job moved later in the due index; after the last one the
delivery fails.  An endpoint that answers 410 Gone is disabled at once, and one whose
deliveries have failed without a success for :data:`DISABLE_AFTER` is disabled too: its
pending deliveries are then skipped and nothing new is emitted to it.

Delivery is at least once: an attempt that dies after posting is found again when dispatch's
lease ends and posts again, with the same ``webhook-id`` for the receiver to drop the repeat."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.models import JobStatus
from chalicelib.endpoints import manage
from chalicelib.intake.signatures import standard_sign
from chalicelib.platform import outbound
from chalicelib.platform.config import settings
from chalicelib.platform.observability import count, logger
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update

# After the first attempt (due when the event happens): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=5)
TIMEOUT_SECONDS = 10
GONE = 410
USER_AGENT = "Aftercare-Webhooks/1.0"


# --- the rules (pure) ----------------------------------------------------------------------
def signature_header(secrets: Sequence[str], message_id: str, timestamp: int, payload: bytes) -> str:
    """``v1,<sig> v1,<sig>``: one signature per valid secret (a rotation's overlap)."""
    return " ".join(standard_sign(secret, message_id, timestamp, payload) for secret in secrets)


def headers(secrets: Sequence[str], message_id: str, now: datetime, payload: bytes) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, message_id, timestamp, payload),
    }


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: the endpoint's status, or why there was none."""

    status: int | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Verdict:
    """What follows from an attempt."""

    job_status: str  # pending (tried again at ``retry_at``), sent or failed
    reason: str
    retry_at: datetime | None = None
    disable: str | None = None  # why the endpoint is disabled, when it is


def judge(attempt: Attempt, number: int, failing_since: datetime | None, now: datetime) -> Verdict:
    """The delivery's and the endpoint's next state after attempt ``number`` (1-based)."""
    if attempt.succeeded:
        return Verdict(JobStatus.SENT.value, f"delivered: HTTP {attempt.status}")
    what = f"HTTP {attempt.status}" if attempt.status is not None else (attempt.error or "no answer")
    if attempt.status == GONE:
        return Verdict(JobStatus.FAILED.value, "the endpoint answered 410 Gone", disable="answered 410 Gone")
    since = failing_since or now
    if now - since >= DISABLE_AFTER:
        return Verdict(
            JobStatus.FAILED.value,
            f"{what}; the endpoint has failed since {iso(since)}",
            disable=f"every delivery failed for 5 days (since {iso(since)})",
        )
    if number >= MAX_ATTEMPTS:
        return Verdict(JobStatus.FAILED.value, f"{what}; gave up after {number} attempts")
    return Verdict(JobStatus.PENDING.value, f"{what}; trying again", retry_at=now + RETRY_DELAYS[number - 1])


# --- the I/O ---------------------------------------------------------------------------------
def default_opener() -> Any:
    return outbound.opener(allow_local=settings().allow_local_webhooks)


def post(
    opener: Any,
    url: str,
    payload: bytes,
    signed: Mapping[str, str],
    *,
    allow_local: bool,
    resolve: outbound.Resolver = outbound.system_resolver,
) -> Attempt:
    """One POST; never raises for what the endpoint or the network does."""
    if not allow_local:
        try:
            outbound.check(url, resolve)
        except outbound.RefusedAddress as exc:
            return Attempt(None, f"refused address: {exc}")
    request = urllib.request.Request(url, data=payload, headers=dict(signed), method="POST")
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
            return Attempt(int(answer.status))
    except urllib.error.HTTPError as exc:
        exc.close()
        return Attempt(int(exc.code))
    except outbound.RefusedConnection as exc:
        return Attempt(None, f"refused address: {exc}")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None)
        return Attempt(None, f"{type(exc).__name__}: {reason if isinstance(reason, str) else type(reason).__name__}")


def _job_key(job: Mapping[str, Any]) -> keys.Key:
    return {"PK": str(job["PK"]), "SK": str(job["SK"])}


def _finish(table: db.Table, job: Mapping[str, Any], status: str, reason: str, now: datetime) -> str:
    table.update(
        _job_key(job),
        Update().set({"status": status, "reason": reason, "finished_at": iso(now)}).remove(*["due_pk", "due_at"]),
        return_values="NONE",
    )
    return f"{status}: {reason}"


def _claim(table: db.Table, job: Mapping[str, Any], number: int, now: datetime) -> bool:
    try:
        table.update(
            _job_key(job),
            Update().set({"attempts": number, "attempted_at": iso(now)}),
            condition=db.Expr(
                "#st = :pending AND #n = :n",
                names={"#st": "status", "#n": "attempts"},
                values={":pending": JobStatus.PENDING.value, ":n": number - 1},
            ),
            return_values="NONE",
        )
    except db.ConditionFailed:
        return False
    return True


def run_job(
    table: db.Table,
    job: Mapping[str, Any],
    now: datetime,
    *,
    opener: Any | None = None,
    allow_local: bool | None = None,
    resolve: outbound.Resolver = outbound.system_resolver,
) -> str:
    """Make the next attempt of one delivery job and record it; says what happened."""
    data = job.get("data") or {}
    store_id, endpoint_id = str(job["store_id"]), str(data.get("endpoint_id") or "")
    endpoint = table.get(keys.endpoint(store_id, endpoint_id), consistent=True)
    if endpoint is None:
        return _finish(table, job, JobStatus.SKIPPED.value, "the endpoint was deleted", now)
    if endpoint.get("disabled_at"):
        return _finish(
            table, job, JobStatus.SKIPPED.value, f"the endpoint is disabled: {endpoint.get('disabled_reason')}", now
        )
    number = int(job.get("attempts") or 0) + 1
    if not _claim(table, job, number, now):
        return "not_needed: attempted meanwhile"
    local = settings().allow_local_webhooks if allow_local is None else allow_local
    payload = str(data["body"]).encode("utf-8")
    signed = headers(manage.valid_secrets(endpoint, now), str(data["message_id"]), now, payload)
    attempt = post(
        opener or default_opener(), str(endpoint["url"]), payload, signed, allow_local=local, resolve=resolve
    )
    failing_since = endpoint.get("failing_since")
    verdict = judge(attempt, number, parse_iso(str(failing_since)) if failing_since else None, now)
    record(table, job, endpoint, number, attempt, verdict, now)
    count("WebhookAttempts", outcome="delivered" if attempt.succeeded else "failed")
    logger.info(
        "webhook attempt",
        extra={
            "store_id": store_id,
            "endpoint_id": endpoint_id,
            "attempt": number,
            "status": attempt.status,
            "outcome": verdict.job_status,
        },
    )
    return f"{verdict.job_status}: {verdict.reason}"


def record(
    table: db.Table,
    job: Mapping[str, Any],
    endpoint: Mapping[str, Any],
    number: int,
    attempt: Attempt,
    verdict: Verdict,
    now: datetime,
) -> None:
    """The attempt on the delivery's log and the endpoint's state, in one transaction."""
    entry = {"attempt": number, "at": iso(now), "status": attempt.status, "error": attempt.error}
    entry = {k: v for k, v in entry.items() if v is not None}
    job_values: dict[str, Any] = {"status": verdict.job_status, "reason": verdict.reason}
    removed: list[str] = []
    if verdict.retry_at is not None:
        job_values.update({"due": iso(verdict.retry_at), "due_at": iso(verdict.retry_at)})
    else:
        job_values["finished_at"] = iso(now)
        removed = ["due_pk", "due_at"]
    job_update = Update().append("attempt_log", [entry], start_empty=True).set(job_values).remove(*removed)
    store_id, endpoint_id = str(endpoint["store_id"]), str(endpoint["endpoint_id"])
    ops = [db.update(_job_key(job), job_update, label="delivery")]
    summary = {"last_attempt": {**entry, "message_id": (job.get("data") or {}).get("message_id")}}
    if attempt.succeeded:
        endpoint_update = Update().set({**summary, "last_success_at": iso(now)}).remove("failing_since")
    else:
        values = {**summary, "failing_since": endpoint.get("failing_since") or iso(now)}
        if verdict.disable:
            values.update({"disabled_at": iso(now), "disabled_reason": verdict.disable})
        endpoint_update = Update().set(values)
    ops.append(
        db.update(
            keys.endpoint(store_id, endpoint_id),
            endpoint_update,
            condition=db.Expr("attribute_exists(PK)"),
            label="endpoint",
        )
    )
    if verdict.disable:
        ops.append(manage.unsubscribe_op(store_id, endpoint_id))
    try:
        table.transact(ops)
    except db.TransactionConflict:
        table.transact(ops[:1])  # the endpoint was deleted meanwhile: the delivery's log stays right
    if verdict.disable:
        count("WebhookEndpointsDisabled")
        manage.refresh(table, store_id)
