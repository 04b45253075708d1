"""Outbound webhook addresses: public https only outside the local stage, and no redirects."""
from __future__ import annotations

import threading
import urllib.error
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from chalicelib import validate
from chalicelib.errors import InvalidInput
from chalicelib.escalation import default_opener, post_webhook


@pytest.mark.parametrize("address", [
    "http://hooks.slack.com/services/T0/B0/x",  # not https
    "https://localhost/hook",
    "https://127.0.0.1:8443/hook",
    "https://169.254.169.254/latest/meta-data",  # the instance metadata service
    "https://10.0.0.5/hook",
    "https://[::1]/hook",
    "https://metadata.google.internal/",
])
def test_private_or_plain_http_addresses_are_refused_outside_the_local_stage(address: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate.webhook_url(address, "slack_webhook_url", allow_local=False)
    assert refused.value.field == "slack_webhook_url"


def test_a_public_https_address_is_accepted_and_local_ones_only_where_allowed() -> None:
    assert validate.webhook_url("https://hooks.slack.com/services/T0/B0/x", "f", allow_local=False).startswith("https://hooks.slack.com")
    assert validate.webhook_url("http://127.0.0.1:9000/hook", "f", allow_local=True) == "http://127.0.0.1:9000/hook"


class _Server:
    def __init__(self, status: int, location: str | None = None) -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                server.hits += 1
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def servers() -> Iterator[tuple[_Server, _Server]]:
    target = _Server(200)
    bouncer = _Server(307, location=target.url)
    yield bouncer, target
    bouncer.http.shutdown()
    target.http.shutdown()


def test_a_webhook_that_redirects_is_not_followed(servers: tuple[_Server, _Server]) -> None:
    bouncer, target = servers
    with pytest.raises(urllib.error.HTTPError):
        post_webhook(default_opener(), bouncer.url, {"text": "case opened"})
    assert (bouncer.hits, target.hits) == (1, 0)
