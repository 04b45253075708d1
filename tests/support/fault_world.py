"""A store's orders walked through the whole follow-up timeline while AWS calls fail.

Orders arrive through the real generic webhook (Standard Webhooks, signed), each event
delivered twice and some out of order, by a sender that retries every 5xx up to 8 times, as
the platforms do.  Time moves with ``devstack.deliver`` (and the wall clock with it).  What
customers received is read back from the embedded AWS (SES's and SNS's sent messages), and
every job of the store is judged:

- **duplicates**: the same message (subject, SMS text without its links, or WhatsApp
  template) to the same customer more than once, or one message on both WhatsApp and SMS;
- **lost**: a message neither sent nor listed with a reason: a job left ``claimed``, left
  pending although due, recorded sent with a provider id that never went out, or closed as
  ``already_sent`` while nothing went for its occurrence;
- **failed with a reason**: failed jobs, and sent-unconfirmed ones, in the store's
  ``GET /stores/{store_id}/jobs?status=failed`` listing.

Some customers take WhatsApp, which stands in for their SMS (the local transport hands it to
SNS like a text, so SNS's faults are WhatsApp's too): a refused or throttled WhatsApp send
falls back to the SMS, and a lost answer must not.

``run`` is shared by the fast test (``make test``) and the soak (``make soak``, bench/soak.py).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any

import devstack
from chalicelib.core.clock import iso, parse_iso
from chalicelib.core.models import JobKind
from chalicelib.platform import aws
from chalicelib.schedule import jobs
from chalicelib.schedule.dispatch import LEASE
from chalicelib.storage import db, keys
from tests.conftest import STORE_BODY
from tests.fixtures import body_of, standard_headers
from tests.support import quick_moto
from tests.support.faults import Faults
from tests.support.whatsapp import SETTINGS as WHATSAPP_SETTINGS
from tests.support.whatsapp import TEMPLATES as WHATSAPP_TEMPLATES

OPERATOR = {"Authorization": "Bearer local-operator-token", "Content-Type": "application/json"}
START = "2027-03-01T08:00:00Z"  # a Monday, 10:00 in Athens
SENDER_RETRIES = 8
MESSAGE_KINDS = frozenset(k.value for k in JobKind) - {JobKind.CASE_REALERT.value, JobKind.ALERT_RETRY.value}


@dataclass
class Figures:
    orders: int = 0
    rate: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)  # by kind
    faults_by_service: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    webhooks: int = 0  # deliveries posted (each event twice)
    webhook_retries: int = 0  # 5xx answers the sender retried
    webhooks_not_accepted: int = 0
    webhook_500s: int = 0  # 500s are bugs: storage trouble must be a 503
    expected: int = 0  # messages the jobs say went, may have gone, or failed
    sent: int = 0  # messages the embedded AWS delivered
    duplicates: int = 0
    lost: int = 0
    failed_with_reason: int = 0
    unconfirmed: int = 0
    whatsapp: int = 0  # of the messages sent, those by WhatsApp
    whatsapp_fallbacks: int = 0  # jobs whose WhatsApp was refused, so the SMS went instead
    problems: list[str] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        for name in (
            "orders",
            "calls",
            "webhooks",
            "webhook_retries",
            "webhooks_not_accepted",
            "webhook_500s",
            "expected",
            "sent",
            "duplicates",
            "lost",
            "failed_with_reason",
            "unconfirmed",
            "whatsapp",
            "whatsapp_fallbacks",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rate = other.rate
        for mine, theirs in ((self.faults, other.faults), (self.faults_by_service, other.faults_by_service)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.problems += other.problems


# --- the world -----------------------------------------------------------------------
def without_stream_records() -> None:
    """The embedded AWS keeps every stream record of the table, and copies them all in every
    transaction (megabytes each, growing); nothing here reads the stream, so it is switched off."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    for table in dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables.values():
        table.stream_shard = None


class World:
    def __init__(
        self, client: Any, app: Any, move_clock: Callable[[datetime], None], faults: Faults, *, seed: int
    ) -> None:
        without_stream_records()
        self.client, self.app, self.faults = client, app, faults
        # A timestamp, not a datetime: moving the clock must not touch the process's TZ.
        self.move_clock: Callable[[datetime], None] = lambda at: move_clock(at.timestamp())  # type: ignore[arg-type]
        self.rng = Random(seed)
        self.figures = Figures(rate=faults.rate)
        self.now = parse_iso(START)
        with faults.paused():
            created = client.http.post("/stores", headers=OPERATOR, body=json.dumps(STORE_BODY))
            assert created.status_code == 201, created.body
            self.store = created.json_body
            sid = self.store["store_id"]
            key = {"Authorization": f"Bearer {self.store['api_key']}", "Content-Type": "application/json"}
            product = {
                "tips": "Warm the pot with hot water first.",
                "tips_links": [{"name": "How-to", "url": "https://cedarsage.example/v/tea"}],
            }
            assert (
                client.http.put(f"/stores/{sid}/products/TEA-1", headers=key, body=json.dumps(product)).status_code
                == 200
            )
            assert (
                client.http.patch(
                    f"/stores/{sid}",
                    headers=key,
                    body=json.dumps({"channels": {"survey": "both"}, **WHATSAPP_SETTINGS}),
                ).status_code
                == 200
            )

    # -- webhooks, as a platform sends them ----------------------------------------------
    def post(self, event: dict[str, Any], message_id: str) -> None:
        body = body_of(event)
        self.figures.webhooks += 1
        for _ in range(1 + SENDER_RETRIES):
            headers = standard_headers(self.store["webhook_secret"], body, message_id)
            answer = self.client.http.post(f"/webhooks/orders/{self.store['store_id']}", headers=headers, body=body)
            if answer.status_code < 500:
                assert answer.status_code == 200, answer.body
                return
            self.figures.webhook_retries += 1
            if answer.status_code == 500:
                self.figures.webhook_500s += 1
                self.figures.problems.append(f"webhook answered 500: {answer.body!r}"[:300])
        self.figures.webhooks_not_accepted += 1

    def customer(self, i: int) -> dict[str, Any]:
        who: dict[str, Any] = {
            "first_name": f"C{i}",
            "language": "en",
            "timezone": "Europe/Athens",
            "email_consent": True,
        }
        if i % 4 == 3:  # known by phone only; every other one takes WhatsApp in place of SMS
            return {**who, "phone": _phone(i), "sms_consent": True, "whatsapp_consent": i % 8 == 7}
        who["email"] = f"c{i}@example.com"
        if i % 5 == 0:  # reachable both ways: the survey goes by email and WhatsApp
            who.update(phone=_phone(i), sms_consent=True, whatsapp_consent=True)
        return who

    def event(self, i: int, status: str, when: datetime) -> tuple[dict[str, Any], str]:
        order_id = f"{i}"
        event = {
            "order_id": order_id,
            "status": status,
            "occurred_at": iso(when),
            "order_name": f"#{order_id}",
            "customer": self.customer(i),
            "items": [{"sku": "TEA-1", "title": "Ceramic teapot", "quantity": 1}],
        }
        return event, f"{order_id}-{status}"

    # -- time ----------------------------------------------------------------------------
    def tick(self, at: datetime) -> None:
        self.now = at
        self.move_clock(at)
        devstack.deliver(self.app, at)

    def burst(self, at: datetime, minutes: int = 60, every: int = 5) -> None:
        """A tick at ``at`` and every few minutes after it: retries and leases come back."""
        for step in range(0, minutes + 1, every):
            self.tick(at + timedelta(minutes=step))

    def run(self, orders: int) -> Figures:
        with quick_moto.quick():
            return self._run(orders)

    def _run(self, orders: int) -> Figures:
        self.figures.orders = orders
        start = parse_iso(START)
        self.move_clock(start)
        late: list[tuple[dict[str, Any], str]] = []
        for i in range(orders):
            event, mid = self.event(i, "created", start + timedelta(seconds=i))
            self.post(event, mid)
            if self.rng.random() < 0.2:
                late.append((event, mid))  # its second copy comes after the delivery
            else:
                self.post(event, mid)
        self.burst(start + timedelta(minutes=1))
        delivered_at = start + timedelta(days=1)
        self.move_clock(delivered_at)
        order = list(range(orders))
        self.rng.shuffle(order)
        for i in order:
            event, mid = self.event(i, "delivered", delivered_at + timedelta(seconds=i))
            self.post(event, mid)
            self.post(event, mid)
        for event, mid in late:
            self.post(event, mid)
        self.burst(delivered_at + timedelta(minutes=1))
        for day in [*range(2, 21), 120, 121, 122, 365, 366, 367]:
            self.burst(start + timedelta(days=day, minutes=1), minutes=36, every=6)
        self.burst(start + timedelta(days=368), minutes=60, every=6)  # anything still retrying settles
        self.settle()
        return self.judge()

    def settle(self, every: int = 6, longest: timedelta = timedelta(hours=6)) -> None:
        """The scheduler runs every minute for ever: tick on while a message is due and still
        pending (its dispatch may have met faults on the last few ticks, or its time budget),
        or claimed (an attempt that died and could not release its claim comes back when the
        lease ends, due in the future until then), for at most ``longest``; what is still
        pending or claimed after that is judged lost."""
        end = self.now + longest
        while self.now < end and self._due_pending():
            self.tick(self.now + timedelta(minutes=every))

    def _due_pending(self) -> bool:
        with self.faults.paused():
            return any(
                j.get("type") == "job"
                and j.get("store_id") == self.store["store_id"]
                and j.get("kind") in MESSAGE_KINDS
                and (
                    j.get("status") == "claimed"
                    or (j.get("status") == "pending" and parse_iso(str(j.get("due_at") or j["due"])) <= self.now)
                )
                for j in _items()
            )

    # -- judging -------------------------------------------------------------------------
    def judge(self) -> Figures:
        f = self.figures
        with self.faults.paused():
            f.faults = self.faults.by_kind()
            f.faults_by_service = self.faults.by_service()
            f.calls = sum(self.faults.calls.values())
            emails, texts = _outbox()
            f.sent = len(emails) + len(texts)
            seen: Counter[tuple[str, str]] = Counter()
            for message in emails.values():
                for to in (getattr(message, "destinations", {}) or {}).get("ToAddresses", []):
                    seen[(to, str(message.subject))] += 1
            for phone, body in texts.values():
                seen[(phone, _text_signature(body))] += 1
            f.whatsapp = sum(1 for _, body in texts.values() if _text_signature(body).startswith(WHATSAPP_MARK))
            f.duplicates = sum(n - 1 for n in seen.values() if n > 1)
            f.problems += [f"duplicate: {who} {what!r} x{n}" for (who, what), n in seen.items() if n > 1][:20]
            listed = {
                (j.get("order_id"), j.get("customer_id"), j.get("kind"), j.get("due"))
                for j in jobs.failed_jobs(db.table(), self.store["store_id"], limit=10_000)
            }
            self._judge_jobs(listed, emails, texts, seen)
        return f

    def _judge_jobs(
        self,
        listed: set[tuple[Any, ...]],
        emails: dict[str, Any],
        texts: dict[str, tuple[str, str]],
        seen: Counter[tuple[str, str]],
    ) -> None:
        f = self.figures
        jobs = [
            j
            for j in _items()
            if j.get("type") == "job" and j.get("store_id") == self.store["store_id"] and j.get("kind") in MESSAGE_KINDS
        ]
        by_occurrence_sent: set[str] = set()
        for job in jobs:
            if job.get("message_ids") or job.get("unconfirmed"):
                by_occurrence_sent.add(str(keys.send_claim(str(job["PK"]), _occurrence(job))))
        settled = self.now - 2 * LEASE
        for job in jobs:
            name = f"{job['kind']} of {job.get('order_id') or job.get('customer_id')}"
            status = job.get("status")
            in_listing = (job.get("order_id"), job.get("customer_id"), job.get("kind"), job.get("due")) in listed
            ids = {str(c): str(m) for c, m in (job.get("message_ids") or {}).items()}
            # WhatsApp stands in for the SMS: one message, whichever of the two went
            channels = len({_as_sms(c) for c in (*ids, *(job.get("channels") or []))}) or 1
            self._judge_whatsapp(job, name, ids, seen)
            if job.get("unconfirmed"):
                f.expected += channels
                f.unconfirmed += 1
                f.failed_with_reason += 1
                if not in_listing:
                    self._lose(f"{name}: unconfirmed but not listed")
            elif ids:
                f.expected += channels
                for channel, message_id in ids.items():
                    if (channel == "email" and message_id not in emails) or (
                        channel in ("sms", "whatsapp") and message_id not in texts
                    ):
                        self._lose(f"{name}: recorded sent on {channel} ({message_id}) but nothing went")
            if status == "claimed":
                self._lose(f"{name}: left claimed")
            elif status == "pending" and parse_iso(str(job.get("due_at") or job["due"])) < settled and not ids:
                self._lose(f"{name}: pending since {job.get('due_at')}")
            elif status == "failed":
                f.expected += 1
                f.failed_with_reason += 1
                if not job.get("reason") or not in_listing:
                    self._lose(f"{name}: failed without a listed reason")
            elif status == "skipped" and job.get("reason") == "already_sent":
                if str(keys.send_claim(str(job["PK"]), _occurrence(job))) not in by_occurrence_sent:
                    self._lose(f"{name}: closed as already_sent, but nothing went for it")

    def _judge_whatsapp(
        self, job: dict[str, Any], name: str, ids: dict[str, str], seen: Counter[tuple[str, str]]
    ) -> None:
        """Never both channels: a job that went (or may have gone) by WhatsApp sent no SMS,
        and one that fell back to SMS left no WhatsApp message behind."""
        f = self.figures
        doubtful = set(re.findall(r"(?:^|; )(email|sms|whatsapp): ", str(job.get("unconfirmed") or "")))
        went = {*ids, *doubtful}
        if "whatsapp" in went and "sms" in went:
            f.duplicates += 1
            f.problems.append(f"duplicate: {name} went by WhatsApp and by SMS")
        if not job.get("whatsapp_fallback"):
            return
        f.whatsapp_fallbacks += 1
        template = str((WHATSAPP_TEMPLATES.get(str(job["kind"])) or {}).get("name") or "")
        if template and job.get("order_id") and seen[(_phone(int(job["order_id"])), WHATSAPP_MARK + template)]:
            f.duplicates += 1
            f.problems.append(f"duplicate: {name} fell back to SMS after its WhatsApp message went")

    def _lose(self, why: str) -> None:
        self.figures.lost += 1
        self.figures.problems.append(f"lost: {why}")


def _occurrence(job: dict[str, Any]) -> str:
    from chalicelib.schedule import followups
    from chalicelib.storage.items import as_job

    return followups.occurrence(as_job(job))


WHATSAPP_MARK = "whatsapp:"


def _phone(i: int) -> str:
    return f"+3069{i:08d}"


def _as_sms(channel: str) -> str:
    return "sms" if channel == "whatsapp" else channel


def _text_signature(body: str) -> str:
    """What makes a text the same message again: a WhatsApp message's template (the local
    transport carries the Meta message object), an SMS's words without links or numbers."""
    if body.startswith("{"):
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("messaging_product") == "whatsapp":
            return WHATSAPP_MARK + str((message.get("template") or {}).get("name"))
    return re.sub(r"https?://\S+|\d+", "", body)[:60]


def _outbox() -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    emails = {str(m.id): m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages}
    texts = {
        str(k): (str(v[0]), str(v[1])) for k, v in sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.items()
    }
    return emails, texts


def _items() -> Iterator[dict[str, Any]]:
    table = db.table()
    kwargs: dict[str, Any] = {"TableName": table.name}
    while True:
        page = table.client.scan(**kwargs)
        yield from (table.load(i) for i in page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def attach(rate: float, seed: int, **options: Any) -> Faults:
    """Faults on the app's own clients (built now or later in this process)."""
    return Faults(rate=rate, seed=seed, **options).attach(aws.clients())
