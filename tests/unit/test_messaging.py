"""The transports' request shapes, and how provider errors are sorted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from chalicelib.messaging import transports
from chalicelib.platform.process import PROCESS

STORE = {
    "store_id": "st1",
    "name": "Κεραμικά Σοφίας",
    "sender_email": "hello@sofia.example",
    "support_email": "care@sofia.example",
    "sms_origination": "+15555550100",
}


class Recorder:
    """A client that records each call and answers like the provider."""

    def __init__(self, answer: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer = answer or {"MessageId": "m-1"}
        self.error = error

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((operation, kwargs))
            if self.error is not None:
                raise self.error
            return self.answer

        return call


class Clients:
    def __init__(self, **clients: Recorder) -> None:
        self.__dict__.update(clients)


def error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:

    def use(value: str) -> None:
        monkeypatch.setenv("SMS_TRANSPORT", value)
        PROCESS.reset()

    yield use
    PROCESS.reset()


def test_sms_through_end_user_messaging(transport: Any) -> None:
    # GIVEN the production transport
    transport("eum")
    sms = Recorder({"MessageId": "eum-42"})
    # WHEN an SMS is sent
    message_id = transports.send_sms(Clients(sms=sms), STORE, "+306912345678", "Γεια σας")
    # THEN it is one send_text_message call with the store's origination identity
    assert message_id == "eum-42"
    assert sms.calls == [
        (
            "send_text_message",
            {
                "DestinationPhoneNumber": "+306912345678",
                "MessageBody": "Γεια σας",
                "MessageType": "TRANSACTIONAL",
                "Context": {"store_id": "st1"},
                "OriginationIdentity": "+15555550100",
            },
        )
    ]


def test_sms_through_sns(transport: Any) -> None:
    transport("sns")
    sns = Recorder({"MessageId": "sns-7"})
    assert transports.send_sms(Clients(sns_sms=sns), STORE, "+306912345678", "hi") == "sns-7"
    operation, kwargs = sns.calls[0]
    assert operation == "publish" and kwargs["PhoneNumber"] == "+306912345678" and kwargs["Message"] == "hi"


def test_email_request_is_utf8_with_headers_and_the_store_tag() -> None:
    ses = Recorder({"MessageId": "ses-1"})
    transports.send_email(
        Clients(sesv2=ses),
        STORE,
        "dana@example.com",
        "Χρόνια πολλά!",
        "<p>Γεια</p>",
        "Γεια",
        {"List-Unsubscribe": "<https://x/u/t>"},
    )
    operation, kwargs = ses.calls[0]
    assert operation == "send_email"
    simple = kwargs["Content"]["Simple"]
    assert simple["Subject"] == {"Data": "Χρόνια πολλά!", "Charset": "UTF-8"}
    assert simple["Body"]["Html"]["Charset"] == simple["Body"]["Text"]["Charset"] == "UTF-8"
    assert {"Name": "List-Unsubscribe", "Value": "<https://x/u/t>"} in simple["Headers"]
    assert {"Name": "X-Aftercare-Store", "Value": "st1"} in simple["Headers"]
    assert kwargs["EmailTags"] == [{"Name": "store_id", "Value": "st1"}]
    assert kwargs["FromEmailAddress"].endswith("<hello@sofia.example>") and "=?utf-8?" in kwargs["FromEmailAddress"]
    assert kwargs["ReplyToAddresses"] == ["care@sofia.example"]


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("TooManyRequestsException", 429, transports.ProviderBusy),
        ("ThrottlingException", 400, transports.ProviderBusy),
        ("InternalFailure", 500, transports.Ambiguous),
        ("ServiceUnavailable", 503, transports.Ambiguous),
        ("MessageRejected", 400, transports.Rejected),
        ("ValidationException", 400, transports.Rejected),
    ],
)
def test_provider_errors_are_sorted_into_retry_or_give_up(code: str, status: int, kind: type) -> None:
    ses = Recorder(error=error(code, status))
    with pytest.raises(kind):
        transports.send_email(Clients(sesv2=ses), STORE, "dana@example.com", "s", "h", "t")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (EndpointConnectionError(endpoint_url="https://email.example"), transports.ProviderBusy),
        (ConnectTimeoutError(endpoint_url="https://email.example"), transports.ProviderBusy),
        (ReadTimeoutError(endpoint_url="https://email.example"), transports.Ambiguous),
        (ConnectionClosedError(endpoint_url="https://email.example"), transports.Ambiguous),
    ],
)
def test_network_errors_are_sorted_by_whether_the_request_may_have_arrived(
    transport: Any, exc: Exception, kind: type
) -> None:
    transport("sns")
    # GIVEN a provider call that fails in the network: before the request left, or after
    for send in (
        lambda: transports.send_email(Clients(sesv2=Recorder(error=exc)), STORE, "dana@example.com", "s", "h", "t"),
        lambda: transports.send_sms(Clients(sns_sms=Recorder(error=exc)), STORE, "+306912345678", "hi"),
    ):
        # THEN only a call that provably never arrived may be retried; the others are ambiguous
        with pytest.raises(kind):
            send()


def test_a_sender_that_cannot_be_written_in_a_header_is_unsendable() -> None:
    # an international domain is written in its ASCII form; an international local part cannot be
    ses = Recorder()
    with pytest.raises(transports.Unsendable):
        transports.send_email(
            Clients(sesv2=ses), {**STORE, "sender_email": "hellö@example.com"}, "dana@example.com", "s", "h", "t"
        )
    assert ses.calls == []
    assert transports.sender({**STORE, "sender_email": "hello@bücher.example"}).endswith(
        "<hello@xn--bcher-kva.example>"
    )


def test_ses_account_suppression_lookup() -> None:
    assert transports.ses_suppressed(Recorder({"SuppressedDestination": {}}), "a@b.example") is True
    assert transports.ses_suppressed(Recorder(error=error("NotFoundException", 404)), "a@b.example") is False


def test_fit_sms_keeps_the_link_and_stays_in_gsm() -> None:
    body = "Cedar: " + "word " * 100 + "\nhttps://x.example/s/abc"
    fitted = transports.fit_sms(body)
    assert transports.segments(fitted) == 2 and fitted.endswith("https://x.example/s/abc") and transports.is_gsm(fitted)


def test_the_requests_match_the_service_models(transport: Any) -> None:
    """The recorded calls are valid requests by botocore's own models of the two APIs."""
    import boto3
    from botocore.validate import validate_parameters

    transport("eum")
    sms, ses = Recorder(), Recorder()
    transports.send_sms(Clients(sms=sms), STORE, "+306912345678", "Γεια")
    transports.send_email(
        Clients(sesv2=ses),
        STORE,
        "dana@example.com",
        "s",
        "<p>h</p>",
        "t",
        {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    for service, (operation, kwargs) in (("pinpoint-sms-voice-v2", sms.calls[0]), ("sesv2", ses.calls[0])):
        model = boto3.client(service, region_name="us-east-1").meta.service_model
        name = "".join(part.capitalize() for part in operation.split("_"))
        validate_parameters(kwargs, model.operation_model(name).input_shape)


def test_deployed_email_goes_through_the_feedback_configuration_set(monkeypatch: pytest.MonkeyPatch) -> None:

    # GIVEN a deployed stage whose configuration set publishes bounces and complaints
    monkeypatch.setenv("SES_CONFIGURATION_SET", "aftercare")
    PROCESS.reset()
    ses = Recorder({"MessageId": "ses-2"})
    # WHEN an email is sent
    transports.send_email(Clients(sesv2=ses), STORE, "dana@example.com", "s", "<p>h</p>", "t")
    PROCESS.reset()
    # THEN SES is told to use it, so a bounce reaches ses_feedback
    assert ses.calls[0][1]["ConfigurationSetName"] == "aftercare"


def test_busy_providers_are_retried_with_exponential_backoff() -> None:
    from chalicelib.messaging.delivery import retry_delay

    assert [retry_delay(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 900]
    assert retry_delay(20) == 900
