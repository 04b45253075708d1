"""Each way a send attempt used to end with its claim orphaned, a message doubled or a
record lost, reproduced with one fault at one place (tests/support/faults.py's Script).

Orders arrive through the real generic webhook; time moves with devstack.deliver."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

import devstack
from chalicelib.core.clock import parse_iso
from chalicelib.messaging import feedback
from chalicelib.platform import aws
from chalicelib.platform.process import PROCESS
from chalicelib.schedule import dispatch
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from tests.conftest import auth
from tests.fixtures import body_of, standard_headers
from tests.support.faults import Rule, Script

MONDAY = "2027-03-01T08:00:00Z"  # 10:00 in Athens
pytestmark = pytest.mark.world_time(MONDAY)
DANA = "dana@example.com"
LATER = timedelta(minutes=1)
AFTER_LEASE = dispatch.LEASE + timedelta(minutes=2)


def at(text: str) -> Any:
    return parse_iso(text)


def post_order(
    client: Any, store: dict[str, Any], order_id: str, status: str = "created", when: str = MONDAY, **who: Any
) -> Any:
    customer = {
        "email": DANA,
        "first_name": "Dana",
        "language": "en",
        "timezone": "Europe/Athens",
        "email_consent": True,
        **who,
    }
    event = {
        "order_id": order_id,
        "status": status,
        "occurred_at": when,
        "order_name": f"#{order_id}",
        "customer": customer,
        "items": [{"sku": "TEA-1", "title": "Ceramic teapot", "quantity": 1}],
    }
    body = body_of(event)
    headers = standard_headers(store["webhook_secret"], body, f"{order_id}-{status}")
    return client.http.post(f"/webhooks/orders/{store['store_id']}", headers=headers, body=body)


def emails(address: str = DANA) -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        m.subject
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if address in (m.destinations or {}).get("ToAddresses", [])
    ]


def job(store: dict[str, Any], order_id: str, sk: str = "JOB#thank_you") -> dict[str, Any]:
    item = db.table().get({"PK": keys.order_pk(store["store_id"], order_id), "SK": sk}, consistent=True)
    assert item is not None
    return item


def listed(client: Any, store: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.http.get(f"/stores/{store['store_id']}/jobs?status=failed", headers=auth(store["api_key"]))
    assert answer.status_code == 200
    return list(answer.json_body["jobs"])


def faults(*rules: Rule, where: str = "call") -> Script:
    script = Script(*rules, where=where)
    script.attach(aws.clients())
    return script


def tick(app: Any, moment: Any) -> devstack.Delivered:
    return devstack.deliver(app, moment)


THANKS = "Thank you for your order #1"


# --- storage trouble inside deliver() --------------------------------------------------
def test_a_storage_error_while_composing_releases_the_claim_and_the_message_goes_later(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN the store's template overrides cannot be read when the thank-you is composed
    faults(Rule("dynamodb", "Query", "connect", marker=b"#TEMPLATE"))
    assert post_order(client, store, "1").status_code == 200
    # WHEN it falls due THEN nothing goes, and the job is pending again (not stuck claimed)
    tick(app, at(MONDAY) + LATER)
    assert emails() == [] and job(store, "1")["status"] == "pending"
    # AND WHEN its retry comes THEN the thank-you goes, once
    tick(app, at(MONDAY) + AFTER_LEASE)
    tick(app, at(MONDAY) + 2 * AFTER_LEASE)
    assert emails() == [THANKS] and job(store, "1")["status"] == "sent"


def test_a_failed_survey_token_write_releases_the_claim(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN a delivered order whose survey token cannot be written the first time
    assert post_order(client, store, "1").status_code == 200
    assert post_order(client, store, "1", "delivered", "2027-03-02T08:00:00Z").status_code == 200
    tick(app, at("2027-03-02T08:01:00Z"))
    faults(Rule("dynamodb", "TransactWriteItems", "timeout_after", marker=b"SURVEY#"))
    # WHEN the survey falls due THEN it is not sent yet, and not stuck
    survey = at("2027-03-09T08:01:00Z")
    tick(app, survey)
    assert "How did we do, Dana?" not in emails() and job(store, "1", "JOB#survey#delivered")["status"] == "pending"
    # AND later it goes exactly once, with its reminder planned
    tick(app, survey + AFTER_LEASE)
    tick(app, survey + 2 * AFTER_LEASE)
    assert emails().count("How did we do, Dana?") == 1
    assert job(store, "1", "JOB#survey_reminder")["status"] == "pending"


# --- the provider's network errors ----------------------------------------------------
def test_no_connection_to_ses_is_retried_and_sends_once(app: Any, client: Any, store: dict[str, Any]) -> None:
    faults(Rule("sesv2", "SendEmail", "connect"))
    assert post_order(client, store, "1").status_code == 200
    tick(app, at(MONDAY) + LATER)
    assert emails() == [] and job(store, "1")["status"] == "pending"
    tick(app, at(MONDAY) + AFTER_LEASE)
    assert emails() == [THANKS] and job(store, "1")["status"] == "sent"


@pytest.mark.parametrize("kind", ["timeout_after", "reset_after", "server_after"])
def test_an_email_whose_answer_was_lost_is_never_sent_again(
    app: Any, client: Any, store: dict[str, Any], kind: str
) -> None:
    # GIVEN SES takes the email, and then the answer is lost (timeout, reset, or a 5xx)
    faults(Rule("sesv2", "SendEmail", kind))
    assert post_order(client, store, "1").status_code == 200
    # WHEN time passes well beyond every lease and retry
    for minutes in (1, 15, 30, 60):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    # THEN the customer got it once; the job is sent, unconfirmed, and the store sees why
    assert emails() == [THANKS]
    thank_you = job(store, "1")
    assert thank_you["status"] == "sent" and "not sent again" in thank_you["unconfirmed"]
    rows = listed(client, store)
    assert [(r["kind"], r["status"]) for r in rows] == [("thank_you", "sent_unconfirmed")] and "unconfirmed" in rows[0][
        "reason"
    ]


def email_with_its_answer_lost(app: Any, client: Any, store: dict[str, Any]) -> list[dict[str, str]]:
    """A thank-you SES took while its answer was lost (recorded sent, unconfirmed), and the tags
    the request carried, as SES keeps them for its events."""
    tags: list[dict[str, str]] = []
    aws.clients().sesv2.meta.events.register(
        "provide-client-params.sesv2.SendEmail", lambda params, **_: tags.extend(params.get("EmailTags", []))
    )
    faults(Rule("sesv2", "SendEmail", "timeout_after"))
    assert post_order(client, store, "1").status_code == 200
    for minutes in (1, 15):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    return tags


def test_ses_delivery_event_confirms_an_email_whose_answer_was_lost(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN an email SES took while its answer was lost (recorded sent, unconfirmed), and the
    # tags the request carried, as SES keeps them for its events
    tags = email_with_its_answer_lost(app, client, store)
    assert listed(client, store)[0]["status"] == "sent_unconfirmed"
    # WHEN SES publishes its delivery event for that message (configuration set → SNS)
    event = {
        "eventType": "Delivery",
        "mail": {"messageId": "0100-ses-delivered", "tags": {t["Name"]: [t["Value"]] for t in tags}},
        "delivery": {"recipients": [DANA]},
    }
    assert feedback.ses_feedback(db.table(), event, at(MONDAY) + timedelta(minutes=20)) == 1
    # THEN the job is sent with SES's id, no longer in doubt, and off the store's failed list
    thank_you = job(store, "1")
    assert thank_you["status"] == "sent" and "unconfirmed" not in thank_you
    assert thank_you["message_ids"]["email"] == "0100-ses-delivered"
    assert listed(client, store) == []
    # AND the same event again, or one naming no ledger, changes nothing
    assert feedback.ses_feedback(db.table(), event, at(MONDAY) + timedelta(minutes=21)) == 0
    stray = {**event, "mail": {"messageId": "x", "tags": {"store_id": [store["store_id"]], "ledger": ["bm90LWEta2V5"]}}}
    assert feedback.ses_feedback(db.table(), stray, at(MONDAY) + timedelta(minutes=21)) == 0
    assert emails() == [THANKS]


def test_ses_delivery_event_for_an_occurrence_the_job_has_moved_past_confirms_the_ledger_only(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN an email recorded sent, unconfirmed, whose job has since moved on to a later send
    tags = email_with_its_answer_lost(app, client, store)
    ledger_key = keys.from_reference(next(t["Value"] for t in tags if t["Name"] == "ledger"))
    later = {"last_sent_at": "2028-03-01T08:00:00Z", "unconfirmed": "email: the later occurrence's own doubt"}
    db.table().update(keys.of(job(store, "1")), Update().set(later))
    # WHEN SES publishes the delivery event of the first send
    event = {
        "eventType": "Delivery",
        "mail": {"messageId": "0100-ses-first", "tags": {t["Name"]: [t["Value"]] for t in tags}},
        "delivery": {"recipients": [DANA]},
    }
    assert feedback.ses_feedback(db.table(), event, at(MONDAY) + timedelta(minutes=20)) == 1
    # THEN the ledger of that send records SES's id, and the job's later state is left alone
    assert db.table().get(ledger_key)["message_ids"]["email"] == "0100-ses-first"
    assert "unconfirmed" not in db.table().get(ledger_key)
    assert job(store, "1")["unconfirmed"] == later["unconfirmed"]


def test_botocore_does_not_resend_an_email_after_a_read_timeout(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN every SendEmail request reaches SES and then times out, below botocore's retries
    faults(Rule("sesv2", "SendEmail", "timeout_after", times=5), where="send")
    assert post_order(client, store, "1").status_code == 200
    # WHEN it is sent
    tick(app, at(MONDAY) + LATER)
    tick(app, at(MONDAY) + AFTER_LEASE)
    # THEN SES received one request, not one per SDK attempt
    assert emails() == [THANKS]


def test_a_5xx_before_sending_is_not_retried_blindly(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN SES answers 500 (it may have taken the email: the app cannot tell)
    script = faults(Rule("sesv2", "SendEmail", "server"))
    assert post_order(client, store, "1").status_code == 200
    for minutes in (1, 15, 30):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    # THEN SendEmail was called once, and the job says it is unconfirmed
    assert script.calls["sesv2"] == 1 and emails() == []
    assert job(store, "1")["status"] == "sent" and job(store, "1")["unconfirmed"]
    assert [r["kind"] for r in listed(client, store)] == ["thank_you"]


# --- claims whose answers or releases were lost ----------------------------------------
def test_a_claim_whose_answer_was_lost_still_sends_once(app: Any, client: Any, store: dict[str, Any]) -> None:
    faults(Rule("dynamodb", "TransactWriteItems", "timeout_after", marker=b"send_claim"))
    assert post_order(client, store, "1").status_code == 200
    for minutes in (1, 15, 30):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    assert emails() == [THANKS] and job(store, "1")["status"] == "sent"


def test_a_claim_left_behind_unseen_is_found_after_its_lease_and_sent_once(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN the claim is applied but its answer is lost, and so is the check that follows
    faults(
        Rule("dynamodb", "TransactWriteItems", "timeout_after", marker=b"send_claim"),
        Rule("dynamodb", "GetItem", "connect", marker=b"CLAIM#"),
    )
    assert post_order(client, store, "1").status_code == 200
    tick(app, at(MONDAY) + LATER)
    assert emails() == [] and job(store, "1")["status"] == "claimed"
    # WHEN its lease ends THEN dispatch finds it, sees that nothing went, and it goes once
    for minutes in (13, 26, 40):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    assert emails() == [THANKS] and job(store, "1")["status"] == "sent"


def test_a_failed_release_is_settled_after_the_lease(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN SES throttles the thank-you, and releasing the claim fails
    faults(
        Rule("sesv2", "SendEmail", "throttle"), Rule("dynamodb", "TransactWriteItems", "connect", marker=b'"Delete"')
    )
    assert post_order(client, store, "1").status_code == 200
    tick(app, at(MONDAY) + LATER)
    assert emails() == [] and job(store, "1")["status"] == "claimed"
    # WHEN time passes THEN the claim is released and the thank-you goes, once
    for minutes in (13, 26, 40):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    assert emails() == [THANKS] and job(store, "1")["status"] == "sent"


# --- what cannot be sent fails, with its reason ----------------------------------------
def test_a_sender_that_cannot_be_encoded_fails_the_job_with_its_reason(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a store whose saved sender has a non-ASCII local part (saved before senders were checked)
    db.table().update(keys.store(store["store_id"]), Update().set({"sender_email": "hellö@example.com"}))

    PROCESS.reset()
    assert post_order(client, store, "1").status_code == 200
    # WHEN the thank-you falls due, and time passes
    for minutes in (1, 15, 30):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    # THEN nothing went, the job failed once (no retry loop), and the store sees why
    assert emails() == []
    rows = listed(client, store)
    assert [(r["kind"], r["order_id"]) for r in rows] == [("thank_you", "1")] and "sender" in rows[0]["reason"]
    assert job(store, "1")["status"] == "failed"


def test_a_store_template_that_raises_at_send_time_does_not_strand_the_job(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a thank-you template that recurses without end for one customer's name only
    source = "{% macro r(n) %}{{ r(n) }}{% endmacro %}{% if first_name == 'Loop' %}{{ r(1) }}{% endif %}Thanks {{ first_name }}"
    saved = client.http.put(
        f"/stores/{store['store_id']}/templates/thank_you.subject/en",
        headers=auth(store["api_key"]),
        body=json.dumps({"source": source}),
    )
    assert saved.status_code in (200, 201), saved.body
    assert post_order(client, store, "1", first_name="Loop").status_code == 200
    # WHEN it falls due, and time passes
    for minutes in (1, 15, 30, 45, 60):
        tick(app, at(MONDAY) + timedelta(minutes=minutes))
    # THEN the job is not left claimed: it went (on a fallback), or failed saying why
    thank_you = job(store, "1")
    assert thank_you["status"] in ("sent", "failed"), thank_you
    if thank_you["status"] == "failed":
        assert "template" in thank_you["reason"] and emails() == []
    else:
        assert len(emails()) == 1


# --- the record that must happen together ---------------------------------------------
def test_a_failed_record_is_finished_later_and_the_fallback_survey_does_not_pretend(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    # GIVEN a delivered order, and the survey's record transaction failing three times over
    assert post_order(client, store, "1").status_code == 200
    assert post_order(client, store, "1", "delivered", "2027-03-02T08:00:00Z").status_code == 200
    tick(app, at("2027-03-02T08:01:00Z"))
    faults(Rule("dynamodb", "TransactWriteItems", "connect", times=3, marker=b"sent_message"))
    survey = at("2027-03-09T08:01:00Z")
    # WHEN the survey goes
    tick(app, survey)
    assert emails().count("How did we do, Dana?") == 1
    # THEN the next attempt finishes the record: the job is sent, the reminder planned, the
    # weekly cap sees the message
    tick(app, survey + AFTER_LEASE)
    assert job(store, "1", "JOB#survey#delivered")["status"] == "sent"
    assert job(store, "1", "JOB#survey_reminder")["status"] == "pending"
    sent = list(db.table().partition(keys.customer_pk(store["store_id"], DANA), keys.sent_message_prefix()))
    assert [s["kind"] for s in sent if s["kind"] == "survey"] == ["survey"]
    # AND the fallback survey closes as already sent, truthfully, and no second survey goes
    for day in ("2027-03-13T08:01:00Z", "2027-03-14T08:01:00Z"):
        tick(app, at(day))
    assert emails().count("How did we do, Dana?") == 1


# --- storage and network errors on the API -----------------------------------------------
@pytest.mark.parametrize("kind", ["connect", "timeout_after", "throttle", "server"])
def test_a_webhook_meeting_storage_trouble_is_answered_503_with_retry_after(
    app: Any, client: Any, store: dict[str, Any], kind: str
) -> None:
    faults(Rule("dynamodb", "TransactWriteItems", kind))
    first = post_order(client, store, "1")
    assert (
        first.status_code == 503
        and first.headers.get("Retry-After")
        and first.json_body["error"]["code"] == "unavailable"
    )
    # AND the platform's retry is accepted (a write applied before its answer was lost counts once)
    again = post_order(client, store, "1")
    assert again.status_code == 200 and again.json_body["status"] in ("accepted", "duplicate")


# --- dispatch carries on -------------------------------------------------------------------
def test_one_failed_shard_query_does_not_stop_dispatch(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN due thank-yous for several customers, and the first due-index query failing
    for i in range(6):
        assert post_order(client, store, str(i), email=f"c{i}@example.com").status_code == 200
    faults(Rule("dynamodb", "Query", "connect", marker=b"DUE#"))
    # WHEN dispatch runs THEN it reports the error and queues what the other shards hold
    result = tick(app, at(MONDAY) + LATER)
    assert result.errors == [] and result.dispatch[0]["queued"] >= 1
    # AND the skipped shard is read on the next tick: everyone is thanked once
    tick(app, at(MONDAY) + 2 * LATER)
    assert sorted(len(emails(f"c{i}@example.com")) for i in range(6)) == [1] * 6


def test_a_batch_sqs_refuses_is_queued_on_the_next_tick(app: Any, client: Any, store: dict[str, Any]) -> None:
    assert post_order(client, store, "1").status_code == 200
    faults(Rule("sqs", "SendMessageBatch", "throttle"))
    first = tick(app, at(MONDAY) + LATER)
    assert first.dispatch[0]["queued"] == 0 and emails() == []
    # the lease was given back: the next minute queues it, long before the lease would end
    tick(app, at(MONDAY) + 2 * LATER)
    assert emails() == [THANKS]


def test_deliver_keeps_draining_when_a_handler_raises(moto: devstack.Provisioned) -> None:
    # GIVEN an app whose dispatch raises
    class Broken:
        handler_map = {"dispatch": lambda event, context: 1 / 0}

    # WHEN time moves THEN deliver reports the error instead of raising
    delivered = devstack.deliver(Broken(), at(MONDAY))
    assert delivered.errors and "ZeroDivisionError" in delivered.errors[0]


# --- SES feedback ------------------------------------------------------------------------
def test_ses_feedback_with_an_implausible_store_id_is_unattributed(app: Any, store: dict[str, Any]) -> None:
    notification = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "gone@example.com"}]},
        "mail": {"tags": {"store_id": ["s" * 5000]}},
    }
    assert feedback.ses_feedback(db.table(), notification, at(MONDAY)) == 0
