"""``send``: one due job in, at most one message per occurrence out.

For each SQS record (``{"pk", "sk", "due_at", "now"}`` from dispatch): load the job
(consistent read), skip it unless it is still pending and not moved later than the
message says, gather the facts and ask :func:`policy.decide`.

Exactly once, by design and under faults
----------------------------------------
A message that may go is *claimed* first: one transaction creates the occurrence's ledger
item (``attempt`` = a fresh id, ``stage = claimed``) and moves the job from pending to
claimed.  The claimed job keeps its place in the due index, due at claim time + ``LEASE``,
so a claim whose attempt dies unseen (a crash, a lost answer, a failed release) is
dispatched again and resolved.  Before each provider call the ledger notes the channel
(``calling``) and the message ids so far.  The provider's answers are recorded in one
transaction: ledger ``sent``, the job sent (or pending for next year's occurrence), the
sent record the weekly cap counts, the SMS reply index, the stats counter and the survey
reminder.  Every attempt after a claim ends in exactly one of:

- **sent**, recorded.  The record is tried a few times; if it still fails, the answers are
  kept in the ledger (``stage = delivered``) and the next attempt finishes the record from
  them, so nothing the record carries is lost and nothing is sent again;
- **released**: ledger deleted, job pending again, when nothing went out and trying again
  may work: throttling, no connection to the provider, storage trouble before the call.
  A job released ``MAX_ATTEMPTS`` times fails instead;
- **failed**, with its reason, listed by ``GET /stores/{store_id}/jobs?status=failed``: the
  provider refused, or the message cannot be built (a store template that raises, a sender
  address that cannot be encoded).  The ledger goes with it: nothing went out.

**Ambiguous outcomes are never resent.**  A read timeout, a connection closed after the
request was written, or a 5xx may mean the provider took the message; SES and SMS have no
idempotency key, so a second request could deliver it twice.  Such a message is recorded
as *sent, unconfirmed*: the job is ``sent`` with ``unconfirmed`` saying why, it counts for
the weekly cap and schedules the survey reminder as a sent one would, and it is listed with
the failed jobs so the store can see it.  (The send clients make one attempt per call, so
botocore does not retry behind this rule.)

**WhatsApp** stands in for an SMS (:mod:`whatsapp`) within the same claim: the ledger notes
``calling = whatsapp`` first; a refusal that proves WhatsApp took nothing notes the SMS and
sends it (``whatsapp_fallback`` says why); an ambiguous outcome is recorded like any other,
and no SMS follows.  The ledger, the job and the sent record name the channel that went.

A claimed job that comes back (its lease ran out) is resolved from its ledger:

- no provider call noted: it provably did not go; it is released and dispatched as pending;
- answers noted (``delivered``): the record is finished from them;
- a call noted without its answer: it may have gone; it is recorded sent, unconfirmed.

Before the claim nothing can have gone out.  Storage trouble there leaves the job pending
(dispatch's lease brings it back); a busy provider or any other error raises so SQS retries
(with a growing back-off), and on the queue's last receive the job is marked failed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.core.clock import epoch, iso, parse_iso
from chalicelib.core.errors import Unavailable
from chalicelib.core.models import Channel, JobKind, JobStatus
from chalicelib.endpoints import deliveries as webhook_deliveries
from chalicelib.messaging import links, policy, transports, whatsapp
from chalicelib.platform.config import settings
from chalicelib.platform.observability import count, logger
from chalicelib.schedule import followups
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import CustomerItem, JobItem, StoreItem, as_customer, as_job, as_store
from chalicelib.stores import products as product_settings
from chalicelib.stores import registry

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from mypy_boto3_sqs import SQSClient
from chalicelib.messaging.compose import Email, compose_email, compose_sms, message_context, survey_context
from chalicelib.messaging.facts import Facts, gather
from chalicelib.platform.aws import Clients
from chalicelib.reports import stats
from chalicelib.schedule import jobs
from chalicelib.schedule.dispatch import LEASE
from chalicelib.stores import overrides
from chalicelib.support import escalation
from chalicelib.surveys import tokens
from chalicelib.surveys.tokens import scale

ESCALATION_KINDS = frozenset({JobKind.CASE_REALERT.value, JobKind.ALERT_RETRY.value})
# Every message but the order's own thank-you carries List-Unsubscribe (RFC 8058).
TRANSACTIONAL = frozenset({JobKind.THANK_YOU.value})
SENT_RECORD_DAYS = 90
PHONE_RECORD_DAYS = 60
WHATSAPP_RECORD_DAYS = 30  # WhatsApp tries an offline phone for up to 30 days before it reports a failure
# Messages that ask for an answer, and the survey kind their answers are stored under (the
# answer to "did we make it right?" is recorded on the case, on a 1-5 scale).
SURVEY_LABELS = {JobKind.SURVEY.value: "post_delivery", JobKind.MADE_IT_RIGHT.value: JobKind.MADE_IT_RIGHT.value}
SURVEY_SETTINGS: dict[str, dict[str, str]] = {JobKind.MADE_IT_RIGHT.value: {"survey_type": "csat"}}
MAX_ATTEMPTS = 8  # claims released for retry before a job fails
RECORD_TRIES = 3
# Ledger stages (see the module docstring).
CLAIMED, DELIVERED, SENT = "claimed", "delivered", "sent"


@dataclass
class Outcome:
    status: str  # sent | later | skipped | dropped | failed | routed | planned | released
    reason: str | None = None
    message_ids: dict[str, str] = field(default_factory=dict)


# --- the batch handler ---------------------------------------------------------------
def handle_batch(
    event: Mapping[str, Any], context: Any, table: db.Table, clients: Clients
) -> PartialItemFailureResponse:
    """Process an SQS batch with Powertools' batch processor; failed records are reported
    one by one (``ReportBatchItemFailures``), so one busy provider does not redo the batch."""
    from aws_lambda_powertools.utilities.batch import (  # lazy: heavy at import (make bench, import time)
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    max_receives = settings().send_max_receives

    def record_handler(record: Any) -> str:
        receives = int(record.attributes.approximate_receive_count or 1)
        try:
            return process(table, clients, json.loads(record.body), receives=receives, max_receives=max_receives).status
        except (transports.ProviderBusy, Unavailable):
            _back_off(clients.sqs, record.receipt_handle, receives)
            raise

    # Every record failing is still a partial answer (all ids listed), not a crashed invocation.
    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(
        event=dict(event), record_handler=record_handler, processor=processor, context=context
    )


def retry_delay(receives: int) -> int:
    """Seconds before a busy provider is tried again: 30 s, doubling, at most 15 minutes."""
    return int(min(900, 30 * 2 ** max(0, receives - 1)))


def _back_off(sqs: SQSClient, receipt_handle: str, receives: int) -> None:
    """Hide the message for :func:`retry_delay`; if SQS refuses, its visibility timeout stands."""
    from botocore.exceptions import BotoCoreError, ClientError  # lazy: heavy at import (make bench, import time)

    try:
        sqs.change_message_visibility(
            QueueUrl=settings().send_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=retry_delay(receives)
        )
    except (ClientError, BotoCoreError) as exc:
        logger.warning("backoff not set", extra={"error": type(exc).__name__})


def process(
    table: db.Table, clients: Clients, message: Mapping[str, Any], *, receives: int = 1, max_receives: int = 5
) -> Outcome:
    key = {"PK": str(message["pk"]), "SK": str(message["sk"])}
    now = parse_iso(str(message["now"]))
    item = table.get(key, consistent=True)
    job = as_job(item) if item is not None else None
    if job is not None and job.get("status") == JobStatus.CLAIMED.value and job["kind"] not in ESCALATION_KINDS:
        return _resume(table, job, now)
    if job is None or job.get("status") != JobStatus.PENDING.value:
        count("SendSkipped", reason="not_pending")
        return Outcome("skipped", "not_pending")
    if parse_iso(str(job["due"])) > parse_iso(str(message["due_at"])):
        return Outcome("skipped", "moved_later")  # rescheduled since this message was queued
    try:
        return _process(table, clients, job, now)
    except Unavailable:
        raise  # storage trouble: the job is pending (or released), and comes back
    except transports.ProviderBusy as exc:
        if receives >= max_receives:
            _fail(table, job, f"provider busy after {receives} attempts ({exc})", now)
            return Outcome("failed", str(exc))
        raise
    except Exception as exc:
        # A bug: let SQS retry, but never leave the job silently pending forever.
        if receives >= max_receives:
            _fail(table, job, f"{type(exc).__name__} after {receives} attempts", now)
        raise


def _process(table: db.Table, clients: Clients, job: JobItem, now: datetime) -> Outcome:
    store = registry.with_defaults(registry.get_store(table, str(job["store_id"])))
    if job["kind"] in ESCALATION_KINDS:
        result = escalation.run_job(table, clients, store, job, now)
        return Outcome("routed", str(result))
    if job["kind"] == JobKind.WEBHOOK_DELIVERY.value:
        return Outcome("routed", webhook_deliveries.run_job(table, job, now))
    if followups.is_catalogue_lookup(job):
        return _plan_warranties(table, job, store, now)

    facts = gather(table, clients, job, store, now)
    decision = policy.decide(facts.situation)
    if decision.action == "later":
        assert decision.at is not None
        _reschedule(table, job, decision.at, decision.reason or "", now)
        count("SendDeferred", reason=decision.reason or "")
        return Outcome("later", decision.reason)
    if decision.action == "drop":
        _finish_without_sending(table, job, store, facts, decision.reason or "", now)
        count("SendDropped", reason=decision.reason or "")
        return Outcome("dropped", decision.reason)

    try:
        claim = _claim(table, job, now)
    except _Moved:
        return Outcome("skipped", "moved")
    if claim is None:
        _finish_without_sending(table, job, store, facts, "already_sent", now)
        return Outcome("skipped", "already_sent")
    try:
        sent = deliver(table, clients, job, store, facts, decision, now, claim)
    except NotSent as exc:
        return _not_sent(table, job, claim, exc, now)
    _finish(table, job, store, facts.customer, facts.language, sent, claim, now)
    count("MessageSent", kind=str(job["kind"]))
    logger.info(
        "sent",
        extra={
            "store_id": job["store_id"],
            "kind": job["kind"],
            "channels": sorted(sent.channels),
            "unconfirmed": sorted(sent.unconfirmed),
        },
    )
    if sent.unconfirmed:
        return Outcome("sent", "unconfirmed", message_ids=sent.message_ids)
    return Outcome("sent", message_ids=sent.message_ids)


def _plan_warranties(table: db.Table, job: JobItem, store: StoreItem, now: datetime) -> Outcome:
    """Warranty reminders for the order's SKUs whose months the store keeps in product
    settings; the lookup job is finished in the same transaction, so it plans once."""
    data = job.get("data") or {}
    titles = {str(sku): str(title) for sku, title in (data.get("titles") or {}).items()}
    found = product_settings.products_for(table, str(job["store_id"]), titles)
    items = [
        (sku, str(p.get("title") or titles[sku]), int(p["warranty_months"]))
        for sku, p in sorted(found.items())
        if p.get("warranty_months")
    ]
    planned = followups.warranty_jobs(
        store,
        str(job["store_id"]),
        str(job["order_id"]),
        str(job["customer_id"]),
        parse_iso(str(data["ordered_at"])),
        items,
        now,
        shards=table.due_shards,
    )
    done = (
        Update()
        .set(
            {
                "status": JobStatus.DONE.value,
                "reason": f"planned {len(planned)} warranty reminders",
                "finished_at": iso(now),
            }
        )
        .remove("due_pk", "due_at")
    )
    try:
        table.transact(
            [
                *(jobs.schedule(j) for j in planned),
                db.update(keys.of(job), done, condition=_pending_at(job), label="lookup job"),
            ]
        )
    except db.TransactionConflict:
        return Outcome("skipped", "not_pending")
    return Outcome("planned", f"{len(planned)} warranty reminders")


# --- claiming, finishing -------------------------------------------------------------
def _pending_at(job: JobItem) -> db.Expr:
    return db.Expr(
        "#st = :pending AND #due = :due",
        names={"#st": "status", "#due": "due"},
        values={":pending": JobStatus.PENDING.value, ":due": job["due"]},
    )


@dataclass(frozen=True)
class Claim:
    """This attempt's hold on one occurrence: the ledger item's key and the attempt id."""

    key: keys.Key
    attempt: str

    def owned(self) -> db.Expr:
        return db.Expr("#att = :att", names={"#att": "attempt"}, values={":att": self.attempt})


def _claim_key(job: JobItem) -> keys.Key:
    return keys.send_claim(str(job["PK"]), followups.occurrence(job))


def _claim(table: db.Table, job: JobItem, now: datetime) -> Claim | None:
    """Claim this occurrence; None when it was claimed before (it went, or is going, out).

    A claim whose answer was lost (a timeout after DynamoDB applied it, or an SDK retry that
    then found its own item) is recognised by its attempt id."""

    claim = Claim(_claim_key(job), uuid.uuid4().hex)
    ledger = {
        **claim.key,
        "type": "send_claim",
        "job_sk": job["SK"],
        "kind": job["kind"],
        "store_id": job["store_id"],
        "claimed_at": iso(now),
        "attempt": claim.attempt,
        "stage": CLAIMED,
    }
    # The claimed job stays in the due index, due when its lease ends: if this attempt dies
    # unseen, dispatch finds it again and :func:`_resume` resolves it.
    held = (
        Update()
        .set({"status": JobStatus.CLAIMED.value, "claimed_at": iso(now), "due_at": iso(now + LEASE)})
        .add({"attempts": 1})
    )
    try:
        table.transact(
            [
                db.create(ledger, label="ledger"),
                db.update(keys.of(job), held, condition=_pending_at(job), label="job"),
            ]
        )
    except db.TransactionConflict as exc:
        if _is_ours(table, claim):
            return claim
        if "ledger" in exc.failed:
            _claimed_before(table, job, now)
            return None
        raise _Moved() from exc
    except Unavailable:
        if _is_ours(table, claim):
            return claim
        raise
    return claim


def _is_ours(table: db.Table, claim: Claim) -> bool:
    ledger = table.get(claim.key, consistent=True)
    return ledger is not None and ledger.get("attempt") == claim.attempt


def _claimed_before(table: db.Table, job: JobItem, now: datetime) -> None:
    """The occurrence has a ledger item already.  If it is this very job's unfinished claim
    (the job was rewritten as pending meanwhile), the job is put back under that claim so
    :func:`_resume` settles it; either way this attempt sends nothing."""

    ledger = table.get(_claim_key(job), consistent=True)
    if ledger is not None and ledger.get("job_sk") == job["SK"] and ledger.get("stage") in (CLAIMED, DELIVERED):
        try:
            table.update(
                keys.of(job),
                Update().set(
                    {
                        "status": JobStatus.CLAIMED.value,
                        "claimed_at": ledger.get("claimed_at") or iso(now),
                        "due_at": iso(now + LEASE),
                    }
                ),
                condition=_pending_at(job),
                return_values="NONE",
            )
        except db.ConditionFailed:
            pass
        raise _Moved()
    return None


class _Moved(Exception):
    """The job changed between the read and the claim; the newer version will be dispatched."""


class NotSent(Exception):
    """Nothing went out on any channel.  ``retry``: trying again later may work."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def _note_call(table: db.Table, claim: Claim, channel: str, contact: str, sent: Sent) -> None:
    """Write down, before calling the provider, that this channel is being sent (and what
    has gone so far), so an attempt that dies during the call is never sent again."""
    table.update(
        claim.key,
        Update().set({"calling": channel, "calling_contact": contact, **_sent_fields(sent)}),
        condition=claim.owned(),
        return_values="NONE",
    )


def _sent_fields(sent: Sent) -> dict[str, Any]:
    return {
        "message_ids": dict(sent.message_ids),
        "contacts": dict(sent.contacts),
        "unconfirmed": dict(sent.unconfirmed) or None,
        "given_up": dict(sent.given_up) or None,
        "survey_token": sent.survey_token,
        "survey_channel": sent.survey_channel,
        "survey_tokens": list(sent.survey_tokens) or None,
        "whatsapp_fallback": sent.fallback,
    }


def _sent_from(ledger: Mapping[str, Any]) -> Sent:
    return Sent(
        message_ids={str(k): str(v) for k, v in (ledger.get("message_ids") or {}).items()},
        contacts={str(k): str(v) for k, v in (ledger.get("contacts") or {}).items()},
        survey_token=ledger.get("survey_token"),
        survey_channel=ledger.get("survey_channel"),
        survey_tokens=[str(t) for t in ledger.get("survey_tokens") or []],
        given_up={str(k): str(v) for k, v in (ledger.get("given_up") or {}).items()},
        unconfirmed={str(k): str(v) for k, v in (ledger.get("unconfirmed") or {}).items()},
        fallback=ledger.get("whatsapp_fallback"),
    )


def _not_sent(table: db.Table, job: JobItem, claim: Claim, exc: NotSent, now: datetime) -> Outcome:
    """Nothing went out: release the claim for a retry, or fail the job with the reason.

    After a release the cause is raised again, so SQS retries (after a back-off when the
    provider was busy) and a bug is seen; the queue's last receive then fails the job."""
    attempts = int(job.get("attempts") or 0) + 1
    retry = exc.retry and attempts < MAX_ATTEMPTS
    reason = exc.reason if not exc.retry else f"{exc.reason} (after {attempts} attempts)"
    try:
        if retry:
            _release(table, job, claim, now)
        else:
            _fail_claimed(table, job, claim, reason, now)
    except Unavailable:
        _forget_call(table, claim)
        raise
    if not retry:
        return Outcome("failed", reason)
    count("SendReleased", kind=str(job["kind"]))
    raise exc.__cause__ if exc.__cause__ is not None else Unavailable(exc.reason)


def _forget_call(table: db.Table, claim: Claim) -> None:
    """The claim could not be released: at least record that the noted call did not go, so
    the claim's resolution releases it rather than calling it unconfirmed."""
    try:
        table.update(claim.key, Update().remove("calling"), condition=claim.owned(), return_values="NONE")
    except (Unavailable, db.ConditionFailed):
        pass


def _release(table: db.Table, job: JobItem, claim: Claim, now: datetime, *, due: datetime | None = None) -> None:
    """Undo a claim whose message did not go, so a retry may send it: SQS redelivers the
    message, and should it be lost, dispatch finds the job again after a lease."""

    back = {
        "status": JobStatus.PENDING.value,
        "due_pk": keys.due_shard(str(job["PK"]), str(job["SK"]), table.due_shards),
        "due_at": iso(due or now + LEASE),
    }
    try:
        table.transact(
            [
                db.delete(claim.key, condition=claim.owned(), label="ledger"),
                db.update(keys.of(job), Update().set(back).remove("claimed_at"), condition=_claimed(), label="job"),
            ]
        )
    except db.TransactionConflict:
        pass  # released already (an answer lost), or settled by another attempt


def _claimed() -> db.Expr:
    return db.Expr("#st = :claimed", names={"#st": "status"}, values={":claimed": JobStatus.CLAIMED.value})


def _fail_claimed(table: db.Table, job: JobItem, claim: Claim, reason: str, now: datetime) -> None:
    """Fail a claimed job whose message did not go out; its ledger item goes too, so another
    job for the same occurrence (the fallback survey) is not told it was sent."""
    listing = keys.failed_job_listing(str(job["store_id"]), iso(now), str(job["PK"]), str(job["SK"]))
    failed = (
        Update()
        .set({"status": JobStatus.FAILED.value, "reason": reason, "finished_at": iso(now), **listing})
        .remove("due_pk", "due_at", "claimed_at")
    )
    try:
        table.transact(
            [
                db.delete(claim.key, condition=claim.owned(), label="ledger"),
                db.update(keys.of(job), failed, condition=_claimed(), label="job"),
            ]
        )
    except db.TransactionConflict:
        return
    count("SendFailed", kind=str(job["kind"]))
    logger.warning("job failed", extra={"store_id": job["store_id"], "kind": job["kind"], "reason": reason})


def _resume(table: db.Table, job: JobItem, now: datetime) -> Outcome:
    """Settle a claim that outlived its attempt (see the module docstring)."""

    ledger = table.get(_claim_key(job), consistent=True)
    if ledger is None or ledger.get("job_sk") != job["SK"] or ledger.get("stage") == SENT:
        # No claim of this job's stands, or its record went through: nothing to send here.
        if ledger is None:
            void = Update().set({"status": JobStatus.PENDING.value, "due_at": iso(now)}).remove("claimed_at")
        else:
            void = (
                Update()
                .set({"status": JobStatus.SENT.value, "finished_at": iso(now)})
                .remove("due_pk", "due_at", "claimed_at")
            )
        try:
            table.update(keys.of(job), void, condition=_claimed(), return_values="NONE")
        except db.ConditionFailed:
            pass
        return Outcome("released" if ledger is None else "skipped", "claim_settled")
    claim = Claim(_claim_key(job), str(ledger.get("attempt") or ""))
    sent = _sent_from(ledger)
    if ledger.get("stage") == CLAIMED:
        if now < parse_iso(str(ledger.get("claimed_at") or job["due"])) + LEASE:
            return Outcome("skipped", "in_flight")  # a duplicate message while the attempt runs
        channel = ledger.get("calling")
        if channel and channel not in sent.message_ids and channel not in sent.unconfirmed:
            sent.unconfirmed[str(channel)] = "interrupted during the provider call"
            if ledger.get("calling_contact"):
                sent.contacts[str(channel)] = str(ledger["calling_contact"])
        if not sent.channels:
            _release(table, job, claim, now, due=now)
            count("ClaimReleased")
            return Outcome("released", "stale_claim_not_sent")
    store = registry.with_defaults(registry.get_store(table, str(job["store_id"])))
    customer_item = (
        table.get(keys.customer(str(job["store_id"]), str(job["customer_id"])), consistent=True)
        if job.get("customer_id")
        else None
    )
    customer = as_customer(customer_item) if customer_item is not None else None
    language = str(ledger.get("language") or store.get("language") or "en")
    sent_at = parse_iso(str(ledger["sent_at"])) if ledger.get("sent_at") else now
    _finish(table, job, store, customer, language, sent, claim, sent_at)
    count("ClaimRepaired", kind=str(job["kind"]))
    return Outcome("sent", "unconfirmed" if sent.unconfirmed else "repaired", message_ids=sent.message_ids)


def _reschedule(table: db.Table, job: JobItem, at: datetime, reason: str, now: datetime) -> None:
    try:
        table.update(
            keys.of(job),
            Update()
            .set({"due": iso(at), "due_at": iso(at), "deferred_reason": reason, "deferred_at": iso(now)})
            .add({"deferrals": 1}),
            condition=_pending_at(job),
            return_values="NONE",
        )
    except db.ConditionFailed:
        pass  # changed meanwhile: the newer version stands


def _next_occurrence(
    job: JobItem, store: StoreItem, customer: CustomerItem | None, now: datetime, shards: int
) -> dict[str, Any] | None:
    """For a recurring kind, the attributes that make it pending again for next year."""
    if job["kind"] not in followups.RECURRING:
        return None
    nxt = followups.next_year(job, store, policy.zone_of(customer, store), now)
    if nxt is None:
        return None
    due, occurrence = nxt
    return {
        "status": JobStatus.PENDING.value,
        "due": iso(due),
        "due_at": iso(due),
        "due_pk": keys.due_shard(str(job["PK"]), str(job["SK"]), shards),
        "data": {**(job.get("data") or {}), "occurrence": occurrence},
    }


def _finish_without_sending(
    table: db.Table, job: JobItem, store: StoreItem, facts: Facts, reason: str, now: datetime
) -> None:
    again = _next_occurrence(job, store, facts.customer, now, table.due_shards)
    if again is not None:
        update = Update().set({**again, "last_reason": reason, "last_finished_at": iso(now)})
    else:
        update = (
            Update()
            .set({"status": JobStatus.SKIPPED.value, "reason": reason, "finished_at": iso(now)})
            .remove("due_pk", "due_at")
        )
    try:
        table.update(keys.of(job), update, condition=_pending_at(job), return_values="NONE")
    except db.ConditionFailed:
        pass


def _fail(table: db.Table, job: JobItem, reason: str, now: datetime) -> None:
    """Mark a job failed, visible in the store's failed-jobs listing."""
    condition = db.Expr(
        "#st IN (:pending, :claimed)",
        names={"#st": "status"},
        values={":pending": JobStatus.PENDING.value, ":claimed": JobStatus.CLAIMED.value},
    )
    listing = keys.failed_job_listing(str(job["store_id"]), iso(now), str(job["PK"]), str(job["SK"]))
    try:
        table.update(
            keys.of(job),
            Update()
            .set({"status": JobStatus.FAILED.value, "reason": reason, "finished_at": iso(now), **listing})
            .remove("due_pk", "due_at"),
            condition=condition,
            return_values="NONE",
        )
    except db.ConditionFailed:
        return
    count("SendFailed", kind=str(job["kind"]))
    logger.warning("job failed", extra={"store_id": job["store_id"], "kind": job["kind"], "reason": reason})


# --- composing and delivering --------------------------------------------------------
@dataclass
class Sent:
    message_ids: dict[str, str]
    contacts: dict[str, str]
    survey_token: str | None = None
    survey_channel: str | None = None
    survey_tokens: list[str] = field(default_factory=list)  # one per channel
    given_up: dict[str, str] = field(default_factory=dict)  # channel -> why, after another channel went
    unconfirmed: dict[str, str] = field(default_factory=dict)  # channel -> why it may not have gone
    fallback: str | None = None  # why a message meant for WhatsApp went by SMS

    @property
    def channels(self) -> list[str]:
        """Every channel that went, or may have gone."""
        return sorted({*self.message_ids, *self.unconfirmed})


def deliver(
    table: db.Table,
    clients: Clients,
    job: JobItem,
    store: StoreItem,
    facts: Facts,
    decision: policy.Decision,
    now: datetime,
    claim: Claim,
) -> Sent:
    """Send on each channel the decision names; :class:`NotSent` when nothing went out.

    Once one channel went (or may have), a later channel's trouble gives that channel up
    rather than failing the message: a retry would send the first one twice."""

    kind = str(job["kind"])
    sent = Sent({}, {})
    try:
        store_overrides = overrides.for_store(table, str(store["store_id"]), facts.language)
    except Unavailable as exc:
        raise NotSent(f"storage unavailable before sending ({exc})", retry=True) from exc
    for channel in decision.channels:
        contact = policy.contact_for(facts.customer, channel, facts.order)
        assert contact is not None  # policy.decide checked it
        try:
            issued, message, by_whatsapp = _prepare(
                table, job, store, facts, decision, store_overrides, channel, contact, now
            )
            if by_whatsapp is not None:
                _note_call(table, claim, whatsapp.WHATSAPP, contact, sent)
        except Exception as exc:  # nothing went on this channel: settled below, a bug raised again
            if not sent.channels:
                raise _not_sent_before(exc) from exc
            sent.given_up[channel] = _not_sent_before(exc).reason
            break
        if by_whatsapp is not None and _send_whatsapp(clients, store, kind, contact, by_whatsapp, sent):
            if issued is not None:
                sent.survey_tokens.append(issued)
                sent.survey_token, sent.survey_channel = issued, channel
            continue
        try:
            _note_call(table, claim, channel, contact, sent)
        except Exception as exc:  # nothing went on this channel: settled below, a bug raised again
            if not sent.channels:
                raise _not_sent_before(exc) from exc
            sent.given_up[channel] = _not_sent_before(exc).reason
            break
        try:
            if isinstance(message, Email):
                message_id = transports.send_email(
                    clients,
                    store,
                    contact,
                    message.subject,
                    message.html,
                    message.text,
                    message.headers,
                    reference=keys.reference(claim.key),
                )
            else:
                message_id = transports.send_sms(clients, store, contact, message)
        except transports.Ambiguous as exc:
            sent.unconfirmed[channel] = f"the provider's answer was lost ({exc}); not sent again"
            sent.contacts[channel] = contact
            count("SendUnconfirmed", kind=kind, channel=channel)
        except (transports.ProviderBusy, transports.Rejected) as exc:
            if not sent.channels:
                retry = isinstance(exc, transports.ProviderBusy)
                why = f"rejected by the provider ({exc})" if not retry else f"provider busy ({exc})"
                if isinstance(exc, transports.Unsendable):
                    why = f"cannot be sent: {exc.code}"
                raise NotSent(why, retry=retry) from exc
            # Another channel already went out: a retry would send it twice, so this one is given up.
            sent.given_up[channel] = f"{type(exc).__name__}: {exc}"
            count("SendChannelGivenUp", kind=kind, channel=channel)
            break
        else:
            sent.message_ids[channel] = message_id
            sent.contacts[channel] = contact
        if issued is not None:
            sent.survey_tokens.append(issued)
            sent.survey_token, sent.survey_channel = issued, channel
    return sent


def _not_sent_before(exc: Exception) -> NotSent:
    """What a failure before the provider call means: nothing went on this channel."""
    if isinstance(exc, transports.Unsendable):
        return NotSent(f"cannot be sent: {exc.code}", retry=False)
    if isinstance(exc, (Unavailable, db.ConditionFailed)):
        return NotSent(f"storage unavailable before sending ({type(exc).__name__})", retry=True)
    return NotSent(f"{type(exc).__name__} before sending", retry=True)


def _send_whatsapp(
    clients: Clients, store: StoreItem, kind: str, contact: str, message: Mapping[str, Any], sent: Sent
) -> bool:
    """Send by WhatsApp in the SMS's place; False when WhatsApp provably took nothing (a
    refusal, throttling, no connection), so the SMS goes instead.  An unknown outcome counts
    as gone: the SMS must not follow it (never both channels)."""
    try:
        sent.message_ids[whatsapp.WHATSAPP] = transports.send_whatsapp(clients, store, contact, message)
    except transports.Ambiguous as exc:
        sent.unconfirmed[whatsapp.WHATSAPP] = f"the provider's answer was lost ({exc}); not sent again"
        count("SendUnconfirmed", kind=kind, channel=whatsapp.WHATSAPP)
    except (transports.ProviderBusy, transports.Rejected) as exc:
        sent.fallback = f"{type(exc).__name__}: {exc}"
        count("WhatsAppFallback", kind=kind)
        return False
    sent.contacts[whatsapp.WHATSAPP] = contact
    return True


def _prepare(
    table: db.Table,
    job: JobItem,
    store: StoreItem,
    facts: Facts,
    decision: policy.Decision,
    store_overrides: Mapping[str, str],
    channel: str,
    contact: str,
    now: datetime,
) -> tuple[str | None, Email | str, dict[str, Any] | None]:
    """The survey token this channel's message carries (issued now), the message, composed,
    and for an SMS the WhatsApp message to send in its place (None: it goes by SMS); a
    message that cannot be built (its template raises) is Unsendable."""
    kind = str(job["kind"])
    customer_id = str(job.get("customer_id") or "")
    # An invitation rides along only on a channel the customer agreed to marketing on.
    extras = decision.marketing_extras and policy.consented(facts.customer, channel)
    context = message_context(job, store, facts, replace(decision, marketing_extras=extras), now)
    issued: str | None = None
    if kind in SURVEY_LABELS:
        survey_store = as_store({**store, **SURVEY_SETTINGS.get(kind, {})})
        link = tokens.issue_survey(
            table,
            store=survey_store,
            customer_id=customer_id,
            order_id=str(job.get("order_id") or ""),
            kind=SURVEY_LABELS[kind],
            channel=channel,
            contact=contact,
            now=now,
            language=facts.language,
        )
        context.update(survey_context(survey_store, link.url, link.score_urls))
        issued = link.token
    elif kind == JobKind.SURVEY_REMINDER.value:
        token = str((job.get("data") or {})["token"])
        context.update(
            survey_context(
                store,
                tokens.survey_url(settings().public_base_url, token),
                [
                    (s, tokens.survey_url(settings().public_base_url, token, s))
                    for s in scale(str(store.get("survey_type") or "nps"))
                ],
            )
        )
    try:
        if channel == Channel.EMAIL.value:
            transports.sender(store)  # a sender that cannot be encoded fails here, before any call
            unsubscribe = (
                None
                if kind in TRANSACTIONAL
                else links.unsubscribe_url(
                    settings().public_base_url, str(store["store_id"]), customer_id or contact, contact
                )
            )
            message: Email | str = compose_email(
                kind, facts.language, context, store, store_overrides, unsubscribe=unsubscribe
            )
        else:
            message = compose_sms(kind, facts.language, context, store, store_overrides)
    except transports.Unsendable:
        raise
    except Exception as exc:  # a store's template may raise anything; the job fails, saying so
        logger.exception("message could not be composed", extra={"store_id": job["store_id"], "kind": kind})
        raise transports.Unsendable(f"template_error ({type(exc).__name__})") from exc
    by_whatsapp = None
    if channel == Channel.SMS.value:
        template = whatsapp.template_for(store, facts.customer, kind, facts.language)
        if template is not None:
            by_whatsapp = whatsapp.template_message(template, contact, whatsapp.values(store, context))
    return issued, message, by_whatsapp


def _finish(
    table: db.Table,
    job: JobItem,
    store: StoreItem,
    customer: CustomerItem | None,
    language: str,
    sent: Sent,
    claim: Claim,
    now: datetime,
) -> None:
    """Record what went; should the record keep failing, keep the answers in the ledger so
    the next attempt finishes it (:func:`_resume`), and raise so that attempt comes soon."""
    for _ in range(RECORD_TRIES):
        try:
            _record_sent(table, job, store, customer, language, sent, claim, now)
            return
        except db.TransactionConflict:
            return  # recorded already (its answer was lost), or settled by a later attempt
        except Unavailable:
            continue
    try:
        table.update(
            claim.key,
            Update().set({"stage": DELIVERED, "sent_at": iso(now), "language": language, **_sent_fields(sent)}),
            condition=claim.owned(),
            return_values="NONE",
        )
    except (Unavailable, db.ConditionFailed):
        pass  # the call noted in the ledger keeps it from being sent again
    raise Unavailable("sent, but not yet recorded; the next attempt records it")


def _record_sent(
    table: db.Table,
    job: JobItem,
    store: StoreItem,
    customer: CustomerItem | None,
    language: str,
    sent: Sent,
    claim: Claim,
    now: datetime,
) -> None:
    store_id = str(store["store_id"])
    kind = str(job["kind"])
    customer_id = job.get("customer_id")
    channels = sent.channels
    ids = ",".join(f"{c}:{sent.message_ids.get(c, 'unconfirmed')}" for c in channels)
    unconfirmed = "; ".join(f"{c}: {why}" for c, why in sorted(sent.unconfirmed.items())) or None
    not_yet_sent = db.Expr(
        "#att = :att AND #stage <> :sent",
        names={"#att": "attempt", "#stage": "stage"},
        values={":att": claim.attempt, ":sent": SENT},
    )
    ops = [
        db.update(
            claim.key,
            Update()
            .set(
                {
                    "stage": SENT,
                    "message_ids": sent.message_ids,
                    "unconfirmed": sent.unconfirmed or None,
                    "sent_at": iso(now),
                }
            )
            .remove("calling", "calling_contact"),
            condition=not_yet_sent,
            label="ledger",
        ),
    ]
    again = _next_occurrence(job, store, customer, now, table.due_shards)
    finished: dict[str, Any] = {
        "message_ids": sent.message_ids,
        "last_sent_at": iso(now),
        "channels": channels,
        "given_up": sent.given_up or None,
        "whatsapp_fallback": sent.fallback,
    }
    if unconfirmed:
        # Listed with the failed jobs: the store sees what may not have reached the customer.
        finished.update(
            {"unconfirmed": unconfirmed, **keys.failed_job_listing(store_id, iso(now), str(job["PK"]), str(job["SK"]))}
        )
    if again is not None:
        ops.append(db.update(keys.of(job), Update().set({**again, **finished}).remove("claimed_at"), label="job"))
    else:
        ops.append(
            db.update(
                keys.of(job),
                Update()
                .set({"status": JobStatus.SENT.value, "finished_at": iso(now), **finished})
                .remove("due_pk", "due_at", "claimed_at"),
                label="job",
            )
        )
    if customer_id:
        ops.append(
            db.put(
                {
                    **keys.sent_message(store_id, str(customer_id), iso(now), kind),
                    "type": "sent_message",
                    "kind": kind,
                    "channel": ",".join(channels),
                    "sent_at": iso(now),
                    "order_id": job.get("order_id"),
                    "message_ids": ids,
                    "survey_tokens": sent.survey_tokens or None,  # so erasing the customer finds the survey links too
                    "expires_at": epoch(now + timedelta(days=SENT_RECORD_DAYS)),
                },
                label="sent record",
            )
        )
        if kind == JobKind.SURVEY.value and customer is not None:
            ops.append(
                db.update(
                    keys.customer(store_id, str(customer_id)),
                    Update().set({"last_survey_at": iso(now)}),
                    label="customer",
                )
            )
    if kind in SURVEY_LABELS and sent.survey_token:
        ops.append(stats.sent_op(store_id, SURVEY_LABELS[kind], now))
    if sent.message_ids.get(whatsapp.WHATSAPP):
        ops.append(
            db.put(
                {
                    **keys.whatsapp_message(sent.message_ids[whatsapp.WHATSAPP]),
                    "type": "whatsapp_message",
                    "store_id": store_id,
                    "job_pk": job["PK"],
                    "job_sk": job["SK"],
                    "kind": kind,
                    "sent_at": iso(now),
                    "expires_at": epoch(now + timedelta(days=WHATSAPP_RECORD_DAYS)),
                },
                label="whatsapp record",
            )
        )
    texted = next((c for c in (Channel.SMS.value, whatsapp.WHATSAPP) if c in channels and c in sent.contacts), None)
    if texted is not None:
        phone = sent.contacts[texted]
        ops.append(
            db.put(
                {
                    **keys.phone_message(phone, iso(now), store_id),
                    "type": "phone_message",
                    "store_id": store_id,
                    "customer_id": customer_id,
                    "kind": kind,
                    "message_id": sent.message_ids.get(texted, "unconfirmed"),
                    "via": texted,
                    "sent_at": iso(now),
                    "expires_at": epoch(now + timedelta(days=PHONE_RECORD_DAYS)),
                },
                label="phone record",
            )
        )
    if (
        kind == JobKind.SURVEY.value
        and sent.survey_token
        and followups.enabled(store, JobKind.SURVEY_REMINDER)
        and job.get("order_id")
    ):
        reminder_key = tokens.reminder_job_key(store_id, str(job["order_id"]))
        due = now + timedelta(days=int(store.get("survey_reminder_days") or 3))
        reminder = jobs.job_item(
            reminder_key["PK"],
            JobKind.SURVEY_REMINDER,
            due,
            store_id=store_id,
            shards=table.due_shards,
            customer_id=customer_id,
            order_id=job.get("order_id"),
            data={"token": sent.survey_token, "channel": sent.survey_channel, "language": language},
            created_at=now,
        )
        ops.append(jobs.schedule(reminder))
    table.transact(ops)


# --- WhatsApp's delivery statuses -----------------------------------------------------
def whatsapp_undelivered(table: db.Table, message_id: str, why: str, now: datetime) -> bool:
    """WhatsApp reported a message it had accepted as undelivered: its job says so and is
    listed with the store's failed jobs.  It is not sent again by SMS: the job's decision,
    claim and records are settled, and a second message could reach a phone the first one
    did.  False when the message is not ours or was marked already."""
    record = table.get(keys.whatsapp_message(message_id), consistent=True)
    if record is None or record.get("type") != "whatsapp_message":
        return False
    job_key = {"PK": str(record["job_pk"]), "SK": str(record["job_sk"])}
    listing = keys.failed_job_listing(str(record["store_id"]), iso(now), job_key["PK"], job_key["SK"])
    first = db.Expr(
        "#last = :sent AND attribute_not_exists(#und)",
        names={"#last": "last_sent_at", "#und": "undelivered"},
        values={":sent": record.get("sent_at")},
    )
    try:
        table.update(
            job_key,
            Update().set({"undelivered": f"whatsapp: {why}", "undelivered_at": iso(now), **listing}),
            condition=first,
            return_values="NONE",
        )
    except db.ConditionFailed:
        return False
    count("WhatsAppUndelivered", kind=str(record.get("kind")))
    return True


# --- reconciling from SES ------------------------------------------------------------
def confirm_email(table: db.Table, ledger_key: keys.Key, message_id: str, now: datetime) -> bool:
    """SES delivered an email whose answer was lost: the ledger and the job now record it as
    sent, with SES's message id, and the store's failed listing no longer shows it.  False when
    there is nothing to confirm (unknown, confirmed already, or never in doubt)."""
    ledger = table.get(ledger_key, consistent=True)
    if ledger is None or ledger.get("type") != "send_claim" or ledger.get("stage") != SENT:
        return False
    still = {str(k): str(v) for k, v in (ledger.get("unconfirmed") or {}).items()}
    if still.pop(Channel.EMAIL.value, None) is None:
        return False
    email = Channel.EMAIL.value
    in_doubt = db.Expr("attribute_exists(#unc.#ch)", names={"#unc": "unconfirmed", "#ch": email})
    settled = Update().set_in("message_ids", email, message_id).set({"confirmed_at": iso(now)})
    settled = settled.set({"unconfirmed": still}) if still else settled.remove("unconfirmed")
    ops = [db.update(ledger_key, settled, condition=in_doubt, label="ledger")]
    # The job is touched only while it still shows this occurrence (a yearly one may have moved on).
    job_key = {"PK": str(ledger["PK"]), "SK": str(ledger["job_sk"])}
    same_send = db.Expr("#last = :sent", names={"#last": "last_sent_at"}, values={":sent": ledger.get("sent_at")})
    job = Update().set_in("message_ids", email, message_id).set({"confirmed_at": iso(now)})
    if still:
        job = job.set({"unconfirmed": "; ".join(f"{c}: {why}" for c, why in sorted(still.items()))})
    else:
        job = job.remove("unconfirmed", "gsi1pk", "gsi1sk")
    try:
        table.transact([*ops, db.update(job_key, job, condition=same_send, label="job")])
    except db.TransactionConflict as exc:
        if "ledger" in exc.failed:
            return False  # confirmed meanwhile
        try:  # the job moved on to a later occurrence (a yearly one): the ledger alone says it went
            table.update(ledger_key, settled, condition=in_doubt, return_values="NONE")
        except db.ConditionFailed:
            return False
    count("SendConfirmed", kind=str(ledger.get("kind")), channel=email)
    return True
