"""Faults injected into the app's own AWS clients through botocore's event system.

:class:`Faults` draws, with a fixed seed, whether each call of a chosen service fails and
how.  The kinds are what AWS and the network really do:

- ``throttle``: the service refuses the call (4xx throttling code); nothing was applied.
- ``server``: a 5xx; in this injector nothing was applied, but the caller cannot know that.
- ``connect``: the connection could not be made (``EndpointConnectionError``); not applied.
- ``timeout_after``: the call went through and was applied, then the answer was lost
  (``ReadTimeoutError``).
- ``reset_after``: as ``timeout_after``, the connection closed instead
  (``ConnectionClosedError``).
- ``server_after``: the call went through and was applied, and the answer is a 5xx.

:class:`Script` fails chosen calls instead (by service, operation and request body), for
tests that need one fault at one place.

``where="call"`` fails calls in ``before-call``/``after-call``, outside botocore's retries: the
app sees every fault.  ``where="send"`` fails the HTTP send in ``before-send`` (ahead of moto's
own stub), so botocore's retry policy of the client applies, as it would against AWS.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

KINDS = ("throttle", "server", "connect", "timeout_after", "reset_after", "server_after")
SEND_KINDS = ("server", "connect", "timeout_after", "reset_after")  # what can be faked below the retry loop
SERVICES = ("dynamodb", "sqs", "sesv2", "sns", "pinpoint-sms-voice-v2")
_THROTTLE_CODES = {
    "dynamodb": "ThrottlingException",
    "sqs": "RequestThrottled",
    "sesv2": "TooManyRequestsException",
    "sns": "Throttling",
}
_FLAG = "fault_injected_after"


class _Status:
    """The little of an HTTP response botocore looks at when a handler answers for it."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


@dataclass
class Faults:
    rate: float = 0.0
    seed: int = 0
    services: tuple[str, ...] = SERVICES
    kinds: tuple[str, ...] = KINDS
    where: str = "call"
    operations: frozenset[str] | None = None  # only these operation names, when given
    injected: Counter[tuple[str, str]] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    enabled: bool = True

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # -- drawing ------------------------------------------------------------------------
    def _draw(self, service: str, operation: str, body: bytes = b"") -> str | None:
        self.calls[service] += 1
        if not self.enabled or service not in self.services:
            return None
        if self.operations is not None and operation not in self.operations:
            return None
        if self._rng.random() >= self.rate:
            return None
        kinds = self.kinds if self.where == "call" else tuple(k for k in self.kinds if k in SEND_KINDS)
        kind = self._rng.choice(kinds)
        self.injected[(service, kind)] += 1
        return kind

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No faults while the test itself reads the world back."""
        before, self.enabled = self.enabled, False
        try:
            yield
        finally:
            self.enabled = before

    def by_kind(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (_, kind), n in self.injected.items():
            out[kind] += n
        return dict(out)

    def by_service(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (service, _), n in self.injected.items():
            out[service] += n
        return dict(out)

    # -- wiring -------------------------------------------------------------------------
    def __call__(self, service: str, client: Any) -> None:
        """Attach to one client (the shape :meth:`chalicelib.platform.aws.Clients.instrument` calls)."""
        events = client.meta.events
        if self.where == "call":
            events.register("before-call", self._before_call)
            events.register("after-call", self._after_call)
        else:
            events.register_first("before-send", self._before_send)

    def attach(self, clients: Any) -> Faults:
        clients.instrument(self)
        return self

    def _before_call(self, model: Any, context: dict[str, Any], params: Any = None, **_: Any) -> Any:
        body = params.get("body", b"") if isinstance(params, dict) else b""
        kind = self._draw(
            _service_name(model), str(model.name), body if isinstance(body, bytes) else str(body).encode()
        )
        if kind is None:
            return None
        if kind == "throttle":
            code = _THROTTLE_CODES.get(_service_name(model), "ThrottlingException")
            status = 429 if _service_name(model) == "sesv2" else 400
            return _Status(status), {
                "Error": {"Code": code, "Message": "injected throttling"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
        if kind == "server":
            return _Status(500), {
                "Error": {"Code": "InternalFailure", "Message": "injected 5xx"},
                "ResponseMetadata": {"HTTPStatusCode": 500},
            }
        if kind == "connect":
            raise EndpointConnectionError(endpoint_url=f"https://{_service_name(model)}.injected")
        context[_FLAG] = kind  # let the call through, lose its answer afterwards
        return None

    def _after_call(
        self, context: dict[str, Any], model: Any, http_response: Any = None, parsed: Any = None, **_: Any
    ) -> None:
        kind = context.pop(_FLAG, None)
        if kind == "server_after" and isinstance(parsed, dict) and http_response is not None:
            parsed.clear()
            parsed.update(
                {
                    "Error": {"Code": "InternalFailure", "Message": "injected 5xx after applying"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                }
            )
            http_response.status_code = 500
            return
        if kind == "timeout_after":
            raise ReadTimeoutError(endpoint_url=f"https://{_service_name(model)}.injected")
        if kind == "reset_after":
            raise ConnectionClosedError(endpoint_url=f"https://{_service_name(model)}.injected")

    def _before_send(self, event_name: str, request: Any, **kwargs: Any) -> Any:
        _, service_id, operation = event_name.split(".", 2)  # before-send.<hyphenized service id>.<operation>
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        kind = self._draw(service_id, operation, body)
        if kind is None:
            return None
        if kind == "server":
            from botocore.awsrequest import AWSResponse, HTTPHeaders

            return AWSResponse(request.url, 500, HTTPHeaders(), _EmptyRaw())
        if kind == "connect":
            raise EndpointConnectionError(endpoint_url=request.url)
        from moto.core.models import botocore_stubber

        botocore_stubber(event_name=event_name, request=request, **kwargs)  # applied by the embedded AWS
        if kind == "timeout_after":
            raise ReadTimeoutError(endpoint_url=request.url)
        raise ConnectionClosedError(endpoint_url=request.url)


@dataclass
class Rule:
    """Fail ``times`` calls of ``service``'s ``operation`` whose request body holds ``marker``."""

    service: str
    operation: str
    kind: str
    times: int = 1
    marker: bytes = b""


class Script(Faults):
    """Faults at chosen calls only, in order of the rules (see :class:`Rule`)."""

    def __init__(self, *rules: Rule, where: str = "call") -> None:
        super().__init__(rate=1.0, where=where)
        self.rules = list(rules)

    def _draw(self, service: str, operation: str, body: bytes = b"") -> str | None:
        self.calls[service] += 1
        if not self.enabled:
            return None
        for rule in self.rules:
            if rule.times > 0 and rule.service == service and rule.operation == operation and rule.marker in body:
                rule.times -= 1
                self.injected[(service, rule.kind)] += 1
                return rule.kind
        return None


class _EmptyRaw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""

    def read(self, *_: Any) -> bytes:
        return b""


def _service_name(model: Any) -> str:
    """The client's service name (``sesv2``, ``dynamodb``...) from an operation model."""
    return str(model.service_model.service_name)
