"""The store's dashboard: the score (flagged when computed from few answers, with its
confidence interval for NPS) week by week, responses, response rate, the time to first
response and to resolution, the category split, the comments' themes, the products with the
worst scores, open cases and the latest comments, on one server-rendered page.

Reads are bounded by the period, never by the number of customers: the daily counters
(:func:`chalicelib.reports.stats.summary`, two items per day), the open and acknowledged cases
(``gsi1``) and the newest commented responses of the period (a sparse comment listing
written with each commented answer: a few reads, however many answers have no comment).
The chart is inline SVG computed here, so the page needs no script and no outside asset
under the strict CSP.  Weeks start on the day the store's language starts them (Sunday
for English and Hebrew, Saturday for Arabic and Persian, Monday for Greek), and the time
axis runs right to left in right-to-left languages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlparse

from chalicelib.core.clock import parse_iso
from chalicelib.core.models import RTL_LANGUAGES, Page, Redirect
from chalicelib.rendering import templating
from chalicelib.rendering.templating import format_number, format_share, numerals
from chalicelib.reports import stats
from chalicelib.storage import db, keys
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry
from chalicelib.support import cases, inbox, sessions, themes

PERIODS = (30, 90)
DEFAULT_DAYS = 30
LATEST_COMMENTS = 6

# y-axis range and grid of each survey type
SCALES: dict[str, tuple[float, float, tuple[float, ...]]] = {
    "nps": (-100.0, 100.0, (-100.0, -50.0, 0.0, 50.0, 100.0)),
    "csat": (0.0, 100.0, (0.0, 25.0, 50.0, 75.0, 100.0)),
    "ces": (1.0, 7.0, (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)),
}
GOOD = {"promoter", "satisfied", "low_effort"}
BAD = {"detractor", "unsatisfied", "high_effort"}

# chart geometry (SVG user units; the SVG scales to the page's width)
WIDTH, HEIGHT = 640, 240
PAD_SIDE, PAD_AXIS, PAD_TOP, PAD_BOTTOM = 16, 44, 22, 40


def period_days(raw: str | None) -> int:
    """30 or 90; anything else is the default (a page link never breaks)."""
    return int(raw) if raw in {str(p) for p in PERIODS} else DEFAULT_DAYS


def dashboard_path(base_url: str, store_id: str) -> str:

    return f"{urlparse(base_url).path.rstrip('/')}/stores/{store_id}/dashboard"


def dashboard_url(base_url: str, store_id: str, days: int) -> str:
    suffix = "" if days == DEFAULT_DAYS else f"?days={days}"
    return f"{base_url.rstrip('/')}/stores/{store_id}/dashboard{suffix}"


def first_week_day(language: str) -> int:
    """0 = Monday ... 6 = Sunday, as people of the language's main country count weeks."""
    from babel import Locale  # lazy: heavy at import (make bench, import time)
    from babel.core import get_global  # lazy: heavy at import (make bench, import time)

    likely = get_global("likely_subtags").get(language, language)
    return int(Locale.parse(likely).first_week_day)


# --- the numbers ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Week:
    start: date
    responses: int
    score: float | None


def weekly(series: Sequence[Mapping[str, Any]], survey_type: str, week_starts: int) -> list[Week]:
    """Daily counters grouped into weeks.  A week's score is the daily scores weighted by
    their responses, which is the score of the week's answers (NPS, CSAT and CES are all
    means of per-answer values)."""
    digits = 2 if survey_type == "ces" else 1
    grouped: dict[date, list[tuple[int, float | None]]] = {}
    for entry in series:
        day = date.fromisoformat(str(entry["day"]))
        start = day - timedelta(days=(day.weekday() - week_starts) % 7)
        grouped.setdefault(start, []).append((int(entry.get("responses") or 0), entry.get(survey_type)))
    weeks = []
    for start in sorted(grouped):
        days = grouped[start]
        answered = sum(n for n, score in days if score is not None)
        total = sum(n for n, _ in days)
        score = (
            round(sum(n * float(score) for n, score in days if score is not None) / answered, digits)
            if answered
            else None
        )
        weeks.append(Week(start, total, score))
    return weeks


def score_text(survey_type: str, value: float | None, language: str) -> str:
    """NPS as a whole number (-100..100), CSAT as a percentage, CES with one decimal."""

    if value is None:
        return "–"
    if survey_type == "nps":
        return format_number(round(value), language)
    if survey_type == "csat":
        return format_number(round(value), language) + "%"
    return format_number(round(value, 1), language, "0.0")


# --- the chart ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    tick: str
    responses: int
    has_score: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: list[Point]
    path: str
    grid: list[tuple[float, str]]  # (y, label)
    axis_x: float  # where the grid labels stand
    axis_anchor: str
    zero_y: float | None
    baseline_y: float


def chart(weeks: Sequence[Week], survey_type: str, language: str, *, rtl: bool) -> Chart:
    """Coordinates of a line chart of the weekly score (pure: the template only draws)."""
    from babel.dates import format_date  # lazy: heavy at import (make bench, import time)

    low, high, grid = SCALES[survey_type]
    left = PAD_SIDE if rtl else PAD_AXIS
    right = WIDTH - (PAD_AXIS if rtl else PAD_SIDE)
    top, bottom = PAD_TOP, HEIGHT - PAD_BOTTOM

    def y_of(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

    count = max(len(weeks), 1)
    step = (right - left) / count
    points = []
    for index, week in enumerate(weeks):
        offset = left + (index + 0.5) * step
        x = round(right - (offset - left) if rtl else offset, 1)
        points.append(
            Point(
                x=x,
                y=y_of(week.score) if week.score is not None else bottom,
                label=score_text(survey_type, week.score, language),
                tick=numerals(format_date(week.start, "d MMM", locale=language), language),
                responses=week.responses,
                has_score=week.score is not None,
            )
        )
    path, pen_down = [], False
    for point in points:
        if point.has_score:
            path.append(f"{'L' if pen_down else 'M'}{point.x},{point.y}")
        pen_down = point.has_score
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        points=points,
        path=" ".join(path),
        grid=[(y_of(value), score_text(survey_type, value, language)) for value in grid],
        axis_x=(WIDTH - 6) if rtl else (PAD_AXIS - 6),
        axis_anchor="end",
        zero_y=y_of(0.0) if low < 0 < high else None,
        baseline_y=bottom,
    )


# --- the page --------------------------------------------------------------------------------
def _category_labels(_: Any) -> dict[str, str]:
    return {
        "promoter": _("Promoters"),
        "passive": _("Passives"),
        "detractor": _("Detractors"),
        "satisfied": _("Satisfied"),
        "neutral": _("Neutral"),
        "unsatisfied": _("Unsatisfied"),
        "low_effort": _("Low effort"),
        "high_effort": _("High effort"),
    }


def _scale_names(_: Any) -> dict[str, tuple[str, str]]:
    return {
        "nps": ("NPS", _("Net Promoter Score")),
        "csat": ("CSAT", _("Customer satisfaction")),
        "ces": ("CES", _("Customer effort")),
    }


def _tone(category: str) -> str:
    return "good" if category in GOOD else "bad" if category in BAD else "mid"


def categories(counts: Mapping[str, int], labels: Mapping[str, str], language: str) -> list[dict[str, Any]]:

    total = sum(counts.values())
    out = []
    for name, value in counts.items():
        share = value / total if total else 0.0
        out.append(
            {
                "name": name,
                "label": labels.get(name, name),
                "count": value,
                "share": round(share * 100, 2),
                "percent": format_share(share, language),
                "tone": _tone(name),
            }
        )
    return out


def theme_counts(counts: Mapping[str, int], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """The period's themes that comments raised, most frequent first (ties in the themes' order)."""
    raised = [(name, value) for name, value in counts.items() if value > 0]
    raised.sort(key=lambda pair: -pair[1])
    return [{"name": name, "label": labels.get(name, name), "count": value} for name, value in raised]


WORST_PRODUCTS = 5


def worst_products(rows: Sequence[Mapping[str, Any]], survey_type: str, language: str) -> list[dict[str, Any]]:
    """The period's products with the worst scores (the stats answer lists them worst
    first), each with its number of answers and whether so few that the score may move."""
    return [
        {
            "sku": row["sku"],
            "title": row.get("title") or "",
            "score": score_text(survey_type, row.get(survey_type), language),
            "responses": format_number(int(row["responses"]), language),
            "low_sample": bool(row["low_sample"]),
        }
        for row in stats.worse_first(survey_type, rows)
        if row.get(survey_type) is not None
    ][:WORST_PRODUCTS]


UNITS: tuple[tuple[Literal["day", "hour", "minute", "second"], int], ...] = (
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def duration_text(seconds: float | None, language: str) -> str:
    """A median time as people say it: its two largest units ("3 hours 5 minutes")."""
    from babel.dates import format_timedelta  # lazy: heavy at import (make bench, import time)

    if seconds is None:
        return "–"
    left = round(seconds)
    units: list[str] = []
    for unit, size in UNITS:
        amount, left = divmod(left, size)
        if amount or (unit == "second" and not units):
            # a threshold no value reaches keeps each part in its own unit
            units.append(
                format_timedelta(timedelta(seconds=amount * size), granularity=unit, threshold=1e9, locale=language)
            )
    return numerals(" ".join(units[:2]), language)


def _left_to_right(number: str) -> str:
    """A signed number kept whole in a right-to-left sentence ("-35", not "35-")."""
    return f"\u2066{number}\u2069"


def interval_text(survey_type: str, interval: Sequence[float] | None, language: str, _: Any) -> str | None:
    """The score's 95% confidence interval in words (NPS, CSAT), or None without one."""
    if not interval:
        return None
    return str(
        _("%(level)s confidence interval: %(low)s to %(high)s")
        % {
            "level": format_share(0.95, language),
            "low": _left_to_right(score_text(survey_type, interval[0], language)),
            "high": _left_to_right(score_text(survey_type, interval[1], language)),
        }
    )


def case_timings(timings: Mapping[str, Mapping[str, Any]], language: str, _: Any) -> list[dict[str, Any]]:
    """Median time to first response (acknowledging a case) and to resolution."""
    return [
        {
            "id": tile,
            "label": label,
            "value": duration_text(timings[name]["median_seconds"], language),
            "count": timings[name]["timed"],
            "note": _("Median · cases: %(count)s") % {"count": format_number(int(timings[name]["timed"]), language)},
        }
        for tile, name, label in (
            ("first-response", "acknowledged", _("Time to first response")),
            ("resolve", "resolved", _("Time to resolve")),
        )
    ]


def open_cases(table: db.Table, store_id: str) -> dict[str, Any]:
    waiting = cases.list_cases(table, store_id, cases.OPEN, limit=1000)
    by_priority = dict.fromkeys(("urgent", "high", "normal"), 0)
    for item in waiting:
        name = str(item.get("priority") or "normal")
        by_priority[name] = by_priority.get(name, 0) + 1
    in_progress = cases.list_cases(table, store_id, cases.ACKNOWLEDGED, limit=1000)
    return {"open": len(waiting), "by_priority": by_priority, "in_progress": len(in_progress)}


def _commented(table: db.Table, store_id: str, start: date, end: date, limit: int) -> list[dict[str, Any]]:
    """The newest responses of the period that still have a comment.  One query of the
    sparse comment listing and one batch read, whatever the number of answers without
    comments; an entry whose answer was changed or erased since is skipped."""

    first, last = keys.response_listing_range(start.isoformat(), end.isoformat())
    pointers, _ = table.query(
        db.Expr(
            "PK = :pk AND SK BETWEEN :first AND :last",
            values={":pk": keys.comment_listing_pk(store_id), ":first": first, ":last": last},
        ),
        forward=False,
        limit=limit * COMMENT_READ_FACTOR,
    )
    wanted = {(str(p["response_pk"]), str(p["response_sk"])): str(p["answered_at"]) for p in reversed(pointers)}
    found = (
        {(str(i["PK"]), str(i["SK"])): i for i in table.batch_get([{"PK": pk, "SK": sk} for pk, sk in wanted])}
        if wanted
        else {}
    )
    current = [
        i
        for key, at in wanted.items()
        if (i := found.get(key)) is not None and i.get("comment") and str(i.get("answered_at")) == at
    ]
    return sorted(current, key=lambda i: str(i["answered_at"]), reverse=True)[:limit]


COMMENT_READ_FACTOR = 3  # listing entries read per comment shown (some point at changed answers)


def latest_comments(
    table: db.Table, store_id: str, start: date, end: date, language: str, limit: int = LATEST_COMMENTS
) -> list[dict[str, Any]]:
    from babel.dates import format_date  # lazy: heavy at import (make bench, import time)

    out = []
    for item in _commented(table, store_id, start, end, limit):
        products = ", ".join(
            str(p.get("title") or p.get("sku")) for p in item.get("products") or [] if isinstance(p, Mapping)
        )
        out.append(
            {
                "comment": item["comment"],
                "score": item.get("score"),
                "tone": _tone(str(item.get("category") or "")),
                "language": item.get("language") or "",
                "date": numerals(
                    format_date(parse_iso(str(item["answered_at"])), "d MMM y", locale=language), language
                ),
                "order": item.get("order_name") or item.get("order_id"),  # what people call it ("#3001")
                "products": products,
            }
        )
    return out


def page(
    table: db.Table, store: StoreItem, *, days: int, signed_in_as: str, csrf: str, base_url: str, now: datetime
) -> str:
    """The signed-in dashboard, in the store's language."""

    language = templating.language_or(store.get("language"), "en")
    _ = templating.translations(language).gettext
    store_id = str(store["store_id"])
    survey_type = str(store.get("survey_type") or "nps")
    summary = stats.summary(table, store, days, now)
    weeks = weekly(summary["series"], survey_type, first_week_day(language))
    acronym, scale_name = _scale_names(_)[survey_type]
    start, end = date.fromisoformat(summary["from"]), date.fromisoformat(summary["to"])
    rate = summary["response_rate"]
    context = {
        "store_name": store.get("name"),
        "signed_in_as": signed_in_as,
        "csrf": csrf,
        "days": days,
        "periods": [
            {
                "days": p,
                "label": _("Last %(days)s days") % {"days": templating.numerals(p, language)},
                "href": dashboard_path(base_url, store_id) + ("" if p == DEFAULT_DAYS else f"?days={p}"),
                "current": p == days,
            }
            for p in PERIODS
        ],
        "acronym": acronym,
        "scale_name": scale_name,
        "survey_type": survey_type,
        "score": score_text(survey_type, summary.get(survey_type), language),
        "low_sample": summary["responses"] > 0 and summary["low_sample"],
        "low_sample_note": _("Fewer than %(count)s answers: the figure may still move a lot.")
        % {"count": format_number(stats.LOW_SAMPLE, language)},
        "interval": interval_text(survey_type, summary.get(f"{survey_type}_ci"), language, _),
        "products": worst_products(summary["by_product"], survey_type, language),
        "timings": case_timings(summary["cases"], language, _),
        "responses": templating.format_number(summary["responses"], language),
        "sent": templating.format_number(summary["sent"], language),
        "rate": templating.format_share(rate, language) if rate is not None else "–",
        "weeks": weeks,
        "chart": chart(weeks, survey_type, language, rtl=language in RTL_LANGUAGES),
        "has_answers": summary["responses"] > 0,
        "categories": categories(summary["categories"], _category_labels(_), language),
        "themes": theme_counts(summary["themes"], themes.labels(_)),
        "cases": open_cases(table, store_id),
        "priorities": {"urgent": _("Urgent"), "high": _("High"), "normal": _("Normal")},
        "comments": latest_comments(table, store_id, start, end, language),
        "inbox_path": inbox.inbox_path(base_url, store_id),
        "csv_path": f"{dashboard_path(base_url, store_id).rsplit('/', 1)[0]}/responses.csv?from={start.isoformat()}&to={end.isoformat()}",
        "from_date": start,
        "to_date": end,
    }
    return templating.render("pages/dashboard.html", language, context, store)


def signin_target(base_url: str, store_id: str, days: int) -> sessions.SignInTarget:
    """The shared sign-in, leading to the dashboard of the period asked for."""

    return sessions.SignInTarget(
        "dashboard",
        f"{dashboard_path(base_url, store_id)}/session",
        dashboard_url(base_url, store_id, days),
        {"days": str(days)},
    )


def show(
    table: db.Table, store_id: str, headers: Any, query: Mapping[str, str] | None, base_url: str, now: datetime
) -> Page:
    """The dashboard of ``days`` for a signed-in session, else the sign-in form for it."""

    store = registry.with_defaults(registry.get_store(table, store_id))
    days = period_days((query or {}).get("days"))
    session = sessions.current(store_id, headers, now)
    if session is None:
        return sessions.signin_page(store, signin_target(base_url, store_id, days))
    body = page(table, store, days=days, signed_in_as=session.name, csrf=session.csrf, base_url=base_url, now=now)
    return Page(200, body)


def sign_in(
    table: db.Table, store_id: str, read_form: inbox.FormReader, headers: Any, base_url: str, now: datetime
) -> Page | Redirect:
    """The shared sign-in (the same session as the inbox), keeping the period the form carried."""

    store = registry.with_defaults(registry.get_store(table, store_id))
    form = read_form()
    target = signin_target(base_url, store_id, period_days(form.get("days")))
    return sessions.sign_in(table, store, form, headers, target, base_url, now)
