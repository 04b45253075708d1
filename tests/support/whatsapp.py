"""WhatsApp for functional tests: End User Messaging Social faked at the client seam (moto
has no such service), the store settings that turn it on, and the events it publishes.

:class:`WhatsAppService` stands where ``Clients.whatsapp`` is: every request is checked
against botocore's own model of ``SendWhatsAppMessage`` before it is answered, so a request
the real service would refuse fails the test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.platform import aws
from chalicelib.platform.config import Settings
from chalicelib.platform.process import PROCESS
from tests.support.events import sns_event

PHONE_NUMBER_ID = "phone-number-id-0123456789abcdef0123456789abcdef"
TEMPLATES = {
    "thank_you": {
        "name": "order_thanks",
        "languages": {"en": "en_US", "el": "el"},
        "parameters": ["first_name", "store_name", "order_name"],
    },
    "survey": {"name": "order_feedback", "languages": {"en": "en_US"}, "parameters": ["first_name", "survey_url"]},
}
SETTINGS = {"whatsapp_phone_number_id": PHONE_NUMBER_ID, "whatsapp_templates": TEMPLATES}


def refusal(code: str = "ValidationException", status: int = 400) -> ClientError:
    """A refusal as the service answers it (the recipient is not on WhatsApp, a template Meta lacks)."""
    answer: Any = {"Error": {"Code": code, "Message": "refused"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(answer, "SendWhatsAppMessage")


def lost_answer() -> ReadTimeoutError:
    """The request went out and its answer never came: the message may have been delivered."""
    return ReadTimeoutError(endpoint_url="https://social-messaging.us-east-1.amazonaws.com/v1/whatsapp/send")


class WhatsAppService:
    """``send_whatsapp_message`` as the service takes it: validated, recorded, answered with a
    message id, or failed with the next scripted error."""

    def __init__(self) -> None:
        import boto3

        model = boto3.client("socialmessaging", region_name="us-east-1").meta.service_model
        shape = model.operation_model("SendWhatsAppMessage").input_shape
        assert shape is not None, "SendWhatsAppMessage takes a request"
        self._shape = shape
        self.requests: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []  # the Meta message objects that went out
        self.errors: list[Exception] = []

    def send_whatsapp_message(self, **request: Any) -> dict[str, Any]:
        from botocore.validate import validate_parameters

        validate_parameters(request, self._shape)
        self.requests.append(request)
        if self.errors:
            raise self.errors.pop(0)
        self.delivered.append(json.loads(request["message"]))
        return {"messageId": f"wamid.{len(self.delivered)}"}

    def to(self, phone: str) -> list[dict[str, Any]]:
        return [m for m in self.delivered if m["to"] == phone]


@contextmanager
def service(monkeypatch: Any) -> Iterator[WhatsAppService]:
    """The app sends WhatsApp through End User Messaging Social, which is this fake."""
    monkeypatch.setenv("WHATSAPP_TRANSPORT", "social")
    PROCESS.forget(Settings)
    fake = WhatsAppService()
    aws.clients().__dict__["whatsapp"] = fake  # the seam: the cached client, replaced
    try:
        yield fake
    finally:
        aws.clients().__dict__.pop("whatsapp", None)
        PROCESS.forget(Settings)


def template_of(message: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(template name, language code, body parameters) of a template message."""
    template = message["template"]
    parameters = [p["text"] for c in template.get("components", []) for p in c["parameters"]]
    return template["name"], template["language"]["code"], parameters


def entry(sender: str, message: dict[str, Any]) -> dict[str, Any]:
    """Meta's webhook ``entry`` for one customer message (the shape of Meta's own examples)."""
    return {
        "id": "102290129340398",
        "changes": [
            {
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                    "contacts": [{"profile": {"name": "Dana"}, "wa_id": sender.lstrip("+")}],
                    "messages": [
                        {
                            "from": sender.lstrip("+"),
                            "id": f"wamid.{uuid.uuid4().hex}",
                            "timestamp": "1739321024",
                            **message,
                        }
                    ],
                },
                "field": "messages",
            }
        ],
    }


def event(whatsapp_entry: dict[str, Any]) -> str:
    """The SNS message End User Messaging Social publishes: its header around Meta's entry,
    which it carries as a JSON string."""
    return json.dumps(
        {
            "context": {
                "MetaWabaIds": [
                    {
                        "wabaId": "1234567890abcde",
                        "arn": "arn:aws:social-messaging:us-east-1:123456789012:waba/fb2594b8a7974770b128a409e2example",
                    }
                ],
                "MetaPhoneNumberIds": [
                    {
                        "metaPhoneNumberId": "abcde1234567890",
                        "arn": "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/976c72a700aac43eaf573ae050example",
                    }
                ],
            },
            "whatsAppWebhookEntry": json.dumps(whatsapp_entry),
            "aws_account_id": "123456789012",
            "message_timestamp": "2025-01-08T23:30:43.271279391Z",
            "messageId": str(uuid.uuid4()),
        }
    )


def reply(app: Any, sender: str, text: str | None = None, *, button: str | None = None) -> None:
    """The customer answers on WhatsApp: a text, or a tap on a quick-reply button."""
    said: dict[str, Any] = (
        {"type": "button", "button": {"payload": button, "text": button}}
        if button is not None
        else {"type": "text", "text": {"body": text}}
    )
    app.handler_map["inbound_whatsapp"](sns_event("aftercare-inbound-whatsapp", event(entry(sender, said))), None)


def status(app: Any, message_id: str, state: str, *, code: int = 131026, title: str = "Message undeliverable") -> None:
    """WhatsApp reports a message's delivery status (``sent``, ``delivered``, ``read``, ``failed``)."""
    report: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": "1739321024",
        "recipient_id": "306944000111",
    }
    if state == "failed":
        report["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": title}}]
    whatsapp_entry = {
        "id": "102290129340398",
        "changes": [
            {
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                    "statuses": [report],
                },
                "field": "messages",
            }
        ],
    }
    app.handler_map["inbound_whatsapp"](sns_event("aftercare-inbound-whatsapp", event(whatsapp_entry)), None)
