"""WhatsApp: a route of the SMS channel, through AWS End User Messaging Social.

A message whose channel is SMS goes by WhatsApp instead when the store has a WhatsApp number
(``whatsapp_phone_number_id``), an approved utility template for the message's kind in the
customer's language (``whatsapp_templates``), every value the template's body asks for, and
the customer's WhatsApp opt-in (``whatsapp_consent``).  Everything else about the message is
the SMS channel's: consent for marketing kinds, quiet hours, the weekly cap and STOP (a STOP
by WhatsApp or by text stops both).  When WhatsApp refuses the message for certain, the same
claim sends it by SMS; when its outcome is unknown, nothing more is sent (never both).

Replies come back as End User Messaging Social events on an SNS topic: the event's
``whatsAppWebhookEntry`` is Meta's webhook ``entry`` as a JSON string; :func:`inbound` reads
the customer's text and quick-reply buttons out of it, in the shape :mod:`sms_inbound` reads,
so one piece of code answers both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.models import Channel
from chalicelib.core.validate import one_line
from chalicelib.storage.items import CustomerItem, StoreItem

WHATSAPP = Channel.WHATSAPP.value
MAX_PARAMETER = 1024  # Meta's limit on one text parameter
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_MESSAGE_ID = 200


@dataclass(frozen=True)
class Template:
    """The approved template a message goes by: its name, Meta's language code and the
    values its body takes, in order."""

    name: str
    language: str
    parameters: tuple[str, ...]


def template_for(store: StoreItem, customer: CustomerItem | None, kind: str, language: str) -> Template | None:
    """The template this message would go by on WhatsApp, or None when it goes by SMS."""
    if not store.get("whatsapp_phone_number_id"):
        return None
    if not customer or customer.get("whatsapp_consent") is not True:
        return None
    setting = (store.get("whatsapp_templates") or {}).get(kind)
    if not setting:
        return None
    code = (setting.get("languages") or {}).get(language)
    if not code:
        return None
    return Template(str(setting["name"]), str(code), tuple(str(p) for p in setting.get("parameters") or ()))


def template_message(template: Template, to_e164: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Meta Cloud API message for ``template``, its body filled from ``values``; None when
    a value the body needs is missing (Meta refuses an empty parameter: SMS says it instead)."""
    parameters = []
    for name in template.parameters:
        value = one_line(str(values.get(name) or ""))
        if not value:
            return None
        parameters.append({"type": "text", "text": value[:MAX_PARAMETER]})
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if parameters:
        body["components"] = [{"type": "body", "parameters": parameters}]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_e164,
        "type": "template",
        "template": body,
    }


def text_message(to_e164: str, body: str) -> dict[str, Any]:
    """A free-form text: allowed as an answer within the 24 hours after the customer wrote."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_e164,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


def values(store: StoreItem, context: Mapping[str, Any]) -> dict[str, Any]:
    """What a template's parameters may name, from the message's own context."""
    survey = context.get("survey") or {}
    return {
        "first_name": context.get("first_name"),
        "store_name": store.get("name"),
        "order_name": context.get("order_name"),
        "survey_url": survey.get("url") if isinstance(survey, Mapping) else None,
    }


def parse_message(body: str) -> dict[str, Any] | None:
    """A Meta message object as the local stack's stand-in carries it, or None for plain text."""
    if not body.startswith("{"):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value.get("messaging_product") == "whatsapp" else None


# --- replies -------------------------------------------------------------------------------
def _clean(text: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", text)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _said(message: Mapping[str, Any]) -> str | None:
    """What the customer wrote or tapped: a text, a template's quick-reply button, or an
    interactive reply; None for media, reactions and the like (nothing to read)."""
    kind = message.get("type")
    if kind == "text":
        text = _object(message.get("text")).get("body")
    elif kind == "button":
        button = _object(message.get("button"))
        text = button.get("text") or button.get("payload")
    elif kind == "interactive":
        interactive = _object(message.get("interactive"))
        text = _object(interactive.get("button_reply") or interactive.get("list_reply")).get("title")
    else:
        return None
    return _clean(text) if isinstance(text, str) else None


def _entry(payload_text: str) -> dict[str, Any] | None:
    try:
        event = json.loads(payload_text)
        entry = json.loads(event["whatsAppWebhookEntry"]) if isinstance(event, dict) else None
    except (ValueError, KeyError, TypeError):
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("changes"), list) else None


def _values(entry: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    found = []
    for change in entry["changes"]:
        listed = _object(_object(change).get("value")).get(name)
        found += [item for item in (listed if isinstance(listed, list) else []) if isinstance(item, dict)]
    return found


def failures(payload_text: str) -> list[tuple[str, str]]:
    """The messages WhatsApp reports it could not deliver (``statuses`` of status ``failed``):
    (our message id, Meta's error code and title)."""
    entry = _entry(payload_text)
    found = []
    for status in _values(entry, "statuses") if entry is not None else []:
        if status.get("status") == "failed" and isinstance(status.get("id"), str):
            errors = status.get("errors") if isinstance(status.get("errors"), list) else []
            error = _object(errors[0] if errors else None)
            why = " ".join(str(error[k]) for k in ("code", "title") if error.get(k) is not None) or "failed"
            found.append((_clean(status["id"])[:MAX_MESSAGE_ID], _clean(why)[:200]))
    return found


def inbound(payload_text: str) -> list[dict[str, str]]:
    """The customer messages of one End User Messaging Social event, each in the two-way SMS
    shape (``originationNumber`` in E.164, ``messageBody``, ``inboundMessageId``); statuses and
    anything unreadable give nothing."""
    entry = _entry(payload_text)
    found: list[dict[str, str]] = []
    for message in _values(entry, "messages") if entry is not None else []:
        said = _said(message)
        if said is None or not isinstance(message.get("from"), str):
            continue
        read = {"originationNumber": "+" + message["from"].lstrip("+"), "messageBody": said}
        message_id = message.get("id")
        if isinstance(message_id, str) and 0 < len(message_id) <= MAX_MESSAGE_ID and message_id.isprintable():
            read["inboundMessageId"] = message_id
        found.append(read)
    return found
