"""Stats and dashboard reads: items read to render the dashboard over a year, and over a 30-day period holding 3,000 answers without a comment, and the stats API over the same spans.

Answers are written straight into moto's table with the counters they leave: per day of the
year, the day's counters and its products' counters (two SKUs), the two items a summary reads
per day.  The dashboard's latest comments come from a bounded listing, so answers without a
comment are not read."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._meter import AwsMeter, moto_table, without_stream

TITLE = "Stats and dashboard reads"
ANSWERS = 3000
NOW = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)


def _fill(table: Any, store_id: str) -> None:
    from collections import Counter

    from chalicelib.core.clock import iso
    from chalicelib.reports import stats
    from chalicelib.storage import keys

    store = moto_table(table.name)
    per_day: Counter[str] = Counter({stats.day(NOW - timedelta(days=d)): 1 for d in range(1, 366)})
    for n in range(ANSWERS):
        answered = NOW - timedelta(days=1 + n % 28, minutes=n)
        order_id = f"R-{n}"
        item = {
            **keys.response(store_id, order_id, "post_delivery"),
            **keys.response_listing(store_id, iso(answered), order_id),
            "type": "response",
            "store_id": store_id,
            "order_id": order_id,
            "customer_id": f"r{n}@example.com",
            "survey_type": "nps",
            "score": 9,
            "category": "promoter",
            "answered_at": iso(answered),
            "language": "en",
        }
        store.put_item(table.dump(item))
        per_day[stats.day(answered)] += 1
    for day_text, k in per_day.items():
        counters = {
            **keys.stats_day(store_id, day_text),
            "type": "stats_day",
            "store_id": store_id,
            "day": day_text,
            "responses": k,
            "nps_responses": k,
            "nps_score_sum": 9 * k,
            "nps_promoter": k,
            "sent": 2 * k,
        }
        store.put_item(table.dump(counters))
        products: dict[str, Any] = {
            **keys.stats_products_day(store_id, day_text),
            "type": "stats_products_day",
            "store_id": store_id,
            "day": day_text,
            "skus": {"TEA-1", "CUP-2"},
        }
        for sku in ("TEA-1", "CUP-2"):
            products |= {f"sku#{sku}#nps_responses": k, f"sku#{sku}#nps_score_sum": 9 * k, f"sku#{sku}#nps_promoter": k}
            products[f"title#{sku}"] = sku.title()
        store.put_item(table.dump(products))


def _run() -> dict[str, Any]:
    import devstack
    from chalicelib.platform import aws
    from chalicelib.reports import dashboard as dashboards
    from chalicelib.reports import stats
    from chalicelib.storage import db
    from chalicelib.stores import registry

    provisioned = devstack.provision()
    without_stream(provisioned.table)
    meter = AwsMeter().attach(aws.clients().dynamodb)
    created = registry.create_store(
        db.table(),
        {
            "name": "Bench",
            "sender_email": "b@example.com",
            "timezone": "Europe/Athens",
            "language": "en",
            "support_email": "s@example.com",
        },
        NOW,
    )
    store = registry.with_defaults(registry.get_store(db.table(), created.store_id, fresh=True))
    rows: dict[str, dict[str, float]] = {}

    def measure(name: str, render: Any) -> None:
        meter.reset()
        render()
        rows[name] = {"items": meter.items_read, "requests": meter.reads(), "rcu": meter.rcu}

    _fill(db.table(), created.store_id)
    measure("stats, 365 days", lambda: stats.summary(db.table(), store, 365, NOW))
    measure("stats, 30 days, 3,000 answers", lambda: stats.summary(db.table(), store, 30, NOW))
    measure(
        "dashboard, 30 days, 3,000 answers, no comment",
        lambda: dashboards.page(
            db.table(), store, days=30, signed_in_as="bench", csrf="x", base_url="http://localhost", now=NOW
        ),
    )
    measure(
        "dashboard, 365 days, 3,000 answers, no comment",
        lambda: dashboards.page(
            db.table(), store, days=365, signed_in_as="bench", csrf="x", base_url="http://localhost", now=NOW
        ),
    )
    print(f"{'render':48} {'items read':>10} {'read requests':>13} {'RCU':>6}")
    for name, row in rows.items():
        print(f"{name:48} {row['items']:>10.0f} {row['requests']:>13.0f} {row['rcu']:>6g}")
    print("The dashboard route offers 30 and 90 days; 365 is rendered by calling the page function directly.")
    print(
        "Stats read daily counters, two items per day (the day and its products): 365 days with answers on every day; the 3,000 answers fall in the last 28 days."
    )
    return rows


def main() -> dict[str, Any]:
    from moto import mock_aws

    import devstack
    from bench import sending

    saved = sending.local_environment()
    try:
        with mock_aws():
            return _run()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        devstack.reset_caches()


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    busy = figures["dashboard, 30 days, 3,000 answers, no comment"]
    return [
        f"Dashboard of a 30-day period with 3,000 answers without a comment reads {busy['items']:.0f} items ({busy['requests']:.0f} requests) on this branch; stats over 30 days read {figures['stats, 30 days, 3,000 answers']['items']:.0f}"
    ]


if __name__ == "__main__":
    main()
