"""``send``: one due job in, at most one message per occurrence out.

For each SQS record (``{"pk", "sk", "due_at", "now"}`` from dispatch): load the job
(consistent read), skip it unless it is still pending and not moved later than the
message says, gather the facts and ask :func:`policy.decide`.  A message that may go is
*claimed* first (a ledger item per occurrence, created with ``attribute_not_exists``, in
the same transaction that moves the job from pending to claimed), then handed to SES or
SMS, then recorded as sent with the provider's message id.  So a retry, a duplicate SQS
message or two overlapping dispatch runs never send twice.

Throttling and 5xx from a provider release the claim and raise, so SQS retries; the
message's visibility is set to an exponential backoff (:func:`retry_delay`) first.  On the
queue's last receive the job is marked failed with the reason instead (listed by
``GET /stores/{store_id}/jobs?status=failed``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib import db, followups, keys, links, messaging, policy, stores, suppression, templating
from chalicelib import products as product_settings
from chalicelib.clock import epoch, iso, parse_iso
from chalicelib.config import settings
from chalicelib.models import Channel, JobKind, JobStatus
from chalicelib.observability import count, logger
from chalicelib.validate import as_dict, as_list

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

ESCALATION_KINDS = frozenset({JobKind.CASE_REALERT.value, JobKind.ALERT_RETRY.value})
# Every message but the order's own thank-you carries List-Unsubscribe (RFC 8058).
TRANSACTIONAL = frozenset({JobKind.THANK_YOU.value})
SENT_RECORD_DAYS = 90
PHONE_RECORD_DAYS = 60
# Messages that ask for an answer, and the survey kind their answers are stored under (the
# answer to "did we make it right?" is recorded on the case, on a 1-5 scale).
SURVEY_LABELS = {JobKind.SURVEY.value: "post_delivery", JobKind.MADE_IT_RIGHT.value: JobKind.MADE_IT_RIGHT.value}
SURVEY_SETTINGS: dict[str, dict[str, str]] = {JobKind.MADE_IT_RIGHT.value: {"survey_type": "csat"}}


@dataclass
class Outcome:
    status: str  # sent | later | skipped | dropped | failed | routed | planned
    reason: str | None = None
    message_ids: dict[str, str] = field(default_factory=dict)


# --- the batch handler ---------------------------------------------------------------
def handle_batch(event: Mapping[str, Any], context: Any, table: db.Table, clients: Any) -> PartialItemFailureResponse:
    """Process an SQS batch with Powertools' batch processor; failed records are reported
    one by one (``ReportBatchItemFailures``), so one busy provider does not redo the batch."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    max_receives = settings().send_max_receives

    def record_handler(record: Any) -> str:
        receives = int(record.attributes.approximate_receive_count or 1)
        try:
            return process(table, clients, json.loads(record.body), receives=receives, max_receives=max_receives).status
        except messaging.ProviderBusy:
            _back_off(clients.sqs, record.receipt_handle, receives)
            raise

    # Every record failing is still a partial answer (all ids listed), not a crashed invocation.
    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=dict(event), record_handler=record_handler, processor=processor, context=context)


def retry_delay(receives: int) -> int:
    """Seconds before a busy provider is tried again: 30 s, doubling, at most 15 minutes."""
    return int(min(900, 30 * 2 ** max(0, receives - 1)))


def _back_off(sqs: Any, receipt_handle: str, receives: int) -> None:
    """Hide the message for :func:`retry_delay`; if SQS refuses, its visibility timeout stands."""
    from botocore.exceptions import ClientError

    try:
        sqs.change_message_visibility(QueueUrl=settings().send_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=retry_delay(receives))
    except ClientError as exc:
        logger.warning("backoff not set", extra={"error": exc.response.get("Error", {}).get("Code")})


def process(table: db.Table, clients: Any, message: Mapping[str, Any], *, receives: int = 1, max_receives: int = 5) -> Outcome:
    key = {"PK": str(message["pk"]), "SK": str(message["sk"])}
    now = parse_iso(str(message["now"]))
    job = table.get(key, consistent=True)
    if job is not None and job.get("status") == JobStatus.CLAIMED.value and receives >= max_receives and job["kind"] not in ESCALATION_KINDS:
        # Claimed, then interrupted before the send was recorded: never sent twice, but shown.
        _fail(table, job, "interrupted between claim and record; the message may not have gone out", now)
        return Outcome("failed", "interrupted")
    if job is None or job.get("status") != JobStatus.PENDING.value:
        count("SendSkipped", reason="not_pending")
        return Outcome("skipped", "not_pending")
    if parse_iso(str(job["due"])) > parse_iso(str(message["due_at"])):
        return Outcome("skipped", "moved_later")  # rescheduled since this message was queued
    try:
        return _process(table, clients, job, now)
    except messaging.ProviderBusy as exc:
        if receives >= max_receives:
            _fail(table, job, f"provider busy after {receives} attempts ({exc})", now)
            return Outcome("failed", str(exc))
        raise
    except Exception as exc:
        # A bug or an outage: let SQS retry, but never leave the job silently pending forever.
        if receives >= max_receives:
            _fail(table, job, f"{type(exc).__name__} after {receives} attempts", now)
        raise


def _process(table: db.Table, clients: Any, job: dict[str, Any], now: datetime) -> Outcome:
    store = stores.with_defaults(stores.get_store(table, str(job["store_id"])))
    if job["kind"] in ESCALATION_KINDS:
        from chalicelib import escalation

        result = escalation.run_job(table, clients, store, job, now)
        return Outcome("routed", str(result))
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
        claimed = _claim(table, job, now)
    except _Moved:
        return Outcome("skipped", "moved")
    if not claimed:
        _finish_without_sending(table, job, store, facts, "already_sent", now)
        return Outcome("skipped", "already_sent")
    try:
        sent = deliver(table, clients, job, store, facts, decision, now)
    except messaging.ProviderBusy:
        _release(table, job, now)
        raise
    except messaging.Rejected as exc:
        _fail(table, job, f"rejected by the provider ({exc.code})", now)
        return Outcome("failed", exc.code)
    _record_sent(table, job, store, facts, sent, now)
    count("MessageSent", kind=str(job["kind"]))
    logger.info("sent", extra={"store_id": job["store_id"], "kind": job["kind"], "channels": sorted(sent.message_ids)})
    return Outcome("sent", message_ids=sent.message_ids)


def _plan_warranties(table: db.Table, job: Mapping[str, Any], store: Mapping[str, Any], now: datetime) -> Outcome:
    """Warranty reminders for the order's SKUs whose months the store keeps in product
    settings; the lookup job is finished in the same transaction, so it plans once."""
    data = job.get("data") or {}
    titles = {str(sku): str(title) for sku, title in (data.get("titles") or {}).items()}
    found = product_settings.products_for(table, str(job["store_id"]), titles)
    items = [(sku, str(p.get("title") or titles[sku]), int(p["warranty_months"])) for sku, p in sorted(found.items()) if p.get("warranty_months")]
    planned = followups.warranty_jobs(
        store, str(job["store_id"]), str(job["order_id"]), str(job["customer_id"]), parse_iso(str(data["ordered_at"])), items, now
    )
    done = db.set_expr({"status": JobStatus.DONE.value, "reason": f"planned {len(planned)} warranty reminders", "finished_at": iso(now)}, remove=["due_pk", "due_at"])
    try:
        table.transact([*(db.put(j) for j in planned), db.update(_job_key(job), done, condition=_pending_at(job))])
    except db.TransactionConflict:
        return Outcome("skipped", "not_pending")
    return Outcome("planned", f"{len(planned)} warranty reminders")


# --- facts ---------------------------------------------------------------------------
@dataclass
class Facts:
    situation: policy.Situation
    customer: dict[str, Any] | None
    order: dict[str, Any] | None
    products: dict[str, dict[str, Any]]
    language: str


def gather(table: db.Table, clients: Any, job: Mapping[str, Any], store: Mapping[str, Any], now: datetime) -> Facts:
    store_id = str(job["store_id"])
    customer_id = job.get("customer_id")
    order_id = job.get("order_id")
    customer = table.get(keys.customer(store_id, customer_id), consistent=True) if customer_id else None
    order = table.get(keys.order(store_id, order_id), consistent=True) if order_id and job["kind"] != JobKind.WINBACK.value else None
    data = job.get("data") or {}
    kind = str(job["kind"])

    products: dict[str, dict[str, Any]] = {}
    if order and kind in (JobKind.DELIVERY_CHECKIN.value, JobKind.USAGE_TIPS.value):
        products = product_settings.products_for(table, store_id, (str(i.get("sku") or "") for i in order.get("items") or []))

    nothing_to_say = None
    if kind == JobKind.USAGE_TIPS.value:
        if not any(product_settings.has_tips(p) for p in products.values()):
            nothing_to_say = "no_tips"
    elif kind == JobKind.SURVEY_REMINDER.value:
        from chalicelib import surveys

        if not data.get("token") or surveys.is_answered(table, str(data["token"])):
            nothing_to_say = "survey_answered"

    suppressions: dict[str, Any] = {}
    ses_listed = False
    for channel in (Channel.EMAIL.value, Channel.SMS.value):
        contact = policy.contact_for(customer, channel, order)
        if contact:
            suppressions[channel] = suppression.lookup(table, store_id, contact, channel)
            if channel == Channel.EMAIL.value and settings().ses_suppression_check:
                ses_listed = messaging.ses_suppressed(clients.sesv2, contact)

    recent: list[datetime] = []
    if customer_id:
        low, high = keys.sent_message_range(iso(now - policy.WEEK), iso(now))
        cond = db.Expr(
            "PK = :pk AND SK BETWEEN :low AND :high",
            values={":pk": keys.customer_pk(store_id, customer_id), ":low": low, ":high": high},
        )
        # The thank-you answers the customer's own order: it neither waits for nor uses up the cap.
        recent = [
            parse_iso(str(item["sent_at"]))
            for item in table.query_all(cond, consistent=True)
            if item.get("sent_at") and item.get("kind") not in policy.IMMEDIATE
        ]

    language = templating.language_for((order or {}).get("language") or (customer or {}).get("language") or data.get("language"), store)
    situation = policy.Situation(
        kind=kind,
        store=store,
        customer=customer,
        order=order,
        now=now,
        suppressions=suppressions,
        ses_suppressed=ses_listed,
        recent_sends=recent,
        channel_hint=data.get("channel") if kind == JobKind.SURVEY_REMINDER.value else None,
        nothing_to_say=nothing_to_say,
    )
    return Facts(situation, customer, order, products, language)


# --- claiming, finishing -------------------------------------------------------------
def _job_key(job: Mapping[str, Any]) -> keys.Key:
    return {"PK": str(job["PK"]), "SK": str(job["SK"])}


def _pending_at(job: Mapping[str, Any]) -> db.Expr:
    return db.Expr("#st = :pending AND #due = :due", names={"#st": "status", "#due": "due"}, values={":pending": JobStatus.PENDING.value, ":due": job["due"]})


def _claim(table: db.Table, job: Mapping[str, Any], now: datetime) -> bool:
    """Claim this occurrence; False when it was claimed before (it went, or is going, out)."""
    ledger = {
        **keys.send_claim(str(job["PK"]), followups.occurrence(job)),
        "type": "send_claim",
        "job_sk": job["SK"],
        "kind": job["kind"],
        "store_id": job["store_id"],
        "claimed_at": iso(now),
    }
    try:
        claim = db.set_expr({"status": JobStatus.CLAIMED.value, "claimed_at": iso(now)}, remove=["due_pk", "due_at"])
        table.transact([db.create(ledger), db.update(_job_key(job), claim, condition=_pending_at(job))])
    except db.TransactionConflict as exc:
        if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
            return False
        raise _Moved() from exc
    return True


class _Moved(Exception):
    """The job changed between the read and the claim; the newer version will be dispatched."""


def _release(table: db.Table, job: Mapping[str, Any], now: datetime) -> None:
    """Undo a claim whose message the provider did not take, so a retry may send it: SQS
    redelivers the message, and should it be lost, dispatch finds the job again after a lease."""
    from chalicelib.dispatch import LEASE

    back = {"status": JobStatus.PENDING.value, "due_pk": keys.due_shard(str(job["PK"]), str(job["SK"]), settings().due_shards), "due_at": iso(now + LEASE)}
    table.transact(
        [
            db.delete(keys.send_claim(str(job["PK"]), followups.occurrence(job))),
            db.update(
                _job_key(job),
                db.set_expr(back, remove=["claimed_at"]),
                condition=db.Expr("#st = :claimed", names={"#st": "status"}, values={":claimed": JobStatus.CLAIMED.value}),
            ),
        ]
    )


def _reschedule(table: db.Table, job: Mapping[str, Any], at: datetime, reason: str, now: datetime) -> None:
    try:
        table.update(
            _job_key(job),
            db.set_expr({"due": iso(at), "due_at": iso(at), "deferred_reason": reason, "deferred_at": iso(now)}, add={"deferrals": 1}),
            condition=_pending_at(job),
            return_values="NONE",
        )
    except db.ConditionFailed:
        pass  # changed meanwhile: the newer version stands


def _next_occurrence(job: Mapping[str, Any], store: Mapping[str, Any], customer: Mapping[str, Any] | None, now: datetime) -> dict[str, Any] | None:
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
        "due_pk": keys.due_shard(str(job["PK"]), str(job["SK"]), settings().due_shards),
        "data": {**(job.get("data") or {}), "occurrence": occurrence},
    }


def _finish_without_sending(table: db.Table, job: Mapping[str, Any], store: Mapping[str, Any], facts: Facts, reason: str, now: datetime) -> None:
    again = _next_occurrence(job, store, facts.customer, now)
    if again is not None:
        update = db.set_expr({**again, "last_reason": reason, "last_finished_at": iso(now)})
    else:
        update = db.set_expr({"status": JobStatus.SKIPPED.value, "reason": reason, "finished_at": iso(now)}, remove=["due_pk", "due_at"])
    try:
        table.update(_job_key(job), update, condition=_pending_at(job), return_values="NONE")
    except db.ConditionFailed:
        pass


def _fail(table: db.Table, job: Mapping[str, Any], reason: str, now: datetime) -> None:
    """Mark a job failed, visible in the store's failed-jobs listing."""
    condition = db.Expr("#st IN (:pending, :claimed)", names={"#st": "status"}, values={":pending": JobStatus.PENDING.value, ":claimed": JobStatus.CLAIMED.value})
    listing = keys.failed_job_listing(str(job["store_id"]), iso(now), str(job["PK"]), str(job["SK"]))
    try:
        table.update(
            _job_key(job),
            db.set_expr({"status": JobStatus.FAILED.value, "reason": reason, "finished_at": iso(now), **listing}, remove=["due_pk", "due_at"]),
            condition=condition,
            return_values="NONE",
        )
    except db.ConditionFailed:
        return
    count("SendFailed", kind=str(job["kind"]))
    logger.warning("job failed", extra={"store_id": job["store_id"], "kind": job["kind"], "reason": reason})


def failed_jobs(table: db.Table, store_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """A store's failed jobs, newest first (the gsi1 listing set by :func:`_fail`)."""
    items, _ = table.query(db.Expr("gsi1pk = :pk", values={":pk": keys.failed_job_listing_pk(store_id)}), index=keys.GSI1, forward=False, limit=limit)
    return [
        {k: item.get(k) for k in ("kind", "order_id", "customer_id", "due", "reason", "finished_at", "attempts")}
        for item in items
        if item.get("status") == JobStatus.FAILED.value
    ]


# --- composing and delivering --------------------------------------------------------
@dataclass
class Sent:
    message_ids: dict[str, str]
    contacts: dict[str, str]
    survey_token: str | None = None
    survey_channel: str | None = None
    survey_tokens: list[str] = field(default_factory=list)  # one per channel
    given_up: dict[str, str] = field(default_factory=dict)  # channel -> why, after another channel went


def deliver(table: db.Table, clients: Any, job: Mapping[str, Any], store: Mapping[str, Any], facts: Facts, decision: policy.Decision, now: datetime) -> Sent:
    from chalicelib import overrides

    kind = str(job["kind"])
    customer_id = str(job.get("customer_id") or "")
    store_overrides = overrides.for_store(table, str(store["store_id"]), facts.language)
    sent = Sent({}, {})
    for channel in decision.channels:
        contact = policy.contact_for(facts.customer, channel, facts.order)
        assert contact is not None  # policy.decide checked it
        # An invitation rides along only on a channel the customer agreed to marketing on.
        extras = decision.marketing_extras and policy.consented(facts.customer, channel)
        context = message_context(job, store, facts, replace(decision, marketing_extras=extras), now)
        issued: str | None = None
        if kind in SURVEY_LABELS:
            from chalicelib import surveys

            survey_store = {**store, **SURVEY_SETTINGS.get(kind, {})}
            link = surveys.issue_survey(
                table, store=survey_store, customer_id=customer_id, order_id=str(job.get("order_id") or ""), kind=SURVEY_LABELS[kind],
                channel=channel, contact=contact, now=now, language=facts.language,
            )
            context.update(survey_context(survey_store, link.url, link.score_urls))
            issued = link.token
            sent.survey_tokens.append(link.token)
        elif kind == JobKind.SURVEY_REMINDER.value:
            from chalicelib import surveys

            token = str((job.get("data") or {})["token"])
            from chalicelib.surveys import scale

            context.update(survey_context(store, surveys.survey_url(token), [(s, surveys.survey_url(token, s)) for s in scale(str(store.get("survey_type") or "nps"))]))
        try:
            if channel == Channel.EMAIL.value:
                email = compose_email(kind, facts.language, context, store, store_overrides, unsubscribe=None if kind in TRANSACTIONAL else links.unsubscribe_url(str(store["store_id"]), customer_id or contact, contact))
                sent.message_ids[channel] = messaging.send_email(clients, store, contact, email.subject, email.html, email.text, email.headers)
            else:
                body = compose_sms(kind, facts.language, context, store, store_overrides)
                sent.message_ids[channel] = messaging.send_sms(clients, store, contact, body)
        except (messaging.ProviderBusy, messaging.Rejected) as exc:
            if not sent.message_ids:
                raise
            # Another channel already went out: a retry would send it twice, so this one is given up.
            sent.given_up[channel] = f"{type(exc).__name__}: {exc}"
            count("SendChannelGivenUp", kind=kind, channel=channel)
            break
        sent.contacts[channel] = contact
        if issued is not None:
            sent.survey_token, sent.survey_channel = issued, channel
    return sent


def _record_sent(table: db.Table, job: Mapping[str, Any], store: Mapping[str, Any], facts: Facts, sent: Sent, now: datetime) -> None:
    store_id = str(store["store_id"])
    kind = str(job["kind"])
    customer_id = job.get("customer_id")
    ids = ",".join(f"{c}:{m}" for c, m in sent.message_ids.items())
    ops = [
        db.update(keys.send_claim(str(job["PK"]), followups.occurrence(job)), db.set_expr({"message_ids": sent.message_ids, "sent_at": iso(now)})),
    ]
    again = _next_occurrence(job, store, facts.customer, now)
    finished = {"message_ids": sent.message_ids, "last_sent_at": iso(now), "channels": sorted(sent.message_ids), "given_up": sent.given_up or None}
    if again is not None:
        ops.append(db.update(_job_key(job), db.set_expr({**again, **finished}, remove=["claimed_at"])))
    else:
        ops.append(db.update(_job_key(job), db.set_expr({"status": JobStatus.SENT.value, "finished_at": iso(now), **finished}, remove=["due_pk", "due_at"])))
    if customer_id:
        ops.append(
            db.put(
                {
                    **keys.sent_message(store_id, str(customer_id), iso(now), kind),
                    "type": "sent_message",
                    "kind": kind,
                    "channel": ",".join(sorted(sent.message_ids)),
                    "sent_at": iso(now),
                    "order_id": job.get("order_id"),
                    "message_ids": ids,
                    "survey_tokens": sent.survey_tokens or None,  # so erasing the customer finds the survey links too
                    "expires_at": epoch(now + timedelta(days=SENT_RECORD_DAYS)),
                }
            )
        )
        if kind == JobKind.SURVEY.value and facts.customer is not None:
            ops.append(db.update(keys.customer(store_id, str(customer_id)), db.set_expr({"last_survey_at": iso(now)})))
    if kind in SURVEY_LABELS and sent.survey_token:
        from chalicelib import stats

        ops.append(stats.sent_op(store_id, SURVEY_LABELS[kind], now))
    if Channel.SMS.value in sent.message_ids:
        phone = sent.contacts[Channel.SMS.value]
        ops.append(
            db.put(
                {
                    **keys.phone_message(phone, iso(now), store_id),
                    "type": "phone_message",
                    "store_id": store_id,
                    "customer_id": customer_id,
                    "kind": kind,
                    "message_id": sent.message_ids[Channel.SMS.value],
                    "sent_at": iso(now),
                    "expires_at": epoch(now + timedelta(days=PHONE_RECORD_DAYS)),
                }
            )
        )
    if kind == JobKind.SURVEY.value and sent.survey_token and followups.enabled(store, JobKind.SURVEY_REMINDER) and job.get("order_id"):
        from chalicelib import jobs, surveys

        reminder_key = surveys.reminder_job_key(store_id, str(job["order_id"]))
        due = now + timedelta(days=int(store.get("survey_reminder_days") or 3))
        reminder = jobs.job_item(
            reminder_key["PK"], JobKind.SURVEY_REMINDER, due, store_id=store_id, shards=settings().due_shards,
            customer_id=customer_id, order_id=job.get("order_id"),
            data={"token": sent.survey_token, "channel": sent.survey_channel, "language": facts.language}, created_at=now,
        )
        ops.append(jobs.schedule(reminder))
    table.transact(ops)


# --- message content -----------------------------------------------------------------
@dataclass(frozen=True)
class Email:
    subject: str
    html: str
    text: str
    headers: dict[str, str]


def _date(text: str | None, language: str, zone: Any) -> str | None:
    if not text:
        return None
    from babel.dates import format_date

    return format_date(parse_iso(text).astimezone(zone).date(), format="long", locale=language)


def message_context(job: Mapping[str, Any], store: Mapping[str, Any], facts: Facts, decision: policy.Decision, now: datetime) -> dict[str, Any]:
    """What a template may use, in plain values (no items from the table leak in)."""
    customer, order, data = facts.customer or {}, facts.order or {}, job.get("data") or {}
    zone = policy.zone_of(facts.customer, store)
    items: list[dict[str, Any]] = [{"sku": str(i.get("sku") or ""), "title": str(i.get("title") or ""), "quantity": int(i.get("quantity") or 1)} for i in order.get("items") or []]
    tips = []
    for item in items:
        product = facts.products.get(item["sku"])
        if product and (product.get("tips") or product.get("tips_links")):
            fallback = str(store.get("language") or "en")
            title = product_settings.text_for(product, "title", facts.language, fallback) or item["title"]
            tips.append({"title": title, "text": product_settings.text_for(product, "tips", facts.language, fallback) or "", "links": list(product.get("tips_links") or [])})
    event = None
    if decision.marketing_extras and store.get("next_event"):
        event = {"text": store["next_event"], "url": store.get("next_event_url")}
    return {
        "kind": job["kind"],
        "first_name": customer.get("first_name") or order.get("first_name"),
        "order_name": order.get("order_name") or order.get("name") or (f"#{job['order_id']}" if job.get("order_id") else None),
        "items": items,
        "tips": tips,
        "event": event,
        "coupon": store.get("birthday_coupon"),
        "product": data.get("title"),
        "warranty_ends": _date(data.get("warranty_ends"), facts.language, zone),
        "first_order_date": _date(data.get("first_order_at"), facts.language, zone),
        "support": store.get("support_email"),
        "survey": None,
    }


def survey_context(store: Mapping[str, Any], url: str, score_urls: list[tuple[int, str]]) -> dict[str, Any]:
    survey_type = str(store.get("survey_type") or "nps")
    scores = [{"score": s, "url": u} for s, u in score_urls]
    return {"survey": {"type": survey_type, "url": url, "scores": scores, "low": scores[0]["score"], "high": scores[-1]["score"]}}


def compose_email(kind: str, language: str, context: Mapping[str, Any], store: Mapping[str, Any], store_overrides: Mapping[str, str] | None = None, *, unsubscribe: str | None) -> Email:
    values = {**context, "unsubscribe_url": unsubscribe}
    subject = templating.render(f"email/{kind}.subject.txt", language, values, store, store_overrides)
    values["subject"] = " ".join(subject.split())
    html = templating.render(f"email/{kind}.html", language, values, store, store_overrides)
    text = templating.render(f"email/{kind}.txt", language, values, store, store_overrides)
    headers: dict[str, str] = {}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return Email(values["subject"], html, text, headers)


def compose_sms(kind: str, language: str, context: Mapping[str, Any], store: Mapping[str, Any], store_overrides: Mapping[str, str] | None = None) -> str:
    body = templating.render(f"sms/{kind}.txt", language, dict(context), store, store_overrides)
    body = "\n".join(line.strip() for line in body.splitlines() if line.strip())
    return messaging.fit_sms(templating.start_direction(body, language))


# --- SES feedback --------------------------------------------------------------------
def ses_feedback(table: db.Table, notification: Any, now: datetime) -> int:
    """Hard bounces and complaints become email suppressions for the store that sent.

    The store comes from the ``store_id`` tag (or the ``X-Aftercare-Store`` header) set on
    every email; a notification without it cannot be attributed and is counted, not guessed.
    Anything not shaped like SES's notification is ignored, never a crash.
    """
    notification = as_dict(notification)
    kind = notification.get("notificationType") or notification.get("eventType")
    store_id = _store_of(as_dict(notification.get("mail")))
    if store_id is None:
        count("SesFeedbackUnattributed")
        return 0
    if kind == "Bounce":
        bounce = as_dict(notification.get("bounce"))
        if bounce.get("bounceType") != "Permanent":
            return 0
        recipients, reason = as_list(bounce.get("bouncedRecipients")), "bounce"
    elif kind == "Complaint":
        recipients, reason = as_list(as_dict(notification.get("complaint")).get("complainedRecipients")), "complaint"
    else:
        return 0
    done = 0
    for recipient in recipients:
        address = str(as_dict(recipient).get("emailAddress") or "").strip().lower()  # as intake stores it
        if "@" not in address or not _storable(address, 320):
            continue
        suppression.suppress(table, store_id, address, Channel.EMAIL.value, "all", reason, now)
        done += 1
    count("EmailSuppressed", value=done, reason=reason)
    return done


def _store_of(mail: Mapping[str, Any]) -> str | None:
    values = as_list(as_dict(mail.get("tags")).get(messaging.STORE_TAG))
    if values:
        return str(values[0]) if _storable(values[0], MAX_STORE_ID) else None
    for header in as_list(mail.get("headers")):
        value = as_dict(header).get("value")
        if str(as_dict(header).get("name", "")).lower() == messaging.STORE_HEADER.lower() and value:
            return str(value) if _storable(value, MAX_STORE_ID) else None
    return None


MAX_STORE_ID = 64


def _storable(value: Any, limit: int) -> bool:
    """Text from a notification that can be part of a key: short and printable (which also
    rules out the half surrogate pairs that JSON can carry and UTF-8 cannot)."""
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()
