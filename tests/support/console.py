"""The console as a test drives it: signing in with a key, reading a page's CSRF token,
posting its forms."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def console_url(store: dict[str, Any], page: str = "") -> str:
    return f"/stores/{store['store_id']}/console" + (f"/{page}" if page else "")


def sign_in(client: Any, store: dict[str, Any], key: str | None = None) -> Any:
    """POST the sign-in form with ``key`` (the store's API key by default)."""
    return client.http.post(
        console_url(store, "session"), headers=FORM, body=urlencode({"api_key": key or store["api_key"]})
    )


def cookie_of(answer: Any) -> dict[str, str]:
    """The Cookie header a browser would send after ``answer``."""
    return {"Cookie": str(answer.headers["Set-Cookie"]).split(";")[0]}


def signed_in(client: Any, store: dict[str, Any]) -> dict[str, str]:
    answer = sign_in(client, store)
    assert answer.status_code == 303, answer.body
    return cookie_of(answer)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page carries a CSRF token"
    return found.group(1)


def page(client: Any, store: dict[str, Any], cookie: dict[str, str], name: str = "", query: str = "") -> Any:
    return client.http.get(console_url(store, name) + (f"?{query}" if query else ""), headers=cookie)


def post(client: Any, store: dict[str, Any], cookie: dict[str, str], action: str, fields: dict[str, str]) -> Any:
    return client.http.post(console_url(store, action), headers={**cookie, **FORM}, body=urlencode(fields))


def signed_webhook(base_url: str, store: dict[str, Any], secret: str, event_id: str) -> Any:
    """A Shopify ``orders/create`` delivery signed with ``secret``, posted over HTTP."""
    import requests

    from tests.fixtures import body_of, payload, shopify_headers

    body = body_of(payload("shopify/orders_create.json"))
    return requests.post(
        f"{base_url}/webhooks/shopify/{store['store_id']}",
        headers=shopify_headers(secret, body, "orders/create", event_id),
        data=body,
        timeout=30,
    )


def late_order(base_url: str, store: dict[str, Any], order_id: str, placed: str) -> Any:
    """A generic ``created`` event for an order placed at ``placed`` (long ago), posted over HTTP."""
    import requests

    from tests.fixtures import body_of, standard_headers

    event = {
        "order_id": order_id,
        "status": "created",
        "occurred_at": placed,
        "customer": {"email": "ines@example.pt", "email_consent": True, "language": "ar"},
        "items": [{"sku": "TEA-1", "title": "Teapot", "quantity": 1}],
    }
    body = body_of(event)
    return requests.post(
        f"{base_url}/webhooks/orders/{store['store_id']}",
        headers=standard_headers(store["webhook_secret"], body, f"late-{order_id}"),
        data=body,
        timeout=30,
    )
