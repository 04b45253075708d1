"""Fault-injection soak: 1,000 orders at 10% and 20% failed AWS calls; figures to bench/RESULTS.md.

The world of tests/support/fault_world.py, run in slices with a fresh embedded AWS for each
(the embedded DynamoDB copies its whole table in every transaction, so one big world would
grow slow and large), each slice in a process of its own, ``SOAK_WORKERS`` of them at once
(default: one per core).  ``make soak``; ``SOAK_ORDERS`` and ``SOAK_SLICE`` change the sizes.
Not part of ``python -m bench`` (it takes about an hour on two cores).

Every finished slice is kept in ``bench/.soak/`` (its figures, CPU seconds and commit), so a
run that was stopped goes on where it stopped: the next ``make soak`` runs only the slices not
kept yet and counts the kept ones in its figures.  ``SOAK_FRESH=1`` forgets them first."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import results

HEADING = "## Fault injection"
KEPT = Path(__file__).resolve().parent / ".soak"


def _kept_path(rate: float, n: int, slice_size: int) -> Path:
    return KEPT / f"rate{int(rate * 100)}-slice{n}-of{slice_size}.json"


def _commit() -> str:
    answer = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return answer.stdout.strip() or "unknown"


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


def _done(rows: list[tuple[float, Any, float]], orders: int) -> str:
    done = {f.orders for _, f, _ in rows}
    if done == {orders}:
        return f"{orders} orders per rate"
    so_far = " and ".join(f"{f.orders} at {rate:.0%}" for rate, f, _ in rows)
    return f"**stopped early**, {so_far} of the {orders} orders per rate asked for"


def section(
    rows: list[tuple[float, Any, float]], orders: int, slice_size: int, workers: int, wall: float, commits: set[str]
) -> str:
    lines = [
        HEADING,
        "",
        f"`make soak` ({time.strftime('%Y-%m-%d')}): {_done(rows, orders)}, in slices of {slice_size} with a fresh embedded AWS each; every",
        "webhook delivered twice (a fifth of the orders' `created` again after `delivered`), senders retrying",
        "every 5xx up to 8 times, time moved with `devstack.deliver` over a year of follow-ups. Faults are drawn",
        "per call of the app's own DynamoDB, SQS, SES and SNS clients, outside botocore's retries.",
        *(
            [
                "Customers who take WhatsApp have it in place of SMS (carried by SNS locally: SNS's faults are WhatsApp's)."
            ]
            if any(f.whatsapp for _, f, _ in rows)
            else []
        ),
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
    if any(f.whatsapp or f.whatsapp_fallbacks for _, f, _ in rows):  # slices from before WhatsApp had none
        row(
            "&nbsp;&nbsp;of them by WhatsApp / jobs fallen back to SMS",
            [f"{f.whatsapp} / {f.whatsapp_fallbacks}" for _, f, _ in rows],
        )
    row("**duplicates**", [f"**{f.duplicates}**" for _, f, _ in rows])
    row("**lost**", [f"**{f.lost}**" for _, f, _ in rows])
    row(
        "failed with a reason (of which sent, unconfirmed)",
        [f"{f.failed_with_reason} ({f.unconfirmed})" for _, f, _ in rows],
    )
    row("CPU minutes (slices summed)", [f"{minutes:.1f}" for _, _, minutes in rows])
    lines += [
        "",
        f"_{wall:.0f} min wall in the last run for both rates, {workers} slice(s) at a time; "
        f"slices run at commit {', '.join(sorted(commits))}._",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from tests.support.fault_world import Figures

    orders = int(os.environ.get("SOAK_ORDERS", "1000"))
    slice_size = int(os.environ.get("SOAK_SLICE", "50"))
    workers = int(os.environ.get("SOAK_WORKERS", str(os.cpu_count() or 1)))
    rates = (0.1, 0.2)
    if os.environ.get("SOAK_FRESH"):
        for path in KEPT.glob("*.json"):
            path.unlink()
    KEPT.mkdir(exist_ok=True)
    totals = {rate: Figures(rate=rate) for rate in rates}
    cpu_minutes = dict.fromkeys(rates, 0.0)
    commits: set[str] = set()
    started = time.monotonic()
    todo = []
    for n, first in enumerate(range(0, orders, slice_size)):
        for rate in rates:  # the rates side by side, so a stopped run has figures for both
            path = _kept_path(rate, n, slice_size)
            if path.exists():
                kept = json.loads(path.read_text())
                totals[rate].add(Figures(**kept["figures"]))
                cpu_minutes[rate] += kept["cpu_seconds"] / 60
                commits.add(kept["commit"])
            else:
                todo.append((rate, n, min(slice_size, orders - first)))
    print(
        f"{len(todo)} slices to run, {len(rates) * -(-orders // slice_size) - len(todo)} kept from earlier runs",
        flush=True,
    )
    commit = _commit()
    # One process per slice: each starts with a fresh embedded AWS and gives its memory back.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
        slices = {pool.submit(timed_slice, size, rate, 1000 * int(rate * 100) + n): (rate, n) for rate, n, size in todo}
        for done in as_completed(slices):
            rate, n = slices[done]
            figures, seconds = done.result()
            kept = {"figures": asdict(figures), "cpu_seconds": seconds, "commit": commit}
            _kept_path(rate, n, slice_size).write_text(json.dumps(kept))
            totals[rate].add(figures)
            cpu_minutes[rate] += seconds / 60
            commits.add(commit)
            print(
                f"{rate:.0%} slice {n}: sent {figures.sent} dup {figures.duplicates} lost {figures.lost} "
                f"failed {figures.failed_with_reason} ({seconds:.0f} s)",
                flush=True,
            )
            for problem in figures.problems[:5]:
                print("   ", problem, flush=True)
            # Written after every slice: a run stopped early still records what it did, saying so.
            rows = [(rate, totals[rate], cpu_minutes[rate]) for rate in rates]
            text = section(rows, orders, slice_size, workers, (time.monotonic() - started) / 60, commits)
            results.write([(HEADING.removeprefix("## "), text.split("\n", 1)[1])], in_place=True)
    rows = [(rate, totals[rate], cpu_minutes[rate]) for rate in rates]
    text = section(rows, orders, slice_size, workers, (time.monotonic() - started) / 60, commits)
    results.write([(HEADING.removeprefix("## "), text.split("\n", 1)[1])], in_place=True)
    print(text)
    return 0 if all(f.duplicates == 0 and f.lost == 0 and f.webhooks_not_accepted == 0 for _, f, _ in rows) else 1


def timed_slice(orders: int, rate: float, seed: int) -> tuple[Any, float]:
    started = time.process_time()
    figures = run_slice(orders, rate, seed)
    return figures, time.process_time() - started


if __name__ == "__main__":
    sys.exit(main())
