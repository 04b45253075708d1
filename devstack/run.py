"""``make run``: the whole system on one laptop, and ``tick`` to move its time.

One process holds the embedded AWS (moto's server, in a thread), the scheduler that runs
``deliver`` every wall-clock minute, and the outbox page; ``chalice local --stage local``
serves the API in a child process of its own session, stopped with it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any

import devstack
from devstack import ROOT

STATE = ROOT / ".devstack.json"
API_START_TIMEOUT = 90.0
STOP_TIMEOUT = 5.0
PROJECT_LINKS = ("app.py", "chalicelib", "templates", "vendor")


def free_port(host: str, start: int, taken: tuple[int, ...] = (), tries: int = 50) -> int:
    """``start`` if nobody listens there, else the next free port above it (never one of ``taken``)."""
    for port in range(start, start + tries):
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + tries - 1} on {host}")


@dataclass
class Endpoints:
    api: str
    outbox: str
    aws: str
    operator_token: str

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({**self.__dict__, "pid": os.getpid()}, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Endpoints:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise SystemExit(f"{path.name} not found: start the stack first with `make run`") from None
        return cls(data["api"], data["outbox"], data["aws"], data["operator_token"])


def local_project(api_url: str) -> Path:
    """A project directory for ``chalice local`` whose local stage knows the API's real URL.

    ``chalice local`` sets the stage's variables from ``.chalice/config.json`` over the
    environment it is given, so ``PUBLIC_BASE_URL`` is corrected in a copy of the config;
    the code itself is linked, so edits still reload.
    """
    project = Path(tempfile.mkdtemp(prefix="aftercare-local-"))
    for name in PROJECT_LINKS:
        if (ROOT / name).exists():
            (project / name).symlink_to(ROOT / name)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    config["stages"]["local"]["environment_variables"]["PUBLIC_BASE_URL"] = api_url
    (project / ".chalice").mkdir()
    (project / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))
    return project


def _wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chalice local exited with status {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the API did not answer at {url} within {timeout:.0f} s")


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def describe(delivered: devstack.Delivered) -> str:
    lines = []
    for tick in delivered.dispatch:
        lines.append(f"dispatch: {tick.get('due', 0)} due, {tick.get('queued', 0)} queued" if isinstance(tick, dict) else f"dispatch: {tick}")
    lines += [f"sent: {job.get('pk')} {job.get('sk')}" for job in delivered.send]
    lines += [f"failed (will retry): {job.get('pk')} {job.get('sk')}" for job in delivered.failed]
    lines += [f"{handler}: 1 message" for handler, _ in delivered.sns]
    return "\n".join(lines)


def _scheduler(app: Any, stop: threading.Event) -> None:
    """``deliver`` at every wall-clock minute, with that minute as the event time."""
    while True:
        now = time.time()
        if stop.wait(60 - now % 60):
            return
        minute = datetime.fromtimestamp(time.time(), timezone.utc).replace(second=0, microsecond=0)
        try:
            delivered = devstack.deliver(app, minute)
        except Exception:  # a failing handler must not stop the clock; its traceback is shown
            traceback.print_exc()
            continue
        if delivered.count or delivered.failed:
            print(f"[{minute:%H:%M}] {describe(delivered)}", flush=True)


def banner(endpoints: Endpoints) -> str:
    body = '{"name": "Demo Shop", "sender_email": "hello@demo.example", "timezone": "Europe/Athens", "language": "en", "support_email": "care@demo.example"}'
    return "\n".join(
        [
            "Aftercare is running on an embedded AWS (Ctrl-C stops everything).",
            f"  API             {endpoints.api}",
            f"  outbox          {endpoints.outbox}  (JSON: {endpoints.outbox}/outbox.json)",
            f"  embedded AWS    {endpoints.aws}",
            f"  operator token  {endpoints.operator_token}",
            f"  API description {endpoints.api}/openapi.json",
            "",
            "Create a store:",
            f"  curl -s -X POST {endpoints.api}/stores -H 'Authorization: Bearer {endpoints.operator_token}' \\",
            f"       -H 'Content-Type: application/json' -d '{body}'",
            "Move time (dispatch runs every minute by itself):",
            "  .venv/bin/python -m devstack tick --at 2026-12-01T10:00:00Z",
        ]
    )


def run_command(host: str, moto_port: int, api_port: int, outbox_port: int, *, scheduler: bool = True, state: Path = STATE) -> int:
    import logging

    from moto.server import ThreadedMotoServer

    from devstack import outbox
    from chalicelib import resources

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    moto_port = free_port(host, moto_port)
    api_port = free_port(host, api_port, (moto_port,))
    outbox_port = free_port(host, outbox_port, (moto_port, api_port))
    aws = ThreadedMotoServer(ip_address=host, port=moto_port, verbose=False)
    aws.start()
    api_url = f"http://{host}:{api_port}"
    env = devstack.use_local_environment(f"http://{host}:{moto_port}")
    os.environ["PUBLIC_BASE_URL"] = api_url
    devstack.reset_caches()
    devstack.provision()

    project = local_project(api_url)
    chalice = Path(sys.executable).with_name("chalice")
    api = subprocess.Popen(
        [str(chalice if chalice.exists() else "chalice"), "--project-dir", str(project), "local", "--stage", "local", "--host", host, "--port", str(api_port)],
        cwd=project,
        env=dict(os.environ),
        start_new_session=True,  # its reloader and worker are stopped together, by group
    )
    page = None
    ticker = None
    try:
        _wait_for_http(f"{api_url}/openapi.json", api, API_START_TIMEOUT)
        page = outbox.serve(host, outbox_port, (resources.ESCALATION_TOPIC,))
        endpoints = Endpoints(api_url, f"http://{host}:{outbox_port}", f"http://{host}:{moto_port}", env.get("OPERATOR_TOKEN", ""))
        endpoints.save(state)
        if scheduler:
            from app import app

            ticker = threading.Thread(target=_scheduler, args=(app, stop), name="scheduler", daemon=True)
            ticker.start()
        print(banner(endpoints), flush=True)
        while not stop.wait(0.5):
            if api.poll() is not None:
                print(f"chalice local stopped (status {api.returncode}); shutting down", file=sys.stderr, flush=True)
                return 1
        return 0
    except RuntimeError as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    finally:
        stop.set()
        _stop_process_group(api)
        if page is not None:
            page.shutdown()
            page.server_close()
        if ticker is not None:
            ticker.join(5)
        aws.stop()
        state.unlink(missing_ok=True)
        shutil.rmtree(project, ignore_errors=True)
        print("stopped", flush=True)


def tick_command(at: str, state: Path = STATE) -> int:
    """``deliver`` once at ``at`` against the running stack (its AWS endpoint from ``state``)."""
    from chalicelib.clock import parse_iso

    endpoints = Endpoints.load(state)
    devstack.use_local_environment(endpoints.aws)
    os.environ["PUBLIC_BASE_URL"] = endpoints.api
    devstack.reset_caches()
    from app import app

    delivered = devstack.deliver(app, parse_iso(at))
    print(describe(delivered) or "nothing to deliver", flush=True)
    print(f"{delivered.count} delivered, {len(delivered.failed)} failed; outbox: {endpoints.outbox}", flush=True)
    return 0
