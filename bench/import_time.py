"""Cold import cost of the Lambda entry point, against boto3 + chalice alone.

Each statement runs in fresh interpreters under ``python -X importtime``; the figure is the
median of the summed cumulative times of the statement's top-level imports.  Goal: ``import
app`` at most 1.2 times ``import boto3, chalice``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TITLE = "Cold start, import"
ROOT = Path(__file__).resolve().parent.parent
APP = ("app",)
BASELINE = ("boto3", "chalice")
APP_AND_BOTO3 = ("app", "boto3")  # app builds its clients lazily: the first AWS call pays boto3
RUNS = 10
GOAL = 1.2


def parse(stderr: str) -> list[tuple[int, int, int, str]]:
    """``(self_us, cumulative_us, depth, module)`` per line of ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append((int(self_us), int(cumulative_us), depth, name.strip()))
    return rows


def measure(modules: tuple[str, ...]) -> tuple[int, dict[str, int]]:
    """One fresh interpreter: total microseconds for ``modules`` and every module's self time."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import " + ", ".join(modules)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = parse(done.stderr)
    total = sum(cumulative for _, cumulative, depth, name in rows if depth == 0 and name in modules)
    return total, {name: self_us for self_us, _, _, name in rows}


def main(runs: int = RUNS) -> dict[str, float]:
    app_totals, base_totals, with_boto3 = [], [], []
    app_self: dict[str, list[int]] = defaultdict(list)
    base_modules: set[str] = set()
    for _ in range(runs):  # alternate, so that disk cache and load hit both alike
        total, selves = measure(APP)
        app_totals.append(total)
        for name, value in selves.items():
            app_self[name].append(value)
        total, selves = measure(BASELINE)
        base_totals.append(total)
        base_modules |= set(selves)
        with_boto3.append(measure(APP_AND_BOTO3)[0])
    app_ms, base_ms = statistics.median(app_totals) / 1000, statistics.median(base_totals) / 1000
    ratio = app_ms / base_ms
    print(f"import app              median {app_ms:7.1f} ms over {runs} runs")
    print(f"import boto3, chalice   median {base_ms:7.1f} ms over {runs} runs")
    print(f"ratio                   {ratio:.2f} (goal <= {GOAL})")
    both_ms = statistics.median(with_boto3) / 1000
    print(
        f"import app, boto3       median {both_ms:7.1f} ms: ratio {both_ms / base_ms:.2f} once the first AWS client is built"
    )
    added = sorted(
        ((statistics.median(v) / 1000, name) for name, v in app_self.items() if name not in base_modules), reverse=True
    )
    print(
        f"modules app adds over boto3 + chalice: {len(added)}, {sum(ms for ms, _ in added):.1f} ms of their own; the slowest:"
    )
    for ms, name in added[:15]:
        print(f"  {ms:6.1f} ms  {name}")
    return {"app_ms": app_ms, "baseline_ms": base_ms, "ratio": ratio, "app_and_boto3_ms": both_ms}


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    return [
        f"import app: {figures['app_ms']:.0f} ms median against {figures['baseline_ms']:.0f} ms for import boto3, chalice: {figures['ratio']:.2f} (goal <= {GOAL}); {figures['app_and_boto3_ms'] / figures['baseline_ms']:.2f} once boto3 is loaded for the first AWS call"
    ]


if __name__ == "__main__":
    main()
