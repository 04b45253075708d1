"""Fault-injection soak: 1,000 orders at 10% and 20% failed AWS calls; figures to bench/RESULTS.md.

The world of tests/support/fault_world.py, run in slices with a fresh embedded AWS for each
(the embedded DynamoDB copies its whole table in every transaction, so one big world would
grow slow and large).  ``make soak``; ``SOAK_ORDERS`` and ``SOAK_SLICE`` change the sizes.
Not part of ``python -m bench`` (it takes many minutes)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench import results

HEADING = "## Fault injection"


def run_slice(orders: int, rate: float, seed: int) -> Any:
    import time_machine
    from chalice.test import Client
    from moto import mock_aws

    import devstack
    from tests.support import fault_world

    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    devstack.use_local_environment()
    with mock_aws():
        devstack.provision()
        from app import app

        with (
            time_machine.travel(fault_world.START, tick=True) as traveller,
            Client(app, stage_name="local", project_dir=str(devstack.ROOT)) as client,
        ):
            faults = fault_world.attach(rate, seed=seed)
            world = fault_world.World(client, app, traveller.move_to, faults, seed=seed)
            return world.run(orders)


def section(rows: list[tuple[float, Any, float]], orders: int, slice_size: int) -> str:
    lines = [
        HEADING,
        "",
        f"`make soak` ({time.strftime('%Y-%m-%d')}): {orders} orders per rate, in slices of {slice_size} with a fresh embedded AWS each; every",
        "webhook delivered twice (a fifth of the orders' `created` again after `delivered`), senders retrying",
        "every 5xx up to 8 times, time moved with `devstack.deliver` over a year of follow-ups. Faults are drawn",
        "per call of the app's own DynamoDB, SQS, SES and SNS clients, outside botocore's retries.",
        "",
        "| | " + " | ".join(f"{rate:.0%} of calls fail" for rate, _, _ in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("orders", [str(f.orders) for _, f, _ in rows])
    row("AWS calls", [str(f.calls) for _, f, _ in rows])
    row("faults injected", [str(sum(f.faults.values())) for _, f, _ in rows])
    for kind in ("throttle", "server", "connect", "timeout_after", "reset_after", "server_after"):
        row(f"&nbsp;&nbsp;{kind}", [str(f.faults.get(kind, 0)) for _, f, _ in rows])
    row(
        "webhook deliveries / 5xx retried / never accepted",
        [f"{f.webhooks} / {f.webhook_retries} / {f.webhooks_not_accepted}" for _, f, _ in rows],
    )
    row("messages expected (went, may have gone, or failed)", [str(f.expected) for _, f, _ in rows])
    row("messages sent (embedded SES + SNS)", [str(f.sent) for _, f, _ in rows])
    row("**duplicates**", [f"**{f.duplicates}**" for _, f, _ in rows])
    row("**lost**", [f"**{f.lost}**" for _, f, _ in rows])
    row(
        "failed with a reason (of which sent, unconfirmed)",
        [f"{f.failed_with_reason} ({f.unconfirmed})" for _, f, _ in rows],
    )
    row("minutes", [f"{minutes:.1f}" for _, _, minutes in rows])
    return "\n".join(lines) + "\n"


def main() -> int:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from tests.support.fault_world import Figures

    orders = int(os.environ.get("SOAK_ORDERS", "1000"))
    slice_size = int(os.environ.get("SOAK_SLICE", "50"))
    rows = []
    for rate in (0.1, 0.2):
        total = Figures(rate=rate)
        started = time.monotonic()
        for n, first in enumerate(range(0, orders, slice_size)):
            figures = run_slice(min(slice_size, orders - first), rate, seed=1000 * int(rate * 100) + n)
            total.add(figures)
            print(
                f"{rate:.0%} slice {n}: sent {figures.sent} dup {figures.duplicates} lost {figures.lost} failed {figures.failed_with_reason}",
                flush=True,
            )
            for problem in figures.problems[:5]:
                print("   ", problem, flush=True)
        rows.append((rate, total, (time.monotonic() - started) / 60))
    text = section(rows, orders, slice_size)
    results.write([(HEADING.removeprefix("## "), text.split("\n", 1)[1])], in_place=True)
    print(text)
    return 0 if all(f.duplicates == 0 and f.lost == 0 and f.webhooks_not_accepted == 0 for _, f, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
