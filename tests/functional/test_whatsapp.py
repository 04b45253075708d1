"""WhatsApp as the SMS channel's route: approved templates to customers who opted in, the SMS
in its place otherwise or after a refusal, never both; replies read as SMS replies are.

End User Messaging Social is faked at the client seam (tests/support/whatsapp.py); every
other service is moto's, and time moves with devstack.deliver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import devstack
from chalicelib.core.models import OrderStatus
from chalicelib.messaging import sms_inbound, suppression
from chalicelib.platform import aws
from chalicelib.storage import db, keys
from devstack import outbox
from tests.conftest import auth
from tests.fixtures import raw
from tests.support import whatsapp as wa
from tests.support.console import csrf_of, page, post, signed_in
from tests.support.events import sns_event
from tests.support.tables import snapshot
from tests.support.world import at, customer_info, emails_to, ingest, order_event, sms_to

PHONE = "+306944000111"
MONDAY = "2027-03-01T08:00:00Z"  # 10:00 in Athens


@pytest.fixture
def whatsapp(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[wa.WhatsAppService]:
    with wa.service(monkeypatch) as fake:
        yield fake


def set_up(client: Any, store: dict[str, Any], **more: Any) -> None:
    """GIVEN the store's WhatsApp number and approved templates (and any other settings)."""
    body = {**wa.SETTINGS, "followups": {"delivery_checkin": False, "usage_tips": False}, **more}
    answer = client.http.patch(f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps(body))
    assert answer.status_code == 200, answer.body


def order(store: dict[str, Any], when: str, *, order_id: str = "1001", **who: Any) -> None:
    """An order by Dana, who gave only her phone (so every message goes on the SMS channel)."""
    fields = {"phone": PHONE, "whatsapp_consent": True, **who}
    ingest(
        store,
        order_event(store["store_id"], order_id, OrderStatus.CREATED, at(when), customer_info(None, **fields)),
        at(when),
    )


def thank_you_job(store: dict[str, Any], order_id: str = "1001") -> dict[str, Any]:
    item = db.table().get(keys.job(keys.order_pk(store["store_id"], order_id), "thank_you"), consistent=True)
    assert item is not None
    return item


@pytest.mark.world_time(MONDAY)
def test_a_customer_who_opted_in_gets_the_approved_template_on_whatsapp_and_no_sms(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    set_up(client, store)
    order(store, MONDAY)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN one template message went from the store's number, filled from the order
    assert [wa.template_of(m) for m in whatsapp.to(PHONE)] == [
        ("order_thanks", "en_US", ["Dana", "Cedar & Sage", "#1001"])
    ]
    assert whatsapp.requests[0]["originationPhoneNumberId"] == wa.PHONE_NUMBER_ID
    assert whatsapp.requests[0]["metaApiVersion"] == "v20.0"
    # and no SMS; the job says which channel went
    assert sms_to(PHONE) == []
    job = thank_you_job(store)
    assert (job["status"], job["channels"], job["message_ids"]) == ("sent", ["whatsapp"], {"whatsapp": "wamid.1"})
    # WHEN time moves on THEN nothing goes again
    devstack.deliver(app, at("2027-03-01T09:00:00Z"))
    assert len(whatsapp.delivered) == 1 and sms_to(PHONE) == []


@pytest.mark.world_time(MONDAY)
@pytest.mark.parametrize("consent", [None, False])
def test_without_whatsapp_consent_the_message_goes_by_sms(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService, consent: bool | None
) -> None:
    set_up(client, store)
    order(store, MONDAY, whatsapp_consent=consent)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    assert whatsapp.requests == []
    assert len(sms_to(PHONE)) == 1 and "#1001" in sms_to(PHONE)[0]
    assert thank_you_job(store)["channels"] == ["sms"]


@pytest.mark.world_time(MONDAY)
def test_a_language_without_an_approved_template_goes_by_sms(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    # GIVEN the thank-you template is approved in English and Greek only; Dana writes Arabic
    set_up(client, store, languages=["en", "ar", "el"])
    order(store, MONDAY, language="ar")
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    assert whatsapp.requests == [] and len(sms_to(PHONE)) == 1


@pytest.mark.world_time(MONDAY)
def test_a_template_value_the_order_lacks_sends_the_sms_instead(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    # GIVEN the thank-you template greets by first name, and Dana's order has none
    set_up(client, store)
    order(store, MONDAY, first_name=None)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN WhatsApp is not asked (Meta refuses an empty value); the SMS goes
    assert whatsapp.requests == [] and len(sms_to(PHONE)) == 1


@pytest.mark.world_time(MONDAY)
@pytest.mark.parametrize(
    "failure",
    [wa.refusal(), wa.refusal("ResourceNotFoundException", 404), wa.refusal("ThrottledRequestException", 429)],
    ids=["not_on_whatsapp", "unknown_number", "throttled"],
)
def test_when_whatsapp_refuses_the_same_claim_sends_the_sms_once(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService, failure: Exception
) -> None:
    set_up(client, store)
    whatsapp.errors.append(failure)
    order(store, MONDAY)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN WhatsApp was asked once and took nothing; the SMS went instead, once
    assert len(whatsapp.requests) == 1 and whatsapp.delivered == []
    assert len(sms_to(PHONE)) == 1
    job = thank_you_job(store)
    assert job["status"] == "sent" and job["channels"] == ["sms"]
    assert str(job["whatsapp_fallback"]).startswith(("Rejected", "ProviderBusy"))
    # WHEN the world moves on THEN neither channel sends it again
    devstack.deliver(app, at("2027-03-01T10:00:00Z"))
    assert len(whatsapp.requests) == 1 and len(sms_to(PHONE)) == 1


@pytest.mark.world_time(MONDAY)
@pytest.mark.parametrize(
    "failure", [wa.lost_answer(), wa.refusal("InternalServiceException", 500)], ids=["timeout", "server_error"]
)
def test_when_whatsapp_may_have_taken_it_no_sms_follows_and_the_store_sees_it(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService, failure: Exception
) -> None:
    set_up(client, store)
    whatsapp.errors.append(failure)
    order(store, MONDAY)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    devstack.deliver(app, at("2027-03-01T12:00:00Z"))
    # THEN no SMS, ever, and WhatsApp was asked once
    assert sms_to(PHONE) == [] and len(whatsapp.requests) == 1
    # and the job is sent, unconfirmed, listed with the failed jobs
    job = thank_you_job(store)
    assert job["status"] == "sent" and job["channels"] == ["whatsapp"] and "whatsapp" in job["unconfirmed"]
    listed = client.http.get(f"/stores/{store['store_id']}/jobs?status=failed", headers=auth(store["api_key"]))
    assert [j["kind"] for j in listed.json_body["jobs"]] == ["thank_you"]


@pytest.mark.world_time("2027-03-01T20:00:00Z")  # 22:00 in Athens
def test_whatsapp_keeps_the_quiet_hours_of_sms(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    set_up(client, store)
    order(store, "2027-03-01T20:00:00Z")
    devstack.deliver(app, at("2027-03-01T20:01:00Z"))
    assert whatsapp.requests == [] and thank_you_job(store)["deferred_reason"] == "quiet_hours"
    devstack.deliver(app, at("2027-03-02T07:00:00Z"))  # 09:00 in Athens
    assert len(whatsapp.delivered) == 1 and sms_to(PHONE) == []


@pytest.mark.world_time(MONDAY)
def test_whatsapp_keeps_the_weekly_cap_of_sms(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    # GIVEN a cap of one message a week, and a survey due at once after each delivery
    set_up(
        client,
        store,
        weekly_cap=1,
        survey_delay_days=0,
        survey_cooldown_days=0,
        followups={"delivery_checkin": False, "usage_tips": False, "survey_reminder": False},
    )
    for order_id in ("1001", "1002"):
        order(store, MONDAY, order_id=order_id)
        ingest(
            store,
            order_event(
                store["store_id"],
                order_id,
                OrderStatus.DELIVERED,
                at(MONDAY),
                customer_info(None, phone=PHONE, whatsapp_consent=True),
            ),
            at(MONDAY),
        )
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    surveys = [m for m in whatsapp.delivered if m["template"]["name"] == "order_feedback"]
    # THEN one survey went; the other waits for the week to pass
    assert len(surveys) == 1 and sms_to(PHONE) == []
    devstack.deliver(app, at("2027-03-08T08:02:00Z"))
    assert len([m for m in whatsapp.delivered if m["template"]["name"] == "order_feedback"]) == 2


@pytest.mark.world_time(MONDAY)
def test_a_stopped_number_gets_nothing_on_whatsapp_either(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    set_up(client, store)
    suppression.suppress_number(db.table(), PHONE, "sms_stop", at(MONDAY))
    order(store, MONDAY)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    assert whatsapp.requests == [] and sms_to(PHONE) == []
    assert thank_you_job(store)["status"] == "skipped"


def survey_sent(client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService) -> str:
    """GIVEN Dana's survey sent on WhatsApp: the link the template carries."""
    set_up(client, store, survey_delay_days=0, followups={"thank_you": False, "delivery_checkin": False})
    order(store, MONDAY)
    ingest(
        store,
        order_event(
            store["store_id"],
            "1001",
            OrderStatus.DELIVERED,
            at(MONDAY),
            customer_info(None, phone=PHONE, whatsapp_consent=True),
        ),
        at(MONDAY),
    )
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    [survey] = whatsapp.to(PHONE)
    name, _, (first_name, url) = wa.template_of(survey)
    assert (name, first_name) == ("order_feedback", "Dana") and "/s/" in url
    return url


@pytest.mark.world_time(MONDAY)
def test_a_whatsapp_reply_answers_the_survey_and_gets_one_thank_you_on_whatsapp(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    survey_sent(client, app, store, whatsapp)
    # WHEN Dana answers "9" on WhatsApp
    wa.reply(app, PHONE, "9 lovely teapot")
    # THEN her answer is stored as an SMS reply's would be, marked as from WhatsApp
    answer = db.table().get(keys.response(store["store_id"], "1001", "post_delivery"), consistent=True)
    assert answer is not None and (answer["score"], answer["comment"], answer["answered_via"]) == (
        9,
        "lovely teapot",
        "whatsapp",
    )
    # and the thank-you comes back on WhatsApp, as text, never by SMS
    thanks = [m for m in whatsapp.to(PHONE) if m["type"] == "text"]
    assert [m["text"]["body"] for m in thanks] == ["Cedar & Sage: thank you for your answer!"]
    assert sms_to(PHONE) == []
    # WHEN she taps a quick-reply button with another score THEN it is recorded, with no second thank-you
    wa.reply(app, PHONE, button="10")
    answer = db.table().get(keys.response(store["store_id"], "1001", "post_delivery"), consistent=True)
    assert answer is not None and answer["score"] == 10
    assert len([m for m in whatsapp.to(PHONE) if m["type"] == "text"]) == 1


@pytest.mark.world_time(MONDAY)
def test_stop_on_whatsapp_stops_whatsapp_and_sms(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    survey_sent(client, app, store, whatsapp)
    wa.reply(app, PHONE, "STOP")
    # THEN the number is suppressed for the store, and the confirmation went on WhatsApp once
    assert suppression.lookup(db.table(), store["store_id"], PHONE, "sms") is not None
    confirmations = [m for m in whatsapp.to(PHONE) if m["type"] == "text"]
    assert len(confirmations) == 1
    wa.reply(app, PHONE, "STOP")
    assert len([m for m in whatsapp.to(PHONE) if m["type"] == "text"]) == 1
    # WHEN the next order comes THEN nothing goes on either channel
    before = len(whatsapp.requests)
    order(store, MONDAY, order_id="1002")
    client.http.patch(
        f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps({"followups": {}})
    )
    devstack.deliver(app, at("2027-03-01T09:00:00Z"))
    assert len(whatsapp.requests) == before and sms_to(PHONE) == []


@pytest.mark.world_time(MONDAY)
@pytest.mark.parametrize("consent", [True, None])
def test_a_store_that_prefers_whatsapp_uses_it_before_email_for_those_who_opted_in(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService, consent: bool | None
) -> None:
    # GIVEN thank-yous set to "whatsapp", and Dana giving her email and her phone
    set_up(client, store, channels={"thank_you": "whatsapp"})
    who = customer_info("dana@example.com", phone=PHONE, whatsapp_consent=consent)
    ingest(store, order_event(store["store_id"], "1001", OrderStatus.CREATED, at(MONDAY), who), at(MONDAY))
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN with her opt-in it goes on WhatsApp alone; without it, as "auto" would: by email
    assert len(whatsapp.delivered) == (1 if consent else 0) and sms_to(PHONE) == []
    assert len(emails_to("dana@example.com")) == (0 if consent else 1)


@pytest.mark.world_time(MONDAY)
def test_a_message_whatsapp_reports_undelivered_is_listed_for_the_store_and_not_resent(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    survey_sent(client, app, store, whatsapp)
    # WHEN WhatsApp reports it delivered, and a message not ours failed: nothing to note
    wa.status(app, "wamid.1", "delivered")
    wa.status(app, "wamid.other", "failed")
    listed = client.http.get(f"/stores/{store['store_id']}/jobs?status=failed", headers=auth(store["api_key"]))
    assert listed.json_body["jobs"] == []
    # WHEN it reports our survey failed, twice
    wa.status(app, "wamid.1", "failed")
    wa.status(app, "wamid.1", "failed")
    # THEN the store sees it once among its failed jobs, with WhatsApp's reason
    listed = client.http.get(f"/stores/{store['store_id']}/jobs?status=failed", headers=auth(store["api_key"]))
    [row] = listed.json_body["jobs"]
    assert (row["kind"], row["status"]) == ("survey", "undelivered")
    assert row["reason"] == "sent, reported undelivered: whatsapp: 131026 Message undeliverable"
    # and no SMS follows: the survey was claimed, counted and sent once
    devstack.deliver(app, at("2027-03-01T09:00:00Z"))
    assert sms_to(PHONE) == [] and len(whatsapp.requests) == 1


@pytest.mark.world_time(MONDAY)
def test_the_generic_webhook_and_customer_sync_take_whatsapp_consent(client: Any, store: dict[str, Any]) -> None:
    answer = client.http.post(
        f"/stores/{store['store_id']}/customers",
        headers=auth(store["api_key"]),
        body=json.dumps({"customers": [{"phone": PHONE, "first_name": "Dana", "whatsapp_consent": True}]}),
    )
    assert answer.status_code == 200, answer.body
    saved = db.table().get(keys.customer(store["store_id"], PHONE), consistent=True)
    assert saved is not None and saved["whatsapp_consent"] is True
    wrong = client.http.post(
        f"/stores/{store['store_id']}/customers",
        headers=auth(store["api_key"]),
        body=json.dumps({"customers": [{"phone": PHONE, "whatsapp_consent": "yes"}]}),
    )
    assert wrong.status_code == 400 and wrong.json_body["error"]["field"] == "customers[0].whatsapp_consent"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"whatsapp_phone_number_id": "+15555550100"}, "whatsapp_phone_number_id"),
        ({"whatsapp_templates": {"birthday": {"name": "x", "languages": {"en": "en"}}}}, "whatsapp_templates"),
        (
            {"whatsapp_templates": {"survey": {"name": "Order Feedback", "languages": {"en": "en"}}}},
            "whatsapp_templates.survey.name",
        ),
        (
            {"whatsapp_templates": {"survey": {"name": "f", "languages": {"de": "de"}}}},
            "whatsapp_templates.survey.languages",
        ),
        (
            {"whatsapp_templates": {"survey": {"name": "f", "languages": {"en": "en"}, "parameters": ["coupon"]}}},
            "whatsapp_templates.survey.parameters",
        ),
    ],
)
def test_whatsapp_settings_are_checked_and_nothing_is_half_saved(
    client: Any, store: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    answer = client.http.patch(
        f"/stores/{store['store_id']}",
        headers=auth(store["api_key"]),
        body=json.dumps({**body, "weekly_cap": 9}),
    )
    assert answer.status_code == 400 and answer.json_body["error"]["field"] == field
    shown = client.http.get(f"/stores/{store['store_id']}", headers=auth(store["api_key"])).json_body
    assert shown["weekly_cap"] == 3 and shown["whatsapp_templates"] == {}


# --- AWS's own samples ------------------------------------------------------------------
def test_the_documented_event_header_is_read_without_harm(app: Any, store: dict[str, Any]) -> None:
    # GIVEN the header of the user guide's "Message and event format", whose entry is elided
    before = snapshot()
    message = raw("aws/whatsapp_event_header.json").decode()
    # THEN there is no customer message in it, and the handler changes nothing
    assert sms_inbound.whatsapp.inbound(message) == []
    app.handler_map["inbound_whatsapp"](sns_event("aftercare-inbound-whatsapp", message), None)
    assert snapshot() == before


@pytest.mark.world_time(MONDAY)
def test_the_aws_sample_text_event_is_read_like_an_sms_reply(
    client: Any, app: Any, store: dict[str, Any], whatsapp: wa.WhatsAppService
) -> None:
    sample = raw("aws/whatsapp_inbound_text.json").decode()
    # GIVEN the AWS sample as published: its number is masked, so it reads as no number at all
    [read] = sms_inbound.whatsapp.inbound(sample)
    assert (read["messageBody"], read["inboundMessageId"]) == ("BB", "wamid.XXXXXXXXXXXXXXXXXXXXXXXXXXXXX=")
    [outcome] = sms_inbound.handle_whatsapp(db.table(), aws.clients(), sample, at(MONDAY))
    assert (outcome.reason, outcome.recorded) == ("bad_number", False)
    # WHEN the same event comes from Dana, whose survey went on WhatsApp
    survey_sent(client, app, store, whatsapp)
    event = json.loads(sample)
    entry = json.loads(event["whatsAppWebhookEntry"])
    entry["changes"][0]["value"]["messages"][0]["from"] = PHONE.lstrip("+")
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    app.handler_map["inbound_whatsapp"](sns_event("aftercare-inbound-whatsapp", json.dumps(event)), None)
    # THEN "BB" is not a score: she is asked, once and on WhatsApp, for a number on the scale
    [asked] = [m for m in whatsapp.to(PHONE) if m["type"] == "text"]
    assert "0" in asked["text"]["body"] and "10" in asked["text"]["body"]
    app.handler_map["inbound_whatsapp"](sns_event("aftercare-inbound-whatsapp", json.dumps(event)), None)
    assert len([m for m in whatsapp.to(PHONE) if m["type"] == "text"]) == 1


@pytest.mark.world_time(MONDAY)
def test_the_local_stack_carries_whatsapp_through_sns_and_the_outbox_shows_it(
    client: Any, app: Any, store: dict[str, Any]
) -> None:
    # GIVEN the local stage as `make run` has it (WHATSAPP_TRANSPORT=sns: no End User Messaging Social)
    set_up(client, store)
    order(store, MONDAY)
    devstack.deliver(app, at("2027-03-01T08:01:00Z"))
    # THEN the outbox lists it under WhatsApp, with its template and values, and not as an SMS
    [shown] = outbox.whatsapp()
    assert (shown.to, shown.type, shown.template, shown.parameters) == (
        PHONE,
        "template",
        "order_thanks (en_US)",
        ["Dana", "Cedar & Sage", "#1001"],
    )
    assert outbox.sms() == []
    assert "order_thanks (en_US)" in outbox.render(outbox.snapshot(()))


def test_the_console_saves_the_whatsapp_settings_by_the_same_rules(client: Any, store: dict[str, Any]) -> None:
    cookie = signed_in(client, store)
    html = page(client, store, cookie, "settings").body.decode()
    assert 'name="whatsapp_templates"' in html and 'name="whatsapp_phone_number_id"' in html
    form = {
        "csrf": csrf_of(html),
        "group": "whatsapp",
        "whatsapp_phone_number_id": wa.PHONE_NUMBER_ID,
        "whatsapp_templates": "survey: Order Feedback | en=en_US | first_name, survey_url",
    }
    # WHEN a template name Meta would not have is posted THEN it is named next to the field, nothing saved
    wrong = post(client, store, cookie, "settings", form)
    assert wrong.status_code == 400 and 'id="err-whatsapp_templates"' in wrong.body.decode()
    shown = client.http.get(f"/stores/{store['store_id']}", headers=auth(store["api_key"])).json_body
    assert shown["whatsapp_phone_number_id"] is None
    # WHEN it is right THEN both are saved as PATCH would save them
    lines = "survey: order_feedback | en=en_US, el=el | first_name, survey_url\nthank_you: order_thanks | en=en_US"
    saved = post(client, store, cookie, "settings", {**form, "whatsapp_templates": lines})
    assert saved.status_code == 303, saved.body
    shown = client.http.get(f"/stores/{store['store_id']}", headers=auth(store["api_key"])).json_body
    assert shown["whatsapp_phone_number_id"] == wa.PHONE_NUMBER_ID
    assert shown["whatsapp_templates"] == {
        "survey": {
            "name": "order_feedback",
            "languages": {"en": "en_US", "el": "el"},
            "parameters": ["first_name", "survey_url"],
        },
        "thank_you": {"name": "order_thanks", "languages": {"en": "en_US"}, "parameters": []},
    }
    # and the page shows them back one a line
    again = page(client, store, cookie, "settings").body.decode()
    assert "survey: order_feedback | en=en_US, el=el | first_name, survey_url" in again
