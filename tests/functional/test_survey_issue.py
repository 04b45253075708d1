"""Issuing survey tokens: what the engine calls when it sends a survey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.clock import epoch, iso
from chalicelib.storage import db, keys
from chalicelib.surveys import tokens

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _store(store: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"store_id": store["store_id"], "language": "en", **settings}


def test_an_email_survey_link_carries_one_url_per_score_of_the_store_scale(store: dict[str, Any]) -> None:
    # GIVEN a store asking NPS questions
    # WHEN the engine issues a survey for an order
    link = tokens.issue_survey(
        db.table(),
        store=_store(store),
        customer_id="ana@example.com",
        order_id="1001",
        kind="post_delivery",
        channel="email",
        contact="ana@example.com",
        now=NOW,
        language="ar",
    )
    # THEN the token is long, random base62 and the links point at the survey page
    assert tokens.looks_like_token(link.token)
    assert link.url == f"http://localhost:8000/s/{link.token}"
    assert [score for score, _ in link.score_urls] == list(range(0, 11))
    assert link.score_urls[9] == (9, f"http://localhost:8000/s/{link.token}?score=9")
    item = db.table().get(keys.survey(link.token))
    assert item is not None
    assert (item["store_id"], item["order_id"], item["language"], item["survey_type"]) == (
        store["store_id"],
        "1001",
        "ar",
        "nps",
    )
    assert item["expires"] == iso(NOW + timedelta(days=30)) and item["expires_at"] == epoch(NOW + timedelta(days=30))
    assert not tokens.is_answered(db.table(), link.token)


def test_the_scale_and_expiry_follow_the_store_settings(store: dict[str, Any]) -> None:
    link = tokens.issue_survey(
        db.table(),
        store=_store(store, survey_type="csat", survey_expiry_days=7),
        customer_id="c",
        order_id="o",
        kind="post_delivery",
        channel="email",
        contact="c@example.com",
        now=NOW,
    )
    assert [score for score, _ in link.score_urls] == [1, 2, 3, 4, 5]
    assert link.expires == iso(NOW + timedelta(days=7))
    assert tokens.load(db.table(), link.token, NOW + timedelta(days=6)) is not None
    assert tokens.load(db.table(), link.token, NOW + timedelta(days=7)) is None


def test_an_sms_survey_is_findable_from_the_phone_number(store: dict[str, Any]) -> None:
    link = tokens.issue_survey(
        db.table(),
        store=_store(store, survey_type="ces"),
        customer_id="+306912345678",
        order_id="o2",
        kind="post_delivery",
        channel="sms",
        contact="+306912345678",
        now=NOW,
    )
    entries = list(db.table().partition(keys.phone_pk("+306912345678"), "SURVEY#"))
    assert [e["token"] for e in entries] == [link.token]
    assert len({tokens.new_token() for _ in range(200)}) == 200
