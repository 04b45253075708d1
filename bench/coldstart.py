"""Cold start of the first request of each kind: a webhook, a survey page, ``send`` of one job, each from a fresh process's start to its answer, against a process that imports boto3 and chalice, makes one DynamoDB call and answers a bare Chalice route.

AWS is one moto server started by the bench (so every process talks to the same tables over
loopback); SES is answered by a botocore Stubber in the ``send`` process. The figure is the
median over fresh processes, alternating with the floor."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chalicelib.surveys import tokens

TITLE = "Cold start, first request"
ROOT = Path(__file__).resolve().parent.parent
RUNS = 10
KINDS = ("webhook", "survey page", "send one job")


def child(kind: str, spec_path: str) -> None:
    """Run in a fresh interpreter: answer one request of ``kind`` and print the time it answered."""
    spec = json.loads(Path(spec_path).read_text())
    if kind == "floor":
        import boto3
        from chalice.app import Chalice
        from chalice.test import Client

        bare = Chalice(app_name="floor", configure_logs=False)

        @bare.route("/")
        def index() -> dict[str, str]:
            boto3.client("dynamodb").get_item(
                TableName=spec["table"], Key={"PK": {"S": "nothing"}, "SK": {"S": "nothing"}}
            )
            return {"ok": "yes"}

        with Client(bare) as client:
            status = client.http.get("/").status_code
    elif kind == "send one job":
        import devstack
        from app import app
        from bench import sending

        for stub in sending.stubbed_providers():
            stub.activate()
        answer = app.handler_map["send"](spec["batch"], devstack._Context("send"))
        status = 200 if not (answer or {}).get("batchItemFailures") else 500
    else:
        from chalice.test import Client

        from app import app

        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            if kind == "webhook":
                status = client.http.post(spec["path"], headers=spec["headers"], body=spec["body"].encode()).status_code
            else:
                status = client.http.get(spec["path"]).status_code
    print(json.dumps({"answered": time.time(), "status": status}))


def _timed(kind: str, spec: dict[str, Any], work: Path, env: dict[str, str]) -> float:
    path = work / "spec.json"
    path.write_text(json.dumps(spec))
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "bench.coldstart", kind, str(path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind}: {done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if answer["status"] >= 400:
        raise RuntimeError(f"{kind} answered {answer['status']}: {done.stderr[-1000:]}")
    return (float(answer["answered"]) - started) * 1000


def _specs(runs: int) -> dict[str, list[dict[str, Any]]]:
    """Fresh inputs for every run: a signed webhook, an issued survey, a queued job."""
    import time_machine

    from bench import sending
    from chalicelib.intake.signatures import standard_sign
    from chalicelib.storage import db
    from chalicelib.stores import registry

    with time_machine.travel(sending.NOW, tick=True):
        _, batches, created = sending.prepare(runs)
    records = [r for b in batches for r in b["Records"]][:runs]
    table = db.table()
    store = registry.get_store(table, created.store_id, fresh=True)
    secret = created.webhook_secret
    specs: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for n in range(runs):
        event = {
            "order_id": f"C-{n}",
            "status": "created",
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "customer": {"email": f"c{n}@example.com"},
            "items": [{"sku": "A", "title": "A"}],
        }
        body = json.dumps(event)
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": f"cold-{n}-{stamp}",
            "webhook-timestamp": str(stamp),
        }
        headers["webhook-signature"] = standard_sign(secret, headers["webhook-id"], stamp, body.encode())
        specs["webhook"].append({"path": f"/webhooks/orders/{store['store_id']}", "headers": headers, "body": body})
        link = tokens.issue_survey(
            table,
            store=store,
            customer_id=f"c{n}@example.com",
            order_id=f"C-{n}",
            kind="post_delivery",
            channel="email",
            contact=f"c{n}@example.com",
            now=sending.NOW,
        )
        specs["survey page"].append({"path": "/s/" + link.token})
        specs["send one job"].append({"batch": {"Records": [records[n % len(records)]]}})
    return specs


def main(runs: int = RUNS) -> dict[str, Any]:
    import logging
    import tempfile

    from moto.server import ThreadedMotoServer

    import devstack
    from bench import sending
    from devstack.run import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request log
    port = free_port("127.0.0.1", 47000)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = sending.local_environment()
    devstack.use_local_environment(f"http://127.0.0.1:{port}")
    os.environ["SES_SUPPRESSION_CHECK"] = "on"
    try:
        specs = _specs(runs)
        env = dict(os.environ)
        floor_spec = {"table": os.environ["TABLE_NAME"]}
        times: dict[str, list[float]] = {k: [] for k in ("floor", *KINDS)}
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for n in range(runs):
                for kind in KINDS:
                    times["floor"].append(_timed("floor", floor_spec, work, env))
                    times[kind].append(_timed(kind, specs[kind][n], work, env))
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        devstack.reset_caches()
    floor = statistics.median(times["floor"])
    print(
        f"{'first request':16} {'median ms':>9} {'vs floor':>8}   (process start to answer, {runs} fresh processes each)"
    )
    print(f"{'floor':16} {floor:>9.0f} {1:>7.2f}x   import boto3, chalice; one DynamoDB GetItem; a bare Chalice route")
    figures: dict[str, Any] = {"floor_ms": floor}
    for kind in KINDS:
        ms = statistics.median(times[kind])
        figures[kind] = {"ms": ms, "ratio": ms / floor}
        print(f"{kind:16} {ms:>9.0f} {ms / floor:>7.2f}x")
    return figures


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    parts = ", ".join(f"{k} {figures[k]['ms']:.0f} ms ({figures[k]['ratio']:.2f}x)" for k in KINDS)
    return [
        f"First request from process start to answer, against boto3 + chalice + one DynamoDB call + a bare route ({figures['floor_ms']:.0f} ms): {parts}"
    ]


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2])
