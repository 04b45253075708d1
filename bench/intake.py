"""Order intake: AWS requests, DynamoDB units and CPU time per webhook (goal: one DynamoDB write request plus at most one cached store read).

Requests and units are counted on moto's answers, warm (the store cached) and cold (the first
request of each kind). CPU per webhook is measured with DynamoDB answered instantly by a
botocore Stubber, against a bare Chalice route answering the same body in the same test client."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench._meter import AwsMeter, InstantStubber, without_stream

TITLE = "Webhook cost"
ROUNDS = 15
STUBBED_ROUNDS = 200
SOURCES = {"shopify": "shopify orders/create", "woocommerce": "woocommerce order.created", "generic": "generic created"}
# Empty but valid answers: the webhook reads nothing (the store is cached) and its write succeeds.
INSTANT = {
    "TransactWriteItems": {},
    "GetItem": {},
    "Query": {"Items": [], "Count": 0, "ScannedCount": 0},
    "UpdateItem": {},
    "PutItem": {},
}


def _hmac(secret: str, body: bytes) -> str:
    import base64
    import hashlib
    import hmac

    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


Delivery = Callable[[int], tuple[str, dict[str, str], bytes]]


def _kinds(store: dict[str, Any]) -> dict[str, tuple[Delivery, str]]:
    """Each webhook kind as a function of a round number → (path, headers, body), and the
    outcome it must have."""
    from chalicelib.intake.signatures import standard_sign
    from tests.fixtures import payload

    sid, secret = store["store_id"], store["webhook_secret"]
    create, delivered, cancelled = (
        payload("shopify/orders_create.json"),
        payload("shopify/fulfillments_update.json"),
        payload("shopify/orders_cancelled.json"),
    )
    woo = payload("woocommerce/order_processing.json")

    def shopify(
        topic: str, base: dict[str, Any], id_field: str, event: str
    ) -> Callable[[int], tuple[str, dict[str, str], bytes]]:
        def make(n: int) -> tuple[str, dict[str, str], bytes]:
            body = json.dumps({**base, id_field: 9_000_000 + n}).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": _hmac(secret, body),
                "X-Shopify-Event-Id": f"{event}-{n}",
            }
            return f"/webhooks/shopify/{sid}", headers, body

        return make

    def duplicate(
        make: Callable[[int], tuple[str, dict[str, str], bytes]],
    ) -> Callable[[int], tuple[str, dict[str, str], bytes]]:
        return lambda n: make(n)  # the same round number again: the same delivery

    def woocommerce(n: int) -> tuple[str, dict[str, str], bytes]:
        body = json.dumps({**woo, "id": 70_000 + n}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Signature": _hmac(secret, body),
            "X-WC-Webhook-ID": "17",
        }
        return f"/webhooks/woocommerce/{sid}", headers, body

    def generic(status: str) -> Callable[[int], tuple[str, dict[str, str], bytes]]:
        def make(n: int) -> tuple[str, dict[str, str], bytes]:
            event = {
                "order_id": f"G-{n}",
                "status": status,
                "occurred_at": "2026-11-22T10:00:00Z",
                "customer": {"email": f"g{n}@example.com", "language": "el"},
                "items": [{"sku": "CS-BOARD-L", "title": "Board", "warranty_months": 24}],
            }
            body = json.dumps(event).encode()
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "webhook-id": f"msg-{status}-{n}",
                "webhook-timestamp": str(stamp),
                "webhook-signature": standard_sign(secret, f"msg-{status}-{n}", stamp, body),
            }
            return f"/webhooks/orders/{sid}", headers, body

        return make

    shopify_create = shopify("orders/create", create, "id", "create")
    paid_first = shopify("orders/paid", payload("shopify/orders_paid.json"), "id", "paid")
    return {
        "shopify orders/create": (shopify_create, "accepted"),
        "shopify orders/create again": (duplicate(shopify_create), "duplicate"),
        "shopify fulfillments/update delivered": (
            shopify("fulfillments/update", delivered, "order_id", "delivered"),
            "accepted",
        ),
        "shopify orders/cancelled (reads jobs)": (shopify("orders/cancelled", cancelled, "id", "cancel"), "accepted"),
        "shopify orders/paid, order never seen": (lambda n: paid_first(n + 1000), "accepted"),
        "woocommerce order.created": (woocommerce, "accepted"),
        "generic created": (generic("created"), "accepted"),
        "generic delivered": (generic("delivered"), "accepted"),
    }


def main(rounds: int = ROUNDS, stubbed_rounds: int = STUBBED_ROUNDS) -> dict[str, Any]:
    import os

    from moto import mock_aws

    import devstack

    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    devstack.use_local_environment()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    try:
        with mock_aws():
            provisioned = devstack.provision()
            without_stream(provisioned.table)
            return _run(rounds, stubbed_rounds)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        devstack.reset_caches()


def _bare_cpu(path: str, headers: dict[str, str], body: bytes, rounds: int) -> float:
    """Median CPU ms of a Chalice route that only answers JSON, through the same test client."""
    from chalice.app import Chalice
    from chalice.test import Client

    bare = Chalice(app_name="bare", configure_logs=False)

    @bare.route("/webhooks/{source}/{store_id}", methods=["POST"], content_types=["application/json"])
    def webhook(source: str, store_id: str) -> dict[str, str]:
        return {"status": "accepted"}

    spent = []
    with Client(bare) as client:
        for _ in range(rounds):
            started = time.process_time()
            client.http.post(path, headers=headers, body=body)
            spent.append((time.process_time() - started) * 1000)
    return statistics.median(spent)


def _run(rounds: int, stubbed_rounds: int) -> dict[str, Any]:
    from chalice.test import Client

    import devstack
    from app import app
    from chalicelib.core.clock import wall_clock
    from chalicelib.platform import aws
    from chalicelib.platform.process import PROCESS
    from chalicelib.storage import db
    from chalicelib.stores import registry

    meter = AwsMeter().attach(aws.clients().dynamodb)
    created = registry.create_store(
        db.table(),
        {
            "name": "Bench",
            "sender_email": "b@example.com",
            "timezone": "Europe/Athens",
            "language": "en",
            "support_email": "s@example.com",
        },
        wall_clock(),
    )
    store = {"store_id": created.store_id, "webhook_secret": created.webhook_secret}
    figures: dict[str, Any] = {"kinds": {}, "sources": {}}
    kinds = _kinds(store)
    print(f"{'webhook':40} {'first request (cold store cache)':40} {'warm: requests each':36} {'WCU':>4} {'RCU':>4}")
    with Client(app, stage_name="local", project_dir=str(devstack.ROOT)) as client:
        for kind, (make, outcome) in kinds.items():
            PROCESS.forget(registry.StoreCache)
            first = ""
            warm: Counter[str] = Counter()
            wcu = rcu = 0.0
            for n in range(rounds):
                path, headers, body = make(n)
                meter.reset()
                response = client.http.post(path, headers=headers, body=body)
                assert response.status_code == 200 and response.json_body["status"] == outcome, (
                    kind,
                    response.status_code,
                    response.body,
                )
                if n == 0:
                    first = "+".join(f"{k}" if v == 1 else f"{v}x{k}" for k, v in sorted(meter.calls.items()))
                else:
                    warm.update(meter.calls)
                    wcu += meter.wcu
                    rcu += meter.rcu
            per = {k: v / (rounds - 1) for k, v in warm.items()}
            warm_text = " + ".join(f"{v:.2g} {k}" for k, v in sorted(per.items())) or "none"
            figures["kinds"][kind] = {
                "requests": per,
                "wcu": wcu / (rounds - 1),
                "rcu": rcu / (rounds - 1),
                "first": first,
            }
            print(f"{kind:40} {first:40} {warm_text:36} {wcu / (rounds - 1):>4.3g} {rcu / (rounds - 1):>4.3g}")
        print()
        print(f"CPU per webhook, DynamoDB answered at once by a botocore Stubber, median of {stubbed_rounds}:")
        print(f"{'source':12} {'webhook CPU ms':>14} {'bare route CPU ms':>17} {'ratio':>6}")
        dynamodb = aws.clients().dynamodb
        for source, kind in SOURCES.items():
            make = kinds[kind][0]
            path, headers, body = make(0)
            bare = _bare_cpu(path, headers, body, stubbed_rounds)
            spent = []
            with InstantStubber(dynamodb, INSTANT):
                for n in range(stubbed_rounds):
                    path, headers, body = make(1000 + n)
                    started = time.process_time()
                    response = client.http.post(path, headers=headers, body=body)
                    spent.append((time.process_time() - started) * 1000)
                    assert response.status_code == 200, (source, response.body)
            ours = statistics.median(spent)
            figures["sources"][source] = {"cpu_ms": ours, "bare_ms": bare, "ratio": ours / bare}
            print(f"{source:12} {ours:>14.2f} {bare:>17.2f} {ours / bare:>5.1f}x")
    built = sorted(k for k in vars(aws.clients()) if k not in ("_session", "session"))
    print(
        f"AWS clients built on the way: {', '.join(built)}. Units are computed from the request items (transactional writes count twice)."
    )
    print(
        "An event for an order never seen (a later status first) takes a second write request: the first expects a known order."
    )
    return figures


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    lines = []
    for source, kind in SOURCES.items():
        k, cpu = figures["kinds"][kind], figures["sources"][source]
        requests = " + ".join(f"{v:.2g} {name}" for name, v in sorted(k["requests"].items()))
        lines.append(
            f"Webhook ({kind}): {requests}, {k['wcu']:.3g} WCU, {k['rcu']:.3g} RCU; CPU {cpu['cpu_ms']:.2f} ms = {cpu['ratio']:.1f}x a bare Chalice route"
        )
    return lines
