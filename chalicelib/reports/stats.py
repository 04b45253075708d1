"""Daily counters per store, kept with atomic ``ADD`` so a summary reads one item per day.

A store's counters live in one partition (``keys.stats_day``), one item per UTC day:
``sent`` (surveys sent), ``responses``, and per survey type ``<type>_responses``,
``<type>_score_sum`` and ``<type>_<category>``, and ``theme_<theme>`` per theme of the
comment (:mod:`chalicelib.support.themes`, tagged when the answer is stored).  An answer that is changed moves its
counts from the old answer to the new one, so each order's latest answer counts once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.core.models import THEMES
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import StoreItem, whole

MAX_DAYS = 366

CATEGORIES: dict[str, tuple[str, ...]] = {
    "nps": ("promoter", "passive", "detractor"),
    "csat": ("satisfied", "neutral", "unsatisfied"),
    "ces": ("low_effort", "neutral", "high_effort"),
}


def day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


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


@dataclass(frozen=True)
class Counted:
    """One answer as the counters see it."""

    survey_type: str
    score: int
    category: str
    answered_at: datetime
    themes: tuple[str, ...] = ()


def _deltas(answer: Counted, sign: int) -> Counter[str]:
    t = answer.survey_type
    deltas = Counter(
        {
            "responses": sign,
            f"{t}_responses": sign,
            f"{t}_score_sum": sign * answer.score,
            f"{t}_{answer.category}": sign,
        }
    )
    deltas.update({f"theme_{theme}": sign for theme in answer.themes if theme in THEMES})
    return deltas


def response_ops(store_id: str, new: Counted, old: Counted | None) -> list[db.TransactOp]:
    """Counter updates for an answer, replacing ``old`` when the customer changed it.

    A transaction may touch an item once, so deltas on the same day are merged.
    """
    by_day: dict[str, Counter[str]] = {}
    by_day.setdefault(day(new.answered_at), Counter()).update(_deltas(new, 1))
    if old is not None:
        by_day.setdefault(day(old.answered_at), Counter()).update(_deltas(old, -1))
    ops = []
    for day_text, deltas in sorted(by_day.items()):
        changed = {name: value for name, value in deltas.items() if value}
        if changed:
            ops.append(_counter_op(store_id, day_text, changed))
    return ops


def score_summary(survey_type: str, counts: Mapping[str, int]) -> float | None:
    """NPS (-100..100), CSAT (% satisfied) or CES (mean effort), from counters."""
    responses = counts.get(f"{survey_type}_responses", 0)
    if not responses:
        return None
    if survey_type == "nps":
        return round(100 * (counts.get("nps_promoter", 0) - counts.get("nps_detractor", 0)) / responses, 1)
    if survey_type == "csat":
        return round(100 * counts.get("csat_satisfied", 0) / responses, 1)
    return round(counts.get("ces_score_sum", 0) / responses, 2)


def summary(table: db.Table, store: StoreItem, days: int, now: datetime) -> dict[str, Any]:
    """The last ``days`` UTC days (today included): one batch read of ``days`` items."""
    store_id = store["store_id"]
    survey_type = str(store.get("survey_type") or "nps")
    last = now.astimezone(UTC).date()
    day_list = [(last - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]
    items = {item["day"]: item for item in table.batch_get([keys.stats_day(store_id, d) for d in day_list])}
    totals: Counter[str] = Counter()
    series = []
    for day_text in day_list:
        item = items.get(day_text, {})
        counts = {name: whole(value) for name, value in item.items() if isinstance(value, Decimal)}
        totals.update(counts)
        series.append(
            {
                "day": day_text,
                "sent": counts.get("sent", 0),
                "responses": counts.get(f"{survey_type}_responses", 0),
                survey_type: score_summary(survey_type, counts),
            }
        )
    responses = totals.get(f"{survey_type}_responses", 0)
    sent = totals.get("sent", 0)
    return {
        "store_id": store_id,
        "survey_type": survey_type,
        "days": days,
        "from": day_list[0],
        "to": day_list[-1],
        "sent": sent,
        "responses": responses,
        survey_type: score_summary(survey_type, totals),
        "response_rate": round(min(responses / sent, 1.0), 3) if sent else None,
        "categories": {name: totals.get(f"{survey_type}_{name}", 0) for name in CATEGORIES[survey_type]},
        "themes": {name: totals.get(f"theme_{name}", 0) for name in THEMES},
        "series": series,
    }
