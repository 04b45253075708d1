"""`make run` as a newcomer uses it: start, create a store with curl-like requests, look at
the outbox, move time, press Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import devstack

STORE = {
    "name": "Olive Grove",
    "sender_email": "hello@olivegrove.example",
    "timezone": "Asia/Jerusalem",
    "language": "he",
    "support_email": "care@olivegrove.example",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, *, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(
        urllib.request.Request(url, data=data, headers=headers, method=method), timeout=10
    ) as answer:
        raw = answer.read().decode()
        return answer.status, json.loads(raw) if "json" in answer.headers.get("Content-Type", "") else raw


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("stack")
    state, log = work / "devstack.json", work / "run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    ports = [str(_free_port()) for _ in range(3)]
    # the API's usual port is taken by something else
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", int(ports[1])))
    squatter.listen()
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devstack",
                "run",
                "--moto-port",
                ports[0],
                "--api-port",
                ports[1],
                "--outbox-port",
                ports[2],
                "--state",
                str(state),
            ],
            cwd=devstack.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while "Create a store" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the stack did not start:\n{log.read_text()}")
        time.sleep(0.3)
    yield {
        "process": process,
        "state": state,
        "log": log,
        "endpoints": json.loads(state.read_text()),
        "env": env,
        "taken": int(ports[1]),
    }
    squatter.close()
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_printed_urls_serve_the_api_and_the_outbox(stack: dict[str, Any]) -> None:
    # GIVEN the running stack and the URLs it printed
    printed = stack["log"].read_text()
    endpoints = stack["endpoints"]
    assert f"API             {endpoints['api']}" in printed
    assert endpoints["outbox"] in printed and f"operator token  {endpoints['operator_token']}" in printed
    assert f"curl -s -X POST {endpoints['api']}/stores" in printed
    # and the API moved to a free port, which links in messages use
    assert not endpoints["api"].endswith(f":{stack['taken']}")
    status, description = _request(f"{endpoints['api']}/openapi.json")
    assert status == 200 and description["servers"] == [{"url": endpoints["api"]}]
    # WHEN a store is created with the operator token and read back with its API key
    status, created = _request(
        f"{endpoints['api']}/stores", method="POST", body=STORE, token=endpoints["operator_token"]
    )
    assert status == 201
    status, read = _request(f"{endpoints['api']}/stores/{created['store_id']}", token=created["api_key"])
    # THEN it has the settings it was created with
    assert status == 200
    assert (read["name"], read["timezone"], read["language"]) == ("Olive Grove", "Asia/Jerusalem", "he")
    # and the outbox page and its JSON load
    status, page = _request(endpoints["outbox"] + "/")
    assert status == 200 and "<h1>Outbox</h1>" in page
    status, listing = _request(endpoints["outbox"] + "/outbox.json")
    assert status == 200 and set(listing) == {"emails", "sms", "whatsapp", "notifications"}


def test_the_printed_console_opens_with_the_demo_stores_printed_api_key(stack: dict[str, Any]) -> None:
    import re

    import requests

    # GIVEN the console URL and API key make run printed for its demo store
    printed = stack["log"].read_text()
    url = re.search(r"console +(http://\S+/console)", printed)
    key = re.search(r"API key +(ak_\S+)", printed)
    assert url and key, printed[-2000:]
    # WHEN the console is opened THEN it asks for the API key
    assert 'name="api_key"' in requests.get(url.group(1), timeout=30).text
    # WHEN the printed key is typed in THEN the console opens on its setup page
    session = requests.post(
        f"{url.group(1)}/session", data={"api_key": key.group(1)}, allow_redirects=False, timeout=30
    )
    assert session.status_code == 303
    setup = requests.get(url.group(1), cookies=session.cookies, timeout=30)
    assert setup.status_code == 200 and "Webhook addresses" in setup.text


def test_tick_moves_time_on_the_running_stack(stack: dict[str, Any]) -> None:
    # WHEN dispatch is ticked at a given time against the running stack
    done = subprocess.run(
        [sys.executable, "-m", "devstack", "tick", "--at", "2026-12-01T10:00:00Z", "--state", str(stack["state"])],
        cwd=devstack.ROOT,
        env=stack["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # THEN it reports what it sent, and nothing else (no log or metric lines)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("0 sent, 0 waiting, 0 skipped, 0 failed; outbox: http://")
    assert "{" not in done.stdout


def readme_examples() -> list[str]:
    """Every shell block of the README, in order, but those marked as not run (with why)."""
    import re

    text = (devstack.ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.finditer(r"(?:(<!-- not run by the README test:[^>]*-->)\n)?```sh\n(.*?)```", text, re.S)
    return [m.group(2) for m in blocks if not m.group(1)]


def test_every_readme_example_runs_as_pasted(stack: dict[str, Any]) -> None:
    # GIVEN the README's shell examples, pasted one after another into one shell, where any
    # failing command or any 4xx/5xx answer stops the run
    script = "\n".join(["set -euo pipefail", 'curl() { command curl --fail-with-body "$@"; }', *readme_examples()])
    env = {
        **stack["env"],
        "DEVSTACK_STATE": str(stack["state"]),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    # WHEN they run against the stack `make run` started
    done = subprocess.run(
        ["bash", "-c", script], cwd=devstack.ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    # THEN every one succeeds, and together they tell the whole story: an order accepted, a
    # survey sent by email and SMS, an answer by SMS that opens a case, the case worked
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert '{"status":"accepted","order_id":"A-1001"}' in out
    assert "sent     survey to eleni@example.com (order A-1001) by email, sms" in out
    assert "reply    to +306944000111:" in out
    assert "reply    to +306944000111 on WhatsApp: Cedar & Sage" in out  # HELP, answered on WhatsApp
    assert '"status": "resolved"' in out or '"status":"resolved"' in out
    assert "dispatch:" not in out and '"_aws"' not in out  # no metric lines, no raw counts


def test_ctrl_c_stops_everything(stack: dict[str, Any]) -> None:
    # GIVEN the running stack (the tests above used it)
    process: subprocess.Popen[bytes] = stack["process"]
    api_port = int(stack["endpoints"]["api"].rsplit(":", 1)[1])
    # WHEN Ctrl-C is pressed
    process.send_signal(signal.SIGINT)
    # THEN it exits cleanly within a few seconds, the API port is released (no orphan
    # chalice process) and the endpoints file is gone
    assert process.wait(timeout=10) == 0
    assert "stopped" in stack["log"].read_text()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", api_port)) != 0
    assert not Path(stack["state"]).exists()


def test_the_outbox_shows_an_email_only_inside_a_sandboxed_frame() -> None:
    from devstack.outbox import render

    # GIVEN a sent email whose HTML carries a script and quotes, and an SMS
    mail = {
        "message_id": "m1",
        "sender": "Cedar & Sage <hello@cedarsage.example>",
        "to": ["dana@example.com"],
        "subject": "Thanks <b>Dana</b>",
        "html": "<p class=\"x\">Hi</p><script>alert('x')</script>",
        "text": "Hi Dana",
    }
    page = render(
        {
            "emails": [mail],
            "sms": [{"message_id": "s1", "to": "+302101234567", "body": "Rate us 0-10"}],
            "whatsapp": [
                {
                    "message_id": "w1",
                    "to": "+306944000111",
                    "type": "template",
                    "template": "order_feedback (en_US)",
                    "parameters": ["<i>Dana</i>", "https://x.example/s/abc"],
                    "body": "",
                }
            ],
            "notifications": [],
        }
    )
    # THEN the HTML appears only escaped in a sandboxed srcdoc (nothing of it runs in the page)
    assert "<script>" not in page
    assert "<iframe sandbox " in page and 'srcdoc="&lt;p class=&quot;x&quot;&gt;Hi&lt;/p&gt;&lt;script&gt;' in page
    # and the subject, addresses, text part and SMS are shown as text
    assert "Thanks &lt;b&gt;Dana&lt;/b&gt;" in page and "Cedar &amp; Sage &lt;hello@cedarsage.example&gt;" in page
    assert "Hi Dana" in page and "+302101234567" in page and "Rate us 0-10" in page
    # and a WhatsApp message shows its template and values, escaped too
    assert "<h2>WhatsApp (1)</h2>" in page and "order_feedback (en_US)" in page
    assert "<li>&lt;i&gt;Dana&lt;/i&gt;</li>" in page and "<i>Dana</i>" not in page
