"""Daily counters per store, kept with atomic ``ADD`` so a summary reads two items per day.

A store's counters live in one partition, two items per UTC day.

The day's item (``keys.stats_day``): ``sent`` (surveys sent), ``responses``, and per survey
type ``<type>_responses``, ``<type>_score_sum`` and ``<type>_<category>``; the same three
under ``channel#<channel>#``, ``language#<language>#`` and ``kind#<survey kind>#``;
``theme_<theme>`` per theme of the comment (:mod:`chalicelib.support.themes`, tagged when the
answer is stored); ``acknowledged`` and ``resolved`` (cases that changed state that day) with
``ack_seconds`` and ``resolve_seconds``, the list of how long each took from the case's
opening, at most :data:`MAX_TIMINGS_PER_DAY` each (a day past that still counts its cases;
the answer says how many were timed).

The day's product item (``keys.stats_products_day``): the same three counters under
``sku#<sku>#`` for each SKU of the answered order, ``title#<sku>`` and ``skus`` (the set of
SKUs counted by name).  SKUs are the one unbounded dimension, so a day names at most
:data:`MAX_SKUS_PER_DAY` of them and an answer at most :data:`MAX_SKUS_PER_ANSWER`; the
rest count once under ``other#``.  An answer records the buckets it was counted in
(``stats_skus``, ``stats_other``), so changing it later moves exactly those counts.

An answer that is changed moves its counts from the old answer to the new one, so each
order's latest answer counts once.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.core import validate
from chalicelib.core.models import THEMES
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import StoreItem, whole

MAX_DAYS = 366
DEFAULT_DAYS = 30
GROUPS = ("day", "week", "month")
LOW_SAMPLE = 30  # a score from fewer answers is flagged ``low_sample``
Z_95 = 1.96
DIMENSIONS = ("channel", "language", "kind")
MAX_SKUS_PER_DAY = 200
MAX_SKUS_PER_ANSWER = 10
MAX_TIMINGS_PER_DAY = 1000
TITLE_LENGTH = 100
TIMINGS = {"acknowledge": ("acknowledged", "ack_seconds"), "resolve": ("resolved", "resolve_seconds")}

CATEGORIES: dict[str, tuple[str, ...]] = {
    "nps": ("promoter", "passive", "detractor"),
    "csat": ("satisfied", "neutral", "unsatisfied"),
    "ces": ("low_effort", "neutral", "high_effort"),
}


def day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def _slug(text: str, default: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:40] or default


def _counter_op(store_id: str, day_text: str, deltas: Mapping[str, int]) -> db.TransactOp:
    return db.update(
        keys.stats_day(store_id, day_text),
        Update().set({"type": "stats_day", "store_id": store_id, "day": day_text}).add(dict(deltas)),
        label="stats",
    )


def sent_op(store_id: str, kind: str, now: datetime) -> db.TransactOp:
    """Count one survey sent; the engine adds this to the transaction that marks it sent."""
    label = re.sub(r"[^a-z0-9_]", "_", kind.lower())[:40] or "survey"
    return _counter_op(store_id, day(now), {"sent": 1, f"sent_{label}": 1})


def timing_op(store_id: str, transition: str, seconds: int | None, now: datetime, *, timed: bool) -> db.TransactOp:
    """Count a case acknowledged or resolved ``now`` and, when ``timed``, keep how long it took.

    The list is bounded by a condition: a full day fails it, and the caller writes the
    transition again with ``timed=False`` (the case still counts, untimed)."""
    counter, timings = TIMINGS[transition]
    update = Update().set({"type": "stats_day", "store_id": store_id, "day": day(now)}).add({counter: 1})
    condition = None
    if timed and seconds is not None:
        update = update.append(timings, [seconds], start_empty=True)
        condition = db.Expr(
            "attribute_not_exists(#timings) OR size(#timings) < :most",
            names={"#timings": timings},
            values={":most": MAX_TIMINGS_PER_DAY},
        )
    return db.update(keys.stats_day(store_id, day(now)), update, condition=condition, label="stats")


@dataclass(frozen=True)
class Counted:
    """One answer as the counters see it.

    ``skus`` are the SKUs it is counted under by name, ``other`` whether it counts in the
    day's other products, ``claimed`` the SKUs it names first that day (with their
    ``titles``).  ``breakdowns`` is False for an answer stored before channels, languages,
    kinds and products were counted: changing it moves only the counts it made."""

    survey_type: str
    score: int
    category: str
    answered_at: datetime
    themes: tuple[str, ...] = ()
    channel: str = ""
    language: str = ""
    kind: str = ""
    skus: tuple[str, ...] = ()
    other: bool = False
    claimed: tuple[str, ...] = ()
    titles: tuple[tuple[str, str], ...] = ()
    breakdowns: bool = True


def product_buckets(
    skus: Sequence[str], counted_today: Collection[str]
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """Where an answer's SKUs count on a day that already names ``counted_today``:
    (named, claimed, other).  A SKU the day names counts by name; a new one claims a place
    while the day has room; the rest, and any past :data:`MAX_SKUS_PER_ANSWER`, count once
    as other products."""
    distinct = list(dict.fromkeys(sku for sku in skus if sku))
    rest = distinct[MAX_SKUS_PER_ANSWER:]
    room = max(MAX_SKUS_PER_DAY - len(counted_today), 0)
    named: list[str] = []
    claimed: list[str] = []
    for sku in distinct[:MAX_SKUS_PER_ANSWER]:
        if sku in counted_today:
            named.append(sku)
        elif len(claimed) < room:
            claimed.append(sku)
            named.append(sku)
        else:
            rest.append(sku)
    return tuple(named), tuple(claimed), bool(rest)


def counted_skus(table: db.Table, store_id: str, day_text: str) -> set[str]:
    """The SKUs a day already counts by name (read before an answer claims new ones)."""
    item = table.get(keys.stats_products_day(store_id, day_text), consistent=True) or {}
    return {str(sku) for sku in item.get("skus") or ()}


def _score_deltas(prefix: str, answer: Counted, sign: int) -> dict[str, int]:
    t = answer.survey_type
    return {
        f"{prefix}{t}_responses": sign,
        f"{prefix}{t}_score_sum": sign * answer.score,
        f"{prefix}{t}_{answer.category}": sign,
    }


def _deltas(answer: Counted, sign: int) -> Counter[str]:
    deltas = Counter(_score_deltas("", answer, sign))
    deltas["responses"] += sign
    deltas.update({f"theme_{theme}": sign for theme in answer.themes if theme in THEMES})
    if answer.breakdowns:
        for dimension in DIMENSIONS:
            value = getattr(answer, dimension)
            if value:
                deltas.update(_score_deltas(f"{dimension}#{_slug(value, 'other')}#", answer, sign))
    return deltas


def _product_deltas(answer: Counted, sign: int) -> Counter[str]:
    deltas: Counter[str] = Counter()
    if answer.breakdowns:
        for sku in answer.skus:
            deltas.update(_score_deltas(f"sku#{sku}#", answer, sign))
        if answer.other:
            deltas.update(_score_deltas("other#", answer, sign))
    return deltas


def _products_op(store_id: str, day_text: str, deltas: Mapping[str, int], new: Counted | None) -> db.TransactOp:
    """The day's product counters; when ``new`` claims SKUs, the day must still have room."""
    claimed = new.claimed if new else ()
    update = Update().set(
        {
            "type": "stats_products_day",
            "store_id": store_id,
            "day": day_text,
            **{f"title#{sku}": title for sku, title in (new.titles if new else ()) if sku in claimed and title},
        }
    )
    amounts: dict[str, Any] = dict(deltas)
    condition = None
    if claimed:
        amounts["skus"] = set(claimed)
        condition = db.Expr(
            "attribute_not_exists(#skus) OR size(#skus) <= :room",
            names={"#skus": "skus"},
            values={":room": MAX_SKUS_PER_DAY - len(claimed)},
        )
    return db.update(
        keys.stats_products_day(store_id, day_text), update.add(amounts), condition=condition, label="stats"
    )


def response_ops(store_id: str, new: Counted, old: Counted | None) -> list[db.TransactOp]:
    """Counter updates for an answer, replacing ``old`` when the customer changed it.

    A transaction may touch an item once, so deltas on the same item are merged.
    """
    new_day = day(new.answered_at)
    by_day: dict[str, Counter[str]] = {new_day: _deltas(new, 1)}
    products: dict[str, Counter[str]] = {new_day: _product_deltas(new, 1)}
    if old is not None:
        old_day = day(old.answered_at)
        by_day.setdefault(old_day, Counter()).update(_deltas(old, -1))
        products.setdefault(old_day, Counter()).update(_product_deltas(old, -1))
    ops = []
    for day_text, deltas in sorted(by_day.items()):
        changed = {name: value for name, value in deltas.items() if value}
        if changed:
            ops.append(_counter_op(store_id, day_text, changed))
    for day_text, deltas in sorted(products.items()):
        changed = {name: value for name, value in deltas.items() if value}
        claims = new if day_text == new_day and new.claimed else None
        if changed or claims:
            ops.append(_products_op(store_id, day_text, changed, claims))
    return ops


# --- reading -----------------------------------------------------------------------------
def score_summary(survey_type: str, counts: Mapping[str, int], prefix: str = "") -> float | None:
    """NPS (-100..100), CSAT (% satisfied) or CES (mean effort), from counters."""
    responses = counts.get(f"{prefix}{survey_type}_responses", 0)
    if not responses:
        return None
    if survey_type == "nps":
        promoters, detractors = counts.get(f"{prefix}nps_promoter", 0), counts.get(f"{prefix}nps_detractor", 0)
        return round(100 * (promoters - detractors) / responses, 1)
    if survey_type == "csat":
        return round(100 * counts.get(f"{prefix}csat_satisfied", 0) / responses, 1)
    return round(counts.get(f"{prefix}ces_score_sum", 0) / responses, 2)


def nps_interval(promoters: int, detractors: int, responses: int) -> list[float] | None:
    """The 95% confidence interval of an NPS: with p and d the shares of promoters and
    detractors, var = (p + d - (p - d)²) / n and NPS ± 1.96 · 100 · √var, within -100..100."""
    if not responses:
        return None
    p, d = promoters / responses, detractors / responses
    spread = Z_95 * 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / responses)
    nps = 100 * (p - d)
    return [round(max(nps - spread, -100.0), 1), round(min(nps + spread, 100.0), 1)]


def csat_interval(satisfied: int, responses: int) -> list[float] | None:
    """The 95% Wilson score interval of a CSAT (the share of satisfied answers, in %): with
    p̂ the share and z = 1.96, (p̂ + z²/2n ± z·√(p̂(1 - p̂)/n + z²/4n²)) / (1 + z²/n).  Unlike
    p̂ ± z·√(p̂(1 - p̂)/n) it stays within 0..100 and does not shrink to nothing at 0% or 100%."""
    if not responses:
        return None
    share, n, z2 = satisfied / responses, responses, Z_95**2
    centre = share + z2 / (2 * n)
    spread = Z_95 * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    scale = 1 + z2 / n
    return [round(max(100 * (centre - spread) / scale, 0.0), 1), round(min(100 * (centre + spread) / scale, 100.0), 1)]


def figures(survey_type: str, counts: Mapping[str, int], prefix: str = "") -> dict[str, Any]:
    """A score with its number of answers, its low-sample flag and (NPS, CSAT) its interval."""
    responses = counts.get(f"{prefix}{survey_type}_responses", 0)
    out: dict[str, Any] = {
        "responses": responses,
        survey_type: score_summary(survey_type, counts, prefix),
        "low_sample": responses < LOW_SAMPLE,
    }
    if survey_type == "nps":
        out["nps_ci"] = nps_interval(
            counts.get(f"{prefix}nps_promoter", 0), counts.get(f"{prefix}nps_detractor", 0), responses
        )
    elif survey_type == "csat":
        out["csat_ci"] = csat_interval(counts.get(f"{prefix}csat_satisfied", 0), responses)
    return out


def _breakdown(survey_type: str, counts: Mapping[str, int], prefix: str) -> dict[str, Any]:
    return {
        **figures(survey_type, counts, prefix),
        "categories": {name: counts.get(f"{prefix}{survey_type}_{name}", 0) for name in CATEGORIES[survey_type]},
    }


def _dimensions(survey_type: str, counts: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """``by_channel``, ``by_language`` and ``by_kind``: each value's figures and categories."""
    return {
        f"by_{dimension}": {
            value: _breakdown(survey_type, counts, f"{dimension}#{value}#")
            for value in _values(counts, f"{dimension}#", survey_type)
        }
        for dimension in DIMENSIONS
    }


def _values(counts: Mapping[str, int], head: str, survey_type: str) -> list[str]:
    """The values of a dimension (``channel#``, ``sku#``) that have answers in ``counts``."""
    tail = f"#{survey_type}_responses"
    return sorted(
        name[len(head) : -len(tail)]
        for name, value in counts.items()
        if value > 0 and name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail)
    )


def worse_first(survey_type: str, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows with the worst score first (the lowest NPS or CSAT, the highest effort), then
    the most answered; rows without a score last."""

    def rank(row: Mapping[str, Any]) -> tuple[int, float, int, str]:
        score = row.get(survey_type)
        if score is None:
            return (1, 0.0, 0, str(row.get("sku")))
        worse = float(score) if survey_type != "ces" else -float(score)
        return (0, worse, -int(row["responses"]), str(row.get("sku")))

    return sorted(rows, key=rank)


def period_of(day_value: date, group: str) -> tuple[date, dict[str, str]]:
    """The start of the day's period and its label: the day; the ISO week (from Monday);
    the calendar month."""
    if group == "week":
        start = day_value - timedelta(days=day_value.weekday())
        year, week, _ = start.isocalendar()
        return start, {"week": f"{year}-W{week:02d}"}
    if group == "month":
        return day_value.replace(day=1), {"month": day_value.strftime("%Y-%m")}
    return day_value, {"day": day_value.isoformat()}


def _median(values: Sequence[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def summary(table: db.Table, store: StoreItem, days: int, now: datetime, group: str = "day") -> dict[str, Any]:
    """The last ``days`` UTC days (today included): one batch read of two items per day."""
    store_id = store["store_id"]
    survey_type = str(store.get("survey_type") or "nps")
    last = now.astimezone(UTC).date()
    day_list = [last - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    wanted = [
        k
        for d in day_list
        for k in (keys.stats_day(store_id, d.isoformat()), keys.stats_products_day(store_id, d.isoformat()))
    ]
    read = {str(item["SK"]): item for item in table.batch_get(wanted)}
    totals: Counter[str] = Counter()
    products: Counter[str] = Counter()
    titles: dict[str, str] = {}
    timings: dict[str, list[int]] = {name: [] for _, name in TIMINGS.values()}
    periods: dict[date, dict[str, Any]] = {}
    for day_value in day_list:
        item = read.get(keys.stats_day(store_id, day_value.isoformat())["SK"], {})
        product_item = read.get(keys.stats_products_day(store_id, day_value.isoformat())["SK"], {})
        counts = {name: whole(value) for name, value in item.items() if isinstance(value, Decimal)}
        totals.update(counts)
        products.update({name: whole(value) for name, value in product_item.items() if isinstance(value, Decimal)})
        titles.update({name[len("title#") :]: str(v) for name, v in product_item.items() if name.startswith("title#")})
        for name, found in timings.items():
            found.extend(whole(value) for value in item.get(name) or [])
        start, label = period_of(day_value, group)
        period = periods.setdefault(start, {"label": label, "from": day_value, "counts": Counter()})
        period["to"] = day_value
        period["counts"].update(counts)
    series = [
        {
            **period["label"],
            "from": period["from"].isoformat(),
            "to": period["to"].isoformat(),
            "sent": period["counts"].get("sent", 0),
            **figures(survey_type, period["counts"]),
            **_dimensions(survey_type, period["counts"]),
        }
        for period in periods.values()
    ]
    responses = totals.get(f"{survey_type}_responses", 0)
    sent = totals.get("sent", 0)
    by_product = [
        {"sku": sku, "title": titles.get(sku), **_breakdown(survey_type, products, f"sku#{sku}#")}
        for sku in _values(products, "sku#", survey_type)
    ]
    return {
        "store_id": store_id,
        "survey_type": survey_type,
        "days": days,
        "group": group,
        "from": day_list[0].isoformat(),
        "to": day_list[-1].isoformat(),
        "sent": sent,
        **figures(survey_type, totals),
        "response_rate": round(min(responses / sent, 1.0), 3) if sent else None,
        "categories": {name: totals.get(f"{survey_type}_{name}", 0) for name in CATEGORIES[survey_type]},
        "themes": {name: totals.get(f"theme_{name}", 0) for name in THEMES},
        **_dimensions(survey_type, totals),
        "by_product": worse_first(survey_type, by_product),
        "other_products": _breakdown(survey_type, products, "other#")
        if products.get(f"other#{survey_type}_responses", 0) > 0
        else None,
        "cases": {
            counter: {
                "cases": totals.get(counter, 0),
                "timed": len(timings[name]),
                "median_seconds": _median(timings[name]),
            }
            for counter, name in TIMINGS.values()
        },
        "series": series,
    }


def report(table: db.Table, store: StoreItem, query: Mapping[str, str] | None, now: datetime) -> dict[str, Any]:
    """``GET /stores/{store_id}/stats``: ``days`` (1..366, default 30) grouped by ``group``
    (day, week or month; default day)."""
    params = query or {}
    days = validate.int_param(params, "days", default=DEFAULT_DAYS, low=1, high=MAX_DAYS)
    group = validate.choice(params.get("group") or "day", "group", GROUPS)
    return summary(table, store, days, now, group)
