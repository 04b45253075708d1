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

from chalicelib.storage import db, keys
from chalicelib.core.clock import epoch, iso, parse_iso
from chalicelib.platform.config import settings
from chalicelib.core.models import JobKind

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


def page_path(path: str) -> str:
    """A page's path as the browser sees it: under the public URL's path (API Gateway's
    stage, ``/api`` when deployed), so a form posts back to the API and not beside it."""
    from urllib.parse import urlparse

    return f"{urlparse(settings().public_base_url).path.rstrip('/')}{path}"


def survey_url(token: str, score: int | None = None) -> str:
    base = f"{settings().public_base_url}/s/{token}"
    return base if score is None else f"{base}?score={score}"


def reminder_job_key(store_id: str, order_id: str) -> keys.Key:
    """Where the reminder of an order's survey is kept; an answer cancels every pending
    reminder of the order, whatever its key."""
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
    from chalicelib.core import signing

    return signing.sign(NONCE_PURPOSE, token)


def nonce_matches(token: str, presented: str | None) -> bool:
    from chalicelib.core import signing

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
    from chalicelib.core.errors import InvalidInput

    text = str(value).strip() if value is not None else ""
    if not text or not text.isdecimal() or len(text) > 2:
        raise InvalidInput("choose a score", field="score")
    score = int(text)
    if score not in scale(survey_type):
        raise InvalidInput("the score is out of range", field="score")
    return score


def parse_comment(value: Any) -> str:
    from chalicelib.core.errors import InvalidInput

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
    from chalicelib.reports import stats

    return stats.Counted(str(item["survey_type"]), int(item["score"]), str(item["category"]), parse_iso(str(item["answered_at"])))


MAX_COMMENTS = 20


def _comments_with(previous: Mapping[str, Any] | None, comment: str, via: str, now: datetime) -> list[dict[str, Any]] | None:
    """The answer's comments so far, oldest first, with ``comment`` added when it is new."""
    earlier = list((previous or {}).get("comments") or [])
    if not earlier and previous and previous.get("comment"):
        earlier = [{"text": previous["comment"], "via": previous.get("answered_via"), "at": previous.get("answered_at")}]
    if comment and (not earlier or earlier[-1].get("text") != comment):
        earlier.append({"text": comment, "via": via, "at": iso(now)})
    return earlier[-MAX_COMMENTS:] or None


def record_answer(
    table: db.Table,
    survey: Mapping[str, Any],
    *,
    score: int,
    comment: str,
    via: str,
    now: datetime,
) -> dict[str, Any]:
    """Store an answer, replacing an earlier one for the same order and survey kind.

    One transaction writes the response, marks the survey answered, moves the daily
    counters and cancels the pending reminder; a concurrent second answer makes it retry on
    fresh data, so the counters always reflect the latest answer once.
    """
    from chalicelib.reports import stats
    from chalicelib.schedule import jobs
    from chalicelib.core.models import JobStatus

    store_id, order_id, kind = survey["store_id"], survey["order_id"], survey["kind"]
    survey_type = str(survey["survey_type"])
    order = table.get(keys.order(store_id, order_id))
    attempts = 0
    while True:
        attempts += 1
        previous = table.get(keys.response(store_id, order_id, kind), consistent=True)
        reminders = [
            job
            for job in table.partition(keys.order_pk(store_id, order_id), keys.job_sk(JobKind.SURVEY_REMINDER.value), consistent=True)
            if job.get("status") == JobStatus.PENDING.value
        ]
        version = int(previous["version"]) + 1 if previous else 1
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
            "comment": comment or (previous or {}).get("comment") or None,
            "comments": _comments_with(previous, comment, via, now),
            "language": survey["language"],
            "channel": survey["channel"],
            "answered_via": via,
            "contact": survey.get("contact"),
            "products": _products(order),
            "order_name": (order or {}).get("order_name"),
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
        ops.extend(jobs.cancel({"PK": job["PK"], "SK": job["SK"]}, "answered", now) for job in reminders)
        if comment:
            ops.append(db.put(comment_pointer(response, now)))
        try:
            table.transact(ops)
        except db.TransactionConflict as conflict:
            if attempts == 4:
                raise
            failed = {i for i, reason in enumerate(conflict.reasons) if reason == "ConditionalCheckFailed"}
            if 1 in failed:
                from chalicelib.core.errors import NotFound

                raise NotFound("this survey is no longer open") from None
            continue  # a reminder was sent meanwhile or another answer landed: read again
        return response


COMMENT_LISTING_DAYS = 100  # longer than the dashboard's longest period


def comment_pointer(response: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The listing entry of a commented answer: the response's key and time, not its text
    (an erased customer's comment must go with the response)."""
    from chalicelib.core.clock import epoch

    return {
        **keys.comment_listing(str(response["store_id"]), str(response["answered_at"]), str(response["order_id"]), str(response["kind"])),
        "type": "comment_listing",
        "response_pk": keys.response(str(response["store_id"]), str(response["order_id"]), str(response["kind"]))["PK"],
        "response_sk": keys.response(str(response["store_id"]), str(response["order_id"]), str(response["kind"]))["SK"],
        "answered_at": response["answered_at"],
        "expires_at": epoch(now + timedelta(days=COMMENT_LISTING_DAYS)),
    }


# --- pages -----------------------------------------------------------------------------
# The one inline script: it only swaps the comment question when another score is picked.
# The page works the same without it; the CSP allows exactly this text by its hash.
SCRIPT = (
    "(function(){var f=document.getElementById('survey');if(!f)return;"
    "var q=document.getElementById('comment-label');"
    "f.addEventListener('change',function(e){var t=e.target;"
    "if(t&&t.name==='score'&&t.checked){q.textContent=t.getAttribute('data-question');}});})();"
)


@dataclass(frozen=True)
class Page:
    status: int
    body: str
    headers: dict[str, str]


def page_headers(*, with_script: bool = False) -> dict[str, str]:
    import base64
    import hashlib

    from chalicelib.web.http import HTML_HEADERS

    csp = HTML_HEADERS["Content-Security-Policy"]
    if with_script:
        digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
        csp += f"; script-src 'sha256-{digest}'"
    return {"Content-Security-Policy": csp}


def _render(name: str, language: str, store: Mapping[str, Any] | None, context: Mapping[str, Any]) -> str:
    from chalicelib.web import templating

    return templating.render(f"pages/{name}", language, {"store_name": (store or {}).get("name") or "", **context}, store=store)


def render_page(status: int, name: str, language: str, store: Mapping[str, Any] | None, context: Mapping[str, Any], *, with_script: bool = False) -> Page:
    headers = page_headers(with_script=with_script)
    headers["Content-Language"] = language
    return Page(status, _render(name, language, store, context), headers)


def preferred_language(accept_language: str | None, fallback: str = "en") -> str:
    """The first supported language of an ``Accept-Language`` header (for pages with no survey)."""
    from chalicelib.core.models import LANGUAGES

    ranked = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().split("-")[0].lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else fallback


def not_found_page(language: str, store: Mapping[str, Any] | None = None) -> Page:
    return render_page(404, "not_found.html", language, store, {})


def _survey_page(survey: Mapping[str, Any], store: Mapping[str, Any], selected: int | None, *, status: int = 200, error: str | None = None, comment: str = "") -> Page:
    from chalicelib.web import templating

    survey_type = str(survey["survey_type"])
    language = str(survey["language"])
    options = [{"score": s, "label": templating.numerals(s, language), "sentiment": sentiment(survey_type, s)} for s in scale(survey_type)]
    context = {
        "survey_type": survey_type,
        "options": options,
        "selected": selected,
        "selected_sentiment": sentiment(survey_type, selected) if selected is not None else None,
        "nonce": nonce(str(survey["token"])),
        "action": page_path(f"/s/{survey['token']}"),
        "error": error,
        "comment": comment,
        "script": _markup(SCRIPT),
    }
    return render_page(status, "survey.html", str(survey["language"]), store, context, with_script=True)


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)


def _selected(value: Any, survey_type: str) -> int | None:
    from chalicelib.core.errors import InvalidInput

    if value is None:
        return None
    try:
        return parse_score(value, survey_type)
    except InvalidInput:
        return None


def show(table: db.Table, token: str, query: Mapping[str, str] | None, accept_language: str | None, now: datetime) -> Page:
    """``GET /s/{token}``: the form, with the linked score preselected.  Records nothing:
    mail scanners open every link."""
    from chalicelib.stores import registry

    survey = load(table, token, now)
    if survey is None:
        return not_found_page(preferred_language(accept_language))
    store = registry.with_defaults(registry.get_store(table, survey["store_id"]))
    selected = _selected((query or {}).get("score"), str(survey["survey_type"]))
    if selected is None and survey.get("answered_at") and survey.get("score") is not None:
        selected = int(survey["score"])
    return _survey_page(survey, store, selected)


def answer(table: db.Table, clients: Any, token: str, form: Mapping[str, str], accept_language: str | None, now: datetime) -> Page:
    """``POST /s/{token}``: validate, record, escalate, thank.  A form without this token's
    nonce, or with a bad value, records nothing."""
    from chalicelib.stores import registry
    from chalicelib.support import escalation
    from chalicelib.core.errors import InvalidInput, NotFound
    from chalicelib.platform.observability import count

    survey = load(table, token, now, consistent=True)
    if survey is None:
        return not_found_page(preferred_language(accept_language))
    store = registry.with_defaults(registry.get_store(table, survey["store_id"]))
    language = str(survey["language"])
    if not nonce_matches(token, form.get("nonce")):
        count("SurveyAnswerRefused", reason="nonce")
        return render_page(403, "form_expired.html", language, store, {"retry_url": page_path(f"/s/{token}")})
    wait = _over_limit(table, token, now)
    if wait is not None:
        count("SurveyAnswerRefused", reason="rate_limit")
        page = render_page(429, "too_many.html", language, store, {})
        page.headers["Retry-After"] = str(wait)
        return page
    survey_type = str(survey["survey_type"])
    selected = _selected(form.get("score"), survey_type)
    try:
        score = parse_score(form.get("score"), survey_type)
        comment = parse_comment(form.get("comment"))
    except InvalidInput as exc:
        count("SurveyAnswerRefused", reason=exc.field or "input")
        raw = str(form.get("comment") or "")[: MAX_COMMENT * 2]
        return _survey_page(survey, store, selected, status=400, error=exc.field, comment=raw)
    try:
        response = record_answer(table, survey, score=score, comment=comment, via="page", now=now)
    except NotFound:
        return not_found_page(language, store)
    count("SurveyAnswered", channel="page")
    case = escalation.on_response(table, clients, store, response, now)
    return render_page(200, "thanks.html", language, store, _thanks_context(store, response, case is not None, token))


ANSWERS_PER_HOUR = 10


def _over_limit(table: db.Table, token: str, now: datetime) -> int | None:
    """Count one answer to ``token`` in this hour; the seconds to wait when there were
    already :data:`ANSWERS_PER_HOUR` (and then nothing is counted or changed)."""
    from chalicelib.core.clock import epoch

    hour = now.replace(minute=0, second=0, microsecond=0)
    try:
        table.update(
            keys.rate_window("survey_answer", token, hour.strftime("%Y%m%d%H")),
            db.set_expr({"expires_at": epoch(hour + timedelta(hours=2))}, add={"answers": 1}),
            condition=db.Expr("attribute_not_exists(#n) OR #n < :most", names={"#n": "answers"}, values={":most": ANSWERS_PER_HOUR}),
        )
    except db.ConditionFailed:
        return max(1, int((hour + timedelta(hours=1) - now).total_seconds()))
    return None


def _thanks_context(store: Mapping[str, Any], response: Mapping[str, Any], followed_up: bool, token: str) -> dict[str, Any]:
    reviews = list(store.get("review_links") or [])
    if store.get("review_invite") == "promoters" and response["category"] not in ("promoter", "satisfied", "low_effort"):
        reviews = []
    return {"reviews": reviews, "followed_up": followed_up, "change_url": page_path(f"/s/{token}")}
