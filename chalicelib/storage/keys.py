"""Every DynamoDB key of the single table is built here, and only here.

Table keys are ``PK``/``SK``.  Two global secondary indexes:

* ``due`` (``due_pk``/``due_at``, keys only) is sparse: only pending jobs carry the two
  attributes, spread over ``DUE_SHARDS`` partitions, so ``dispatch`` reads what is due and
  nothing else.
* ``gsi1`` (``gsi1pk``/``gsi1sk``) lists a store's items of one kind in order (cases by
  status, responses by day) without scanning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any


class Prefix(str, Enum):
    STORE = "STORE"
    CUSTOMER = "CUST"
    CONTACT = "CONTACT"
    ORDER = "ORDER"
    JOB = "JOB"
    EVENT = "EVENT"
    SURVEY = "SURVEY"
    RESPONSE = "RESPONSE"
    CASE = "CASE"
    SUPPRESSION = "SUPPRESS"
    STATS = "STATS"
    DAY = "DAY"
    PRODUCT = "PRODUCT"
    TEMPLATE = "TEMPLATE"
    PHONE = "PHONE"
    DUE = "DUE"
    UNSUBSCRIBE = "UNSUB"
    SENT = "SENT"
    CLAIM = "CLAIM"
    SMS = "SMS"
    LATE = "LATE"
    RATE = "RATE"
    COMMENT = "COMMENT"
    PRIVACY = "PRIVACY"
    ENDPOINT = "ENDPOINT"
    WEBHOOK = "WEBHOOK"
    WHATSAPP = "WAMSG"


Key = dict[str, str]

DUE_INDEX = "due"
GSI1 = "gsi1"

# gsi1 collections (the part of ``gsi1pk`` after the store)
CASES = "CASES"
FAILED_JOBS = "failed_jobs"
DELIVERIES = "DELIVERIES"


def _key(pk: str, sk: str) -> Key:
    return {"PK": pk, "SK": sk}


def of(item: Mapping[str, Any]) -> Key:
    """The key of an item read back (to write it again, or delete it)."""
    return _key(str(item["PK"]), str(item["SK"]))


def store_pk(store_id: str) -> str:
    return f"{Prefix.STORE.value}#{store_id}"


def store(store_id: str) -> Key:
    return _key(store_pk(store_id), Prefix.STORE.value)


def customer_pk(store_id: str, customer_id: str) -> str:
    return f"{store_pk(store_id)}#{Prefix.CUSTOMER.value}#{customer_id}"


def customer(store_id: str, customer_id: str) -> Key:
    return _key(customer_pk(store_id, customer_id), Prefix.CUSTOMER.value)


def contact(store_id: str, contact_value: str) -> Key:
    """Alias from a normalised email or E.164 phone to the customer that owns it."""
    return _key(f"{store_pk(store_id)}#{Prefix.CONTACT.value}#{contact_value}", Prefix.CONTACT.value)


def customer_order(store_id: str, customer_id: str, order_id: str) -> Key:
    """A link from a customer to one of its orders, in the customer's partition (erasure and
    export find every order of a customer with one query)."""
    return _key(customer_pk(store_id, customer_id), customer_order_sk(order_id))


def customer_order_sk(order_id: str) -> str:
    """``customer_order_sk("")`` is the prefix shared by every order link of a customer."""
    return f"{Prefix.ORDER.value}#{order_id}"


def order_pk(store_id: str, order_id: str) -> str:
    return f"{store_pk(store_id)}#{Prefix.ORDER.value}#{order_id}"


def order(store_id: str, order_id: str) -> Key:
    return _key(order_pk(store_id, order_id), Prefix.ORDER.value)


def job_sk(kind: str, discriminator: str = "") -> str:
    return f"{Prefix.JOB.value}#{kind}" + (f"#{discriminator}" if discriminator else "")


def late_followup(store_id: str, order_id: str, name: str) -> Key:
    """A follow-up an order event did not plan because its moment had passed (in the order's partition)."""
    return _key(order_pk(store_id, order_id), late_followup_sk(name))


def late_followup_sk(name: str) -> str:
    return f"{Prefix.LATE.value}#{name}"


def retry_discriminator(stamp: str, attempt: int) -> str:
    """Tells apart the retries of one job kind in one owner's partition."""
    return f"{stamp}#{attempt}"


def job_occurrence(job_sk: str, occurrence: str) -> str:
    """One occurrence (a year, a due date) of a job that comes back: what a send claim names."""
    return f"{job_sk}#{occurrence}"


def job(owner_pk: str, kind: str, discriminator: str = "") -> Key:
    """A job lives in its owner's partition (an order's, a customer's, a case's), so the
    owner's pending jobs are one query away when they must be cancelled."""
    return _key(owner_pk, job_sk(kind, discriminator))


def due_shard(pk: str, sk: str, shards: int) -> str:
    digest = hashlib.blake2b(f"{pk}|{sk}".encode(), digest_size=4).digest()
    return f"{Prefix.DUE.value}#{int.from_bytes(digest, 'big') % shards}"


def due_shard_pk(shard: int) -> str:
    return f"{Prefix.DUE.value}#{shard}"


def event_marker(store_id: str, source: str, event_id: str) -> Key:
    return _key(f"{store_pk(store_id)}#{Prefix.EVENT.value}#{source}#{event_id}", Prefix.EVENT.value)


def survey(token: str) -> Key:
    return _key(f"{Prefix.SURVEY.value}#{token}", Prefix.SURVEY.value)


def unsubscribe(token: str) -> Key:
    return _key(f"{Prefix.UNSUBSCRIBE.value}#{token}", Prefix.UNSUBSCRIBE.value)


def response(store_id: str, order_id: str, survey_kind: str) -> Key:
    return _key(order_pk(store_id, order_id), response_sk(survey_kind))


def response_sk(survey_kind: str) -> str:
    """``response_sk("")`` is the prefix shared by every response of an order."""
    return f"{Prefix.RESPONSE.value}#{survey_kind}"


def response_listing_pk(store_id: str) -> str:
    return gsi1(store_id, Prefix.RESPONSE.value, "")["gsi1pk"]


def response_listing(store_id: str, answered_at: str, order_id: str) -> dict[str, str]:
    """Lists a response among its store's responses, by the time it was answered."""
    return gsi1(store_id, Prefix.RESPONSE.value, f"{answered_at}#{order_id}")


def response_listing_range(first_day: str, last_day: str) -> tuple[str, str]:
    """``gsi1sk`` bounds of the responses answered from ``first_day`` to ``last_day`` inclusive."""
    return first_day, f"{last_day}~"


def case_pk(store_id: str, case_id: str) -> str:
    return f"{store_pk(store_id)}#{Prefix.CASE.value}#{case_id}"


def case(store_id: str, case_id: str) -> Key:
    return _key(case_pk(store_id, case_id), Prefix.CASE.value)


def case_listing_pk(store_id: str, status: str) -> str:
    return gsi1(store_id, f"{CASES}#{status}", "")["gsi1pk"]


def case_listing(store_id: str, status: str, rank: int, created_at: str, case_id: str) -> dict[str, str]:
    """Lists a case among its store's cases in one status, most urgent first, then oldest."""
    return gsi1(store_id, f"{CASES}#{status}", f"{rank}#{created_at}#{case_id}")


def customer_listing_pk(store_id: str) -> str:
    return gsi1(store_id, Prefix.CUSTOMER.value, "")["gsi1pk"]


def customer_listing(store_id: str, customer_id: str) -> dict[str, str]:
    """Lists a customer among its store's customers."""
    return gsi1(store_id, Prefix.CUSTOMER.value, customer_id)


def failed_job_listing_pk(store_id: str) -> str:
    return gsi1(store_id, FAILED_JOBS, "")["gsi1pk"]


def failed_job_listing(store_id: str, failed_at: str, job_pk: str, job_sk: str) -> dict[str, str]:
    """Lists a failed job among its store's failed jobs, by the time it failed."""
    return gsi1(store_id, FAILED_JOBS, f"{failed_at}#{job_pk}#{job_sk}")


def suppression(store_id: str, contact_value: str, channel: str) -> Key:
    return _key(f"{store_pk(store_id)}#{Prefix.SUPPRESSION.value}#{contact_value}", channel)


def stats_day(store_id: str, day: str) -> Key:
    return _key(f"{store_pk(store_id)}#{Prefix.STATS.value}", f"{Prefix.DAY.value}#{day}")


def stats_products_day(store_id: str, day: str) -> Key:
    """The day's per-SKU counters, beside the day's counters and read with them."""
    return _key(f"{store_pk(store_id)}#{Prefix.STATS.value}", f"{Prefix.DAY.value}#{day}#{Prefix.PRODUCT.value}")


def product(store_id: str, sku: str) -> Key:
    return _key(f"{store_pk(store_id)}#{Prefix.PRODUCT.value}#{sku}", Prefix.PRODUCT.value)


def template_overrides_pk(store_id: str) -> str:
    """The partition holding every template override of a store."""
    return f"{store_pk(store_id)}#{Prefix.TEMPLATE.value}"


def template_override(store_id: str, name: str, language: str) -> Key:
    return _key(template_overrides_pk(store_id), f"{name}#{language}")


def phone_survey(phone: str, sent_at: str, token: str) -> Key:
    """The SMS surveys sent to a number, newest last, so a reply finds the latest open one."""
    return _key(f"{Prefix.PHONE.value}#{phone}", f"{phone_survey_prefix()}{sent_at}#{token}")


def phone_survey_prefix() -> str:
    """What the SK of every SMS survey sent to a number starts with."""
    return f"{Prefix.SURVEY.value}#"


def whatsapp_message(message_id: str) -> Key:
    """A WhatsApp message we sent, by the provider's id: its delivery statuses find their job."""
    return _key(f"{Prefix.WHATSAPP.value}#{message_id}", Prefix.WHATSAPP.value)


def phone_message(phone: str, sent_at: str, store_id: str) -> Key:
    """Every SMS sent to a number, newest last: a reply (STOP, HELP) finds whose it answers."""
    return _key(f"{Prefix.PHONE.value}#{phone}", f"{phone_message_prefix()}{sent_at}#{store_id}")


def phone_message_prefix() -> str:
    """What the SK of every SMS record sent to a number starts with."""
    return f"{Prefix.SMS.value}#"


def phone_optout(phone: str) -> Key:
    """A STOP that holds for the number itself, whichever store texts it next."""
    return _key(phone_pk(phone), "OPTOUT")


def phone_pk(phone: str) -> str:
    return f"{Prefix.PHONE.value}#{phone}"


def sent_message(store_id: str, customer_id: str, sent_at: str, kind: str) -> Key:
    """A record of a message sent to a customer (frequency caps read the last week's)."""
    return _key(customer_pk(store_id, customer_id), f"{sent_message_prefix()}{sent_at}#{kind}")


def sent_message_prefix() -> str:
    """What the SK of every sent record of a customer starts with."""
    return f"{Prefix.SENT.value}#"


def sent_message_range(since: str, until: str) -> tuple[str, str]:
    """SK bounds of a customer's sent records from ``since`` to ``until`` inclusive."""
    return f"{sent_message_prefix()}{since}", f"{sent_message_prefix()}{until}~"


def send_claim(owner_pk: str, occurrence: str) -> Key:
    """The ledger entry that lets one occurrence of a message go out once, whatever retries."""
    return _key(owner_pk, f"{Prefix.CLAIM.value}#{occurrence}")


def comment_listing_pk(store_id: str) -> str:
    return f"{store_pk(store_id)}#{Prefix.COMMENT.value}"


def comment_listing(store_id: str, answered_at: str, order_id: str, survey_kind: str) -> Key:
    """Points at a response that has a comment, by answer time: the dashboard reads the
    latest comments here and never walks the answers without one."""
    return _key(comment_listing_pk(store_id), f"{answered_at}#{order_id}#{survey_kind}")


def rate_window(scope: str, subject: str, window: str) -> Key:
    """A counter of requests by one subject (a survey token) in one window (an hour)."""
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return _key(f"{Prefix.RATE.value}#{scope}#{digest}", f"{Prefix.RATE.value}#{window}")


def data_request(owner_pk: str, request_id: str) -> Key:
    """A platform's request for a customer's data, kept in the customer's partition (or the
    store's, when no customer matched)."""
    return _key(owner_pk, f"{data_request_prefix()}{request_id}")


def data_request_prefix() -> str:
    return f"{Prefix.PRIVACY.value}#DATA_REQUEST#"


def endpoints_pk(store_id: str) -> str:
    """The partition holding every outbound webhook endpoint of a store."""
    return f"{store_pk(store_id)}#{Prefix.ENDPOINT.value}S"


def endpoint(store_id: str, endpoint_id: str) -> Key:
    return _key(endpoints_pk(store_id), f"{Prefix.ENDPOINT.value}#{endpoint_id}")


def endpoint_pk(store_id: str, endpoint_id: str) -> str:
    """An endpoint's own partition: its delivery jobs (one per event) sit here."""
    return f"{store_pk(store_id)}#{Prefix.ENDPOINT.value}#{endpoint_id}"


def endpoint_delivery_listing_pk(store_id: str, endpoint_id: str) -> str:
    return gsi1(store_id, f"{DELIVERIES}#{endpoint_id}", "")["gsi1pk"]


def endpoint_delivery_listing(store_id: str, endpoint_id: str, created_at: str, message_id: str) -> dict[str, str]:
    """Lists a delivery among its endpoint's deliveries, by the time its event happened."""
    return gsi1(store_id, f"{DELIVERIES}#{endpoint_id}", f"{created_at}#{message_id}")


def webhook_activity(store_id: str, source: str) -> Key:
    """The last webhooks of one source a store received (one small item, overwritten), in the
    store's partition next to the store item."""
    return _key(store_pk(store_id), webhook_activity_sk(source))


def webhook_activity_sk(source: str) -> str:
    """``webhook_activity_sk("")`` is the prefix shared by a store's webhook activity items."""
    return f"{Prefix.WEBHOOK.value}#{source}"


def gsi1(store_id: str, collection: str, sort: str) -> dict[str, str]:
    """Attributes that list an item in a store's collection, ordered by ``sort``."""
    return {"gsi1pk": f"{store_pk(store_id)}#{collection}", "gsi1sk": sort}


# --- reading sort keys back: what an item of a partition is ----------------------------------
def sort_key(item: Mapping[str, Any]) -> str:
    return str(item.get("SK", ""))


def is_job(item: Mapping[str, Any]) -> bool:
    return sort_key(item).startswith(job_sk(""))


def is_late_followup(item: Mapping[str, Any]) -> bool:
    return sort_key(item).startswith(late_followup_sk(""))


def is_order_link(item: Mapping[str, Any]) -> bool:
    """A customer's link to one of its orders (:func:`customer_order`)."""
    return sort_key(item).startswith(customer_order_sk(""))


def is_response(item: Mapping[str, Any]) -> bool:
    return sort_key(item).startswith(response_sk(""))


def is_sent_message(item: Mapping[str, Any]) -> bool:
    return sort_key(item).startswith(sent_message_prefix())


def is_data_request(item: Mapping[str, Any]) -> bool:
    return sort_key(item).startswith(data_request_prefix())


def sent_message_parts(item: Mapping[str, Any]) -> tuple[str, str]:
    """When a sent record's message went and its kind, as its SK states them (older records
    carry no ``sent_at`` or ``kind`` attribute); empty when the SK lacks them."""
    _, sent_at, kind = [*sort_key(item).split("#", 2), "", ""][:3]
    return sent_at, kind


def reference(key: Key) -> str:
    """A key as text an SES message tag may carry (letters, digits, ``-`` and ``_``): the
    send ledger's key rides on each email, so SES's delivery event finds its message."""
    raw = json.dumps([key["PK"], key["SK"]], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def from_reference(text: object) -> Key | None:
    """The key a :func:`reference` names; None for anything else (an event may carry anything)."""
    if not isinstance(text, str) or not 0 < len(text) <= 256:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) and p for p in parts)):
        return None
    return _key(parts[0], parts[1])
