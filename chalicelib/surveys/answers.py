"""Survey answers: scores and comments read from a form or an SMS, and recorded once per token with the order's products."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import epoch, iso, parse_iso
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.models import JobKind, JobStatus
from chalicelib.endpoints import events
from chalicelib.platform import signing
from chalicelib.reports import stats
from chalicelib.schedule import jobs
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import Comment, OrderItem, ResponseItem, SurveyItem, as_order, as_response, line_items
from chalicelib.support import themes
from chalicelib.surveys.tokens import scale

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

    return signing.sign(NONCE_PURPOSE, token)


def nonce_matches(token: str, presented: str | None) -> bool:

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
    value = "".join(
        c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf") or c in "\u200c\u200d"
    )
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def parse_score(value: Any, survey_type: str) -> int:

    text = str(value).strip() if value is not None else ""
    if not text or not text.isdecimal() or len(text) > 2:
        raise InvalidInput("choose a score", field="score")
    score = int(text)
    if score not in scale(survey_type):
        raise InvalidInput("the score is out of range", field="score")
    return score


def parse_comment(value: Any) -> str:

    if value is None:
        return ""
    if len(str(value)) > MAX_COMMENT * 4:
        raise InvalidInput("the comment is too long", field="comment")
    comment = clean_comment(str(value))
    if len(comment) > MAX_COMMENT:
        raise InvalidInput("the comment is too long", field="comment")
    return comment


def _products(order: OrderItem | None) -> list[dict[str, Any]]:
    if not order:
        return []
    return [{"sku": line["sku"], "title": line["title"]} for line in line_items(order.get("items")) if line["sku"]]


def _counted(item: Mapping[str, Any], claimed: Sequence[str] = ()) -> Any:
    """The answer as the counters see it; ``claimed``: the SKUs it names first on its day."""

    return stats.Counted(
        str(item["survey_type"]),
        int(item["score"]),
        str(item["category"]),
        parse_iso(str(item["answered_at"])),
        tuple(str(theme) for theme in item.get("themes") or ()),
        channel=str(item.get("channel") or ""),
        language=str(item.get("language") or ""),
        kind=str(item.get("kind") or ""),
        skus=tuple(str(sku) for sku in item.get("stats_skus") or ()),
        other=bool(item.get("stats_other")),
        claimed=tuple(claimed),
        titles=tuple(
            (str(p.get("sku")), str(p.get("title") or "")[: stats.TITLE_LENGTH])
            for p in item.get("products") or ()
            if isinstance(p, Mapping)
        ),
        breakdowns="stats_skus" in item,  # answers stored before breakdowns were counted have none
    )


MAX_COMMENTS = 20


def _comments_with(previous: ResponseItem | None, comment: str, via: str, now: datetime) -> list[Comment] | None:
    """The answer's comments so far, oldest first, with ``comment`` added when it is new."""
    earlier = list((previous or {}).get("comments") or [])
    if not earlier and previous and previous.get("comment"):
        earlier = [
            {"text": previous["comment"], "via": previous.get("answered_via"), "at": previous.get("answered_at")}
        ]
    if comment and (not earlier or earlier[-1].get("text") != comment):
        earlier.append({"text": comment, "via": via, "at": iso(now)})
    return earlier[-MAX_COMMENTS:] or None


def record_answer(
    table: db.Table,
    survey: SurveyItem,
    *,
    score: int,
    comment: str,
    via: str,
    now: datetime,
    theme_keywords: Mapping[str, Sequence[str]] | None = None,
) -> ResponseItem:
    """Store an answer, replacing an earlier one for the same order and survey kind.

    One transaction writes the response (with the themes of the comment that stands, read
    with the store's ``theme_keywords``), marks the survey answered, moves the daily
    counters and cancels the pending reminder; a concurrent second answer makes it retry on
    fresh data, so the counters always reflect the latest answer once.
    """

    store_id, order_id, kind = survey["store_id"], survey["order_id"], survey["kind"]
    survey_type = str(survey["survey_type"])
    order_item = table.get(keys.order(store_id, order_id))
    order = as_order(order_item) if order_item else None
    attempts = 0
    while True:
        attempts += 1
        previous_item = table.get(keys.response(store_id, order_id, kind), consistent=True)
        previous = as_response(previous_item) if previous_item else None
        reminders = [
            job
            for job in table.partition(
                keys.order_pk(store_id, order_id), keys.job_sk(JobKind.SURVEY_REMINDER.value), consistent=True
            )
            if job.get("status") == JobStatus.PENDING.value
        ]
        version = int(previous["version"]) + 1 if previous else 1
        products = _products(order)
        named, claimed, other = stats.product_buckets(
            [p["sku"] for p in products], stats.counted_skus(table, store_id, stats.day(now)) if products else ()
        )
        standing = comment or (previous or {}).get("comment") or None
        response = {
            **keys.response(store_id, order_id, kind),
            **keys.response_listing(store_id, iso(now), order_id),
            "type": "response",
            "store_id": store_id,
            "customer_id": survey["customer_id"],
            "order_id": order_id,
            "kind": kind,
            "token": survey["token"],
            "survey_type": survey_type,
            "score": score,
            "category": category(survey_type, score),
            # A score alone never wipes what the customer wrote: the latest comment given stands,
            # and every one given is kept (the latest MAX_COMMENTS).
            "comment": standing,
            "comments": _comments_with(previous, comment, via, now),
            "language": survey["language"],
            "channel": survey["channel"],
            "answered_via": via,
            "contact": survey.get("contact"),
            "products": products,
            "stats_skus": list(named),
            "stats_other": other,
            "order_name": (order or {}).get("order_name"),
            "themes": list(themes.tag(standing, theme_keywords)),
            "answered_at": iso(now),
            "first_answered_at": previous["first_answered_at"] if previous else iso(now),
            "version": version,
        }
        if previous:
            guard = db.Expr("#v = :v", names={"#v": "version"}, values={":v": previous["version"]})
        else:
            guard = db.Expr("attribute_not_exists(PK)")
        ops = [
            db.put(response, condition=guard, label="response"),
            db.update(
                keys.survey(survey["token"]),
                Update().set({"answered_at": iso(now), "score": score}).add({"answers": 1}),
                condition=db.Expr("attribute_exists(PK)"),
                label="survey",
            ),
            *stats.response_ops(store_id, _counted(response, claimed), _counted(previous) if previous else None),
        ]
        ops.extend(jobs.cancel(keys.of(job), "answered", now) for job in reminders)
        if comment:
            ops.append(db.put(comment_pointer(as_response(response), now), label="comment listing"))
        event = events.RESPONSE_UPDATED if previous else events.RESPONSE_CREATED
        ops.extend(events.emit_for(table, store_id, event, response_event(response), now))
        try:
            table.transact(ops)
        except db.TransactionConflict as conflict:
            if attempts == 4:
                raise
            if "survey" in conflict.failed:
                raise NotFound("this survey is no longer open") from None
            continue  # a reminder was sent meanwhile or another answer landed: read again
        return as_response(response)


def response_event(response: Mapping[str, Any]) -> dict[str, Any]:
    """What a store's endpoints hear of an answer (``response.created`` / ``response.updated``)."""
    fields = ("order_id", "order_name", "customer_id", "survey_type", "score", "category", "comment")
    return {
        **{name: response.get(name) for name in fields},
        "survey_kind": response.get("kind"),
        "channel": response.get("channel"),
        "answered_via": response.get("answered_via"),
        "answered_at": response.get("answered_at"),
        "first_answered_at": response.get("first_answered_at"),
        "version": response.get("version"),
    }


COMMENT_LISTING_DAYS = 100  # longer than the dashboard's longest period


def comment_pointer(response: ResponseItem, now: datetime) -> dict[str, Any]:
    """The listing entry of a commented answer: the response's key and time, not its text
    (an erased customer's comment must go with the response)."""

    return {
        **keys.comment_listing(
            str(response["store_id"]), str(response["answered_at"]), str(response["order_id"]), str(response["kind"])
        ),
        "type": "comment_listing",
        "response_pk": keys.response(str(response["store_id"]), str(response["order_id"]), str(response["kind"]))["PK"],
        "response_sk": keys.response(str(response["store_id"]), str(response["order_id"]), str(response["kind"]))["SK"],
        "answered_at": response["answered_at"],
        "expires_at": epoch(now + timedelta(days=COMMENT_LISTING_DAYS)),
    }
