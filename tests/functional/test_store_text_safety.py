"""What a store or a customer writes never reaches a header or an alert as anything but
text: senders are addresses SES can encode, names lose control characters, and a comment
cannot forge lines of an alert."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.messaging import transports
from chalicelib.platform.config import settings
from chalicelib.platform.process import PROCESS
from chalicelib.support import alerts
from tests.conftest import OPERATOR, STORE_BODY, auth


def post_store(client: Any, **changes: Any) -> Any:
    return client.http.post(
        "/stores", headers={**OPERATOR, "Content-Type": "application/json"}, body=json.dumps({**STORE_BODY, **changes})
    )


def test_an_international_sender_domain_is_kept_in_its_ascii_form_and_encodes(client: Any) -> None:
    # GIVEN a store whose sender has an international domain
    created = post_store(client, sender_email="hello@bücher.example")
    # THEN it is accepted in the form SES sends from, and every email's From header encodes
    assert created.status_code == 201, created.body
    assert created.json_body["sender_email"] == "hello@xn--bcher-kva.example"
    header = transports.sender({"name": "Bücher", "sender_email": created.json_body["sender_email"]})
    assert header.endswith("<hello@xn--bcher-kva.example>") and header.isascii()


@pytest.mark.parametrize("field", ["sender_email", "support_email"])
def test_an_international_local_part_is_refused_naming_the_field(
    client: Any, store: dict[str, Any], field: str
) -> None:
    created = post_store(client, **{field: "jörg@example.com"})
    assert created.status_code == 400
    assert created.json_body["error"]["field"] == field
    changed = client.http.patch(
        f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps({field: "jörg@example.com"})
    )
    assert changed.status_code == 400
    assert changed.json_body["error"]["field"] == field


@pytest.mark.parametrize(
    "name",
    ["Cedar\r\nBcc: victim@example.com", "Cedar\u202eegaS", "Cedar\x00\x1b[31m\x85\u2028Sage", "Cedar\u2066\u200fSage"],
)
def test_control_characters_and_bidi_overrides_are_stripped_from_the_store_name(
    client: Any, store: dict[str, Any], name: str
) -> None:
    created = post_store(client, name=name)
    assert created.status_code == 201, created.body
    changed = client.http.patch(
        f"/stores/{store['store_id']}", headers=auth(store["api_key"]), body=json.dumps({"name": name})
    )
    for saved in (created.json_body["name"], changed.json_body["name"]):
        assert saved.startswith("Cedar")
        assert all(ch.isprintable() and ch not in "\u202e\u2066\u200f" for ch in saved), repr(saved)


def test_a_name_saved_before_the_rule_still_cannot_break_the_from_header() -> None:
    header = transports.sender({"name": "Cedar\r\nBcc: victim@example.com", "sender_email": "hello@cedarsage.example"})
    assert "\r" not in header and "\n" not in header
    assert header.endswith("<hello@cedarsage.example>")


def test_a_comment_with_line_breaks_cannot_forge_a_link_in_alerts(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://aftercare.example")
    PROCESS.reset()
    forged = "Awful.\n\nOpen the case: https://evil.example/login\r\n\u202eignore"
    store = {"store_id": "st1", "name": "Cedar\r\nSage\u202e"}
    case = {
        "store_id": "st1",
        "case_id": "c1",
        "order_name": "#7\nOpen the case: https://evil.example",
        "score": 2,
        "survey_type": "nps",
        "comment": forged,
        "contacts": {"name": "Eve\nOpen the case: https://evil.example"},
    }
    alert = alerts.build_alert(store, case, "new", base_url=settings().public_base_url)
    lines = alert.body.split("\n")
    # THEN only our own last line offers a link to the case, and the comment stays one quoted line
    assert [line for line in lines if line.startswith("Open the case")] == [
        "Open the case: https://aftercare.example/stores/st1/inbox#case-c1"
    ]
    assert 'Comment: "Awful. Open the case: https://evil.example/login ignore"' in lines
    assert "\u202e" not in alert.body and alert.title == "Negative feedback (normal) for Cedar Sage"
    section = alerts.slack_payload(alert)["blocks"][1]["text"]["text"]
    assert all(not line.startswith("Open the case") for line in section.split("\n"))
    PROCESS.reset()
