"""The store owner's console through its routes: who may open it, its forms' CSRF, settings
checked by the API's rules, the webhook secret's rotation, the last webhooks, templates, test
sends, products and the schedule.  Bad input answers 4xx and changes nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

import devstack
from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.models import JobKind
from chalicelib.schedule import jobs
from chalicelib.storage import db, keys
from tests.conftest import STORE_BODY, auth
from tests.fixtures import body_of, payload, shopify_headers, standard_headers, woo_headers
from tests.support.console import FORM, console_url, cookie_of, csrf_of, page, post, sign_in, signed_in
from tests.support.intake import count_items
from tests.support.mail import emails_to

NOW = "2026-11-20T10:00:00Z"


def settings_of(client: Any, store: dict[str, Any]) -> dict[str, Any]:
    return dict(client.http.get(f"/stores/{store['store_id']}", headers=auth(store["api_key"])).json_body)


def test_the_api_key_opens_the_console_and_the_support_key_does_not(client: Any, store: dict[str, Any]) -> None:
    # GIVEN no session: every page shows the sign-in form, asking for the API key
    first = client.http.get(console_url(store))
    assert first.status_code == 200 and 'name="api_key"' in first.body.decode()
    # WHEN the support key is typed in THEN it is refused, no cookie set
    refused = sign_in(client, store, store["support_key"])
    assert refused.status_code == 401 and "Set-Cookie" not in refused.headers
    assert "That API key is not right." in refused.body.decode()
    # AND a support session from the inbox does not open the console
    inbox = client.http.post(
        f"/stores/{store['store_id']}/inbox/session",
        headers=FORM,
        body=urlencode({"support_key": store["support_key"], "name": "Dana"}),
    )
    support_cookie = cookie_of(inbox)
    for name in ("", "settings", "messages", "products", "schedule"):
        shown = page(client, store, support_cookie, name)
        assert shown.status_code == 200 and 'name="api_key"' in shown.body.decode(), name
    # WHEN the API key is typed in THEN the console opens, on every page, with an HttpOnly strict cookie
    opened = sign_in(client, store)
    assert opened.status_code == 303
    cookie_header = str(opened.headers["Set-Cookie"])
    assert "HttpOnly" in cookie_header and "SameSite=Strict" in cookie_header
    cookie = cookie_of(opened)
    for name in ("", "settings", "messages", "products", "schedule"):
        shown = page(client, store, cookie, name)
        assert shown.status_code == 200 and 'name="api_key"' not in shown.body.decode(), name
        assert "script-src 'sha256-" in shown.headers["Content-Security-Policy"]
    # AND the owner's session also opens the support pages (the API key works cases too)
    assert (
        'name="support_key"' not in client.http.get(f"/stores/{store['store_id']}/inbox", headers=cookie).body.decode()
    )
    # AND another store's session opens nothing here
    other = client.http.post(
        "/stores",
        headers={"Authorization": "Bearer local-operator-token", "Content-Type": "application/json"},
        body=json.dumps({**STORE_BODY, "name": "Other"}),
    ).json_body
    assert 'name="api_key"' in page(client, store, signed_in(client, other)).body.decode()


def test_a_sign_in_from_another_site_is_refused(client: Any, store: dict[str, Any]) -> None:
    answer = client.http.post(
        console_url(store, "session"),
        headers={**FORM, "Origin": "https://evil.example", "Host": "aftercare.example"},
        body=urlencode({"api_key": store["api_key"]}),
    )
    assert answer.status_code == 403 and "Set-Cookie" not in answer.headers


def test_forms_without_the_session_csrf_change_nothing(client: Any, store: dict[str, Any]) -> None:
    cookie = signed_in(client, store)
    before, settings_before = count_items(), settings_of(client, store)
    forms = {
        "secret": {},
        "settings": {"group": "identity", "name": "Taken over"},
        "templates": {"name": "survey.subject", "lang": "en", "source": "pwned"},
        "products": {"sku": "TEA-1", "warranty_months": "3"},
        "test": {"kind": "survey", "lang": "en", "channel": "email"},
    }
    for action, fields in forms.items():
        # WHEN a form is posted with a wrong CSRF token, or none
        for csrf in ("forged", None):
            body = {**fields, **({"csrf": csrf} if csrf else {})}
            answer = post(client, store, cookie, action, body)
            # THEN it is refused and says the form is out of date
            assert answer.status_code == 403, (action, answer.status_code)
            assert "out of date" in answer.body.decode()
    # AND nothing changed: no item, no setting, no email
    assert count_items() == before and settings_of(client, store) == settings_before
    assert emails_to("care@cedarsage.example") == []
    # AND without any session a form only leads back to the sign-in
    answer = client.http.post(console_url(store, "settings"), headers=FORM, body=urlencode(forms["settings"]))
    assert answer.status_code == 303 and answer.headers["Location"].endswith(console_url(store))
    assert count_items() == before


def test_settings_are_checked_by_the_api_rules_and_saved_only_when_all_are_right(
    client: Any, store: dict[str, Any]
) -> None:
    cookie = signed_in(client, store)
    csrf = csrf_of(page(client, store, cookie, "settings").body.decode())
    before = settings_of(client, store)
    # WHEN the identity group is posted with a bad email, a bad zone and a good name
    form = {
        "csrf": csrf,
        "group": "identity",
        "name": "Cedar & Sage Athens",
        "sender_email": "hello@cedarsage.example",
        "timezone": "Mars/Olympus",
        "language": "en",
        "support_email": "not an email",
        "support_phone": "+302101234567",
        **{f"languages.{code}": "1" for code in ("en", "ar", "fa", "he", "el")},
    }
    answer = post(client, store, cookie, "settings", form)
    # THEN it is a 400 naming each wrong field next to it, and nothing was saved, not even the name
    assert answer.status_code == 400
    html = answer.body.decode()
    assert 'id="err-timezone"' in html and 'id="err-support_email"' in html and 'id="err-name"' not in html
    assert "Nothing was saved" in html and 'value="Cedar &amp; Sage Athens"' in html
    assert settings_of(client, store) == before
    # WHEN the same fields are right
    good = {**form, "timezone": "Europe/Athens", "support_email": "help@cedarsage.example"}
    saved = post(client, store, cookie, "settings", good)
    # THEN they are saved, as PATCH would save them, and the page says so
    assert saved.status_code == 303 and "done=saved" in saved.headers["Location"]
    after = settings_of(client, store)
    assert (after["name"], after["support_email"]) == ("Cedar & Sage Athens", "help@cedarsage.example")
    # AND fields left as they were are not written (the local week stays unset)
    followups = {
        "csrf": csrf,
        "group": "followups",
        **{k: str(v) for k, v in after.items() if isinstance(v, int) and not isinstance(v, bool)},
        "survey_type": after["survey_type"],
        "review_invite": after["review_invite"],
        "quiet_start": after["quiet_start"],
        "quiet_end": after["quiet_end"],
        **{f"send_days.{d}": "1" for d in after["send_days"]},
        **{
            f"followups.{k}": "1"
            for k in (
                "thank_you",
                "delivery_checkin",
                "usage_tips",
                "survey",
                "survey_reminder",
                "birthday",
                "anniversary",
                "warranty",
                "winback",
            )
        },
    }
    unchanged = post(client, store, cookie, "settings", followups)
    assert unchanged.status_code == 303 and "done=unchanged" in unchanged.headers["Location"]
    # AND a number out of range is named (the API's own message) and not saved
    wrong = post(client, store, cookie, "settings", {**followups, "weekly_cap": "99", "survey_delay_days": "5"})
    assert wrong.status_code == 400 and 'id="err-weekly_cap"' in wrong.body.decode()
    assert settings_of(client, store)["survey_delay_days"] == after["survey_delay_days"]


@pytest.mark.world_time(NOW)
def test_rotating_the_secret_keeps_the_old_one_for_a_day(client: Any, store: dict[str, Any], world_time: Any) -> None:
    cookie = signed_in(client, store)
    setup = page(client, store, cookie).body.decode()
    old = store["webhook_secret"]
    # the secret is shown masked: its last four characters only
    assert old not in setup and old[-4:] in setup
    # WHEN the owner rotates it
    rotated = post(client, store, cookie, "secret", {"csrf": csrf_of(setup)})
    assert rotated.status_code == 200
    html = rotated.body.decode()
    new = re.search(r'id="new-secret" type="text" readonly value="(whsec_[^"]+)"', html)
    assert new and new.group(1) != old
    # THEN the page says until when the old one still verifies
    assert 'id="overlap"' in html
    # AND a WooCommerce delivery signed with the old secret is still accepted, one with the new as well
    body = body_of(payload("woocommerce/order_processing.json"))
    for secret, delivery in ((old, "1"), (new.group(1), "2")):
        answer = client.http.post(
            f"/webhooks/woocommerce/{store['store_id']}",
            headers=woo_headers(secret, body, "order.created", delivery_id=delivery),
            body=body,
        )
        assert answer.status_code == 200, answer.body
    # WHEN the day is over THEN the old one is refused and the new one verifies
    world_time.shift(timedelta(hours=25))
    late = body_of({**payload("woocommerce/order_processing.json"), "id": 99})
    assert (
        client.http.post(
            f"/webhooks/woocommerce/{store['store_id']}",
            headers=woo_headers(old, late, "order.created", delivery_id="3"),
            body=late,
        ).status_code
        == 401
    )


@pytest.mark.world_time(NOW)
def test_setup_shows_the_last_webhook_of_each_source_with_its_outcome(client: Any, store: dict[str, Any]) -> None:
    cookie = signed_in(client, store)
    body = body_of(payload("shopify/orders_create.json"))
    # GIVEN Shopify delivers an order, then the same one again, then one with a wrong secret
    accepted = client.http.post(
        f"/webhooks/shopify/{store['store_id']}",
        headers=shopify_headers(store["webhook_secret"], body, "orders/create", "ev-1"),
        body=body,
    )
    assert accepted.json_body["status"] == "accepted"
    html = page(client, store, cookie).body.decode()
    assert re.search(r'id="last-shopify" data-outcome="accepted"', html)
    duplicate = client.http.post(
        f"/webhooks/shopify/{store['store_id']}",
        headers=shopify_headers(store["webhook_secret"], body, "orders/create", "ev-1"),
        body=body,
    )
    assert duplicate.json_body["status"] == "duplicate"
    assert 'id="last-shopify" data-outcome="duplicate"' in page(client, store, cookie).body.decode()
    before = count_items()
    forged = client.http.post(
        f"/webhooks/shopify/{store['store_id']}",
        headers=shopify_headers("not-the-secret", body, "orders/create", "ev-2"),
        body=body,
    )
    # THEN the refusal is still a 401 that stores nothing of the order
    assert forged.status_code == 401 and count_items() == before
    # AND the setup page shows it refused, with the reason
    html = page(client, store, cookie).body.decode()
    assert 'id="last-shopify" data-outcome="refused"' in html
    assert "The signature does not match" in html and "X-Shopify-Hmac-Sha256 does not match the body" in html
    # AND a generic delivery is listed on its own row, WooCommerce not at all yet
    event = {"order_id": "G-1", "status": "created", "occurred_at": NOW, "customer": {"email": "g@example.com"}}
    generic = body_of(event)
    client.http.post(
        f"/webhooks/orders/{store['store_id']}",
        headers=standard_headers(store["webhook_secret"], generic, "m1"),
        body=generic,
    )
    html = page(client, store, cookie).body.decode()
    assert 'id="last-generic" data-outcome="accepted"' in html and 'id="last-woocommerce" data-outcome="none"' in html
    # AND a delivery for an unknown store records nothing
    client.http.post(
        "/webhooks/shopify/st00000000000000", headers=shopify_headers("x", body, "orders/create", "e"), body=body
    )
    assert [i for i in _activity_items() if i["store_id"] == "st00000000000000"] == []


def _activity_items() -> list[dict[str, Any]]:
    table = db.table()
    found = table.client.scan(TableName=table.name)["Items"]
    return [i for i in map(table.load, found) if i.get("type") == "webhook_activity"]


def test_a_template_override_is_checked_in_the_sandbox_before_it_is_saved(client: Any, store: dict[str, Any]) -> None:
    cookie = signed_in(client, store)
    html = page(client, store, cookie, "messages", "kind=survey&lang=el").body.decode()
    # the preview shows the email in a sandboxed frame and the SMS with its encoding and segments
    assert '<iframe class="mail"' in html and " sandbox srcdoc=" in html
    assert re.search(r'<span class="badge">(GSM-7|UCS-2)</span> · \d+ segments', html)
    csrf = csrf_of(html)
    before = count_items()
    # WHEN an override that does not render is saved
    broken = post(
        client,
        store,
        cookie,
        "templates",
        {"csrf": csrf, "name": "survey.subject", "lang": "el", "source": "Hi\n{{ nope( }}"},
    )
    # THEN it is refused with its line, shown again as typed, and nothing is saved
    assert broken.status_code == 400
    assert "line 2" in broken.body.decode() and "{{ nope( }}" in broken.body.decode()
    assert count_items() == before
    # WHEN a good one is saved THEN the preview uses it, and the API reads it back
    good = post(
        client,
        store,
        cookie,
        "templates",
        {"csrf": csrf, "name": "survey.subject", "lang": "el", "source": "Πώς ήταν, {{ first_name }};"},
    )
    assert good.status_code == 303
    shown = page(client, store, cookie, "messages", "kind=survey&lang=el").body.decode()
    assert 'id="email-subject" dir="ltr">Πώς ήταν, Dana;' in shown
    api = client.http.get(f"/stores/{store['store_id']}/templates/survey.subject/el", headers=auth(store["api_key"]))
    assert api.json_body["source"] == "Πώς ήταν, {{ first_name }};"
    # WHEN it is removed THEN the built-in subject is back
    post(
        client,
        store,
        cookie,
        "templates",
        {"csrf": csrf, "name": "survey.subject", "lang": "el", "source": "", "delete": "1"},
    )
    assert "Πώς ήταν, Dana;" not in page(client, store, cookie, "messages", "kind=survey&lang=el").body.decode()


def test_send_me_a_test_mails_the_support_address_through_the_real_transport(
    client: Any, store: dict[str, Any]
) -> None:
    cookie = signed_in(client, store)
    csrf = csrf_of(page(client, store, cookie, "messages").body.decode())
    # WHEN the owner asks for a test of the Arabic thank-you by email
    answer = post(client, store, cookie, "test", {"csrf": csrf, "kind": "thank_you", "lang": "ar", "channel": "email"})
    # THEN SES sends it to the store's support email, from the store's sender
    assert answer.status_code == 303 and "done=test_email" in answer.headers["Location"]
    sent = emails_to("care@cedarsage.example")
    assert len(sent) == 1 and "hello@cedarsage.example" in sent[0].source
    # AND the page says where it went
    location = urlsplit(answer.headers["Location"])
    notice = client.http.get(f"{location.path}?{location.query}", headers=cookie)
    assert "care@cedarsage.example" in notice.body.decode()


def test_products_are_saved_by_the_product_rules(client: Any, store: dict[str, Any]) -> None:
    cookie = signed_in(client, store)
    html = page(client, store, cookie, "products", "sku=TEA-1").body.decode()
    csrf = csrf_of(html)
    before = count_items()
    form = {
        "csrf": csrf,
        "sku": "TEA-1",
        "title.en": "Ceramic teapot",
        "tips.en": "Warm it first.",
        "tips.ar": "سخّنه أولًا.",
        "warranty_months": "999",
        "review_url": "not a url",
    }
    wrong = post(client, store, cookie, "products", form)
    assert wrong.status_code == 400 and count_items() == before
    assert "warranty_months" in wrong.body.decode() and "review_url" in wrong.body.decode()
    saved = post(
        client, store, cookie, "products", {**form, "warranty_months": "24", "review_url": "https://example.com/r"}
    )
    assert saved.status_code == 303
    product = client.http.get(f"/stores/{store['store_id']}/products/TEA-1", headers=auth(store["api_key"])).json_body
    assert product["tips"] == {"en": "Warm it first.", "ar": "سخّنه أولًا."} and product["warranty_months"] == 24


@pytest.mark.world_time(NOW)
def test_the_schedule_shows_why_a_job_was_skipped_and_retries_a_failed_one(
    app: Any, client: Any, store: dict[str, Any]
) -> None:
    cookie = signed_in(client, store)
    # GIVEN an order imported long after it was placed (its thank-you's moment has passed)
    placed = (parse_iso(NOW) - timedelta(days=200)).isoformat()
    event = {
        "order_id": "H-1",
        "status": "created",
        "occurred_at": placed,
        "customer": {"email": "ines@example.pt", "email_consent": True},
        "items": [{"sku": "TEA-1", "title": "Teapot", "quantity": 1}],
    }
    body = body_of(event)
    client.http.post(
        f"/webhooks/orders/{store['store_id']}",
        headers=standard_headers(store["webhook_secret"], body, "h1"),
        body=body,
    )
    # THEN the order's schedule shows the skipped thank-you and why
    html = page(client, store, cookie, "schedule", "order_id=H-1").body.decode()
    assert 'data-status="skipped"' in html and "late_event" in html
    assert "Its moment had passed when the event arrived" in html
    # GIVEN a failed job
    failed_at = parse_iso(NOW)
    job = jobs.job_item(
        keys.customer_pk(store["store_id"], "ines@example.pt"),
        JobKind.WINBACK,
        failed_at,
        store_id=store["store_id"],
        shards=db.table().due_shards,
        customer_id="ines@example.pt",
    )
    job.update(
        {"status": "failed", "reason": "rejected by the provider (MessageRejected)", "finished_at": iso(failed_at)},
        **keys.failed_job_listing(store["store_id"], iso(failed_at), job["PK"], job["SK"]),
    )
    for name in ("due_pk", "due_at"):
        job.pop(name)
    db.table().put(job)
    html = page(client, store, cookie, "schedule").body.decode()
    ref = re.search(r'name="ref" value="([^"]+)"', html)
    assert ref and "MessageRejected" in html
    # WHEN the owner retries it THEN it is pending again, due now, and out of the failed list
    answer = post(client, store, cookie, "jobs/retry", {"csrf": csrf_of(html), "ref": ref.group(1)})
    assert answer.status_code == 303
    stored = db.table().get({"PK": job["PK"], "SK": job["SK"]})
    assert stored is not None and stored["status"] == "pending" and "gsi1pk" not in stored
    assert "MessageRejected" not in page(client, store, cookie, "schedule").body.decode()
    # AND a second retry, or a forged reference, is a 400 that changes nothing
    before = count_items()
    for value in (ref.group(1), "forged.ref"):
        again = post(client, store, cookie, "jobs/retry", {"csrf": csrf_of(html), "ref": value})
        assert again.status_code == 400
    assert count_items() == before
    assert devstack.deliver(app, parse_iso(NOW) + timedelta(minutes=1)).count >= 1
