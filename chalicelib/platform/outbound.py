"""Where Aftercare may send its own HTTP requests (a store's Slack-compatible webhook).

A store chooses the address, so outside the local stage it must be a public https name:
no IP literal in any spelling (``2130706433``, ``127.1``, ``0x7f000001``, ``[::1]``), no
trailing dot, no local names, and every address the name resolves to must be public.  The
name is resolved and checked when the store saves it and again when a request is made; the
request then connects to the address that was checked (a name that resolves elsewhere a
second later cannot redirect it), and redirects are never followed.

The resolver is an argument (``host -> addresses``) so that tests need no network.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from chalicelib.core import validate
from chalicelib.core.errors import InvalidInput

Resolver = Callable[[str], Sequence[str]]

LOCAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".localdomain",
    ".home.arpa",
    ".lan",
    ".intranet",
    ".corp",
    ".invalid",
    ".test",
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


class RefusedAddress(ValueError):
    """The address is not a public https name, or resolves to a non-public address."""


class RefusedConnection(ConnectionError):
    """A request was about to connect to an address that is not public (never attempted)."""


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (the machine's resolver)."""
    try:
        found = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddress(f"{host} does not resolve") from exc
    return sorted({str(info[4][0]) for info in found})


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP) is on the public internet: not loopback, private,
    link-local (the metadata service), shared, multicast, reserved or unspecified."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return bool(ip.is_global) and not (
        ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified
    )


def public_host(url: str) -> tuple[str, int]:
    """The host name and port of an https URL whose host is a public DNS name (not checked
    against DNS yet); RefusedAddress says why not."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise RefusedAddress("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise RefusedAddress("must not carry a user name or password")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or 443
    except ValueError:
        raise RefusedAddress("has an invalid port") from None
    if port != 443:
        raise RefusedAddress("must use the https port (443)")
    if not host or host.endswith(".") or "." not in host:
        raise RefusedAddress("must name a public host (no trailing dot, no bare names)")
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        raise RefusedAddress("must name a public host by its DNS name, not by a number")
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES):
        raise RefusedAddress("must name a public host")
    return host, port


def checked_addresses(host: str, resolve: Resolver) -> list[str]:
    """The addresses of ``host``, all of them public, or RefusedAddress."""
    addresses = list(resolve(host))
    if not addresses:
        raise RefusedAddress(f"{host} does not resolve")
    if not all(is_public(a) for a in addresses):
        raise RefusedAddress(f"{host} resolves to a private or reserved address")
    return addresses


def check(url: str, resolve: Resolver = system_resolver) -> str:
    """``url`` when it is a public https address whose name resolves to public addresses."""
    host, _port = public_host(url)
    checked_addresses(host, resolve)
    return url


class _PinnedConnection(http.client.HTTPSConnection):
    """An https connection made to the address that was checked, with the name's
    certificate and SNI (a second DNS answer cannot point it elsewhere)."""

    def __init__(self, *args: Any, resolve: Resolver, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resolve = resolve

    def connect(self) -> None:
        try:
            host, port = public_host(f"https://{self.host}:{self.port}/")
            address = checked_addresses(host, self._resolve)[0]
        except RefusedAddress as exc:
            raise RefusedConnection(str(exc)) from exc
        self.sock = socket.create_connection((address, port), self.timeout)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=host)  # type: ignore[attr-defined]


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, resolve: Resolver) -> None:
        super().__init__(context=ssl.create_default_context())
        self._resolve = resolve

    def https_open(self, req: urllib.request.Request) -> Any:
        def connection(host: str, **kwargs: Any) -> _PinnedConnection:
            return _PinnedConnection(host, resolve=self._resolve, **kwargs)

        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _NoPlainHTTP(urllib.request.BaseHandler):
    handler_order = 100  # before the default handlers

    def http_open(self, req: urllib.request.Request) -> Any:
        raise urllib.error.URLError("plain http is not allowed for outbound webhooks")

    def file_open(self, req: urllib.request.Request) -> Any:
        raise urllib.error.URLError("only https is allowed for outbound webhooks")

    ftp_open = data_open = file_open


def opener(*, allow_local: bool, resolve: Resolver = system_resolver) -> urllib.request.OpenerDirector:
    """An HTTP opener for outbound webhooks: no proxy from the environment and no redirects;
    outside the local stage, https only, to checked public addresses only."""
    if allow_local:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirect(), _PinnedHTTPSHandler(resolve), _NoPlainHTTP()
    )


def webhook_url(value: Any, field: str, *, allow_local: bool, resolve: Any | None = None) -> str:
    """An outbound webhook address.  Outside the local stage it must be a public https name
    that resolves to public addresses only (see :func:`check`), so a store cannot
    point Aftercare's requests at this machine, the metadata service or a private network."""

    address = validate.url(value, field)
    if allow_local:
        return address
    try:
        return check(address, resolve or system_resolver)
    except RefusedAddress as exc:
        raise InvalidInput(f"{field} {exc}", field=field) from None
