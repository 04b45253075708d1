"""Messages that must not go: each refusal reason through the real send path, a bounce
turned into a suppression, duplicates, and a provider that keeps failing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

import devstack
from chalicelib.core.models import OrderStatus
from chalicelib.messaging import delivery, feedback, suppression
from chalicelib.platform import aws
from chalicelib.storage import db, keys
from tests.conftest import auth
from tests.support.world import at, customer_info, ingest, order_event, sms_to, subjects_to

# Orders here are placed on Monday 2027-03-01 or the day after; the world starts there.
pytestmark = pytest.mark.world_time("2027-03-01T07:00:00Z")

MONDAY = "2027-03-01T08:00:00Z"  # 10:00 in Athens


def job_item(store_id: str, order_id: str, sk: str) -> dict[str, Any]:
    item = db.table().get({"PK": keys.order_pk(store_id, order_id), "SK": sk}, consistent=True)
    assert item is not None
    return item


def order(store: dict[str, Any], order_id: str, when: str, **customer: Any) -> None:
    email = customer.pop("email", "dana@example.com")
    ingest(
        store,
        order_event(store["store_id"], order_id, OrderStatus.CREATED, at(when), customer_info(email, **customer)),
        at(when),
    )


def deliver_order(store: dict[str, Any], order_id: str, when: str, **customer: Any) -> None:
    email = customer.pop("email", "dana@example.com")
    ingest(
        store,
        order_event(store["store_id"], order_id, OrderStatus.DELIVERED, at(when), customer_info(email, **customer)),
        at(when),
    )


def test_no_marketing_without_consent(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a customer with a known birthday who never agreed to marketing email
    order(store, "1", MONDAY, email="noconsent@example.com", birthday="03-05", email_consent=None)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # WHEN the birthday comes
    devstack.deliver(app, at("2027-03-05T08:00:00Z"))
    # THEN no greeting is sent (the thank-you was), and next year's stays planned with the reason
    assert subjects_to("noconsent@example.com") == ["Thank you for your order #1"]
    birthday = db.table().get(
        keys.job(keys.customer_pk(store["store_id"], "noconsent@example.com"), "birthday"), consistent=True
    )
    assert birthday is not None and birthday["last_reason"] == "no_consent" and birthday["due"].startswith("2028-03-05")


def test_an_unsubscribed_customer_gets_no_survey(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a delivered order whose customer opted out of surveys
    order(store, "2", MONDAY)
    deliver_order(store, "2", "2027-03-02T08:00:00Z")
    devstack.deliver(app, at("2027-03-02T08:01:00Z"))
    suppression.suppress(
        db.table(), store["store_id"], "dana@example.com", "email", "surveys", "unsubscribe", at("2027-03-02T09:00:00Z")
    )
    # WHEN the survey falls due
    devstack.deliver(app, at("2027-03-09T08:01:00Z"))
    # THEN none is sent, and the job says why
    assert "How did we do, Dana?" not in subjects_to("dana@example.com")
    assert job_item(store["store_id"], "2", "JOB#survey#delivered")["reason"] == "suppressed"


def test_a_hard_bounce_stops_further_email(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN SES reports a permanent bounce for an address this store mailed
    notification = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "Gone@Example.COM"}]},
        "mail": {"tags": {"store_id": [store["store_id"]]}, "destination": ["Gone@example.com"]},
    }
    topic = [
        t["TopicArn"]
        for t in boto3.client("sns").list_topics()["Topics"]
        if t["TopicArn"].endswith(":aftercare-ses-feedback")
    ][0]
    boto3.client("sns").publish(TopicArn=topic, Message=json.dumps(notification))
    delivered = devstack.deliver(app, at("2027-03-01T07:00:00Z"))
    assert [handler for handler, _ in delivered.sns] == ["ses_feedback"]
    # WHEN that customer orders through the store's webhook, spelling the address another way
    from tests.support.orders import customer, post_order

    post_order(client, store, "3", "created", MONDAY, customer("GONE@example.com"))
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN the thank-you is not sent, because the address bounced
    assert subjects_to("gone@example.com") == [] and subjects_to("GONE@example.com") == []
    assert job_item(store["store_id"], "3", "JOB#thank_you")["reason"] == "bounced"


def test_feedback_not_shaped_like_ses_is_ignored(app: Any, store: dict[str, Any]) -> None:
    odd: list[Any] = [
        [],
        "text",
        7,
        {"notificationType": "Bounce", "mail": []},
        {"notificationType": "Bounce", "mail": {"tags": ["x"]}},
        {
            "notificationType": "Bounce",
            "mail": {"tags": {"store_id": [store["store_id"]]}},
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": ["a@b.c", 5]},
        },
        {"notificationType": "Complaint", "mail": {"headers": ["x", {"name": "X-Aftercare-Store"}]}, "complaint": "no"},
    ]
    for notification in odd:
        assert feedback.ses_feedback(db.table(), notification, at(MONDAY)) == 0


def test_a_soft_bounce_suppresses_nothing(app: Any, store: dict[str, Any]) -> None:
    notification = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "busy@example.com"}]},
        "mail": {"tags": {"store_id": [store["store_id"]]}},
    }
    assert feedback.ses_feedback(db.table(), notification, at(MONDAY)) == 0
    assert suppression.lookup(db.table(), store["store_id"], "busy@example.com", "email") is None


def test_one_survey_per_customer_per_cooldown(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a customer surveyed about a first order
    order(store, "4", MONDAY)
    deliver_order(store, "4", "2027-03-02T08:00:00Z")
    devstack.deliver(app, at("2027-03-09T08:01:00Z"))
    assert subjects_to("dana@example.com").count("How did we do, Dana?") == 1
    # WHEN a second order is delivered and its survey falls due 10 days later
    order(store, "5", "2027-03-10T08:00:00Z")
    deliver_order(store, "5", "2027-03-12T08:00:00Z")
    devstack.deliver(app, at("2027-03-19T08:01:00Z"))
    # THEN no second survey is sent within 30 days
    assert subjects_to("dana@example.com").count("How did we do, Dana?") == 1
    assert job_item(store["store_id"], "5", "JOB#survey#delivered")["reason"] == "survey_cooldown"


def test_the_weekly_cap_holds_messages_back(app: Any, client: Any, store: dict[str, Any]) -> None:
    # GIVEN a store that allows one message per customer per week
    patched = client.http.patch(
        f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps({"weekly_cap": 1})
    )
    assert patched.status_code == 200
    # and two orders delivered the same morning
    for order_id in ("6", "7"):
        order(store, order_id, MONDAY)
        deliver_order(store, order_id, "2027-03-02T08:00:00Z")
    # WHEN check-ins fall due
    devstack.deliver(app, at("2027-03-02T08:01:00Z"))
    # THEN one goes and the other waits for a week, with the reason recorded
    checkins = [s for s in subjects_to("dana@example.com") if s.startswith("Did your order")]
    assert len(checkins) == 1
    held = [job_item(store["store_id"], o, "JOB#delivery_checkin") for o in ("6", "7")]
    waiting = [j for j in held if j["status"] == "pending"]
    assert (
        len(waiting) == 1
        and waiting[0]["deferred_reason"] == "weekly_cap"
        and waiting[0]["due"] > "2027-03-09T08:01:00Z"
    )


def test_quiet_hours_hold_a_message_until_the_morning(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a parcel delivered at 23:00 in Athens
    order(store, "8", MONDAY)
    deliver_order(store, "8", "2027-03-02T21:00:00Z")
    # WHEN dispatch runs at night THEN the check-in is moved to 09:00, not sent
    devstack.deliver(app, at("2027-03-02T21:01:00Z"))
    checkin = job_item(store["store_id"], "8", "JOB#delivery_checkin")
    assert (checkin["status"], checkin["due"], checkin["deferred_reason"]) == (
        "pending",
        "2027-03-03T07:00:00Z",
        "quiet_hours",
    )
    assert not any(s.startswith("Did your order") for s in subjects_to("dana@example.com"))


def test_a_duplicate_queue_message_sends_once(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a due thank-you
    order(store, "9", MONDAY, email="twice@example.com")
    thank_you = job_item(store["store_id"], "9", "JOB#thank_you")
    message = {
        "pk": thank_you["PK"],
        "sk": thank_you["SK"],
        "due_at": thank_you["due_at"],
        "now": "2027-03-01T08:01:00Z",
    }
    # WHEN the same message is handled twice, and the payment's blind rewrite makes the job pending again
    first = delivery.process(db.table(), aws.clients(), message)
    paid = order_event(store["store_id"], "9", OrderStatus.PAID, at(MONDAY), customer_info("twice@example.com"))
    ingest(store, paid, at("2027-03-01T08:00:30Z"))
    again = job_item(store["store_id"], "9", "JOB#thank_you")
    second = delivery.process(db.table(), aws.clients(), {**message, "due_at": again["due_at"]})
    third = delivery.process(db.table(), aws.clients(), message)
    # THEN exactly one email went out
    assert (first.status, second.reason, third.status) == ("sent", "already_sent", "skipped")
    assert subjects_to("twice@example.com") == ["Thank you for your order #9"]


def test_sms_only_customers_get_texts_recorded_for_replies(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a customer known only by phone
    sid = store["store_id"]
    info = customer_info(None, phone="+306912345678")
    ingest(store, order_event(sid, "10", OrderStatus.CREATED, at(MONDAY), info), at(MONDAY))
    # WHEN the thank-you goes
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN it is an SMS, and the number's SMS index knows which store texted it
    texts = sms_to("+306912345678")
    assert len(texts) == 1 and "#10" in texts[0]
    records = list(db.table().partition(keys.phone_pk("+306912345678"), "SMS#"))
    assert [r["store_id"] for r in records] == [sid] and records[0]["expires_at"] > 0


class BusyClients:
    """SES that keeps answering 'throttled' (the embedded AWS never does)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    @property
    def sesv2(self) -> Any:
        from botocore.exceptions import ClientError

        class Throttled:
            def send_email(self, **_: Any) -> Any:
                raise ClientError(
                    {
                        "Error": {"Code": "TooManyRequestsException", "Message": "slow down"},
                        "ResponseMetadata": {"HTTPStatusCode": 429},
                    },
                    "SendEmail",
                )

        return Throttled()


def test_a_provider_that_keeps_failing_marks_the_job_failed_in_the_api(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    import pytest

    from chalicelib.messaging import transports

    # GIVEN a due thank-you and an email provider that throttles every call
    order(store, "11", MONDAY, email="busy@example.com")
    job = job_item(store["store_id"], "11", "JOB#thank_you")
    message = {"pk": job["PK"], "sk": job["SK"], "due_at": job["due_at"], "now": "2027-03-01T08:01:00Z"}
    busy = BusyClients(aws.clients())
    # WHEN SQS delivers it: early receives raise (SQS retries), and the claim is released
    with pytest.raises(transports.ProviderBusy):
        delivery.process(db.table(), busy, message, receives=1, max_receives=5)
    assert job_item(store["store_id"], "11", "JOB#thank_you")["status"] == "pending"
    # and the last receive marks it failed instead
    outcome = delivery.process(db.table(), busy, message, receives=5, max_receives=5)
    assert outcome.status == "failed"
    # THEN the store sees the failure and its reason
    listed = client.http.get(f"/stores/{store['store_id']}/jobs?status=failed", headers=auth(store["api_key"]))
    assert listed.status_code == 200
    jobs = listed.json_body["jobs"]
    assert [(j["kind"], j["order_id"]) for j in jobs] == [("thank_you", "11")] and "TooManyRequestsException" in jobs[
        0
    ]["reason"]
    assert subjects_to("busy@example.com") == []


def test_one_broken_job_does_not_hold_back_its_batch(app: Any, store: dict[str, Any]) -> None:
    from chalicelib.core.models import JobKind
    from chalicelib.platform.config import settings
    from chalicelib.schedule import jobs

    # GIVEN a due thank-you and, beside it, a job whose store no longer exists
    order(store, "12", MONDAY, email="fine@example.com")
    orphan = jobs.job_item(
        keys.order_pk("stgone", "1"),
        JobKind.THANK_YOU,
        at(MONDAY),
        store_id="stgone",
        shards=settings().due_shards,
        order_id="1",
    )
    db.table().put(orphan)
    # WHEN they are dispatched together, and time moves on past each visibility timeout
    delivered = devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    later = [devstack.deliver(app, at(f"2027-03-01T08:{minute:02d}:00Z")) for minute in (5, 9, 13, 17, 21)]
    # THEN the good one is sent, the broken one is reported alone, retried, and finally marked failed
    assert subjects_to("fine@example.com") == ["Thank you for your order #12"]
    assert delivered.failed and all(m["pk"] == orphan["PK"] for m in delivered.failed)
    assert all(m["pk"] == orphan["PK"] for d in later for m in d.failed) and any(d.dead_lettered for d in later)
    final = db.table().get({"PK": orphan["PK"], "SK": orphan["SK"]}, consistent=True)
    assert final is not None and final["status"] == "failed" and "NotFound" in final["reason"]


def test_the_last_receive_is_the_queues_max_receive_count() -> None:
    import devstack as stack

    template = stack.template()["Resources"]["SendQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    assert int(stack.stage_environment("local")["SEND_MAX_RECEIVES"]) == int(template)


def test_a_busy_provider_is_retried_later_and_later(app: Any, store: dict[str, Any]) -> None:
    from chalicelib.platform.config import settings

    # GIVEN a due thank-you queued for sending, received for the second time, and a throttling provider
    order(store, "13", MONDAY, email="later@example.com")
    job = job_item(store["store_id"], "13", "JOB#thank_you")
    sqs = aws.clients().sqs
    body = {"pk": job["PK"], "sk": job["SK"], "due_at": job["due_at"], "now": "2027-03-01T08:01:00Z"}
    sqs.send_message(QueueUrl=settings().send_queue_url, MessageBody=json.dumps(body))
    message = sqs.receive_message(QueueUrl=settings().send_queue_url, AttributeNames=["All"])["Messages"][0]
    calls: list[dict[str, Any]] = []

    class RecordingSqs:
        def change_message_visibility(self, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return sqs.change_message_visibility(**kwargs)

    class Busy(BusyClients):
        sqs = RecordingSqs()

    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": "2"},
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:aftercare-send",
        "awsRegion": "us-east-1",
    }
    # WHEN the send handler processes it
    answer = delivery.handle_batch({"Records": [record]}, None, db.table(), Busy(aws.clients()))
    # THEN the record is reported failed, and hidden for a minute (the second step of the backoff)
    assert answer["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    assert [(c["ReceiptHandle"], c["VisibilityTimeout"]) for c in calls] == [(message["ReceiptHandle"], 60)]
    assert job_item(store["store_id"], "13", "JOB#thank_you")["status"] == "pending"


def test_an_event_invitation_rides_only_on_the_channel_the_customer_consented_to(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    from tests.support.world import emails_to

    # GIVEN a store that invites to its next event and thanks on both channels
    patch = {"next_event": "Spring tasting evening", "channels": {"thank_you": "both"}}
    assert (
        client.http.patch(
            f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps(patch)
        ).status_code
        == 200
    )
    # AND a customer who agreed to marketing texts but never to marketing email
    order(
        store, "30", MONDAY, email="textsonly@example.com", phone="+306912345678", sms_consent=True, email_consent=None
    )
    # WHEN the thank-you goes out
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN the email thanks them without the invitation they never agreed to receive by email
    [email] = emails_to("textsonly@example.com")
    assert "Thank you" in email.subject
    assert "Spring tasting evening" not in email.body
    assert sms_to("+306912345678")
    # AND a customer who did agree to marketing email finds the invitation in theirs
    order(store, "31", MONDAY, email="welcome@example.com")
    devstack.deliver(app, at("2027-03-01T08:02:00Z"))
    [welcome] = emails_to("welcome@example.com")
    assert "Spring tasting evening" in welcome.body


def test_a_busy_second_channel_never_sends_the_first_one_twice(app: Any, client: Any, store: dict[str, Any]) -> None:
    from botocore.exceptions import ClientError

    from tests.support.world import emails_to

    # GIVEN a store that thanks on both channels, and a customer with an email and a phone
    patch = {"channels": {"thank_you": "both"}}
    assert (
        client.http.patch(
            f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps(patch)
        ).status_code
        == 200
    )
    order(store, "32", MONDAY, email="twice@example.com", phone="+306912345679", sms_consent=True)
    job = job_item(store["store_id"], "32", "JOB#thank_you")
    message = {"pk": job["PK"], "sk": job["SK"], "due_at": job["due_at"], "now": "2027-03-01T08:01:00Z"}

    class BusySms:
        def __init__(self, real: Any) -> None:
            self.real = real

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

        @property
        def sns_sms(self) -> Any:
            class Throttled:
                def publish(self, **_: Any) -> Any:
                    raise ClientError(
                        {
                            "Error": {"Code": "Throttling", "Message": "slow down"},
                            "ResponseMetadata": {"HTTPStatusCode": 429},
                        },
                        "Publish",
                    )

            return Throttled()

    # WHEN the email goes out but the SMS provider is busy, and SQS then delivers the message again
    try:
        delivery.process(db.table(), BusySms(aws.clients()), message, receives=1, max_receives=5)
    except Exception:
        pass  # a retry through SQS is what a busy provider may ask for
    delivery.process(db.table(), aws.clients(), message, receives=2, max_receives=5)
    # THEN the customer got the thank-you email once, never twice
    assert [m.subject for m in emails_to("twice@example.com")] == ["Thank you for your order #32"]
    # AND the job records the text it had to give up, and why
    finished = job_item(store["store_id"], "32", "JOB#thank_you")
    assert (
        finished["status"] == "sent"
        and finished["channels"] == ["email"]
        and "ProviderBusy" in finished["given_up"]["sms"]
    )
