"""The dev outbox: every email, SMS and WhatsApp message the local stack sent, read from
moto's own records.  The local stage has no End User Messaging Social: its WhatsApp messages
travel through SNS like an SMS (``WHATSAPP_TRANSPORT=sns``), as the Meta message object, and
are told apart here by that shape.

moto keeps what it "sent" in its in-process backends (SES ``sent_messages``, SNS
``sms_messages`` and each topic's ``sent_notifications``), so this page works only in the
process that runs the embedded AWS server (``python -m devstack run``).  Messages sent by any
client of that server (``chalice local``, the scheduler, ``tick``) all land there.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devstack import ACCOUNT, REGION

PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; frame-src 'self'; base-uri 'none'; form-action 'none'"


@dataclass
class Email:
    message_id: str
    sender: str
    to: list[str]
    subject: str
    html: str
    text: str


@dataclass
class Sms:
    message_id: str
    to: str
    body: str


@dataclass
class WhatsApp:
    message_id: str
    to: str
    type: str  # template | text
    template: str | None  # the template's name and language code
    parameters: list[str]  # the template's body values, in order
    body: str  # a text message's body


@dataclass
class Notification:
    message_id: str
    topic: str
    subject: str
    body: str


def _looks_like_html(body: str) -> bool:
    head = body.lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html") or "</" in body


def _from_simple(message: Any) -> Email:
    destinations = message.destinations or {}
    to = (
        list(destinations.get("ToAddresses", []))
        + list(destinations.get("CcAddresses", []))
        + list(destinations.get("BccAddresses", []))
    )
    body = message.body or ""
    is_html = _looks_like_html(body)
    return Email(
        message.id, message.source, to, message.subject or "", body if is_html else "", "" if is_html else body
    )


def _from_raw(message: Any) -> Email:
    parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
    html_part = parsed.get_body(preferencelist=("html",))
    text_part = parsed.get_body(preferencelist=("plain",))
    to = list(message.destinations or []) or [str(parsed.get("To", ""))]
    return Email(
        message.id,
        str(parsed.get("From", message.source or "")),
        to,
        str(parsed.get("Subject", "")),
        html_part.get_content() if html_part is not None else "",
        text_part.get_content() if text_part is not None else "",
    )


def emails() -> list[Email]:
    """Every email sent through SES (v1 or v2), newest first."""
    from moto.ses.models import RawMessage, ses_backends

    backend = ses_backends[ACCOUNT][REGION]
    found = []
    for message in list(backend.sent_messages):
        if isinstance(message, RawMessage):
            found.append(_from_raw(message))
        elif hasattr(message, "subject"):
            found.append(_from_simple(message))
    return found[::-1]


def _texts() -> list[tuple[str, str, str]]:
    from moto.sns.models import sns_backends

    backend = sns_backends[ACCOUNT][REGION]
    return [(message_id, phone, body) for message_id, (phone, body) in reversed(list(backend.sms_messages.items()))]


def sms() -> list[Sms]:
    """Every SMS sent to a phone number through SNS, newest first."""
    from chalicelib.messaging.whatsapp import parse_message

    return [Sms(message_id, phone, body) for message_id, phone, body in _texts() if parse_message(body) is None]


def whatsapp() -> list[WhatsApp]:
    """Every WhatsApp message the local stand-in carried, newest first."""
    from chalicelib.messaging.whatsapp import parse_message

    found = []
    for message_id, phone, body in _texts():
        message = parse_message(body)
        if message is None:
            continue
        template = message.get("template") or {}
        parameters = [
            str(p.get("text", "")) for c in template.get("components") or [] for p in c.get("parameters") or []
        ]
        found.append(
            WhatsApp(
                message_id,
                phone,
                str(message.get("type")),
                f"{template['name']} ({template['language']['code']})" if template else None,
                parameters,
                str((message.get("text") or {}).get("body") or ""),
            )
        )
    return found


def notifications(topic_names: tuple[str, ...]) -> list[Notification]:
    """Messages published to the given topics (escalation alerts), newest first."""
    from moto.sns.models import sns_backends

    backend = sns_backends[ACCOUNT][REGION]
    found = []
    for arn, topic in list(backend.topics.items()):
        name = arn.rsplit(":", 1)[1]
        if name in topic_names:
            found += [Notification(m[0], name, m[2] or "", m[1]) for m in list(topic.sent_notifications)]
    return found[::-1]


def snapshot(topic_names: tuple[str, ...]) -> dict[str, Any]:
    return {
        "emails": [asdict(e) for e in emails()],
        "sms": [asdict(s) for s in sms()],
        "whatsapp": [asdict(w) for w in whatsapp()],
        "notifications": [asdict(n) for n in notifications(topic_names)],
    }


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def render(data: dict[str, Any]) -> str:
    """The outbox as one page.  Every value is escaped; an email's HTML is shown only inside a
    sandboxed ``srcdoc`` iframe, where none of its scripts or forms can run."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Aftercare outbox</title>",
        "<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}"
        "article{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}"
        "iframe{width:100%;height:24rem;border:1px solid #ddd}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}"
        "dt{font-weight:600}</style></head><body>",
        "<h1>Outbox</h1><p>Everything the local stack sent, newest first. <a href='/outbox.json'>JSON</a></p>",
        f"<h2>Email ({len(data['emails'])})</h2>",
    ]
    for mail in data["emails"]:
        parts.append(
            "<article class='email'>"
            f"<dl><dt>Subject</dt><dd class='subject'>{_e(mail['subject'])}</dd>"
            f"<dt>To</dt><dd>{_e(', '.join(mail['to']))}</dd><dt>From</dt><dd>{_e(mail['sender'])}</dd></dl>"
        )
        if mail["html"]:
            parts.append(f"<iframe sandbox title='{_e(mail['subject'])}' srcdoc=\"{_e(mail['html'])}\"></iframe>")
        if mail["text"]:
            parts.append(f"<details><summary>Text part</summary><pre>{_e(mail['text'])}</pre></details>")
        parts.append("</article>")
    parts.append(f"<h2>SMS ({len(data['sms'])})</h2>")
    for message in data["sms"]:
        parts.append(
            f"<article class='sms'><dl><dt>To</dt><dd>{_e(message['to'])}</dd></dl><pre>{_e(message['body'])}</pre></article>"
        )
    parts.append(f"<h2>WhatsApp ({len(data['whatsapp'])})</h2>")
    for message in data["whatsapp"]:
        parts.append(f"<article class='whatsapp'><dl><dt>To</dt><dd>{_e(message['to'])}</dd>")
        if message["template"]:
            parts.append(f"<dt>Template</dt><dd class='template'>{_e(message['template'])}</dd></dl>")
            parts.append("<ol class='parameters'>")
            parts += [f"<li>{_e(value)}</li>" for value in message["parameters"]]
            parts.append("</ol></article>")
        else:
            parts.append(f"</dl><pre>{_e(message['body'])}</pre></article>")
    parts.append(f"<h2>Alerts to support ({len(data['notifications'])})</h2>")
    for note in data["notifications"]:
        parts.append(
            f"<article class='alert'><dl><dt>Topic</dt><dd>{_e(note['topic'])}</dd>"
            f"<dt>Subject</dt><dd>{_e(note['subject'])}</dd></dl><pre>{_e(note['body'])}</pre></article>"
        )
    parts.append("</body></html>")
    return "".join(parts)


def serve(host: str, port: int, topic_names: tuple[str, ...]) -> ThreadingHTTPServer:
    """Start the outbox page (``/``) and its JSON (``/outbox.json``) on a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/outbox.json":
                body, kind = (
                    json.dumps(snapshot(topic_names), indent=2, ensure_ascii=False).encode(),
                    "application/json; charset=utf-8",
                )
            elif path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            elif path == "/":
                body, kind = render(snapshot(topic_names)).encode(), "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", PAGE_CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="outbox", daemon=True).start()
    return server
