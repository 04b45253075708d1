"""Replies to survey SMS: scores in any script, STOP/HELP/START in five languages, never a loop."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import epoch, iso, wall_clock
from chalicelib.messaging import suppression
from chalicelib.storage import db, keys
from chalicelib.support import cases
from chalicelib.surveys import answers, tokens
from tests.support import surveys

PHONE = "+306912345678"
OUR_NUMBER = "+12125550101"


def sms_sent() -> list[tuple[str, str]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def texted(
    store: dict[str, Any], phone: str = PHONE, *, survey_type: str = "nps", language: str = "en", order_id: str = "1001"
) -> tokens.SurveyLink:
    """GIVEN what the engine leaves when it texts a survey: the survey and the SMS record."""
    now = wall_clock() - timedelta(minutes=5)
    db.table().put(
        {
            **keys.phone_message(phone, iso(now), store["store_id"]),
            "type": "phone_message",
            "store_id": store["store_id"],
            "customer_id": phone,
            "kind": "survey",
            "sent_at": iso(now),
            "expires_at": epoch(now + timedelta(days=90)),
        }
    )
    return surveys.issue(
        store,
        order_id=order_id,
        customer=phone,
        kind=survey_type,
        language=language,
        now=now,
        item={**store, "survey_type": survey_type},
    )


def reply(app: Any, body: str, phone: str = PHONE, message_id: str | None = None) -> None:
    payload = {
        "originationNumber": phone,
        "destinationNumber": OUR_NUMBER,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": message_id or str(uuid.uuid4()),
        "previousPublishedMessageId": "prev",
    }
    event = {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:aftercare-inbound-sms:sub",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:aftercare-inbound-sms",
                    "Subject": None,
                    "Message": json.dumps(payload),
                    "Timestamp": iso(wall_clock()),
                    "MessageAttributes": {},
                },
            }
        ]
    }
    app.handler_map["inbound_sms"](event, None)


def answer_of(store: dict[str, Any], kind: str = "nps", order_id: str = "1001") -> dict[str, Any] | None:
    return db.table().get(keys.response(store["store_id"], order_id, kind), consistent=True)


@pytest.mark.parametrize("body", ["3", "٣", "۳"])
def test_a_low_score_in_any_script_is_recorded_and_asked_what_went_wrong(
    app: Any, store: dict[str, Any], body: str
) -> None:
    texted(store)
    reply(app, body)
    stored = answer_of(store)
    assert stored is not None and (stored["score"], stored["category"], stored["channel"]) == (3, "detractor", "sms")
    assert sms_sent()[-1] == (PHONE, "Cedar & Sage: thank you, and we're sorry. What went wrong? Reply to tell us.")
    # WHEN they answer the question, it becomes the comment, with no further reply
    reply(app, "The box arrived crushed")
    stored = answer_of(store)
    assert stored is not None and (stored["score"], stored["comment"]) == (3, "The box arrived crushed")
    assert len(sms_sent()) == 1


def test_a_texted_comment_is_stored_with_its_themes(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a survey texted in Persian; WHEN the customer replies with a score and a complaint
    texted(store, language="fa")
    reply(app, "۴ بسته دیر رسید و شکسته بود")
    # THEN the answer carries the comment's themes
    stored = answer_of(store)
    assert stored is not None and stored["themes"] == ["delivery", "damaged"]


def test_a_score_with_words_keeps_the_words_as_the_comment(app: Any, store: dict[str, Any]) -> None:
    link = texted(store)
    reply(app, "10 great service")
    stored = answer_of(store)
    assert stored is not None and (stored["score"], stored["comment"], stored["category"]) == (
        10,
        "great service",
        "promoter",
    )
    assert tokens.is_answered(db.table(), link.token)
    assert sms_sent() == [(PHONE, "Cedar & Sage: thank you for your answer!")]


def test_the_thank_you_is_in_the_customers_language(app: Any, store: dict[str, Any]) -> None:
    texted(store, language="ar")
    reply(app, "٩")
    assert answer_of(store)["score"] == 9  # type: ignore[index]
    # right to left from the first character, the Latin store name set apart
    assert sms_sent() == [(PHONE, "\u200f\u2068Cedar & Sage\u2069: شكرًا على إجابتك!")]


@pytest.mark.parametrize("word", ["STOP", "توقف", "עצור", "ΣΤΟΠ", "please stop texting me"])
def test_stop_in_any_language_suppresses_and_confirms_once(app: Any, store: dict[str, Any], word: str) -> None:
    texted(store)
    reply(app, word)
    blocked = suppression.lookup(db.table(), store["store_id"], PHONE, "sms")
    assert blocked is not None and blocked["scope"] == "all"
    assert len(sms_sent()) == 1 and "you are unsubscribed" in sms_sent()[0][1]
    # WHEN they send STOP again, or anything else: silence, and nothing is recorded
    reply(app, word)
    reply(app, "5")
    assert len(sms_sent()) == 1
    assert answer_of(store) is None


def test_start_lifts_a_stop(app: Any, store: dict[str, Any]) -> None:
    texted(store)
    reply(app, "STOP")
    reply(app, "START")
    assert suppression.lookup(db.table(), store["store_id"], PHONE, "sms") is None
    assert sms_sent()[-1] == (PHONE, "Cedar & Sage: you are subscribed again. Reply STOP to opt out, HELP for help.")
    reply(app, "START")
    assert len(sms_sent()) == 2


def test_help_names_the_brand_the_contact_and_the_rates(app: Any, store: dict[str, Any]) -> None:
    texted(store)
    reply(app, "HELP")
    assert sms_sent() == [
        (
            PHONE,
            "Cedar & Sage order updates and surveys, a few messages per order. Help: +302101234567. "
            "Msg & data rates may apply. Reply STOP to opt out.",
        )
    ]
    assert answer_of(store) is None


def test_garbage_gets_one_help_message_per_survey_never_a_loop(app: Any, store: dict[str, Any]) -> None:
    texted(store, survey_type="csat")
    reply(app, "asdf qwerty")
    reply(app, "Auto-reply: I am out of office")
    reply(app, "9")  # out of the 1-5 scale
    assert sms_sent() == [(PHONE, "Cedar & Sage: please reply with a number from 1 to 5. Reply STOP to opt out.")]
    assert answer_of(store, "csat") is None


def test_a_number_with_no_open_survey_records_nothing_but_stop_and_help_still_work(
    app: Any, store: dict[str, Any]
) -> None:
    # GIVEN a number we texted (a thank-you), with no survey open
    now = wall_clock() - timedelta(hours=1)
    db.table().put(
        {
            **keys.phone_message(PHONE, iso(now), store["store_id"]),
            "type": "phone_message",
            "store_id": store["store_id"],
            "customer_id": PHONE,
            "kind": "thank_you",
            "sent_at": iso(now),
        }
    )
    reply(app, "8")
    assert sms_sent() == []
    assert list(db.table().partition(keys.order_pk(store["store_id"], "1001"))) == []
    reply(app, "HELP")
    assert len(sms_sent()) == 1
    reply(app, "STOP")
    assert suppression.lookup(db.table(), store["store_id"], PHONE, "sms") is not None
    # AND a number we never texted gets nothing at all
    reply(app, "STOP", phone="+306998877665")
    reply(app, "7", phone="+306998877665")
    assert len(sms_sent()) == 2


def test_a_redelivered_reply_is_handled_once(app: Any, store: dict[str, Any]) -> None:
    texted(store)
    reply(app, "HELP", message_id="same-id")
    reply(app, "HELP", message_id="same-id")
    assert len(sms_sent()) == 1


@pytest.mark.world_time("2027-03-01T08:00:00Z")
def test_a_stop_from_a_number_no_store_texted_lately_still_blocks_every_later_sms(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    import devstack
    from tests.support.orders import post_order
    from tests.support.world import at, sms_to

    # GIVEN a number whose SMS records have expired (nothing tells which store texted it)
    stranger = "+306998877665"
    # WHEN it replies STOP (silently: there is no brand to confirm in)
    reply(app, "STOP", phone=stranger)
    assert sms_sent() == []
    # THEN a store that later gets an order from that number sends it no SMS
    post_order(
        client,
        store,
        "N-1",
        "created",
        "2027-03-01T08:00:00Z",
        {"phone": stranger, "first_name": "Eleni", "sms_consent": True},
    )
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    assert sms_to(stranger) == []
    # AND START from the number lifts it for the next message
    reply(app, "START", phone=stranger)
    post_order(
        client,
        store,
        "N-2",
        "created",
        "2027-03-02T08:00:00Z",
        {"phone": stranger, "first_name": "Eleni", "sms_consent": True},
    )
    devstack.deliver(app, at("2027-03-02T08:01:00Z"))
    assert len(sms_to(stranger)) == 1


def test_an_auto_responder_that_starts_with_a_digit_gets_no_loop(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a survey texted to a phone whose auto-responder answers every SMS it receives
    texted(store)
    auto_reply = "2 min away, I'll call you back"
    # WHEN it answers each of our messages, thirty times over
    for _ in range(30):
        reply(app, auto_reply)
    # THEN "2 min away" is not read as a score, and it got one "reply with a number" in all
    assert answer_of(store) is None
    assert len(sms_sent()) == 1


@pytest.mark.parametrize(
    "body", ["2 min away, I'll call you back", "5 minutes", "3 pm", "10 more days", "2 دقائق", "5 λεπτά"]
)
def test_a_number_that_is_clearly_a_quantity_is_not_a_score(body: str) -> None:
    from chalicelib.messaging.sms_inbound import Intent, read_reply

    assert read_reply(body).intent is Intent.OTHER


def test_repeated_score_replies_get_one_thank_you_per_survey(app: Any, store: dict[str, Any]) -> None:
    # GIVEN a survey texted, answered "9"
    texted(store)
    reply(app, "9")
    # WHEN the same number keeps sending scores (a loop with an auto-responder, or a changed mind)
    for score in ("9", "8", "9 thanks", "10"):
        reply(app, score)
    # THEN the latest answer counts, and only the first got a thank-you
    assert answer_of(store)["score"] == 10  # type: ignore[index]
    assert sms_sent() == [(PHONE, "Cedar & Sage: thank you for your answer!")]


def test_a_score_by_sms_after_a_comment_on_the_page_keeps_the_comment(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    from urllib.parse import urlencode

    # GIVEN a customer who answered 2 on the page and wrote what went wrong
    texted(store)
    page_link = tokens.issue_survey(
        db.table(),
        store=store,
        customer_id=PHONE,
        order_id="1001",
        kind="nps",
        channel="email",
        contact="dana@example.com",
        now=wall_clock() - timedelta(minutes=4),
        language="en",
    )
    form = urlencode({"score": "2", "comment": "The teapot arrived cracked", "nonce": answers.nonce(page_link.token)})
    posted = client.http.post(
        f"/s/{page_link.token}", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=form
    )
    assert posted.status_code == 200, posted.body
    # WHEN they later text only a score
    reply(app, "1")
    # THEN the answer's score moves, and its comment stays (the latest non-empty one wins)
    stored = answer_of(store)
    assert stored is not None and (stored["score"], stored["comment"]) == (1, "The teapot arrived cracked")
    assert [c["text"] for c in stored["comments"]] == ["The teapot arrived cracked"]
    # AND the case keeps the comment and its history
    case = cases.get(db.table(), store["store_id"], cases.case_id_for(PHONE, "1001"), consistent=True)
    assert case is not None and case["comment"] == "The teapot arrived cracked" and case["score"] == 1
    assert [c["text"] for c in case["comments"]] == ["The teapot arrived cracked"]
    # AND nobody asks them what went wrong: they have said it already
    assert all("What went wrong" not in body for _, body in sms_sent())
    # WHEN they then text a new comment, both stay in the history and the latest shows
    reply(app, "And the lid does not fit")
    stored = answer_of(store)
    assert stored is not None and stored["comment"] == "And the lid does not fit"
    assert [c["text"] for c in stored["comments"]] == ["The teapot arrived cracked", "And the lid does not fit"]
    case = cases.get(db.table(), store["store_id"], cases.case_id_for(PHONE, "1001"), consistent=True)
    assert case is not None and [c["text"] for c in case["comments"]] == [
        "The teapot arrived cracked",
        "And the lid does not fit",
    ]
