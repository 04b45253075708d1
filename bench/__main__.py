"""``python -m bench``: run every benchmark module of this package, print its figures, and
write them to bench/RESULTS.md (``BENCH_ONLY=intake,dispatch`` runs a subset and leaves the
other sections as they were)."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bench import results

# The order sections appear in RESULTS.md; cost comes last, it reads the others' figures.
ORDER = ["import_time", "coldstart", "intake", "dispatch", "sending", "reports", "memory", "package", "load", "cost"]


class Tee(io.TextIOBase):
    """Print as usual and keep a copy for RESULTS.md."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.copy = out, io.StringIO()

    def write(self, text: str) -> int:
        self.out.write(text)
        self.out.flush()
        return self.copy.write(text)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=results.PATH.parent
    ).stdout.strip()
    return (
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'}\n"
        f"- Machine: {platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}\n"
        f"- Load average when the run started: {load} (a shared machine: read ratios, not absolute times)"
    )


METHOD = """Every figure is printed by `make bench` (`python -m bench`) and measured in the same run as
its floor, so that a ratio holds on a busy machine while absolute times do not. AWS is moto
(in process, or its server for the load test) or a botocore Stubber; request counts come from a
botocore `before-call` hook on the client the code uses, capacity units are computed from the
request items the way DynamoDB bills them (writes: 1 unit per started KB, doubled in a
transaction; eventually consistent reads: 0.5 unit per started 4 KB). Benchmarks print; no test
asserts a timing. `BENCH_ONLY=name,name` runs some sections and keeps the others."""


def main() -> int:
    # The figures are the output: keep the handlers' EMF metric lines out of it.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    here = Path(__file__).resolve().parent
    separate = {"results", "soak"}  # soak: make soak, many minutes long
    found = {m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_") and m.name not in separate}
    names = [n for n in ORDER if n in found] + sorted(found - set(ORDER))
    only = {n.strip() for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()}
    if only:
        names = [n for n in names if n in only]
    started = time.monotonic()
    sections: list[tuple[str, str]] = [("Run", machine())]
    figures: dict[str, Any] = {}
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        doc = (module.__doc__ or name).strip()
        title = getattr(module, "TITLE", name)
        print(f"== {title}: {doc.splitlines()[0]}", flush=True)
        tee = Tee(sys.stdout)
        took = time.monotonic()
        with contextlib.redirect_stdout(tee):
            result = module.main(figures) if getattr(module, "WANTS_FIGURES", False) else module.main()
        figures[name] = result
        print(flush=True)
        body = f"{doc}\n\n```\n{tee.copy.getvalue().rstrip()}\n```\n\n_{time.monotonic() - took:.0f} s wall._"
        sections.append((title, body))
    sections.insert(
        1,
        (
            "Method",
            METHOD
            + f"\n\nThis run took {time.monotonic() - started:.0f} s wall ({os.times().children_user + os.times().user:.0f} s CPU).",
        ),
    )
    headline = [
        line
        for name in names
        for line in getattr(importlib.import_module(f"bench.{name}"), "headline", lambda f: [])(figures.get(name))
    ]
    if headline:
        sections.insert(1, ("Headline figures", "\n".join(f"- {line}" for line in headline)))
    # A subset leaves the run, method and headline sections of the last full run alone.
    if only:
        path = results.write([s for s in sections if s[0] not in ("Run", "Method", "Headline figures")], in_place=True)
    else:
        path = results.write(sections)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
