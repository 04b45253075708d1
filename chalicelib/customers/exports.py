"""What a store can take out of Aftercare: one customer's data (GDPR access request) and
every survey response of a period as CSV.

Both read partitions and keys only.  A customer's export follows the keys the data model
already has: the customer's partition (profile, jobs, sent messages, order links), each
order's partition (order, answers, jobs), the case of each order (its id follows from
customer and order), the suppression items of the customer's contacts and the SMS records
of their number, and the platform's requests for this data (``data_requests``).  The CSV reads the store's responses through ``gsi1`` (``RESPONSE``,
sorted by answer time), newest first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.core import validate
from chalicelib.core.clock import iso
from chalicelib.core.errors import InvalidInput, NotFound
from chalicelib.customers import profiles
from chalicelib.storage import db, keys
from chalicelib.support import cases

# Storage bookkeeping: keys, index attributes, TTLs and link tokens (a token answers a
# survey; it is a credential, not data about the person).
HIDDEN = frozenset(
    {
        "PK",
        "SK",
        "gsi1pk",
        "gsi1sk",
        "due_pk",
        "due_at",
        "type",
        "version",
        "expires_at",
        "leased_at",
        "attempts",
        "status_rank",
        "token",
        "survey_token",
        "survey_tokens",
        "unsubscribe_token",
        "nonce",
        "stats_skus",
        "stats_other",
    }
)
PROFILE_FIELDS = (  # what the customer told the store (consents are exported apart), then the history
    "customer_id",
    *(name for name in profiles.CUSTOMER_FIELDS if not name.endswith("_consent")),
    "first_order_at",
    "last_order_at",
    "last_order_id",
    "orders_count",
    "last_survey_at",
    "created_at",
    "updated_at",
)


def resolve(table: db.Table, store_id: str, email_or_phone: str, region: str | None = None) -> str:
    """The customer id behind an email or a phone number as a person would type it (a national
    number is read in ``region``, the store's country)."""

    value = email_or_phone.strip()
    if not value or len(value) > 320:
        raise NotFound("no such customer")
    candidates = [value]
    if "@" not in value:
        try:
            candidates.insert(0, validate.phone(value, "email_or_phone", region))
        except InvalidInput:
            pass
    for candidate in candidates:
        found = profiles.find(table, store_id, candidate)
        if found is not None:
            return found
    raise NotFound("no such customer")


def customer_of(table: db.Table, store: Mapping[str, Any], email_or_phone: str) -> str:
    """The customer id behind what a store's staff typed; a national number is theirs, so it is
    read in the store's country (from its time zone)."""

    return resolve(table, str(store["store_id"]), email_or_phone, validate.region_of_zone(store.get("timezone")))


def _clean(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in item.items():
        if name in HIDDEN or value is None:
            continue
        if isinstance(value, Mapping):
            value = _clean(value)
        out[name] = value
    return out


def customer_export(table: db.Table, store_id: str, customer_id: str, now: datetime) -> dict[str, Any]:
    """Everything Aftercare holds about one customer of a store, as plain JSON values."""
    owned = list(table.partition(keys.customer_pk(store_id, customer_id), consistent=True))
    record = next((i for i in owned if keys.sort_key(i) == keys.customer(store_id, customer_id)["SK"]), None)
    if record is None:
        raise NotFound("no such customer")
    order_ids = sorted(str(i["order_id"]) for i in owned if keys.is_order_link(i) and i.get("order_id"))
    jobs = [i for i in owned if keys.is_job(i)]
    messages = [_clean(i) for i in owned if keys.is_sent_message(i)]
    data_requests = [_clean(i) for i in owned if keys.is_data_request(i)]

    orders, responses = [], []
    for order_id in order_ids:
        for item in table.partition(keys.order_pk(store_id, order_id), consistent=True):
            if keys.sort_key(item) == keys.order(store_id, order_id)["SK"]:
                orders.append(_clean(item))
            elif keys.is_response(item):
                responses.append(_clean(item))
            elif keys.is_job(item):
                jobs.append(item)

    found_cases = []
    for order_id in order_ids:
        case_key = keys.case(store_id, cases.case_id_for(customer_id, order_id))
        for item in table.partition(case_key["PK"], consistent=True):
            if keys.sort_key(item) == case_key["SK"]:
                found_cases.append(cases.public_view(item))
            elif keys.is_job(item):
                jobs.append(item)

    contacts = {customer_id} | {str(record[name]) for name in ("email", "phone") if record.get(name)}
    suppression_keys = [
        keys.suppression(store_id, contact, channel) for contact in sorted(contacts) for channel in ("email", "sms")
    ]
    suppressions = [_clean(i) for i in table.batch_get(suppression_keys, consistent=True)]

    phone = record.get("phone") or (customer_id if customer_id.startswith("+") else None)
    if phone:
        for item in table.partition(keys.phone_pk(str(phone)), keys.phone_message_prefix()):
            if item.get("store_id") == store_id:
                messages.append({"channel": "sms", **_clean(item)})

    pending = [_clean(j) for j in jobs if j.get("status") == "pending"]
    past = [_clean(j) for j in jobs if j.get("status") != "pending"]
    return {
        "store_id": store_id,
        "customer_id": customer_id,
        "exported_at": iso(now),
        "profile": {name: record[name] for name in PROFILE_FIELDS if record.get(name) is not None},
        "consents": {
            "email_marketing": record.get("email_consent"),
            "sms_marketing": record.get("sms_consent"),
            "whatsapp": record.get("whatsapp_consent"),
        },
        "orders": sorted(orders, key=lambda o: str(o.get("ordered_at") or o.get("created_at") or "")),
        "responses": sorted(responses, key=lambda r: str(r.get("answered_at") or "")),
        "cases": found_cases,
        "suppressions": suppressions,
        "jobs": {
            "pending": sorted(pending, key=lambda j: str(j.get("due") or "")),
            "past": sorted(past, key=lambda j: str(j.get("finished_at") or j.get("due") or "")),
        },
        "messages": sorted(messages, key=lambda m: str(m.get("sent_at") or "")),
        "data_requests": sorted(data_requests, key=lambda r: str(r.get("received_at") or "")),
    }


def erasure_view(erased: Any) -> dict[str, Any]:
    """What an erasure removed, as the DELETE route answers it."""
    return {
        "erased": True,
        "customers": erased.customers,
        "orders": erased.orders,
        "items_deleted": erased.items_deleted,
        "items_scrubbed": erased.items_scrubbed,
    }


# --- responses as CSV --------------------------------------------------------------------------
DEFAULT_DAYS = 90
MAX_DAYS = 366
MAX_CSV_BYTES = 5_000_000  # a Lambda response carries at most 6 MB
COLUMNS = (
    "answered_at",
    "order_id",
    "customer",
    "score",
    "category",
    "comment",
    "language",
    "channel",
    "kind",
    "products",
    "themes",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive


def period(query: Mapping[str, str] | None, now: datetime, *, default_days: int = DEFAULT_DAYS) -> Period:
    """``from``/``to`` (``YYYY-MM-DD``, both inclusive); by default the last ``default_days``
    UTC days, today included."""
    query = query or {}
    today = now.astimezone(UTC).date()

    def day(name: str) -> date | None:
        raw = query.get(name)
        if raw is None or raw == "":
            return None
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(f"{name} must be a date as YYYY-MM-DD", field=name) from None

    end = day("to") or today
    try:
        start = day("from") or end - timedelta(days=default_days - 1)
    except OverflowError:
        raise InvalidInput(
            f"the {default_days} days before to start before the calendar does: send from as well", field="from"
        ) from None
    if start > end:
        raise InvalidInput("from must not be after to", field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days at a time", field="from")
    return Period(start, end)


def responses_between(table: db.Table, store_id: str, span: Period) -> Iterator[dict[str, Any]]:
    """A store's responses answered within the period, newest first (one index query)."""
    first, last = keys.response_listing_range(span.start.isoformat(), span.end.isoformat())
    condition = db.Expr(
        "gsi1pk = :pk AND gsi1sk BETWEEN :first AND :last",
        values={":pk": keys.response_listing_pk(store_id), ":first": first, ":last": last},
    )
    return table.query_all(condition, index=keys.GSI1, forward=False)


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _products(value: Any) -> str:
    names = []
    for line in value or []:
        if isinstance(line, Mapping):
            names.append(str(line.get("title") or line.get("sku") or ""))
    return "; ".join(n for n in names if n)


def csv_row(item: Mapping[str, Any]) -> list[str]:
    customer = item.get("contact") or item.get("customer_id")
    values = [
        item.get("answered_at"),
        item.get("order_id"),
        customer,
        item.get("score"),
        item.get("category"),
        item.get("comment"),
        item.get("language"),
        item.get("channel"),
        item.get("kind"),
        _products(item.get("products")),
        "; ".join(str(theme) for theme in item.get("themes") or []),
    ]
    return [safe_cell(v) for v in values]


def responses_csv(rows: Iterator[Mapping[str, Any]]) -> str:
    """UTF-8 text with a byte-order mark (so Excel reads Arabic, Hebrew and Greek right),
    CRLF line ends, a header row.  Too much for one response is a 400 asking for a shorter
    range, never a silently cut file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    parts, size = ["\ufeff", buffer.getvalue()], 0
    for item in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_row(item))
        line = buffer.getvalue()
        size += len(line.encode("utf-8"))
        if size > MAX_CSV_BYTES:
            raise InvalidInput(
                "more than 5 MB of responses in this range: ask for a shorter one with from and to", field="from"
            )
        parts.append(line)
    return "".join(parts)


def csv_filename(store_id: str, span: Period) -> str:
    return f"responses-{store_id}-{span.start.isoformat()}-{span.end.isoformat()}.csv"


@dataclass(frozen=True)
class Download:
    filename: str
    body: str


def responses_download(table: db.Table, store_id: str, query: Mapping[str, str] | None, now: datetime) -> Download:
    """The CSV of the period the query asks for, named after the store and the period, so
    files downloaded month after month sort and never overwrite each other."""
    span = period(query, now)
    return Download(csv_filename(store_id, span), responses_csv(responses_between(table, store_id, span)))
