"""Surveys: the token a customer answers through, the answer itself, and the nonce that binds
a form to its token.

A token is 22 base62 characters (131 random bits): unguessable, yet short enough for an SMS
link.  The survey item holds what the answer needs (store, customer, order, kind, language)
and expires with DynamoDB's TTL (``expires_at``, epoch seconds); ``expires`` keeps the same
moment as ISO text because TTL deletion lags by up to two days and the page must refuse an
expired token on time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from chalicelib.core.clock import epoch, iso, parse_iso
from chalicelib.core.models import JobKind
from chalicelib.platform.config import settings
from chalicelib.storage import db, keys
from chalicelib.storage.items import StoreItem, SurveyItem, as_survey

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


def page_path(base_url: str, path: str) -> str:
    """A page's path as the browser sees it: under the public URL's path (API Gateway's
    stage, ``/api`` when deployed), so a form posts back to the API and not beside it."""

    return f"{urlparse(base_url).path.rstrip('/')}{path}"


def survey_url(base_url: str, token: str, score: int | None = None) -> str:
    base = f"{base_url}/s/{token}"
    return base if score is None else f"{base}?score={score}"


def reminder_job_key(store_id: str, order_id: str) -> keys.Key:
    """Where the reminder of an order's survey is kept; an answer cancels every pending
    reminder of the order, whatever its key."""
    return keys.job(keys.order_pk(store_id, order_id), JobKind.SURVEY_REMINDER.value)


def survey_item(
    token: str,
    *,
    store: StoreItem,
    customer_id: str,
    order_id: str,
    kind: str,
    channel: str,
    contact: str,
    language: str,
    now: datetime,
) -> SurveyItem:
    survey_type = str(store.get("survey_type") or "nps")
    expires = now + timedelta(days=int(store.get("survey_expiry_days") or DEFAULT_EXPIRY_DAYS))
    return as_survey(
        {
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
    )


def issue_survey(
    table: db.Table,
    *,
    store: StoreItem,
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
    ops = [db.create(item, label="survey")]
    if channel == "sms":
        ops.append(db.put(phone_survey_item(item, now), label="phone survey"))
    try:
        table.transact(ops)
    except db.TransactionConflict:
        # 131 random bits collided: astronomically unlikely, but a fresh token costs nothing.
        return issue_survey(
            table,
            store=store,
            customer_id=customer_id,
            order_id=order_id,
            kind=kind,
            channel=channel,
            contact=contact,
            now=now,
            language=language,
        )
    token = item["token"]
    return SurveyLink(
        token=token,
        url=survey_url(settings().public_base_url, token),
        score_urls=[
            (score, survey_url(settings().public_base_url, token, score)) for score in scale(item["survey_type"])
        ],
        survey_type=item["survey_type"],
        expires=item["expires"],
    )


def phone_survey_item(survey: SurveyItem, now: datetime) -> dict[str, Any]:
    return {
        **keys.phone_survey(survey["contact"], iso(now), survey["token"]),
        "type": "phone_survey",
        "token": survey["token"],
        "store_id": survey["store_id"],
        "expires": survey["expires"],
        "expires_at": survey["expires_at"],
    }


def load(table: db.Table, token: str, now: datetime, *, consistent: bool = False) -> SurveyItem | None:
    """The survey behind a token while it may still be answered, else None."""
    if not looks_like_token(token):
        return None
    item = table.get(keys.survey(token), consistent=consistent)
    if item is None or parse_iso(item["expires"]) <= now:
        return None
    return as_survey(item)


def is_answered(table: db.Table, token: str) -> bool:
    """Whether the customer has answered (the reminder is skipped then)."""
    if not looks_like_token(token):
        return False
    item = table.get(keys.survey(token), consistent=True)
    return bool(item and item.get("answered_at"))
