"""The transports: email through SES v2, SMS through End User Messaging (or SNS), WhatsApp
through End User Messaging Social (or, on the local stack, SNS standing in for it).

Every way a provider call can end is sorted here, once, by what it proves:

- :class:`ProviderBusy`: the provider provably did not take the message (throttling, a
  connection that was never made, a request botocore refused to build): it may be retried.
- :class:`Ambiguous`: the request may have been accepted (read timeout, connection closed
  after sending, any 5xx): it must not be sent again blindly.
- :class:`Rejected`: the provider will never take this message (unverified sender,
  invalid number...), and :class:`Unsendable`: no provider could (a sender address that
  cannot be encoded in a header).

The send clients make one attempt per call (``aws.Clients``), so botocore never resends
behind this sorting's back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, ParamValidationError
from botocore.parsers import ResponseParserError

from chalicelib.core.validate import one_line
from chalicelib.platform.aws import Clients
from chalicelib.platform.config import settings
from chalicelib.platform.observability import logger
from chalicelib.storage.items import StoreItem

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sesv2.type_defs import SendEmailRequestTypeDef

STORE_HEADER = "X-Aftercare-Store"
STORE_TAG = "store_id"
REFERENCE_TAG = "ledger"  # the send ledger's key (storage.keys.reference): SES delivery events confirm by it

# Codes that say "not now" without taking the request: safe to try again.
_BUSY = {
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "LimitExceededException",
    "RequestThrottled",
    "ThrottledRequestException",
}


class ProviderBusy(Exception):
    """The provider could not take the message now; retrying later may work."""


class Ambiguous(Exception):
    """The provider may or may not have taken the message (timeout or 5xx after sending)."""


class Rejected(Exception):
    """The provider refused this message for good (unverified sender, invalid number...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Unsendable(Rejected):
    """This message cannot be handed to any provider as it stands (fails for good)."""


def _classify(exc: ClientError) -> Exception:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _BUSY or status == 429:
        return ProviderBusy(code or str(status))
    if status >= 500 or not status:
        return Ambiguous(f"{code or 'HTTP'} {status}".strip())
    return Rejected(code or str(status))


def classify(exc: Exception) -> Exception:
    """The provider outcome an exception from a send call proves (see the module docstring)."""
    if isinstance(exc, ClientError):
        return _classify(exc)
    if isinstance(exc, ParamValidationError):
        return Rejected("InvalidRequest")
    if isinstance(exc, (HTTPClientError, ResponseParserError)):
        return Ambiguous(type(exc).__name__)  # the request may have reached the provider
    # No connection (EndpointConnectionError, ConnectTimeoutError), or botocore stopped before
    # sending (credentials...): no request reached the provider.
    return ProviderBusy(type(exc).__name__)


def sender(store: StoreItem) -> str:
    """``Store name <sender@store>``, the name encoded for headers when it is not ASCII; line
    breaks and other control characters never reach the header, and an international domain
    is written in its ASCII form.  An address that still cannot be written in a header is
    :class:`Unsendable`."""

    local, _, domain = str(store["sender_email"]).rpartition("@")
    try:
        return formataddr(
            (one_line(store.get("name") or ""), f"{local}@{domain.encode('idna').decode('ascii')}"), charset="utf-8"
        )
    except (UnicodeError, ValueError):
        raise Unsendable("sender_unencodable") from None


def send_email(
    clients: Clients,
    store: StoreItem,
    to: str,
    subject: str,
    html: str,
    text: str,
    headers: Mapping[str, str] | None = None,
    *,
    reference: str | None = None,
) -> str:
    """Send one email from the store's sender; returns SES's message id.  ``reference`` is
    carried as a message tag, so SES's delivery event names the message it confirms."""
    all_headers = {**(headers or {}), STORE_HEADER: str(store["store_id"])}
    request: SendEmailRequestTypeDef = {
        "FromEmailAddress": sender(store),
        "Destination": {"ToAddresses": [to]},
        "ReplyToAddresses": [str(store.get("support_email") or store["sender_email"])],
        "Content": {
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}},
                "Headers": [{"Name": name, "Value": value} for name, value in all_headers.items()],
            }
        },
        "EmailTags": [{"Name": STORE_TAG, "Value": str(store["store_id"])}],
    }
    if reference:
        request["EmailTags"] = [*request["EmailTags"], {"Name": REFERENCE_TAG, "Value": reference}]
    configuration_set = settings().ses_configuration_set
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    try:
        answer = clients.sesv2.send_email(**request)
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc) from exc
    return str(answer["MessageId"])


def ensure_sender(sesv2: SESV2Client, email: str) -> bool:
    """Register the store's sender with SES (SES mails it a verification link); idempotent.

    A failure does not undo the store's change: it is logged, and saving the sender again
    asks again.  Returns whether SES has the identity.
    """
    try:
        sesv2.create_email_identity(EmailIdentity=email)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "AlreadyExistsException":
            return True

        logger.warning("SES sender identity not requested", extra={"error": exc.response.get("Error", {}).get("Code")})
        return False
    return True


def ses_suppressed(sesv2: SESV2Client, email: str) -> bool:
    """Whether the address is on the SES account-level suppression list."""
    try:
        sesv2.get_suppressed_destination(EmailAddress=email)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NotFoundException":
            return False
        raise ProviderBusy(str(exc.response.get("Error", {}).get("Code") or "error")) from exc
    except BotoCoreError as exc:
        raise ProviderBusy(type(exc).__name__) from exc  # a read: asking again is harmless
    return True


def send_sms(clients: Clients, store: StoreItem, to_e164: str, body: str) -> str:
    """Send one SMS; End User Messaging in production, SNS where that is all there is."""
    try:
        if settings().sms_transport == "eum":
            request: dict[str, Any] = {
                "DestinationPhoneNumber": to_e164,
                "MessageBody": body,
                "MessageType": "TRANSACTIONAL",
                "Context": {STORE_TAG: str(store["store_id"])},
            }
            if store.get("sms_origination"):
                request["OriginationIdentity"] = str(store["sms_origination"])
            answer = clients.sms.send_text_message(**request)
        else:
            return _publish(clients, to_e164, body)
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc) from exc
    return str(answer["MessageId"])


def _publish(clients: Clients, to_e164: str, body: str) -> str:
    """A transactional text through SNS: SMS where End User Messaging is not set up, and the
    local stack's carrier (the dev outbox reads what SNS delivered)."""
    answer = clients.sns_sms.publish(
        PhoneNumber=to_e164,
        Message=body,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
    return str(answer["MessageId"])


def send_whatsapp(clients: Clients, store: StoreItem, to_e164: str, message: Mapping[str, Any]) -> str:
    """Send one WhatsApp message (a Meta Cloud API message object) from the store's number;
    returns the provider's message id.  The errors sort as every send's do (:func:`classify`):
    a refusal (not a WhatsApp number, a template Meta does not know) is :class:`Rejected`."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    try:
        if settings().whatsapp_transport == "social":
            answer = clients.whatsapp.send_whatsapp_message(
                originationPhoneNumberId=str(store.get("whatsapp_phone_number_id") or ""),
                message=body.encode("utf-8"),
                metaApiVersion=settings().whatsapp_api_version,
            )
            return str(answer["messageId"])
        return _publish(clients, to_e164, body)  # the local stack: SNS carries it to the dev outbox
    except (ClientError, BotoCoreError) as exc:
        raise classify(exc) from exc


# --- SMS length ----------------------------------------------------------------------
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")
MAX_SEGMENTS = 2


def is_gsm(body: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body)


def _units(body: str) -> tuple[int, int, int]:
    """(length in the encoding's units, units per single message, units per segment of a long one)."""
    if is_gsm(body):
        return sum(2 if ch in _GSM_EXTENDED else 1 for ch in body), 160, 153
    utf16 = len(body.encode("utf-16-le")) // 2
    return utf16, 70, 67


def segments(body: str) -> int:
    """How many SMS segments a body takes (GSM-7 or UCS-2, as the carrier will encode it)."""
    length, single, per_part = _units(body)
    if length <= single:
        return 1
    return -(-length // per_part)


_ISOLATE_OPEN = {"\u2066", "\u2067", "\u2068"}  # LRI, RLI, FSI
PDI = "\u2069"


def close_isolates(text: str) -> str:
    """``text`` with a PDI for every isolate a cut left open."""
    depth = 0
    for ch in text:
        if ch in _ISOLATE_OPEN:
            depth += 1
        elif ch == PDI and depth:
            depth -= 1
    return text + PDI * depth


def fit_sms(body: str, max_segments: int = MAX_SEGMENTS) -> str:
    """The body shortened, if it must be, to ``max_segments``: the text before the last link
    gives way (with an ellipsis), links and the last line stay whole."""
    if segments(body) <= max_segments:
        return body
    dots = "..." if is_gsm(body) else "…"  # "…" is not GSM-7: it would double the cost
    lines = body.split("\n")
    keep_tail = lines[-1:] if len(lines) > 1 else []
    head = "\n".join(lines[:-1]) if keep_tail else body
    while head and segments("\n".join([close_isolates(head + dots), *keep_tail])) > max_segments:
        head = head[:-1].rstrip()
    return "\n".join([close_isolates(head + dots), *keep_tail]) if head else "\n".join(keep_tail)
