"""Every reader of outside data, fed its platform's own sample with each field (at every depth)
replaced by null, a number, a string, a list and an object, signed properly: the answer is a 2xx
or a 4xx naming the field, a 4xx writes nothing, and the event handlers never raise."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.core.clock import epoch, iso, wall_clock
from chalicelib.core.models import OrderEvent
from chalicelib.customers import profiles
from chalicelib.intake import generic, shopify, woocommerce
from chalicelib.intake.normalize import Erasure, Notes
from chalicelib.storage import db, keys
from chalicelib.stores import registry
from tests.conftest import auth
from tests.fixtures import payload, shopify_headers, standard_headers, woo_headers
from tests.support import mutation as m
from tests.support import surveys, tables
from tests.support.events import sns_event

WORLD = "2026-11-20T10:00:00Z"
GROUP = 40  # mutations in one delivery when they are apart
BATCH = 25  # deliveries between two fresh tables (moto copies the table on every transaction)

GENERIC = {
    "order_id": "A-1001",
    "status": "created",
    "occurred_at": "2026-11-20T09:58:00Z",
    "ordered_at": "2026-11-20T09:58:00Z",
    "order_name": "#1001",
    "customer": {
        "email": "eleni@example.com",
        "phone": "+306912345678",
        "first_name": "Eleni",
        "language": "el",
        "timezone": "Europe/Athens",
        "birthday": "1988-04-17",
        "email_consent": True,
        "sms_consent": False,
    },
    "items": [{"sku": "CS-BOARD-L", "title": "Olive wood cutting board", "quantity": 1, "warranty_months": 24}],
    "total": "64.00",
    "currency": "EUR",
}
SYNC = {"customers": [GENERIC["customer"]]}  # the record the README documents (mutations copy it)
SHOPIFY_ORDER_TOPICS = ("orders/create", "orders/paid", "orders/fulfilled", "orders/cancelled")


COMPLETE = {"accepted", "stale", "duplicate", "erased", "recorded"}  # the whole reading ran


def read_through(response: Any) -> bool:
    """The answer of a delivery that was read to the end (no early refusal or "ignored")."""
    if not 200 <= response.status_code < 300:
        return False
    try:
        body = json.loads(response.body)
    except ValueError:
        return False
    return not isinstance(body, dict) or "status" not in body or body["status"] in COMPLETE


class Walk:
    """Sends mutations, several at a time when their paths are apart: a delivery read to the
    end proves every mutation in it harmless; any other answer sends its mutations one by one,
    so each is judged on its own.  The table is recreated every BATCH deliveries."""

    def __init__(self, keep: list[str]) -> None:
        self.keep = keep
        self.sent = 0
        self.failures: list[str] = []
        tables.recreate(keep)

    def tick(self) -> None:
        self.sent += 1
        if self.sent % BATCH == 0:
            tables.recreate(self.keep)

    def http(
        self,
        sample: Any,
        mutations: list[m.Mutation],
        send: Callable[[bytes], Any],
        reads_through: Callable[[bytes], bool],
    ) -> None:
        """``reads_through`` tells, without sending, whether one mutation alone is read to the
        end; only those travel in groups (the others answer early and cheaply, one by one)."""
        alone, together = [], []
        for mutation in mutations:
            try:
                whole = reads_through(m.encode(mutation.body))
            except Exception:
                whole = False
            (together if whole else alone).append(mutation)
        for group in m.groups(together, GROUP):
            self.together(sample, group, send)
        for mutation in alone:
            self.one(mutation, send)

    def together(self, sample: Any, group: list[m.Mutation], send: Callable[[bytes], Any]) -> None:
        """One delivery for the group; if it is not read to the end, each half again."""
        if len(group) == 1:
            self.one(group[0], send)
            return
        try:
            response = send(m.encode(m.combined(sample, group)))
        except Exception:
            response = None
        self.tick()
        if response is not None and read_through(response):
            return
        half = len(group) // 2
        self.together(sample, group[:half], send)
        self.together(sample, group[half:], send)

    def one(self, mutation: m.Mutation, send: Callable[[bytes], Any]) -> None:
        body = m.encode(mutation.body)
        before = tables.snapshot()
        try:
            response = send(body)
        except Exception as exc:
            self.failures.append(f"{mutation.name}: raised {type(exc).__name__}: {exc}")
            self.tick()
            return
        status = response.status_code
        if status >= 500 or status < 200 or 300 <= status < 400:
            self.failures.append(f"{mutation.name}: {status} {response.body[:300]!r}")
        elif status >= 400:
            try:
                error = json.loads(response.body)["error"]
            except (ValueError, KeyError, TypeError):
                error = {}
            if not m.names_the_field(error.get("field"), mutation.path):
                self.failures.append(f"{mutation.name}: {status} without naming the field: {response.body[:300]!r}")
            if tables.snapshot() != before:
                self.failures.append(f"{mutation.name}: {status} but the table changed")
        self.tick()

    def event(self, mutation: m.Mutation, handle: Callable[[str], Any]) -> None:
        try:
            handle(m.encode(mutation.body).decode())
        except Exception as exc:
            self.failures.append(f"{mutation.name}: raised {type(exc).__name__}: {exc}")
        self.tick()

    def check(self) -> None:
        assert not self.failures, f"{len(self.failures)} mutations failed ({self.sent} deliveries):\n" + "\n".join(
            self.failures[:40]
        )


@pytest.fixture
def walk(store: dict[str, Any]) -> Iterator[Walk]:
    yield Walk(tables.snapshot())


def _store(store: dict[str, Any]) -> dict[str, Any]:
    return registry.with_defaults(registry.get_store(db.table(), store["store_id"]))


def reading(
    reader: Callable[..., Any], store: dict[str, Any], headers: Callable[[bytes], dict[str, str]]
) -> Callable[[bytes], bool]:
    """Whether a body alone is read into an order event (the reader, called directly)."""
    item = _store(store)
    return lambda body: isinstance(reader(item, headers(body), body, wall_clock(), Notes()), (OrderEvent, Erasure))


def shopify_reading(store: dict[str, Any], topic: str) -> Callable[[bytes], bool]:
    return reading(shopify.read, store, lambda body: shopify_headers(store["webhook_secret"], body, topic, "classify"))


def shopify_sender(client: Any, store: dict[str, Any], topic: str) -> Callable[[bytes], Any]:
    deliveries = iter(range(1_000_000))
    return lambda body: client.http.post(
        f"/webhooks/shopify/{store['store_id']}",
        headers=shopify_headers(store["webhook_secret"], body, topic, f"{topic}-{next(deliveries)}"),
        body=body,
    )


@pytest.mark.world_time(WORLD)
def test_shopify_orders(client: Any, store: dict[str, Any], walk: Walk) -> None:
    sample = payload("shopify/docs/orders_create.json")
    for topic, mutations in zip(SHOPIFY_ORDER_TOPICS, m.plan(sample, len(SHOPIFY_ORDER_TOPICS))):
        walk.http(sample, mutations, shopify_sender(client, store, topic), shopify_reading(store, topic))
    walk.check()


@pytest.mark.world_time(WORLD)
def test_shopify_fulfillments(client: Any, store: dict[str, Any], walk: Walk) -> None:
    # fulfillments/create and /update share Shopify's one fulfillment sample: each takes half the pairs
    sample = payload("shopify/docs/fulfillments_create.json")
    assert sample == payload("shopify/docs/fulfillments_update.json")
    for topic, mutations in zip(("fulfillments/create", "fulfillments/update"), m.plan(sample, 2)):
        walk.http(sample, mutations, shopify_sender(client, store, topic), shopify_reading(store, topic))
    walk.check()


@pytest.mark.world_time(WORLD)
@pytest.mark.parametrize(
    "topic, sample",
    [
        ("refunds/create", "refunds_create"),
        ("customers/redact", "customers_redact"),
        ("customers/data_request", "customers_data_request"),
        ("shop/redact", "shop_redact"),
    ],
)
def test_shopify_other_topics(client: Any, store: dict[str, Any], walk: Walk, topic: str, sample: str) -> None:
    base = payload(f"shopify/docs/{sample}.json")
    (mutations,) = m.plan(base)
    walk.http(base, mutations, shopify_sender(client, store, topic), shopify_reading(store, topic))
    walk.check()


@pytest.mark.world_time(WORLD)
def test_woocommerce_orders(client: Any, store: dict[str, Any], walk: Walk) -> None:
    samples = [
        payload("woocommerce/docs/order_727_processing.json"),
        payload("woocommerce/docs/order_727_completed.json"),
    ]
    deliveries = iter(range(1_000_000))
    walked: set[tuple[Any, ...]] = set()
    for sample in samples:
        # the completed order is read like the processing one: it walks only the pairs the first left
        (planned,) = m.plan(sample)
        mutations = [mu for mu in planned if (mu.path, mu.kind) not in walked]
        walked |= {(mu.path, mu.kind) for mu in planned}
        walk.http(
            sample,
            mutations,
            lambda body: client.http.post(
                f"/webhooks/woocommerce/{store['store_id']}",
                headers=woo_headers(store["webhook_secret"], body, "order.updated", webhook_id=str(next(deliveries))),
                body=body,
            ),
            reading(woocommerce.read, store, lambda body: woo_headers(store["webhook_secret"], body, "order.updated")),
        )
    walk.check()


@pytest.mark.world_time(WORLD)
def test_generic_order_events(client: Any, store: dict[str, Any], walk: Walk) -> None:
    (mutations,) = m.plan(GENERIC)
    deliveries = iter(range(1_000_000))
    walk.http(
        GENERIC,
        mutations,
        lambda body: client.http.post(
            f"/webhooks/orders/{store['store_id']}",
            headers=standard_headers(
                store["webhook_secret"], body, f"msg_{next(deliveries)}", timestamp=int(time.time())
            ),
            body=body,
        ),
        reading(
            generic.read,
            store,
            lambda body: standard_headers(store["webhook_secret"], body, "msg_classify", timestamp=int(time.time())),
        ),
    )
    walk.check()


@pytest.mark.world_time(WORLD)
def test_customer_sync(client: Any, store: dict[str, Any], walk: Walk) -> None:
    (mutations,) = m.plan(SYNC)
    walk.http(
        SYNC,
        mutations,
        lambda body: client.http.post(
            f"/stores/{store['store_id']}/customers", headers=auth(store["api_key"]), body=body
        ),
        lambda body: bool(profiles.parse_sync(json.loads(body))),
    )
    walk.check()


@pytest.mark.world_time(WORLD)
def test_inbound_sms(app: Any, store: dict[str, Any]) -> None:
    sample = payload("aws/sms_inbound.json")
    phone = sample["originationNumber"]
    now = wall_clock()
    # GIVEN the sample's number was texted a survey (so replies reach every branch)
    db.table().put(
        {
            **keys.phone_message(phone, iso(now), store["store_id"]),
            "type": "phone_message",
            "store_id": store["store_id"],
            "customer_id": phone,
            "kind": "survey",
            "sent_at": iso(now),
            "expires_at": epoch(now.replace(year=now.year + 1)),
        }
    )
    surveys.issue(store, customer=phone, kind="nps", now=now, item={**store, "survey_type": "nps"})
    walk = Walk(tables.snapshot())
    (mutations,) = m.plan(sample)
    for mutation in mutations:
        walk.event(
            mutation, lambda message: app.handler_map["inbound_sms"](sns_event("aftercare-inbound-sms", message), None)
        )
    walk.check()


SES_SAMPLES = (
    "ses_bounce_dsn",
    "ses_bounce_no_dsn",
    "ses_complaint_feedback",
    "ses_complaint_no_feedback",
    "ses_delivery",
    "ses_event_bounce",
    "ses_event_complaint",
    "ses_event_delivery",
)


@pytest.mark.world_time(WORLD)
def test_ses_notifications(app: Any, store: dict[str, Any]) -> None:
    """All eight samples; a (field path, kind) pair that an earlier sample already walked (the
    ``mail`` object they share) is not walked again."""
    walk = Walk(tables.snapshot())
    walked: set[tuple[Any, ...]] = set()
    for sample in SES_SAMPLES:
        notification = payload(f"aws/{sample}.json")
        notification["mail"].setdefault("tags", {})["store_id"] = [store["store_id"]]
        kind = notification.get("notificationType") or notification.get("eventType")
        (mutations,) = m.plan(notification)
        for mutation in mutations:
            if (kind, mutation.path, mutation.kind) in walked:
                continue
            walked.add((kind, mutation.path, mutation.kind))
            walk.event(
                mutation,
                lambda message: app.handler_map["ses_feedback"](sns_event("aftercare-ses-feedback", message), None),
            )
    walk.check()
