"""WhatsApp's pure parts: which template a message goes by, the Meta message it becomes, the
request End User Messaging Social takes, and what a customer's event says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.messaging import transports, whatsapp
from chalicelib.platform.process import PROCESS

STORE: dict[str, Any] = {
    "store_id": "st1",
    "name": "Cedar & Sage",
    "whatsapp_phone_number_id": "phone-number-id-0123456789abcdef0123456789abcdef",
    "whatsapp_templates": {
        "survey": {"name": "order_feedback", "languages": {"en": "en_US"}, "parameters": ["first_name", "survey_url"]}
    },
}
OPTED_IN: dict[str, Any] = {"phone": "+306944000111", "whatsapp_consent": True}


class Service:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def send_whatsapp_message(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return {"messageId": "wamid.1"}


class Clients:
    def __init__(self, whatsapp: Service) -> None:
        self.whatsapp = whatsapp


@pytest.fixture
def social(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WHATSAPP_TRANSPORT", "social")
    monkeypatch.setenv("WHATSAPP_API_VERSION", "v20.0")
    PROCESS.reset()
    yield
    PROCESS.reset()


@pytest.mark.parametrize(
    ("store", "customer", "kind", "language"),
    [
        ({**STORE, "whatsapp_phone_number_id": None}, OPTED_IN, "survey", "en"),  # no number
        (STORE, {**OPTED_IN, "whatsapp_consent": None}, "survey", "en"),  # no opt-in
        (STORE, {**OPTED_IN, "whatsapp_consent": False}, "survey", "en"),
        (STORE, None, "survey", "en"),
        (STORE, OPTED_IN, "thank_you", "en"),  # no template for the kind
        (STORE, OPTED_IN, "survey", "el"),  # none in the language
    ],
)
def test_a_message_goes_by_sms_unless_everything_is_set_up(
    store: dict[str, Any], customer: dict[str, Any] | None, kind: str, language: str
) -> None:
    assert whatsapp.template_for(store, customer, kind, language) is None


def test_the_template_message_is_filled_in_order_and_refused_when_a_value_is_missing() -> None:
    template = whatsapp.template_for(STORE, OPTED_IN, "survey", "en")
    assert template == whatsapp.Template("order_feedback", "en_US", ("first_name", "survey_url"))
    message = whatsapp.template_message(
        template, "+306944000111", {"first_name": "Dana\nX", "survey_url": "https://x.example/s/t"}
    )
    assert message == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+306944000111",
        "type": "template",
        "template": {
            "name": "order_feedback",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Dana X"},
                        {"type": "text", "text": "https://x.example/s/t"},
                    ],
                }
            ],
        },
    }
    assert whatsapp.template_message(template, "+306944000111", {"first_name": "", "survey_url": "u"}) is None


def test_the_request_is_valid_by_the_service_model(social: None) -> None:
    import boto3
    from botocore.validate import validate_parameters

    service = Service()
    message = whatsapp.text_message("+306944000111", "Γεια σας")
    assert transports.send_whatsapp(Clients(service), STORE, "+306944000111", message) == "wamid.1"
    [request] = service.calls
    model = boto3.client("socialmessaging", region_name="us-east-1").meta.service_model
    validate_parameters(request, model.operation_model("SendWhatsAppMessage").input_shape)
    assert request["originationPhoneNumberId"] == STORE["whatsapp_phone_number_id"]
    assert json.loads(request["message"].decode("utf-8")) == message


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (("ValidationException", 400), transports.Rejected),
        (("InvalidParametersException", 400), transports.Rejected),
        (("AccessDeniedException", 403), transports.Rejected),
        (("ResourceNotFoundException", 404), transports.Rejected),
        (("ThrottledRequestException", 429), transports.ProviderBusy),
        (("InternalServiceException", 500), transports.Ambiguous),
        (("DependencyException", 502), transports.Ambiguous),
    ],
)
def test_the_services_errors_sort_into_fall_back_or_unknown(
    social: None, error: tuple[str, int], kind: type[Exception]
) -> None:
    code, status = error
    failure = ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendWhatsAppMessage"
    )
    with pytest.raises(kind):
        transports.send_whatsapp(Clients(Service(failure)), STORE, "+306944000111", {})
    with pytest.raises(transports.Ambiguous):
        transports.send_whatsapp(
            Clients(Service(ReadTimeoutError(endpoint_url="https://social-messaging.example"))),
            STORE,
            "+306944000111",
            {},
        )


def _event(value: dict[str, Any]) -> str:
    entry = {"id": "1", "changes": [{"value": {"messaging_product": "whatsapp", **value}, "field": "messages"}]}
    return json.dumps({"context": {}, "whatsAppWebhookEntry": json.dumps(entry)})


def test_texts_buttons_and_interactive_replies_are_read_and_the_rest_left_alone() -> None:
    messages = [
        {"from": "306944000111", "id": "wamid.a", "type": "text", "text": {"body": "9 great"}},
        {"from": "306944000111", "id": "wamid.b", "type": "button", "button": {"payload": "p", "text": "10"}},
        {
            "from": "306944000111",
            "id": "wamid.c",
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "x", "title": "STOP"}},
        },
        {"from": "306944000111", "id": "wamid.d", "type": "image", "image": {"id": "1"}},
        {"from": "306944000111", "id": "wamid.e", "type": "reaction", "reaction": {"emoji": "👍"}},
        {"id": "wamid.f", "type": "text", "text": {"body": "no sender"}},
    ]
    read = whatsapp.inbound(_event({"messages": messages}))
    assert [(r["originationNumber"], r["messageBody"], r["inboundMessageId"]) for r in read] == [
        ("+306944000111", "9 great", "wamid.a"),
        ("+306944000111", "10", "wamid.b"),
        ("+306944000111", "STOP", "wamid.c"),
    ]


@pytest.mark.parametrize(
    "text", ["", "{}", "[]", '{"whatsAppWebhookEntry": "{not json"}', '{"whatsAppWebhookEntry": 5}']
)
def test_an_event_that_does_not_read_gives_nothing(text: str) -> None:
    assert whatsapp.inbound(text) == [] and whatsapp.failures(text) == []


def test_failed_statuses_are_read_with_metas_reason() -> None:
    statuses = [
        {"id": "wamid.1", "status": "delivered"},
        {"id": "wamid.2", "status": "failed", "errors": [{"code": 131026, "title": "Message undeliverable"}]},
        {"id": "wamid.3", "status": "failed"},
    ]
    assert whatsapp.failures(_event({"statuses": statuses})) == [
        ("wamid.2", "131026 Message undeliverable"),
        ("wamid.3", "failed"),
    ]


def test_the_local_stand_in_is_told_apart_from_an_sms() -> None:
    assert whatsapp.parse_message(json.dumps(whatsapp.text_message("+30", "hi"))) is not None
    assert whatsapp.parse_message('{"a": 1}') is None and whatsapp.parse_message("{ 9 thanks") is None
