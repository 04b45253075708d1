"""The survey pages: the language a visitor reads, the page itself, and the answer posted from it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import epoch
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.core.models import LANGUAGES, Page
from chalicelib.platform.aws import Clients
from chalicelib.platform.observability import count
from chalicelib.rendering import templating
from chalicelib.rendering.headers import HTML_HEADERS
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import ResponseItem, StoreItem, SurveyItem
from chalicelib.stores import registry
from chalicelib.support import escalation
from chalicelib.surveys.answers import (
    MAX_COMMENT,
    nonce,
    nonce_matches,
    parse_comment,
    parse_score,
    record_answer,
    sentiment,
)
from chalicelib.surveys.tokens import load, page_path, scale

# --- pages -----------------------------------------------------------------------------
# The one inline script: it only swaps the comment question when another score is picked.
# The page works the same without it; the CSP allows exactly this text by its hash.
SCRIPT = (
    "(function(){var f=document.getElementById('survey');if(!f)return;"
    "var q=document.getElementById('comment-label');"
    "f.addEventListener('change',function(e){var t=e.target;"
    "if(t&&t.name==='score'&&t.checked){q.textContent=t.getAttribute('data-question');}});})();"
)


def page_headers(*, with_script: bool = False) -> dict[str, str]:

    csp = templating.script_csp(SCRIPT) if with_script else HTML_HEADERS["Content-Security-Policy"]
    return {"Content-Security-Policy": csp}


def _render(name: str, language: str, store: StoreItem | None, context: Mapping[str, Any]) -> str:

    return templating.render(
        f"pages/{name}", language, {"store_name": (store or {}).get("name") or "", **context}, store=store
    )


def render_page(
    status: int,
    name: str,
    language: str,
    store: StoreItem | None,
    context: Mapping[str, Any],
    *,
    with_script: bool = False,
) -> Page:
    headers = page_headers(with_script=with_script)
    headers["Content-Language"] = language
    return Page(status, _render(name, language, store, context), headers)


def preferred_language(accept_language: str | None, fallback: str = "en") -> str:
    """The first supported language of an ``Accept-Language`` header (for pages with no survey)."""

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


def not_found_page(language: str, store: StoreItem | None = None) -> Page:
    return render_page(404, "not_found.html", language, store, {})


def _survey_page(
    survey: SurveyItem,
    store: StoreItem,
    selected: int | None,
    *,
    status: int = 200,
    error: str | None = None,
    comment: str = "",
    base_url: str,
) -> Page:

    survey_type = str(survey["survey_type"])
    language = str(survey["language"])
    options = [
        {"score": s, "label": templating.numerals(s, language), "sentiment": sentiment(survey_type, s)}
        for s in scale(survey_type)
    ]
    context = {
        "survey_type": survey_type,
        "options": options,
        "selected": selected,
        "selected_sentiment": sentiment(survey_type, selected) if selected is not None else None,
        "nonce": nonce(str(survey["token"])),
        "action": page_path(base_url, f"/s/{survey['token']}"),
        "error": error,
        "comment": comment,
        "script": _markup(SCRIPT),
    }
    return render_page(status, "survey.html", str(survey["language"]), store, context, with_script=True)


def _markup(text: str) -> Any:
    from markupsafe import Markup  # lazy: heavy at import (make bench, import time)

    return Markup(text)


def _selected(value: Any, survey_type: str) -> int | None:

    if value is None:
        return None
    try:
        return parse_score(value, survey_type)
    except InvalidInput:
        return None


def show(
    table: db.Table,
    token: str,
    query: Mapping[str, str] | None,
    accept_language: str | None,
    now: datetime,
    *,
    base_url: str,
) -> Page:
    """``GET /s/{token}``: the form, with the linked score preselected.  Records nothing:
    mail scanners open every link."""

    survey = load(table, token, now)
    if survey is None:
        return not_found_page(preferred_language(accept_language))
    store = registry.with_defaults(registry.get_store(table, survey["store_id"]))
    selected = _selected((query or {}).get("score"), str(survey["survey_type"]))
    if selected is None and survey.get("answered_at") and survey.get("score") is not None:
        selected = int(survey["score"])
    return _survey_page(survey, store, selected, base_url=base_url)


def answer(
    table: db.Table,
    clients: Clients,
    token: str,
    form: Mapping[str, str],
    accept_language: str | None,
    now: datetime,
    *,
    base_url: str,
) -> Page:
    """``POST /s/{token}``: validate, record, escalate, thank.  A form without this token's
    nonce, or with a bad value, records nothing."""

    survey = load(table, token, now, consistent=True)
    if survey is None:
        return not_found_page(preferred_language(accept_language))
    store = registry.with_defaults(registry.get_store(table, survey["store_id"]))
    language = str(survey["language"])
    if not nonce_matches(token, form.get("nonce")):
        count("SurveyAnswerRefused", reason="nonce")
        return render_page(403, "form_expired.html", language, store, {"retry_url": page_path(base_url, f"/s/{token}")})
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
        return _survey_page(survey, store, selected, status=400, error=exc.field, comment=raw, base_url=base_url)
    try:
        response = record_answer(
            table,
            survey,
            score=score,
            comment=comment,
            via="page",
            now=now,
            theme_keywords=store.get("theme_keywords"),
        )
    except NotFound:
        return not_found_page(language, store)
    count("SurveyAnswered", channel="page")
    case = escalation.on_response(table, clients, store, response, now)
    return render_page(
        200, "thanks.html", language, store, _thanks_context(store, response, case is not None, token, base_url)
    )


ANSWERS_PER_HOUR = 10


def _over_limit(table: db.Table, token: str, now: datetime) -> int | None:
    """Count one answer to ``token`` in this hour; the seconds to wait when there were
    already :data:`ANSWERS_PER_HOUR` (and then nothing is counted or changed)."""

    hour = now.replace(minute=0, second=0, microsecond=0)
    try:
        table.update(
            keys.rate_window("survey_answer", token, hour.strftime("%Y%m%d%H")),
            Update().set({"expires_at": epoch(hour + timedelta(hours=2))}).add({"answers": 1}),
            condition=db.Expr(
                "attribute_not_exists(#n) OR #n < :most", names={"#n": "answers"}, values={":most": ANSWERS_PER_HOUR}
            ),
        )
    except db.ConditionFailed:
        return max(1, int((hour + timedelta(hours=1) - now).total_seconds()))
    return None


def _thanks_context(
    store: StoreItem, response: ResponseItem, followed_up: bool, token: str, base_url: str
) -> dict[str, Any]:
    reviews = list(store.get("review_links") or [])
    if store.get("review_invite") == "promoters" and response["category"] not in (
        "promoter",
        "satisfied",
        "low_effort",
    ):
        reviews = []
    return {"reviews": reviews, "followed_up": followed_up, "change_url": page_path(base_url, f"/s/{token}")}
