"""A store's webhook receiver on localhost (the local stage allows local addresses): it
answers with the statuses it is given, in turn, keeps every request as it came, and checks
each on arrival with the official ``standardwebhooks`` package, as a store's server would
(the timestamp is judged against the world's clock at that moment)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import auth


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified_with: tuple[str, ...]  # which of the receiver's secrets verified it on arrival

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """Answers ``statuses`` one request after another, then ``then`` for every later one."""

    def __init__(self, statuses: Iterable[int] = (), then: int = 200) -> None:
        self.statuses = list(statuses)
        self.then = then
        self.received: list[Received] = []
        self.secrets: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(headers, body, receiver.verify(headers, body)))
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.then
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/aftercare"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def verify(self, headers: dict[str, str], body: bytes) -> tuple[str, ...]:
        verified = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(secret)
        return tuple(verified)

    def types(self) -> list[str]:
        return [str(r.event["type"]) for r in self.received]


def register(client: Any, store: dict[str, Any], url: str, events: list[str], **extra: Any) -> Any:
    """``POST /stores/{store_id}/endpoints`` as the store calls it."""
    return client.http.post(
        f"/stores/{store['store_id']}/endpoints",
        headers=auth(store["api_key"]),
        body=json.dumps({"url": url, "events": events, **extra}),
    )


def endpoints_of(client: Any, store: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.http.get(f"/stores/{store['store_id']}/endpoints", headers=auth(store["api_key"]))
    assert answer.status_code == 200, answer.body
    return list(answer.json_body["endpoints"])


def deliveries_of(client: Any, store: dict[str, Any], endpoint_id: str) -> list[dict[str, Any]]:
    answer = client.http.get(
        f"/stores/{store['store_id']}/endpoints/{endpoint_id}/deliveries", headers=auth(store["api_key"])
    )
    assert answer.status_code == 200, answer.body
    return list(answer.json_body["deliveries"])
