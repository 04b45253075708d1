"""The one decision before every send: each refusal reason, quiet hours and caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.messaging import policy
from chalicelib.messaging.policy import Reason, Situation, decide
from chalicelib.stores import registry

STORE = registry.with_defaults({"store_id": "st1", "name": "Cedar", "timezone": "Europe/Athens", "language": "en"})
# Wednesday 3 March 2027, 12:00 in Athens
NOON = datetime(2027, 3, 3, 10, 0, tzinfo=UTC)


def customer(**fields: Any) -> dict[str, Any]:
    return {"email": "dana@example.com", "timezone": "Europe/Athens", "email_consent": True, **fields}


def situation(kind: str = "survey", **fields: Any) -> Situation:
    values: dict[str, Any] = {
        "kind": kind,
        "store": STORE,
        "customer": customer(),
        "now": NOON,
        "order": {"status": "delivered"},
    }
    values.update(fields)
    return Situation(**values)


def test_a_message_in_the_window_goes_now_by_email() -> None:
    decision = decide(situation())
    assert decision.send and decision.channels == ("email",)


def test_marketing_without_consent_is_dropped() -> None:
    decision = decide(situation("birthday", customer=customer(email_consent=None)))
    assert (decision.action, decision.reason) == ("drop", Reason.NO_CONSENT)


def test_a_transactional_message_needs_no_marketing_consent() -> None:
    assert decide(situation("delivery_checkin", customer=customer(email_consent=False))).send


def test_an_unsubscribed_contact_is_not_written_to() -> None:
    decision = decide(situation(suppressions={"email": {"scope": "all", "reason": "unsubscribe"}}))
    assert (decision.action, decision.reason) == ("drop", Reason.SUPPRESSED)


def test_surveys_only_opt_out_still_lets_other_messages_through() -> None:
    opted = {"email": {"scope": "surveys", "reason": "unsubscribe"}}
    assert decide(situation("survey", suppressions=opted)).reason == Reason.SUPPRESSED
    assert decide(situation("delivery_checkin", suppressions=opted)).send


def test_a_bounced_address_is_dropped_as_bounced() -> None:
    decision = decide(situation(suppressions={"email": {"scope": "all", "reason": "bounce"}}))
    assert (decision.action, decision.reason) == ("drop", Reason.BOUNCED)


def test_ses_account_suppression_counts_too() -> None:
    assert decide(situation(ses_suppressed=True)).reason == Reason.SUPPRESSED


def test_a_second_survey_within_the_cooldown_is_dropped() -> None:
    recent = (NOON - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    decision = decide(situation(customer=customer(last_survey_at=recent)))
    assert (decision.action, decision.reason) == ("drop", Reason.COOLDOWN)
    old = (NOON - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert decide(situation(customer=customer(last_survey_at=old))).send


def test_the_weekly_cap_holds_a_message_until_a_slot_frees_up() -> None:
    sends = [NOON - timedelta(days=6), NOON - timedelta(days=2), NOON - timedelta(hours=1)]
    decision = decide(situation("delivery_checkin", recent_sends=sends))
    assert (decision.action, decision.reason) == ("later", Reason.WEEKLY_CAP)
    assert decision.at is not None and decision.at >= sends[0] + timedelta(days=7)


def test_at_night_a_message_waits_for_the_morning_in_the_customers_zone() -> None:
    night = datetime(2027, 3, 3, 20, 30, tzinfo=UTC)  # 22:30 Athens, 01:00 in Tehran
    decision = decide(situation(now=night))
    assert (decision.action, decision.reason) == ("later", Reason.QUIET_HOURS)
    assert decision.at == datetime(2027, 3, 4, 7, 0, tzinfo=UTC)  # 09:00 Athens
    tehran = decide(situation(now=night, customer=customer(timezone="Asia/Tehran")))
    assert tehran.at == datetime(2027, 3, 4, 5, 30, tzinfo=UTC)  # 09:00 Tehran


def test_sunday_is_skipped_by_default() -> None:
    saturday_night = datetime(2027, 3, 6, 19, 0, tzinfo=UTC)
    decision = decide(situation(now=saturday_night))
    assert decision.at == datetime(2027, 3, 8, 7, 0, tzinfo=UTC)  # Monday 09:00


def test_the_thank_you_is_not_held_by_quiet_hours() -> None:
    night = datetime(2027, 3, 3, 22, 0, tzinfo=UTC)
    assert decide(situation("thank_you", now=night)).send


def test_a_thank_you_by_sms_waits_for_the_morning() -> None:
    # GIVEN an order placed at midnight in Athens by a customer who has only a phone
    night = datetime(2027, 3, 3, 22, 0, tzinfo=UTC)
    decision = decide(
        situation("thank_you", now=night, customer={"phone": "+306912345678", "timezone": "Europe/Athens"})
    )
    # THEN the text waits for 09:00 rather than waking them
    assert (decision.action, decision.reason) == ("later", Reason.QUIET_HOURS)
    assert decision.at == datetime(2027, 3, 4, 7, 0, tzinfo=UTC)


def test_a_thank_you_on_both_channels_at_night_goes_by_email_only() -> None:
    night = datetime(2027, 3, 3, 22, 0, tzinfo=UTC)
    store = {**STORE, "channels": {"thank_you": "both"}}
    decision = decide(situation("thank_you", now=night, store=store, customer=customer(phone="+306912345678")))
    assert decision.send and decision.channels == ("email",)


def test_a_cancelled_order_gets_nothing() -> None:
    assert decide(situation(order={"status": "refunded"})).reason == Reason.ORDER_CANCELLED


def test_without_any_contact_the_message_is_dropped() -> None:
    decision = decide(situation(customer={"timezone": "Europe/Athens"}))
    assert (decision.action, decision.reason) == ("drop", Reason.NO_CONTACT)


def test_auto_channel_falls_back_to_sms_when_email_is_suppressed() -> None:
    who = customer(phone="+306912345678")
    decision = decide(situation(customer=who, suppressions={"email": {"scope": "all", "reason": "complaint"}}))
    assert decision.send and decision.channels == ("sms",)


def test_both_channels_when_the_store_asks_for_both() -> None:
    store = {**STORE, "channels": {"survey": "both"}}
    decision = decide(situation(store=store, customer=customer(phone="+306912345678")))
    assert decision.channels == ("email", "sms")


def test_store_tuned_window() -> None:
    store = {**STORE, "quiet_start": "11:00", "quiet_end": "13:00", "send_days": [0, 1, 2, 3, 4, 5, 6]}
    early = datetime(2027, 3, 7, 7, 0, tzinfo=UTC)  # Sunday 09:00 Athens
    assert decide(situation(store=store, now=early)).at == datetime(2027, 3, 7, 9, 0, tzinfo=UTC)


def test_next_allowed_keeps_a_moment_inside_the_window() -> None:
    assert policy.next_allowed(NOON, policy.zone_of(None, STORE), "09:00", "20:00", [0, 1, 2, 3, 4, 5]) == NOON


def test_did_we_make_it_right_still_goes_after_a_refund() -> None:
    assert decide(situation("made_it_right", order={"status": "refunded"})).send
