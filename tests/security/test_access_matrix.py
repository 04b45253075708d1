"""Every route, called as an outsider would: no key, a wrong key, another store's key, the
wrong kind of key, forged, expired and foreign tokens, tampered cookies.  Nothing leaks,
nothing changes, nothing answers 5xx."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.core.clock import wall_clock
from chalicelib.messaging import links
from chalicelib.platform import signing
from chalicelib.platform.process import PROCESS
from chalicelib.storage import db
from chalicelib.surveys import answers, tokens
from tests.conftest import OPERATOR, STORE_BODY, auth
from tests.support.intake import count_items
from tests.support.surveys import FORM, issue, post_answer

MARKER = "Secret-Marker-7f3a"  # in store A's data only: it must never show up in an answer to an outsider
CUSTOMER = "maya@example.org"

# A body each writing route would accept from its rightful caller (so a refusal is about who calls).
BODIES: dict[tuple[str, str], tuple[str, str]] = {
    ("PATCH", "/stores/{store_id}"): ("application/json", json.dumps({"name": "Taken over"})),
    ("POST", "/stores/{store_id}/customers"): (
        "application/json",
        json.dumps({"customers": [{"email": "new@example.org"}]}),
    ),
    ("PUT", "/stores/{store_id}/products/{sku}"): ("application/json", json.dumps({"warranty_months": 1})),
    ("PUT", "/stores/{store_id}/templates/{name}/{lang}"): ("application/json", json.dumps({"source": "pwned"})),
    ("POST", "/stores/{store_id}/endpoints"): (
        "application/json",
        json.dumps({"url": "https://evil.example.com/in", "events": ["case.opened"]}),
    ),
    ("POST", "/stores/{store_id}/keys/rotate"): ("application/json", json.dumps({"key": "api"})),
    ("PATCH", "/stores/{store_id}/cases/{case_id}"): (
        "application/json",
        json.dumps({"action": "resolve", "outcome": "other", "note": "x", "by": "eve"}),
    ),
}
# Routes that are not called with a store key: public (signed payloads, tokens, the API
# description), the operator's, and the support pages' sign-in and session forms.
NOT_STORE_KEY_ROUTES = {
    "/stores",
    "/openapi.json",
    "/s/{token}",
    "/u/{token}",
    "/webhooks/shopify/{store_id}",
    "/webhooks/woocommerce/{store_id}",
    "/webhooks/orders/{store_id}",
    "/stores/{store_id}/inbox",
    "/stores/{store_id}/inbox/session",
    "/stores/{store_id}/inbox/signout",
    "/stores/{store_id}/inbox/cases/{case_id}",
    "/stores/{store_id}/dashboard",
    "/stores/{store_id}/dashboard/session",
    # the owner's console: its own sign-in with the API key, then a session cookie (below)
    *(f"/stores/{{store_id}}/console{page}" for page in ("", "/settings", "/messages", "/products", "/schedule")),
    *(
        f"/stores/{{store_id}}/console/{form}"
        for form in ("session", "signout", "secret", "templates", "test", "jobs/retry")
    ),
}
SUPPORT_KEY_ALSO = {"/stores/{store_id}/cases", "/stores/{store_id}/cases/{case_id}"}


def store_routes(app: Any) -> list[tuple[str, str]]:
    return sorted(
        (method, path) for path, methods in app.routes.items() for method in methods if path not in NOT_STORE_KEY_ROUTES
    )


def new_store(client: Any, **changes: Any) -> dict[str, Any]:
    created = client.http.post(
        "/stores", headers={**OPERATOR, "Content-Type": "application/json"}, body=json.dumps({**STORE_BODY, **changes})
    )
    assert created.status_code == 201, created.body
    return dict(created.json_body)


@pytest.fixture
def world(app: Any, client: Any) -> dict[str, Any]:
    """Store A with a customer, a case, a product and a template override; store B beside it."""
    a = new_store(client, negative_keywords=[MARKER], next_event=f"Tasting {MARKER}")
    b = new_store(client, name="Other shop")
    link = issue(a, customer=CUSTOMER)
    assert post_answer(client, link.token, score=1, comment=f"Broken {MARKER}").status_code == 200
    cases = client.http.get(f"/stores/{a['store_id']}/cases", headers=auth(a["api_key"])).json_body["cases"]
    assert (
        client.http.put(
            f"/stores/{a['store_id']}/products/TEA-1",
            headers=auth(a["api_key"]),
            body=json.dumps({"warranty_months": 12}),
        ).status_code
        == 200
    )
    assert (
        client.http.put(
            f"/stores/{a['store_id']}/templates/survey.subject/en",
            headers=auth(a["api_key"]),
            body=json.dumps({"source": "Hello"}),
        ).status_code
        == 200
    )
    endpoint = client.http.post(
        f"/stores/{a['store_id']}/endpoints",
        headers=auth(a["api_key"]),
        body=json.dumps({"url": "https://hooks.example.com/in", "events": ["case.opened"], "description": MARKER}),
    )
    assert endpoint.status_code == 201, endpoint.body
    return {
        "a": a,
        "b": b,
        "case_id": cases[0]["case_id"],
        "survey_token": link.token,
        "endpoint_id": endpoint.json_body["endpoint_id"],
    }


def concrete(path: str, world: dict[str, Any]) -> str:
    values = {
        "store_id": world["a"]["store_id"],
        "case_id": world["case_id"],
        "email_or_phone": CUSTOMER,
        "sku": "TEA-1",
        "name": "survey.subject",
        "lang": "en",
        "endpoint_id": world["endpoint_id"],
    }
    return re.sub(r"{(\w+)\+?}", lambda m: values[m.group(1)], path)


def call(client: Any, method: str, path: str, url: str, headers: dict[str, str]) -> Any:
    content_type, body = BODIES.get((method, path), ("application/json", "{}"))
    if method in ("POST", "PUT", "PATCH"):
        return client.http.request(method, url, headers={**headers, "Content-Type": content_type}, body=body.encode())
    return client.http.request(method, url, headers=headers)


def refused(answer: Any, *, allowed: tuple[int, ...] = (401, 404)) -> None:
    assert answer.status_code in allowed, (answer.status_code, answer.body[:300])
    assert MARKER not in answer.body.decode("utf-8", "replace")


def test_every_store_route_refuses_every_wrong_credential_and_changes_nothing(
    app: Any, client: Any, world: dict[str, Any]
) -> None:
    a, b = world["a"], world["b"]
    credentials = {
        "none": {},
        "garbage": {"Authorization": "Bearer nope"},
        "not bearer": {"Authorization": f"Basic {a['api_key']}"},
        "wrong key of A": {"Authorization": f"Bearer ak_{a['store_id']}_{'x' * 43}"},
        "B's API key": {"Authorization": f"Bearer {b['api_key']}"},
        "B's support key": {"Authorization": f"Bearer {b['support_key']}"},
        "the operator token": OPERATOR,
        "A's webhook secret": {"Authorization": f"Bearer {a['webhook_secret']}"},
    }
    routes = store_routes(app)
    assert len(routes) >= 15
    before = count_items()
    for method, path in routes:
        url = concrete(path, world)
        for label, headers in credentials.items():
            answer = call(client, method, path, url, headers)
            assert answer.status_code < 500, (method, path, label)
            refused(answer)
        if path not in SUPPORT_KEY_ALSO:
            # the wrong kind of key: A's own support key where the API key is needed
            refused(call(client, method, path, url, {"Authorization": f"Bearer {a['support_key']}"}))
    assert count_items() == before


def test_the_operator_route_refuses_store_keys(client: Any, world: dict[str, Any]) -> None:
    before = count_items()
    for key in (world["a"]["api_key"], world["a"]["support_key"], "local-operator-token-but-longer", ""):
        answer = client.http.post(
            "/stores",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            body=json.dumps(STORE_BODY),
        )
        assert answer.status_code == 401
    assert count_items() == before


def test_unsigned_or_foreign_webhooks_are_refused(client: Any, world: dict[str, Any]) -> None:
    a = world["a"]
    order = json.dumps({"id": 1, "order_id": "X-1", "status": "created"})
    before = count_items()
    for source in ("shopify", "woocommerce", "orders"):
        for headers in (
            {},
            {
                "X-Shopify-Hmac-Sha256": "AAAA",
                "X-WC-Webhook-Signature": "AAAA",
                "webhook-id": "m1",
                "webhook-timestamp": "1",
                "webhook-signature": "v1,AAAA",
            },
        ):
            answer = client.http.post(
                f"/webhooks/{source}/{a['store_id']}",
                headers={"Content-Type": "application/json", **headers},
                body=order,
            )
            assert answer.status_code in (400, 401, 404), (source, answer.status_code, answer.body)
            assert MARKER not in answer.body.decode()
    assert count_items() == before


def forged_tokens(world: dict[str, Any]) -> dict[str, str]:
    real = world["survey_token"]
    unsubscribe = links.unsubscribe_token(world["a"]["store_id"], CUSTOMER, CUSTOMER)
    return {
        "random": tokens.new_token(),
        "one character changed": real[:-1] + ("a" if real[-1] != "a" else "b"),
        "too long": real * 3,
        "path tricks": "..%2F..%2Fopenapi.json",
        "unsubscribe token as survey": unsubscribe,
        "forged unsubscribe": unsubscribe[:-2] + "xx",
        "survey token as unsubscribe": real,
        "session cookie as unsubscribe": signing.sign("support-session", json.dumps({"s": world["a"]["store_id"]})),
        "unsubscribe for another store": signing.sign("nope", json.dumps([world["b"]["store_id"], CUSTOMER, CUSTOMER])),
    }


def test_survey_and_unsubscribe_pages_refuse_forged_foreign_and_expired_tokens(
    client: Any, world: dict[str, Any]
) -> None:
    # GIVEN a survey whose link expired yesterday
    expired = issue(
        world["a"],
        order_id="OLD-1",
        customer="old@example.org",
        now=wall_clock() - timedelta(days=3),
        item={**world["a"], "survey_expiry_days": 1},
    )
    forged = forged_tokens(world)
    before = count_items()
    for label, token in {**forged, "expired": expired.token}.items():
        for route in ("s", "u"):
            if (route, label) in (("s", "survey token as unsubscribe"), ("u", "unsubscribe token as survey")):
                continue  # genuine on its own route
            page = client.http.get(f"/{route}/{token}")
            refused(page, allowed=(404,))
            form = (
                {"score": "9", "comment": "x", "nonce": answers.nonce(token)}
                if route == "s"
                else {"List-Unsubscribe": "One-Click"}
            )
            answer = client.http.post(f"/{route}/{token}", headers=FORM, body=urlencode(form))
            refused(answer, allowed=(403, 404))
    # AND a genuine survey link with a forged nonce records nothing
    refused(post_answer(client, world["survey_token"], score=9, nonce="forged"), allowed=(403,))
    assert count_items() == before


def signed_in_cookie(client: Any, store: dict[str, Any]) -> str:
    answer = client.http.post(
        f"/stores/{store['store_id']}/inbox/session",
        headers=FORM,
        body=urlencode({"support_key": store["support_key"], "name": "Dana"}),
    )
    assert answer.status_code == 303, answer.body
    return str(answer.headers["Set-Cookie"]).split(";")[0].split("=", 1)[1]


def test_inbox_and_dashboard_refuse_tampered_and_foreign_cookies(client: Any, world: dict[str, Any]) -> None:
    a, b = world["a"], world["b"]
    genuine = signed_in_cookie(client, a)
    payload, _, signature = genuine.rpartition(".")
    cookies = {
        "signature changed": f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        "no signature": payload,
        "B's session": signed_in_cookie(client, b),
        "signed for another purpose": signing.sign(
            "unsubscribe", json.dumps({"s": a["store_id"], "u": "eve", "n": "x", "e": 9999999999})
        ),
        "garbage": "%%%;;",
    }
    before = count_items()
    for label, value in cookies.items():
        headers = {"Cookie": f"aftercare_support={value}"}
        for page in ("inbox", "dashboard"):
            answer = client.http.get(f"/stores/{a['store_id']}/{page}", headers=headers)
            assert answer.status_code == 200, label
            body = answer.body.decode()
            assert 'name="support_key"' in body and MARKER not in body, (label, page)
        for page in ("console", "console/settings", "console/schedule"):
            answer = client.http.get(f"/stores/{a['store_id']}/{page}", headers=headers)
            assert answer.status_code == 200 and 'name="api_key"' in answer.body.decode(), (label, page)
        rotate = client.http.post(
            f"/stores/{a['store_id']}/console/secret", headers={**headers, **FORM}, body=urlencode({"csrf": "x"})
        )
        assert rotate.status_code == 303, label
        change = client.http.post(
            f"/stores/{a['store_id']}/inbox/cases/{world['case_id']}",
            headers={**headers, **FORM},
            body=urlencode({"action": "resolve", "outcome": "other", "note": "x", "csrf": "x"}),
        )
        assert change.status_code in (303, 403), label
        csv = client.http.get(f"/stores/{a['store_id']}/responses.csv", headers=headers)
        refused(csv)
    # AND A's support session does not open A's console, nor rotate its secret
    support = {"Cookie": f"aftercare_support={genuine}"}
    assert 'name="api_key"' in client.http.get(f"/stores/{a['store_id']}/console", headers=support).body.decode()
    rotate = client.http.post(
        f"/stores/{a['store_id']}/console/secret", headers={**support, **FORM}, body=urlencode({"csrf": "x"})
    )
    assert rotate.status_code == 303
    # AND the support key or B's API key typed into the console's sign-in does not sign in
    for key in (a["support_key"], b["api_key"], ""):
        answer = client.http.post(
            f"/stores/{a['store_id']}/console/session", headers=FORM, body=urlencode({"api_key": key})
        )
        assert answer.status_code == 401 and "Set-Cookie" not in answer.headers
    # AND the API key or B's support key typed into the sign-in forms does not sign in
    for key in (a["api_key"], b["support_key"], ""):
        for form in ("inbox", "dashboard"):
            answer = client.http.post(
                f"/stores/{a['store_id']}/{form}/session",
                headers=FORM,
                body=urlencode({"support_key": key, "name": "Eve"}),
            )
            assert answer.status_code == 401 and "Set-Cookie" not in answer.headers
    assert count_items() == before


@pytest.mark.parametrize(
    "address",
    [
        "https://2130706433/",
        "https://127.1/",
        "https://0x7f000001/",
        "https://169.254.169.254./",
        "https://localhost./",
        "https://[::1]/",
        "http://hooks.slack.com/x",
    ],
)
def test_a_store_cannot_point_alerts_at_internal_addresses(
    client: Any, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, address: str
) -> None:

    monkeypatch.setenv(
        "ALLOW_LOCAL_WEBHOOKS", "off"
    )  # the deployed stages' rule (the test client would restore the local one)
    PROCESS.reset()
    from chalicelib.core.errors import InvalidInput
    from chalicelib.stores import registry

    def public_dns(host: str) -> list[str]:
        return ["52.1.2.3"]  # even a name that resolves public cannot save these

    with pytest.raises(InvalidInput) as refusal:
        registry.update_store(
            db.table(), world["a"]["store_id"], {"slack_webhook_url": address}, wall_clock(), resolve=public_dns
        )
    assert refusal.value.field == "slack_webhook_url"
    PROCESS.reset()
