"""Every figure of ``GET /stats`` (each grouping, each breakdown, the case timings, the
confidence intervals and low-sample flags) and of the dashboard, checked against a
brute-force count over the same quarter of answers."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.core.clock import wall_clock
from chalicelib.reports import dashboard
from tests.conftest import auth
from tests.support.insight import Answer, Quarter, Timing, seed

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- the brute force: every figure from the plain records ------------------------------
def nps_of(answers: Sequence[Answer]) -> dict[str, Any]:
    n = len(answers)
    promoters = sum(1 for a in answers if a.score >= 9)
    passives = sum(1 for a in answers if 7 <= a.score <= 8)
    detractors = n - promoters - passives
    figure: dict[str, Any] = {"responses": n, "nps": None, "low_sample": n < 30, "nps_ci": None}
    if n:
        p, d = promoters / n, detractors / n
        nps = 100 * (p - d)
        half = 1.96 * 100 * math.sqrt((p + d - (p - d) ** 2) / n)
        figure["nps"] = round(nps, 1)
        figure["nps_ci"] = [round(max(nps - half, -100.0), 1), round(min(nps + half, 100.0), 1)]
    figure["categories"] = {"promoter": promoters, "passive": passives, "detractor": detractors}
    return figure


def without_categories(figure: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figure.items() if k != "categories"}


def median(values: Sequence[int]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def period_start(day: date, group: str) -> date:
    if group == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if group == "month":
        return day.replace(day=1)
    return day


def label_of(start: date, group: str) -> dict[str, str]:
    if group == "week":
        year, week, _ = start.isocalendar()
        return {"week": f"{year}-W{week:02d}"}
    if group == "month":
        return {"month": f"{start.year}-{start.month:02d}"}
    return {"day": start.isoformat()}


def grouped(answers: Iterable[Answer], key: Callable[[Answer], Iterable[str]]) -> dict[str, list[Answer]]:
    out: dict[str, list[Answer]] = {}
    for answer in answers:
        for value in key(answer):
            out.setdefault(value, []).append(answer)
    return out


def dimensions(answers: Sequence[Answer]) -> dict[str, dict[str, Any]]:
    return {
        "by_channel": {k: nps_of(v) for k, v in grouped(answers, lambda a: [a.channel]).items()},
        "by_language": {k: nps_of(v) for k, v in grouped(answers, lambda a: [a.language]).items()},
        "by_kind": {k: nps_of(v) for k, v in grouped(answers, lambda a: [a.kind]).items()},
    }


def expected(quarter: Quarter, today: date, days: int, group: str) -> dict[str, Any]:
    window = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    inside = set(window)
    answers = [a for a in quarter.answers.values() if a.survey_type == "nps" and a.at.date() in inside]
    sends = [s.date() for s in quarter.sends if s.date() in inside]
    series = []
    for start in sorted({period_start(d, group) for d in window}):
        days_in = [d for d in window if period_start(d, group) == start]
        period = [a for a in answers if period_start(a.at.date(), group) == start]
        series.append(
            {
                **label_of(start, group),
                "from": days_in[0].isoformat(),
                "to": days_in[-1].isoformat(),
                "sent": sum(1 for s in sends if period_start(s, group) == start),
                **without_categories(nps_of(period)),
                **dimensions(period),
            }
        )
    products = grouped(answers, lambda a: a.skus)
    timings: dict[str, list[Timing]] = {"acknowledged": [], "resolved": []}
    for timing in quarter.timings:
        if timing.at.date() in inside:
            timings[timing.transition].append(timing)
    return {
        **without_categories(nps_of(answers)),
        "sent": len(sends),
        "response_rate": round(min(len(answers) / len(sends), 1.0), 3) if sends else None,
        "categories": nps_of(answers)["categories"],
        **dimensions(answers),
        "by_product": {k: nps_of(v) for k, v in products.items()},
        "cases": {
            name: {"cases": len(found), "timed": len(found), "median_seconds": median([t.seconds for t in found])}
            for name, found in timings.items()
        },
        "series": series,
    }


def worst(by_product: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(by_product, key=lambda sku: (by_product[sku]["nps"], -by_product[sku]["responses"], sku))


# --- the test ---------------------------------------------------------------------------
@pytest.mark.world_time("2026-09-16T12:00:00Z")
def test_every_figure_matches_a_brute_force_count_of_the_same_answers(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a quarter of answers, some changed later, and cases worked at random (seeded)
    quarter = seed(store["store_id"], wall_clock())
    today = wall_clock().astimezone(UTC).date()
    assert len(quarter.answers) == 120 and quarter.timings
    for days in (90, 30):
        for group in ("day", "week", "month"):
            # WHEN the store asks for its stats over the period, grouped
            answer = client.http.get(
                f"/stores/{store['store_id']}/stats?days={days}&group={group}", headers=auth(store["api_key"])
            )
            assert answer.status_code == 200, answer.body
            body = answer.json_body
            want = expected(quarter, today, days, group)
            # THEN every figure is the one a count of the latest answers gives
            assert body["group"] == group
            for name in ("responses", "nps", "low_sample", "nps_ci", "sent", "response_rate", "categories"):
                assert body[name] == want[name], (days, group, name)
            assert body["series"] == want["series"], (days, group)
            for dimension in ("by_channel", "by_language", "by_kind"):
                assert body[dimension] == want[dimension], (days, group, dimension)
            products = {
                row["sku"]: {k: v for k, v in row.items() if k not in ("sku", "title")} for row in body["by_product"]
            }
            assert products == want["by_product"], (days, group)
            assert [row["sku"] for row in body["by_product"]] == worst(want["by_product"])
            assert body["other_products"] is None
            assert body["cases"] == want["cases"], (days, group)
    # AND the figures are a mix of low-sample and solid ones, and the breakdowns are not empty
    ninety = expected(quarter, today, 90, "month")
    assert {s["low_sample"] for s in ninety["series"]} == {True, False}
    assert all(len(s["by_language"]) == 5 and len(s["by_channel"]) == 2 for s in ninety["series"][1:])
    assert {p["low_sample"] for p in expected(quarter, today, 30, "day")["by_product"].values()} == {True}
    assert len(ninety["by_language"]) == 5 and len(ninety["by_product"]) == 6
    assert ninety["cases"]["acknowledged"]["cases"] > 5 and ninety["cases"]["resolved"]["cases"] > 5
    # AND the dashboard shows the same figures
    dashboard_matches(client, store, expected(quarter, today, 90, "day"))


def dashboard_matches(client: Any, store: dict[str, Any], want: dict[str, Any]) -> None:
    """The dashboard of 90 days: the score, its interval, the worst products and the case timings."""
    body = urlencode({"support_key": store["support_key"], "name": "Dana", "days": "90"})
    signed = client.http.post(f"/stores/{store['store_id']}/dashboard/session", headers=FORM, body=body)
    cookie = str(signed.headers["Set-Cookie"]).split(";")[0]
    # WHEN support opens the dashboard for 90 days
    html = client.http.get(f"/stores/{store['store_id']}/dashboard?days=90", headers={"Cookie": cookie}).body.decode()
    # THEN the score and its interval are the brute-force ones, not flagged (120 answers)
    score = re.search(r'id="tile-score"[^>]*>.*?<dd dir="ltr">([^<]+)</dd>', html)
    assert score is not None and score.group(1) == str(round(want["nps"]))
    low, high = want["nps_ci"]
    assert f"95% confidence interval: \u2066{round(low)}\u2069 to \u2066{round(high)}\u2069" in html
    assert 'id="tile-score" data-low-sample' not in html
    # AND the five worst products, worst first, with their scores and numbers of answers
    rows = re.findall(
        r'<tr data-sku="([^"]+)"( data-low-sample)?><td><bdi>([^<]+)</bdi>.*?<td dir="ltr">([^<]+)</td><td>(\d+)', html
    )
    assert [r[0] for r in rows] == worst(want["by_product"])[:5]
    for sku, flagged, _title, shown, responses in rows:
        figure = want["by_product"][sku]
        assert (shown, int(responses), bool(flagged)) == (
            str(round(figure["nps"])),
            figure["responses"],
            figure["low_sample"],
        )
    # AND the median time to first response and to resolution
    first = re.search(r'id="tile-first-response"><dt>[^<]+</dt><dd class="time">([^<]+)</dd>', html)
    assert first is not None
    assert first.group(1) == dashboard.duration_text(want["cases"]["acknowledged"]["median_seconds"], "en")
    resolve = re.search(r'id="tile-resolve"><dt>[^<]+</dt><dd class="time">([^<]+)</dd>', html)
    assert resolve is not None
    assert resolve.group(1) == dashboard.duration_text(want["cases"]["resolved"]["median_seconds"], "en")
    assert f"Median · cases: {want['cases']['acknowledged']['timed']}" in html
