"""Outbound webhook addresses: public https only outside the local stage, and no redirects."""

from __future__ import annotations

import threading
import urllib.error
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from chalicelib.core.errors import InvalidInput
from chalicelib.platform import outbound
from chalicelib.support.alerts import post_webhook

PUBLIC = "52.1.2.3"
DNS = {
    "hooks.slack.com": [PUBLIC],
    "hooks.example.com": [PUBLIC],
    "rebind.example.com": ["127.0.0.1"],
    "private.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": [PUBLIC, "192.168.1.10"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "v6local.example.com": ["fd00::1"],
    "cgnat.example.com": ["100.64.0.1"],
    "reserved.example.com": ["240.0.0.1"],
    "zero.example.com": ["0.0.0.0"],
}


def fake_dns(host: str) -> list[str]:
    """The world's DNS as these tests see it (no network)."""
    return DNS.get(host, [])


@pytest.mark.parametrize(
    "address",
    [
        "http://hooks.slack.com/services/T0/B0/x",  # not https
        "https://localhost/hook",
        "https://localhost./hook",
        "https://127.0.0.1:8443/hook",
        "https://2130706433/",  # 127.0.0.1 as one number
        "https://127.1/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://169.254.169.254/latest/meta-data",  # the instance metadata service
        "https://169.254.169.254./latest/meta-data",
        "https://10.0.0.5/hook",
        "https://[::1]/hook",
        "https://[::ffff:7f00:1]/hook",
        "https://metadata.google.internal/",
        "https://hooks.slack.com./services/T0/B0/x",  # trailing dot
        "https://hooks.slack.com:8443/services",  # another port
        "https://user:pw@hooks.slack.com/services",
        "https://rebind.example.com/hook",  # resolves to loopback
        "https://private.example.com/hook",
        "https://metadata.example.com/hook",
        "https://mixed.example.com/hook",  # one private answer is enough to refuse
        "https://mapped.example.com/hook",
        "https://v6local.example.com/hook",
        "https://cgnat.example.com/hook",
        "https://reserved.example.com/hook",
        "https://zero.example.com/hook",
        "https://nowhere.example.com/hook",  # does not resolve
        "https://1.2.3.4.nip.io.0/hook",  # numeric top-level label
    ],
)
def test_private_numeric_or_plain_http_addresses_are_refused_outside_the_local_stage(address: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        outbound.webhook_url(address, "slack_webhook_url", allow_local=False, resolve=fake_dns)
    assert refused.value.field == "slack_webhook_url"


def test_a_public_https_address_is_accepted_and_local_ones_only_where_allowed() -> None:
    assert outbound.webhook_url(
        "https://hooks.slack.com/services/T0/B0/x", "f", allow_local=False, resolve=fake_dns
    ).startswith("https://hooks.slack.com")
    assert outbound.webhook_url("http://127.0.0.1:9000/hook", "f", allow_local=True) == "http://127.0.0.1:9000/hook"


class _Server:
    def __init__(self, status: int, location: str | None = None) -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server.hits += 1
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.http.timeout = 1
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
        post_webhook(outbound.opener(allow_local=True), bouncer.url, {"text": "case opened"})
    assert (bouncer.hits, target.hits) == (1, 0)


def test_at_send_time_the_name_is_resolved_again_and_a_private_answer_is_never_contacted(
    servers: tuple[_Server, _Server],
) -> None:
    # GIVEN a listener on this machine, and a name that resolved public when the store saved it
    _bouncer, listener = servers
    answers = iter([[PUBLIC], ["127.0.0.1"]])

    def rebinding_dns(host: str) -> list[str]:
        return next(answers)

    url = f"https://hooks.example.com/hook?port={listener.http.server_port}"
    assert outbound.webhook_url(url, "slack_webhook_url", allow_local=False, resolve=rebinding_dns) == url
    # WHEN an alert is posted and the name now resolves to loopback
    with pytest.raises(urllib.error.URLError) as refused:
        post_webhook(outbound.opener(allow_local=False, resolve=rebinding_dns), url, {"text": "case opened"})
    # THEN the request is refused before any connection, and the listener heard nothing
    assert isinstance(refused.value.reason, outbound.RefusedConnection)
    assert listener.hits == 0


def test_outside_the_local_stage_the_opener_speaks_https_to_checked_addresses_only(
    servers: tuple[_Server, _Server],
) -> None:
    _bouncer, listener = servers
    strict = outbound.opener(allow_local=False, resolve=fake_dns)
    with pytest.raises(urllib.error.URLError):
        post_webhook(strict, listener.url, {"text": "plain http to loopback"})
    with pytest.raises(urllib.error.URLError):
        strict.open("file:///etc/passwd")
    assert listener.hits == 0


def test_the_pinned_connection_goes_to_the_checked_address_with_the_name_for_tls() -> None:
    seen: list[str] = []

    def dns(host: str) -> list[str]:
        seen.append(host)
        return ["127.0.0.1"] if host == "loop.example.com" else [PUBLIC]

    with pytest.raises(urllib.error.URLError) as refused:
        outbound.opener(allow_local=False, resolve=dns).open("https://loop.example.com/x", timeout=1)
    assert isinstance(refused.value.reason, outbound.RefusedConnection)
    assert seen == ["loop.example.com"]
