"""Memory: the peak RSS (VmHWM, or resource.getrusage where /proc is missing) of one ``send`` batch of 10 and one ``dispatch`` run, each in a fresh subprocess, against a process that only imports the app.

moto runs inside the measured process, so each figure is shown with the peak of the same
process just before the step (setup, moto's tables included) and the step's own growth."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

TITLE = "Memory"
ROOT = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    """This process's peak RSS. getrusage's ru_maxrss is the figure, except that Linux folds
    the spawning parent's high-water mark into it across vfork+exec (the bench is big), so the
    process's own VmHWM is used where /proc has it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(step: str) -> dict[str, float]:
    if step == "import":
        import app  # noqa: F401

        return {"before": _peak_mb(), "after": _peak_mb()}
    import time_machine
    from moto import mock_aws

    import devstack
    from bench import sending

    sending.local_environment()
    with mock_aws(), time_machine.travel(sending.NOW, tick=True):
        application, batches, _ = sending.prepare(5 if step == "send" else 10)
        before = _peak_mb()
        if step == "send":
            for stub in sending.stubbed_providers():
                stub.activate()
            application.handler_map["send"](batches[0], devstack._Context("send"))
        else:
            application.handler_map["dispatch"](
                devstack.scheduled_event(sending.NOW + timedelta(days=30)), devstack._Context("dispatch")
            )
        return {
            "before": before,
            "after": _peak_mb(),
            "records": float(len(batches[0]["Records"])) if step == "send" else 0.0,
        }


def measure(step: str) -> dict[str, float]:
    env = dict(os.environ, POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_LOG_LEVEL="ERROR")
    done = subprocess.run(
        [sys.executable, "-m", "bench.memory", step], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> dict[str, Any]:
    base = measure("import")
    send = measure("send")
    dispatch = measure("dispatch")
    print(f"import app only                  peak {base['after']:6.1f} MB")
    print(
        f"send, one batch of {send['records']:.0f}            peak {send['after']:6.1f} MB  (setup with moto {send['before']:.1f} MB; the batch added {send['after'] - send['before']:.1f} MB)"
    )
    print(
        f"dispatch, one run                peak {dispatch['after']:6.1f} MB  (setup with moto {dispatch['before']:.1f} MB; the run added {dispatch['after'] - dispatch['before']:.1f} MB)"
    )
    print("On Lambda moto is not in the process: a batch needs the import's peak plus its own growth.")
    return {
        "import_mb": base["after"],
        "send_mb": send["after"],
        "send_growth_mb": send["after"] - send["before"],
        "dispatch_mb": dispatch["after"],
        "dispatch_growth_mb": dispatch["after"] - dispatch["before"],
    }


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    return [
        f"Memory: import {figures['import_mb']:.0f} MB peak RSS; a send batch of 10 adds {figures['send_growth_mb']:.1f} MB, a dispatch run {figures['dispatch_growth_mb']:.1f} MB (moto excluded)"
    ]


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1])))
