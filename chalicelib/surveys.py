"""Surveys: the token a customer answers through, the answer itself, and the nonce that binds
a form to its token.

A token is 22 base62 characters (131 random bits): unguessable, yet short enough for an SMS
link.  The survey item holds what the answer needs (store, customer, order, kind, language)
and expires with DynamoDB's TTL (``expires_at``, epoch seconds); ``expires`` keeps the same
moment as ISO text because TTL deletion lags by up to two days and the page must refuse an
expired token on time.
"""
from __future__ import annotations

import html
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import db, keys
from chalicelib.clock import epoch, iso, parse_iso
from chalicelib.config import settings
from chalicelib.models import JobKind

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_LENGTH = 22  # 62**22 > 2**130
DEFAULT_EXPIRY_DAYS = 30

# survey_type -> (lowest, highest) score
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@dataclass(frozen=True)
class SurveyLink:
    """What a message needs to ask for an answer: the page and one link per score."""

    token: str
    url: str
    score_urls: list[tuple[int, str]]
    survey_type: str
    expires: str


def new_token() -> str:
    return "".join(secrets.choice(BASE62) for _ in range(TOKEN_LENGTH))


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any read: a scanner's junk never reaches the table."""
    return isinstance(value, str) and len(value) == TOKEN_LENGTH and all(c in BASE62 for c in value)


def scale(survey_type: str) -> range:
    low, high = SCALES[survey_type]
    return range(low, high + 1)


def survey_url(token: str, score: int | None = None) -> str:
    base = f"{settings().public_base_url}/s/{token}"
    return base if score is None else f"{base}?score={score}"


def reminder_job_key(store_id: str, order_id: str) -> keys.Key:
    """Where the pending reminder of an order's survey lives; an answer cancels it."""
    return keys.job(keys.order_pk(store_id, order_id), JobKind.SURVEY_REMINDER.value)


def survey_item(
    token: str,
    *,
    store: Mapping[str, Any],
    customer_id: str,
    order_id: str,
    kind: str,
    channel: str,
    contact: str,
    language: str,
    now: datetime,
) -> dict[str, Any]:
    survey_type = str(store.get("survey_type") or "nps")
    expires = now + timedelta(days=int(store.get("survey_expiry_days") or DEFAULT_EXPIRY_DAYS))
    return {
        **keys.survey(token),
        "type": "survey",
        "token": token,
        "store_id": store["store_id"],
        "customer_id": customer_id,
        "order_id": order_id,
        "kind": kind,
        "channel": channel,
        "contact": contact,
        "survey_type": survey_type,
        "language": language,
        "created_at": iso(now),
        "expires": iso(expires),
        "expires_at": epoch(expires),
    }


def issue_survey(
    table: db.Table,
    *,
    store: Mapping[str, Any],
    customer_id: str,
    order_id: str,
    kind: str,
    channel: str,
    contact: str,
    now: datetime,
    language: str | None = None,
) -> SurveyLink:
    """Create a survey token for one order and return its links.

    ``language`` is the customer's (the store's default when not given).  For the SMS channel
    the number's survey index gets an entry too, so a reply finds the survey it answers.
    """
    item = survey_item(
        new_token(),
        store=store,
        customer_id=customer_id,
        order_id=order_id,
        kind=kind,
        channel=channel,
        contact=contact,
        language=language or str(store.get("language") or "en"),
        now=now,
    )
    ops = [db.create(item)]
    if channel == "sms":
        ops.append(db.put(phone_survey_item(item, now)))
    try:
        table.transact(ops)
    except db.TransactionConflict:
        # 131 random bits collided: astronomically unlikely, but a fresh token costs nothing.
        return issue_survey(
            table, store=store, customer_id=customer_id, order_id=order_id, kind=kind, channel=channel, contact=contact, now=now, language=language
        )
    token = item["token"]
    return SurveyLink(
        token=token,
        url=survey_url(token),
        score_urls=[(score, survey_url(token, score)) for score in scale(item["survey_type"])],
        survey_type=item["survey_type"],
        expires=item["expires"],
    )


def phone_survey_item(survey: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        **keys.phone_survey(survey["contact"], iso(now), survey["token"]),
        "type": "phone_survey",
        "token": survey["token"],
        "store_id": survey["store_id"],
        "expires": survey["expires"],
        "expires_at": survey["expires_at"],
    }


def load(table: db.Table, token: str, now: datetime, *, consistent: bool = False) -> dict[str, Any] | None:
    """The survey behind a token while it may still be answered, else None."""
    if not looks_like_token(token):
        return None
    item = table.get(keys.survey(token), consistent=consistent)
    if item is None or parse_iso(item["expires"]) <= now:
        return None
    return item


def is_answered(table: db.Table, token: str) -> bool:
    """Whether the customer has answered (the reminder is skipped then)."""
    if not looks_like_token(token):
        return False
    item = table.get(keys.survey(token), consistent=True)
    return bool(item and item.get("answered_at"))


# --- answers ---------------------------------------------------------------------------
MAX_COMMENT = 2000
NONCE_PURPOSE = "survey-nonce"


def category(survey_type: str, score: int) -> str:
    """NPS promoter/passive/detractor; CSAT satisfied/neutral/unsatisfied; CES effort
    (1 = very low effort, 7 = very high)."""
    if survey_type == "nps":
        return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    if survey_type == "csat":
        return "satisfied" if score >= 4 else "neutral" if score == 3 else "unsatisfied"
    return "low_effort" if score <= 3 else "neutral" if score == 4 else "high_effort"


def sentiment(survey_type: str, score: int) -> str:
    """``positive`` / ``neutral`` / ``negative``: which follow-up question a score gets."""
    cat = category(survey_type, score)
    if cat in ("promoter", "satisfied", "low_effort"):
        return "positive"
    if cat in ("passive", "neutral"):
        return "neutral"
    return "negative"


def nonce(token: str) -> str:
    """The form's hidden value: only a page served for this token carries it."""
    from chalicelib import signing

    return signing.sign(NONCE_PURPOSE, token)


def nonce_matches(token: str, presented: str | None) -> bool:
    from chalicelib import signing

    return bool(presented) and signing.verify(NONCE_PURPOSE, str(presented)) == token


_TAG = re.compile(r"<!--.*?-->|<[^<>]*>", re.S)


def clean_comment(text: str) -> str:
    """Plain text in any script: markup and control characters go, line breaks stay."""
    value = unicodedata.normalize("NFC", text)
    for _ in range(3):  # entities may hide a second layer of markup
        stripped = _TAG.sub(" ", html.unescape(value))
        if stripped == value:
            break
        value = stripped
    value = value.replace("<", "").replace(">", "")
    value = "".join(c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf") or c in "\u200c\u200d")
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def parse_score(value: Any, survey_type: str) -> int:
    from chalicelib.errors import InvalidInput

    text = str(value).strip() if value is not None else ""
    if not text or not text.isdigit() or len(text) > 2:
        raise InvalidInput("choose a score", field="score")
    score = int(text)
    if score not in scale(survey_type):
        raise InvalidInput("the score is out of range", field="score")
    return score


def parse_comment(value: Any) -> str:
    from chalicelib.errors import InvalidInput

    if value is None:
        return ""
    if len(str(value)) > MAX_COMMENT * 4:
        raise InvalidInput("the comment is too long", field="comment")
    comment = clean_comment(str(value))
    if len(comment) > MAX_COMMENT:
        raise InvalidInput("the comment is too long", field="comment")
    return comment


def _products(order: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not order:
        return []
    out = []
    for line in order.get("items") or []:
        if isinstance(line, Mapping) and line.get("sku"):
            out.append({"sku": str(line["sku"]), "title": str(line.get("title") or "")})
    return out


def _counted(item: Mapping[str, Any]) -> Any:
    from chalicelib import stats

    return stats.Counted(str(item["survey_type"]), int(item["score"]), str(item["category"]), parse_iso(str(item["answered_at"])))


def record_answer(
    table: db.Table,
    survey: Mapping[str, Any],
    *,
    score: int,
    comment: str,
    channel: str,
    now: datetime,
) -> dict[str, Any]:
    """Store an answer, replacing an earlier one for the same order and survey kind.

    One transaction writes the response, marks the survey answered, moves the daily
    counters and cancels the pending reminder; a concurrent second answer makes it retry on
    fresh data, so the counters always reflect the latest answer once.
    """
    from chalicelib import jobs, stats
    from chalicelib.models import JobStatus

    store_id, order_id, kind = survey["store_id"], survey["order_id"], survey["kind"]
    survey_type = str(survey["survey_type"])
    order = table.get(keys.order(store_id, order_id))
    reminder = reminder_job_key(store_id, order_id)
    attempts = 0
    while True:
        attempts += 1
        previous = table.get(keys.response(store_id, order_id, kind), consistent=True)
        job = table.get(reminder, consistent=True)
        version = int(previous["version"]) + 1 if previous else 1
        response = {
            **keys.response(store_id, order_id, kind),
            **keys.gsi1(store_id, keys.Prefix.RESPONSE.value, f"{iso(now)}#{order_id}"),
            "type": "response",
            "store_id": store_id,
            "customer_id": survey["customer_id"],
            "order_id": order_id,
            "kind": kind,
            "token": survey["token"],
            "survey_type": survey_type,
            "score": score,
            "category": category(survey_type, score),
            "comment": comment or None,
            "language": survey["language"],
            "channel": channel,
            "contact": survey.get("contact"),
            "products": _products(order),
            "answered_at": iso(now),
            "first_answered_at": previous["first_answered_at"] if previous else iso(now),
            "version": version,
        }
        if previous:
            guard = db.Expr("#v = :v", names={"#v": "version"}, values={":v": previous["version"]})
        else:
            guard = db.Expr("attribute_not_exists(PK)")
        ops = [
            db.put(response, condition=guard),
            db.update(
                keys.survey(survey["token"]),
                db.set_expr({"answered_at": iso(now), "score": score}, add={"answers": 1}),
                condition=db.Expr("attribute_exists(PK)"),
            ),
            *stats.response_ops(store_id, _counted(response), _counted(previous) if previous else None),
        ]
        cancel_index = None
        if job and job.get("status") == JobStatus.PENDING.value:
            cancel_index = len(ops)
            ops.append(jobs.cancel(reminder, "answered", now))
        try:
            table.transact(ops)
        except db.TransactionConflict as conflict:
            if attempts == 4:
                raise
            failed = {i for i, reason in enumerate(conflict.reasons) if reason == "ConditionalCheckFailed"}
            if 1 in failed:
                from chalicelib.errors import NotFound

                raise NotFound("this survey is no longer open") from None
            continue  # the reminder left pending or another answer landed: read again
        return response
