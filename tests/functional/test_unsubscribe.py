"""The /u/{token} pages: confirm on GET, unsubscribe on POST (RFC 8058 one-click or a choice)."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.core.clock import wall_clock
from chalicelib.messaging import links, suppression
from chalicelib.storage import db, keys

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EMAIL = "ana@example.com"


def token_for(store: dict[str, Any]) -> str:
    return links.unsubscribe_token(store["store_id"], EMAIL, EMAIL)


def test_opening_the_link_only_asks(client: Any, store: dict[str, Any]) -> None:
    page = client.http.get(f"/u/{token_for(store)}")
    html = page.body.decode()
    assert page.status_code == 200
    assert 'Which messages should we stop sending to <span dir="auto">ana@example.com</span>?' in html
    assert 'value="surveys"' in html and 'value="everything" checked' in html
    assert suppression.lookup(db.table(), store["store_id"], EMAIL, "email") is None


def test_one_click_unsubscribes_from_everything_without_redirect(client: Any, store: dict[str, Any]) -> None:
    answer = client.http.post(f"/u/{token_for(store)}", headers=FORM, body="List-Unsubscribe=One-Click")
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert 'We will no longer send any messages to <span dir="auto">ana@example.com</span>.' in answer.body.decode()
    item = suppression.lookup(db.table(), store["store_id"], EMAIL, "email")
    assert item is not None and item["scope"] == "all"


def test_surveys_only_keeps_order_messages(client: Any, store: dict[str, Any]) -> None:
    answer = client.http.post(f"/u/{token_for(store)}", headers=FORM, body="choice=surveys")
    assert "Messages about your orders will still arrive." in answer.body.decode()
    item = suppression.lookup(db.table(), store["store_id"], EMAIL, "email")
    assert item is not None and item["scope"] == "surveys"
    assert suppression.blocks(item, "survey") and not suppression.blocks(item, "thank_you")


def test_the_page_follows_the_customers_language(client: Any, store: dict[str, Any]) -> None:
    db.table().put({**keys.customer(store["store_id"], EMAIL), "type": "customer", "language": "he"})
    html = client.http.get(f"/u/{token_for(store)}").body.decode()
    assert '<html lang="he" dir="rtl">' in html and "הסרה מרשימת התפוצה" in html


def test_a_forged_token_changes_nothing(client: Any, store: dict[str, Any]) -> None:
    forged = token_for(store)[:-3] + "AAA"
    assert client.http.get(f"/u/{forged}").status_code == 404
    assert client.http.post(f"/u/{forged}", headers=FORM, body="List-Unsubscribe=One-Click").status_code == 404
    assert suppression.lookup(db.table(), store["store_id"], EMAIL, "email") is None


def test_a_form_with_too_many_fields_is_a_400_and_unsubscribes_nobody(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a genuine unsubscribe link
    # WHEN something posts a form of sixty fields to it
    body = "&".join(f"f{i}=x" for i in range(60)) + "&List-Unsubscribe=One-Click"
    answer = client.http.post(f"/u/{token_for(store)}", headers=FORM, body=body)
    # THEN it gets a clear 400 rather than a server error, and nothing is recorded
    assert answer.status_code == 400
    assert "fields" in answer.json_body["error"]["message"]
    assert suppression.lookup(db.table(), store["store_id"], EMAIL, "email") is None


def status_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'<li id="status-(\w+)" data-receives="(\w+)"', html))


def test_opening_the_link_again_shows_what_the_person_receives_now(client: Any, store: dict[str, Any]) -> None:
    # GIVEN a customer with an email and a phone, who first stops surveys by email
    db.table().put(
        {**keys.customer(store["store_id"], EMAIL), "type": "customer", "email": EMAIL, "phone": "+306912345678"}
    )
    assert status_of(client.http.get(f"/u/{token_for(store)}").body.decode()) == {
        "email": "everything",
        "sms": "everything",
    }
    client.http.post(f"/u/{token_for(store)}", headers=FORM, body="choice=surveys")
    # WHEN they open the link again
    html = client.http.get(f"/u/{token_for(store)}").body.decode()
    # THEN the page says what each channel still brings, offers to resubscribe and gives the store's address
    assert status_of(html) == {"email": "orders", "sms": "everything"}
    assert 'name="resubscribe"' in html and 'name="nonce"' in html
    assert 'Questions? Write to us at <span dir="auto">care@cedarsage.example</span>.' in html
    # AND after a STOP by text, the SMS line says nothing is sent and how to start again
    suppression.suppress(db.table(), store["store_id"], "+306912345678", "sms", "all", "stop", wall_clock())
    html = client.http.get(f"/u/{token_for(store)}").body.decode()
    assert status_of(html)["sms"] == "nothing" and "reply START" in html


def test_resubscribe_needs_the_pages_nonce_and_lifts_the_email_suppression(client: Any, store: dict[str, Any]) -> None:
    # GIVEN someone who unsubscribed from everything with one click
    client.http.post(f"/u/{token_for(store)}", headers=FORM, body="List-Unsubscribe=One-Click")
    html = client.http.get(f"/u/{token_for(store)}").body.decode()
    assert status_of(html) == {"email": "nothing"} and 'name="choice"' not in html
    nonce = re.search(r'name="nonce" value="([^"]+)"', html)
    assert nonce is not None
    # WHEN a form without the page's nonce asks to resubscribe THEN nothing changes
    refused = client.http.post(f"/u/{token_for(store)}", headers=FORM, body="resubscribe=email&nonce=forged.value")
    assert refused.status_code == 403
    assert suppression.lookup(db.table(), store["store_id"], EMAIL, "email") is not None
    # WHEN the page's own form asks THEN they are subscribed again, and the page says so
    answer = client.http.post(f"/u/{token_for(store)}", headers=FORM, body=f"resubscribe=email&nonce={nonce.group(1)}")
    assert answer.status_code == 200 and "You are subscribed again." in answer.body.decode()
    assert status_of(answer.body.decode()) == {"email": "everything"}
    assert suppression.lookup(db.table(), store["store_id"], EMAIL, "email") is None


def test_one_click_wins_over_anything_else_in_the_body(client: Any, store: dict[str, Any]) -> None:
    answer = client.http.post(
        f"/u/{token_for(store)}", headers=FORM, body="List-Unsubscribe=One-Click&resubscribe=email"
    )
    assert answer.status_code == 200
    item = suppression.lookup(db.table(), store["store_id"], EMAIL, "email")
    assert item is not None and item["scope"] == "all"
