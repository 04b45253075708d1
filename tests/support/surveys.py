"""Surveys as the engine leaves them, and answers posted the way the survey page posts them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from chalicelib.core.clock import wall_clock
from chalicelib.storage import db
from chalicelib.stores import registry
from chalicelib.surveys import answers, tokens

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def issue(
    store: dict[str, Any],
    *,
    order_id: str = "1001",
    customer: str = "maya@example.org",
    kind: str = "post_delivery",
    language: str = "en",
    now: datetime | None = None,
    item: dict[str, Any] | None = None,
) -> tokens.SurveyLink:
    """A survey sent for an order (at ``now``, else the wall clock), as the send path issues it.

    It goes by SMS to a phone number and by email otherwise, with the store as stored now unless ``item`` is given.
    """
    return tokens.issue_survey(
        db.table(),
        store=item if item is not None else registry.get_store(db.table(), store["store_id"], fresh=True),
        customer_id=customer,
        order_id=order_id,
        kind=kind,
        channel="sms" if customer.startswith("+") else "email",
        contact=customer,
        now=now or wall_clock(),
        language=language,
    )


def post_answer(client: Any, token: str, *, score: int | str, comment: str = "", nonce: str | None = None) -> Any:
    form = urlencode(
        {"score": str(score), "comment": comment, "nonce": answers.nonce(token) if nonce is None else nonce}
    )
    return client.http.post(f"/s/{token}", headers=FORM, body=form)


def answered(
    store: dict[str, Any],
    order_id: str,
    customer: str,
    score: int,
    comment: str,
    at: datetime,
    language: str = "en",
    kind: str = "post_delivery",
    item: dict[str, Any] | None = None,
) -> str:
    """A survey for an order, answered at ``at`` (as the survey page records it); the survey's token."""
    item = item if item is not None else registry.get_store(db.table(), store["store_id"], fresh=True)
    link = issue(
        store,
        order_id=order_id,
        customer=customer,
        kind=kind,
        language=language,
        now=at - timedelta(hours=1),
        item=item,
    )
    survey = tokens.load(db.table(), link.token, at, consistent=True)
    assert survey is not None
    answers.record_answer(
        db.table(), survey, score=score, comment=comment, via="page", now=at, theme_keywords=item.get("theme_keywords")
    )
    return link.token
