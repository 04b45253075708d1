"""AWS clients, built lazily once per process and handed to the code that needs them.

Nothing here runs at import time: moto must be active before a client exists, and a cold
start should pay only for the clients its path uses.  ``AWS_ENDPOINT_URL`` (set by the local
stack) points every client at the embedded AWS.
"""
from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mypy_boto3_dynamodb import DynamoDBClient


class Clients:
    """One lazily filled set of boto3 clients."""

    def __init__(self, session: Any | None = None) -> None:
        self._session = session

    @cached_property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        return self._session

    def _client(self, service: str) -> Any:
        from botocore.config import Config

        return self.session.client(
            service, config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10)
        )

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return self._client("dynamodb")

    @cached_property
    def sqs(self) -> Any:
        return self._client("sqs")

    @cached_property
    def sns(self) -> Any:
        return self._client("sns")

    @cached_property
    def sesv2(self) -> Any:
        return self._client("sesv2")

    @cached_property
    def sms(self) -> Any:
        """AWS End User Messaging SMS."""
        return self._client("pinpoint-sms-voice-v2")

    @cached_property
    def ssm(self) -> Any:
        return self._client("ssm")


_clients: Clients | None = None


def clients() -> Clients:
    global _clients
    if _clients is None:
        _clients = Clients()
    return _clients


def reset() -> None:
    """Drop every cached client (tests start each case with fresh clients)."""
    global _clients
    _clients = None
