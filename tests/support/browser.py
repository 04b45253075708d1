"""Helpers for browser tests: surveys and emails as customers meet them, and measurements
taken in the page (bounding boxes, computed sizes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import devstack
from chalicelib.core.clock import wall_clock
from chalicelib.core.models import JobKind
from chalicelib.platform.config import settings
from chalicelib.schedule import jobs
from chalicelib.storage import db, keys
from tests.support import surveys

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}
ARTIFACTS = devstack.ROOT / "test-artifacts"  # screenshots, kept out of git


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def next_monday_morning() -> datetime:
    """10:00 in Athens on the next Monday: inside the store's sending hours."""
    today = wall_clock().astimezone(UTC).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return datetime(monday.year, monday.month, monday.day, 8, 0, tzinfo=UTC)


def send_survey_email(app: Any, store: dict[str, Any], email: str, language: str, order_id: str) -> str:
    """GIVEN a delivered order whose survey falls due, sent through dispatch and send; the email's HTML."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    store_id = store["store_id"]
    when = next_monday_morning()
    table = db.table()
    table.put(
        {
            **keys.customer(store_id, email),
            "type": "customer",
            "store_id": store_id,
            "customer_id": email,
            "email": email,
            "first_name": "Dana",
            "language": language,
            "timezone": "Europe/Athens",
            "email_consent": True,
        }
    )
    table.put(
        {
            **keys.order(store_id, order_id),
            "type": "order",
            "store_id": store_id,
            "order_id": order_id,
            "customer_id": email,
            "status": "delivered",
            "order_name": f"#{order_id}",
            "items": [{"sku": "TEA-1", "title": "Ceramic teapot", "quantity": 1}],
        }
    )
    table.put(
        jobs.job_item(
            keys.order_pk(store_id, order_id),
            JobKind.SURVEY,
            when,
            store_id=store_id,
            shards=settings().due_shards,
            customer_id=email,
            order_id=order_id,
            discriminator="delivered",
            created_at=when,
        )
    )
    devstack.deliver(app, when)
    sent = [
        m
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        if email in m.destinations.get("ToAddresses", [])
    ]
    assert len(sent) == 1, "the survey email went out once"
    return str(sent[0].body)


def score_link(email_html: str, score: int) -> str:
    links = re.findall(r'href="([^"]+/s/[0-9A-Za-z]{22}\?score=(\d+))"', email_html)
    assert links, "the email shows the scale as links"
    return next(url for url, value in links if int(value) == score).replace("&amp;", "&")


def survey_page_url(store: dict[str, Any], language: str, order_id: str) -> str:
    """A survey issued for an order, in ``language``: the page's URL."""
    return surveys.issue(
        store, order_id=order_id, customer=f"c-{order_id}@example.org", kind="survey", language=language
    ).url


def boxes(page: Any, selector: str) -> list[dict[str, float]]:
    """The bounding boxes of every element matching ``selector``, in document order."""
    return list(
        page.eval_on_selector_all(
            selector,
            "els => els.map(e => { const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; })",
        )
    )


def rows(found: list[dict[str, float]]) -> list[int]:
    """How many boxes sit on each row (boxes whose tops are within 2 px share a row)."""
    tops: list[float] = []
    counts: list[int] = []
    for box in sorted(found, key=lambda b: b["y"]):
        if tops and abs(box["y"] - tops[-1]) <= 2:
            counts[-1] += 1
        else:
            tops.append(box["y"])
            counts.append(1)
    return counts
