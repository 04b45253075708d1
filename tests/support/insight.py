"""A quarter of answers for one store, seeded at random (the same every run) through the real
answer, escalation and case paths, kept alongside as plain records so a test can count every
figure again by brute force."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.platform.aws import clients
from chalicelib.reports import stats
from chalicelib.storage import db, keys
from chalicelib.stores import registry
from chalicelib.support import cases, escalation
from chalicelib.surveys import answers, tokens
from tests.support import quick_moto
from tests.support.fault_world import without_stream_records

PRODUCTS = {
    "KT-1": "Copper kettle",
    "MUG-2": "Stoneware mug",
    "PAN-3": "Cast-iron pan",
    "LID-4": "Glass lid",
    "CUP-5": "Espresso cup",
    "TRAY-6": "Serving tray",
}
LANGUAGES = ("en", "ar", "fa", "he", "el")
CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class Answer:
    """An order's latest answer to one survey kind, as the customer gave it."""

    order_id: str
    kind: str
    survey_type: str
    channel: str
    language: str
    skus: tuple[str, ...]
    score: int
    at: datetime


@dataclass(frozen=True)
class Timing:
    transition: str  # "acknowledged" or "resolved"
    at: datetime
    seconds: int


@dataclass
class Quarter:
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    sends: list[datetime] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)


def order_item(store_id: str, order_id: str, skus: list[str], titles: dict[str, str] | None = None) -> dict[str, Any]:
    """A delivered order of ``skus`` (one line each, titled from ``titles`` or :data:`PRODUCTS`),
    as intake stores it."""
    named = {**PRODUCTS, **(titles or {})}
    return {
        **keys.order(store_id, order_id),
        "type": "order",
        "store_id": store_id,
        "order_id": order_id,
        "order_name": f"#{order_id}",
        "status": "delivered",
        "items": [{"sku": sku, "title": named.get(sku, sku), "quantity": 1} for sku in skus],
    }


def _answer(store: dict[str, Any], survey: Any, score: int, at: datetime, *, escalate: bool) -> None:
    response = answers.record_answer(db.table(), survey, score=score, comment="", via="page", now=at)
    if escalate:
        escalation.on_response(db.table(), clients(), store, response, at)


def _score(rng: random.Random, survey_type: str) -> int:
    """A plausible spread: a quarter of detractors, most customers content."""
    if survey_type == "csat":
        return rng.randint(1, 5)
    return rng.choice((rng.randint(0, 6), rng.randint(7, 8), rng.randint(9, 10), rng.randint(9, 10)))


def _count_sends(store_id: str, sends: list[datetime]) -> None:
    """The surveys sent, counted as the engine counts them; a transaction touches a day once,
    so each round writes at most one send per day."""
    rounds: list[dict[str, datetime]] = []
    for sent_at in sends:
        free = next((r for r in rounds if stats.day(sent_at) not in r), None)
        if free is None:
            free = {}
            rounds.append(free)
        free[stats.day(sent_at)] = sent_at
    for sent in rounds:
        moments = list(sent.values())
        for start in range(0, len(moments), 100):
            db.table().transact([stats.sent_op(store_id, "post_delivery", at) for at in moments[start : start + 100]])


def seed(store_id: str, now: datetime, *, orders: int = 120, seed_value: int = 14) -> Quarter:
    """``orders`` answered over the 90 UTC days up to ``now`` (several SKUs, both channels, the
    five languages, two survey kinds), a fifth of them changed later, surveys sent without an
    answer, and cases opened by most detractors' answers, acknowledged and resolved at random.
    Nothing here reads the table's stream, so its records are switched off (moto copies them
    all in every transaction), and moto's transactions and queries are made item-sized
    (:mod:`tests.support.quick_moto`)."""
    without_stream_records()
    with quick_moto.quick():
        return _seed(store_id, now, orders, seed_value)


def _seed(store_id: str, now: datetime, orders: int, seed_value: int) -> Quarter:
    rng = random.Random(seed_value)
    table = db.table()
    store = registry.get_store(table, store_id, fresh=True)
    first = datetime.combine((now - timedelta(days=89)).date(), datetime.min.time(), UTC)
    span = (now - first).total_seconds() - 3600
    quarter = Quarter()
    for n in range(orders):
        order_id = f"Q{n:03d}"
        channel, language = rng.choice(CHANNELS), rng.choice(LANGUAGES)
        kind, survey_type = ("made_it_right", "csat") if rng.random() < 0.08 else ("post_delivery", "nps")
        skus = rng.sample(sorted(PRODUCTS), rng.choice((1, 1, 2, 3)))
        lines = skus + skus[:1] if rng.random() < 0.1 else skus  # the same SKU on two lines counts once
        at = first + timedelta(seconds=rng.uniform(3600, span))
        contact = f"+3069{n:08d}" if channel == "sms" else f"q{n}@example.com"
        table.put(order_item(store_id, order_id, lines))
        sent_at = at - timedelta(hours=1)
        quarter.sends.append(sent_at)
        link = tokens.issue_survey(
            table,
            store={**store, "survey_type": survey_type},
            customer_id=contact,
            order_id=order_id,
            kind=kind,
            channel=channel,
            contact=contact,
            now=sent_at,
            language=language,
        )
        survey = tokens.load(table, link.token, at, consistent=True)
        assert survey is not None
        score = _score(rng, survey_type)
        escalate = score <= 6 and rng.random() < 0.8  # support hears of most bad answers: cases to time
        _answer(store, survey, score, at, escalate=escalate)
        if rng.random() < 0.2:  # the customer changes the answer, maybe days later
            at = min(at + timedelta(seconds=rng.uniform(60, 4 * 86400)), now - timedelta(minutes=1))
            score = _score(rng, survey_type)
            later = tokens.load(table, link.token, at, consistent=True)
            assert later is not None
            _answer(store, later, score, at, escalate=score <= 6)
        quarter.answers[(order_id, kind)] = Answer(
            order_id, kind, survey_type, channel, language, tuple(dict.fromkeys(lines)), score, at
        )
    quarter.sends += [first + timedelta(seconds=rng.uniform(0, span)) for _ in range(30)]  # never answered
    _count_sends(store_id, quarter.sends)
    quarter.timings = work_cases(store, now, rng)
    return quarter


def work_cases(store: dict[str, Any], now: datetime, rng: random.Random) -> list[Timing]:
    """Support acknowledges most open cases some time after they opened and resolves some;
    a few are resolved straight away."""
    table = db.table()
    done: list[Timing] = []
    for case in sorted(cases.list_cases(table, store["store_id"], cases.OPEN, limit=1000), key=lambda c: c["case_id"]):
        opened = datetime.fromisoformat(str(case["opened_at"]).replace("Z", "+00:00"))
        at = opened
        for action, chance in (("acknowledge", 0.8), ("resolve", 0.7)):
            if rng.random() >= chance:
                continue
            at = at + timedelta(seconds=rng.randint(60, 3 * 86400))
            if at > now:
                break
            change = cases.Change(action, "Dana", outcome="explained" if action == "resolve" else None)
            escalation.change_case(table, store, str(case["case_id"]), change, at)
            name = "acknowledged" if action == "acknowledge" else "resolved"
            done.append(Timing(name, at, round((at - opened).total_seconds())))
    return done
