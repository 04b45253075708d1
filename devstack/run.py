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
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import devstack
from devstack import ROOT

# Where a running stack writes its endpoints; DEVSTACK_STATE points the commands elsewhere.
STATE = Path(os.environ.get("DEVSTACK_STATE") or ROOT / ".devstack.json")
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
    demo_store: dict[str, str] | None = None  # the store make run creates: its id and API key

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({**self.__dict__, "pid": os.getpid()}, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Endpoints:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise SystemExit(f"{path.name} not found: start the stack first with `make run`") from None
        return cls(data["api"], data["outbox"], data["aws"], data["operator_token"], data.get("demo_store"))


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


@dataclass
class Report:
    """What one ``deliver`` did to customers: sent, waiting (with why), skipped (with why), failed."""

    sent: list[str]
    waiting: list[str]
    skipped: list[str]
    failed: list[str]

    def lines(self) -> list[str]:
        return [
            *(f"sent     {line}" for line in self.sent),
            *(f"waiting  {line}" for line in self.waiting),
            *(f"skipped  {line}" for line in self.skipped),
            *(f"failed   {line}" for line in self.failed),
        ]

    def summary(self) -> str:
        return f"{len(self.sent)} sent, {len(self.waiting)} waiting, {len(self.skipped)} skipped, {len(self.failed)} failed"


def report(delivered: devstack.Delivered) -> Report:
    """Each job ``send`` was handed, read back once in its final state: lookups that only plan
    other jobs, and records that will be retried, are not messages and are not counted."""
    from chalicelib.core.models import JobStatus
    from chalicelib.storage import db

    out = Report([], [], [], [])
    seen: set[tuple[str, str]] = set()
    for message in [*delivered.send, *delivered.failed]:
        key = (str(message.get("pk")), str(message.get("sk")))
        if key in seen:
            continue
        seen.add(key)
        job = db.table().get({"PK": key[0], "SK": key[1]}, consistent=True)
        if job is None:
            continue
        who = job.get("customer_id") or "support"
        what = f"{job.get('kind')} to {who}" + (f" (order {job['order_id']})" if job.get("order_id") else "")
        status = job.get("status")
        again = status == JobStatus.PENDING.value and str(job.get("last_sent_at") or "") >= str(
            message.get("now") or "~"
        )  # a yearly greeting, sent and planned again
        if status == JobStatus.SENT.value or again:
            channels = ", ".join(job.get("channels") or [])
            out.sent.append(what + (f" by {channels}" if channels else ""))
        elif status == JobStatus.PENDING.value and job.get("deferred_reason"):
            out.waiting.append(f"{what} until {job.get('due')}: {job['deferred_reason']}")
        elif status in (JobStatus.SKIPPED.value, JobStatus.CANCELLED.value):
            out.skipped.append(f"{what}: {job.get('reason')}")
        elif status == JobStatus.FAILED.value:
            out.failed.append(f"{what}: {job.get('reason')}")
    return out


def describe(delivered: devstack.Delivered) -> str:
    return "\n".join(report(delivered).lines())


def _scheduler(app: Any, stop: threading.Event) -> None:
    """``deliver`` at every wall-clock minute, with that minute as the event time."""
    while True:
        now = time.time()
        if stop.wait(60 - now % 60):
            return
        minute = datetime.fromtimestamp(time.time(), UTC).replace(second=0, microsecond=0)
        try:
            delivered = devstack.deliver(app, minute)
        except Exception:  # a failing handler must not stop the clock; its traceback is shown
            traceback.print_exc()
            continue
        if delivered.count or delivered.failed:
            print(f"[{minute:%H:%M}] {describe(delivered)}", flush=True)


DEMO_STORE = {
    "name": "Demo Shop",
    "sender_email": "hello@demo.example",
    "timezone": "Europe/Athens",
    "language": "en",
    "support_email": "care@demo.example",
    "support_phone": "+302101234567",
}


def create_demo_store(api_url: str, operator_token: str) -> dict[str, str]:
    """A store to open the console with, created through the API as any store is."""
    request = urllib.request.Request(
        f"{api_url}/stores",
        data=json.dumps(DEMO_STORE).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {operator_token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        created = json.load(answer)
    return {"store_id": created["store_id"], "api_key": created["api_key"], "support_key": created["support_key"]}


def banner(endpoints: Endpoints) -> str:
    body = '{"name": "Demo Shop", "sender_email": "hello@demo.example", "timezone": "Europe/Athens", "language": "en", "support_email": "care@demo.example"}'
    demo = endpoints.demo_store
    console = (
        [
            "Demo store console (sign in with its API key):",
            f"  console         {endpoints.api}/stores/{demo['store_id']}/console",
            f"  API key         {demo['api_key']}",
            f"  support key     {demo['support_key']}  (inbox and dashboard)",
        ]
        if demo
        else []
    )
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
            *console,
        ]
    )


def run_command(
    host: str, moto_port: int, api_port: int, outbox_port: int, *, scheduler: bool = True, state: Path = STATE
) -> int:
    import logging

    from moto.server import ThreadedMotoServer

    from chalicelib.platform import resources
    from devstack import outbox

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
        [
            str(chalice if chalice.exists() else "chalice"),
            "--project-dir",
            str(project),
            "local",
            "--stage",
            "local",
            "--host",
            host,
            "--port",
            str(api_port),
        ],
        cwd=project,
        env=dict(os.environ),
        start_new_session=True,  # its reloader and worker are stopped together, by group
    )
    page = None
    ticker = None
    try:
        _wait_for_http(f"{api_url}/openapi.json", api, API_START_TIMEOUT)
        page = outbox.serve(host, outbox_port, (resources.ESCALATION_TOPIC,))
        endpoints = Endpoints(
            api_url, f"http://{host}:{outbox_port}", f"http://{host}:{moto_port}", env.get("OPERATOR_TOKEN", "")
        )
        endpoints.demo_store = create_demo_store(api_url, endpoints.operator_token)
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


def _attach(state: Path) -> tuple[Endpoints, Any]:
    """The running stack's endpoints, and the app pointed at its embedded AWS, quietly: the
    handlers' JSON logs and metrics would drown what a command has to say."""
    endpoints = Endpoints.load(state)
    devstack.use_local_environment(endpoints.aws)
    os.environ["PUBLIC_BASE_URL"] = endpoints.api
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    devstack.reset_caches()
    from app import app
    from chalicelib.platform.observability import logger

    logger.setLevel("WARNING")
    return endpoints, app


def when(text: str | None) -> datetime:
    """An ISO instant, or a time from now such as ``+12d``, ``+2h30m`` (default: now)."""
    import re
    from datetime import timedelta

    from chalicelib.core.clock import parse_iso, wall_clock

    if not text:
        return wall_clock()
    relative = re.fullmatch(r"\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?", text.strip())
    if relative and any(relative.groups()):
        days, hours, minutes = (int(g or 0) for g in relative.groups())
        return wall_clock() + timedelta(days=days, hours=hours, minutes=minutes)
    try:
        return parse_iso(text)
    except ValueError:
        raise SystemExit(
            f"--at takes an ISO time (2026-12-01T10:00:00Z) or a time from now (+12d, +2h30m), not {text!r}"
        ) from None


def tick_command(at: str, state: Path = STATE) -> int:
    """``deliver`` once at ``at`` against the running stack (its AWS endpoint from ``state``)."""
    endpoints, app = _attach(state)
    done = report(devstack.deliver(app, when(at)))
    for line in done.lines():
        print(line, flush=True)
    print(f"{done.summary()}; outbox: {endpoints.outbox}", flush=True)
    return 0


def sms_command(sender: str, text: str, at: str | None = None, state: Path = STATE) -> int:
    """A customer's text to the store's number, handed to ``inbound_sms`` as End User Messaging
    publishes it through SNS, arriving at ``at`` (default now, so it can follow a ``tick``);
    then everything it sets off is delivered and the replies are printed."""
    import uuid

    from chalicelib.core.clock import iso
    from chalicelib.platform import resources

    endpoints, app = _attach(state)
    now = when(at)
    before = {m["message_id"] for m in _outbox(endpoints)["sms"]}
    payload = {
        "originationNumber": sender,
        "destinationNumber": "+10000000000",
        "messageKeyword": "KEYWORD_DEVSTACK",
        "messageBody": text,
        "inboundMessageId": str(uuid.uuid4()),
        "previousPublishedMessageId": "",
    }
    topic = f"arn:aws:sns:{devstack.REGION}:{devstack.ACCOUNT}:{resources.INBOUND_SMS_TOPIC}"
    envelope = {
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": json.dumps(payload),
        "Timestamp": iso(now),
    }
    app.handler_map["inbound_sms"](devstack._sns_record(envelope), None)
    return _replies(app, endpoints, sender, now, before, "sms")


def whatsapp_command(sender: str, text: str, at: str | None = None, state: Path = STATE) -> int:
    """A customer's WhatsApp message to the store's number, handed to ``inbound_whatsapp`` as
    End User Messaging Social publishes it through SNS (Meta's webhook entry in its event);
    then everything it sets off is delivered and the replies are printed."""
    import uuid

    from chalicelib.core.clock import iso
    from chalicelib.platform import resources

    endpoints, app = _attach(state)
    now = when(at)
    before = {m["message_id"] for m in _outbox(endpoints)["whatsapp"]}
    number = sender.lstrip("+")
    entry = {
        "id": "devstack-waba",
        "changes": [
            {
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "10000000000", "phone_number_id": "devstack"},
                    "contacts": [{"profile": {"name": "devstack"}, "wa_id": number}],
                    "messages": [
                        {
                            "from": number,
                            "id": f"wamid.devstack-{uuid.uuid4().hex}",
                            "timestamp": str(int(now.timestamp())),
                            "type": "text",
                            "text": {"body": text},
                        }
                    ],
                },
                "field": "messages",
            }
        ],
    }
    event = {
        "context": {"MetaWabaIds": [], "MetaPhoneNumberIds": []},
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": devstack.ACCOUNT,
        "message_timestamp": iso(now),
        "messageId": str(uuid.uuid4()),
    }
    topic = f"arn:aws:sns:{devstack.REGION}:{devstack.ACCOUNT}:{resources.INBOUND_WHATSAPP_TOPIC}"
    envelope = {"MessageId": str(uuid.uuid4()), "TopicArn": topic, "Message": json.dumps(event), "Timestamp": iso(now)}
    app.handler_map["inbound_whatsapp"](devstack._sns_record(envelope), None)
    return _replies(app, endpoints, sender, now, before, "whatsapp")


def _replies(app: Any, endpoints: Endpoints, sender: str, now: datetime, before: set[str], box: str) -> int:
    """Deliver what an inbound message set off; print the replies to ``sender`` in ``box``."""
    done = report(devstack.deliver(app, now))
    replies = [m for m in _outbox(endpoints)[box] if m["message_id"] not in before and m["to"] == sender]
    for message in replies:
        on = " on WhatsApp" if box == "whatsapp" else ""
        print(f"reply    to {sender}{on}: {message['body'] or message.get('template')}", flush=True)
    for line in done.lines():
        print(line, flush=True)
    print(f"{len(replies)} replies, {done.summary()}; outbox: {endpoints.outbox}", flush=True)
    return 0


def env_command(state: Path = STATE) -> int:
    """Shell assignments for the running stack's URLs and operator token (``eval "$(...)"``)."""
    import shlex

    endpoints = Endpoints.load(state)
    for name, value in (
        ("API", endpoints.api),
        ("OUTBOX", endpoints.outbox),
        ("OPERATOR_TOKEN", endpoints.operator_token),
    ):
        print(f"export {name}={shlex.quote(value)}")
    return 0


def _outbox(endpoints: Endpoints) -> dict[str, Any]:
    with urllib.request.urlopen(f"{endpoints.outbox}/outbox.json", timeout=10) as answer:
        return dict(json.load(answer))
