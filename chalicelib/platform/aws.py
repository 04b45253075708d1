"""AWS clients, built lazily once per process and handed to the code that needs them.

Nothing here runs at import time: moto must be active before a client exists, and a cold
start should pay only for the clients its path uses.  ``AWS_ENDPOINT_URL`` (set by the local
stack) points every client at the embedded AWS.

Two retry policies.  Storage and queue clients retry (standard mode, 3 attempts): their calls
are reads, idempotent writes, or conditional writes whose outcome ``send`` verifies.  The
clients that hand a message to a customer (SES ``SendEmail``, SNS ``Publish``, End User
Messaging ``SendTextMessage`` and ``SendWhatsAppMessage``) make exactly one attempt: those calls carry no idempotency key,
so an SDK retry after a read timeout or a 5xx may deliver the message twice.  Whether to try
again is ``sending``'s decision, made from what the error proves (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from chalicelib.platform.process import PROCESS

if TYPE_CHECKING:  # pragma: no cover
    from boto3.session import Session
    from botocore.client import BaseClient
    from botocore.config import Config, _RetryDict
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_pinpoint_sms_voice_v2 import PinpointSMSVoiceV2Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_socialmessaging import EndUserMessagingSocialClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

Instrument = Callable[[str, "BaseClient"], None]
_Client = TypeVar("_Client", bound="BaseClient")
RETRYING: _RetryDict = {"max_attempts": 3, "mode": "standard"}
ONE_ATTEMPT: _RetryDict = {"total_max_attempts": 1, "mode": "standard"}  # "max_attempts" counts retries only


class Clients:
    """One lazily filled set of boto3 clients.

    ``instrument(hook)`` calls ``hook(service, client)`` for every client, built or yet to be
    built: the place to register botocore event handlers (tests inject faults there)."""

    def __init__(self, session: Session | None = None) -> None:
        self._session = session
        self._instruments: list[Instrument] = []
        self._built: list[tuple[str, BaseClient]] = []

    @cached_property
    def session(self) -> Session:
        if self._session is None:
            import boto3  # lazy: heavy at import (make bench, import time)

            self._session = boto3.session.Session()
        return self._session

    def instrument(self, hook: Instrument) -> None:
        self._instruments.append(hook)
        for service, client in self._built:
            hook(service, client)

    def _config(self, retries: _RetryDict = RETRYING) -> Config:
        from botocore.config import Config  # lazy: heavy at import (make bench, import time)

        return Config(retries=retries, connect_timeout=3, read_timeout=10)

    def _register(self, service: str, client: _Client) -> _Client:
        self._built.append((service, client))
        for hook in self._instruments:
            hook(service, client)
        return client

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return self._register("dynamodb", self.session.client("dynamodb", config=self._config()))

    @cached_property
    def sqs(self) -> SQSClient:
        return self._register("sqs", self.session.client("sqs", config=self._config()))

    @cached_property
    def sns(self) -> SNSClient:
        """SNS for topics (alerts, subscriptions): retried like storage."""
        return self._register("sns", self.session.client("sns", config=self._config()))

    @cached_property
    def sns_sms(self) -> SNSClient:
        """SNS for ``Publish`` to a phone number: one attempt (see the module docstring)."""
        return self._register("sns", self.session.client("sns", config=self._config(ONE_ATTEMPT)))

    @cached_property
    def sesv2(self) -> SESV2Client:
        """SES v2 for ``SendEmail`` and identity calls: one attempt (see the module docstring)."""
        return self._register("sesv2", self.session.client("sesv2", config=self._config(ONE_ATTEMPT)))

    @cached_property
    def sms(self) -> PinpointSMSVoiceV2Client:
        """AWS End User Messaging SMS: one attempt (see the module docstring)."""
        return self._register(
            "pinpoint-sms-voice-v2", self.session.client("pinpoint-sms-voice-v2", config=self._config(ONE_ATTEMPT))
        )

    @cached_property
    def whatsapp(self) -> EndUserMessagingSocialClient:
        """AWS End User Messaging Social (WhatsApp): one attempt (see the module docstring)."""
        return self._register(
            "socialmessaging", self.session.client("socialmessaging", config=self._config(ONE_ATTEMPT))
        )

    @cached_property
    def ssm(self) -> SSMClient:
        return self._register("ssm", self.session.client("ssm", config=self._config()))


def clients() -> Clients:
    """The process's clients, each built at its first use."""
    return PROCESS.once(Clients)
