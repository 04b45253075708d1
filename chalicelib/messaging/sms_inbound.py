"""Replies to our SMS: opt-out, help and opt-in keywords in every supported language, and
survey scores written in any script.

The reading is a pure function (:func:`read_reply`).  Keywords are compared after folding
case, accents, Arabic letter variants and punctuation, so "STOP", "Stop!", "ΣΤΟΠ", "στόπ",
"إلغاء" and "الغاء" read the same.  A message that *is* a keyword, or a short phrase built
around a clear opt-out word ("please stop texting me"), is that keyword; a message that
starts with a number is a score with the rest as its comment, unless the number is clearly a
quantity ("2 min away").  Each survey gets one thank-you and one help reply at most.

WhatsApp replies (:mod:`whatsapp` reads them out of End User Messaging Social's events) go
through the very same :func:`handle`, with ``via="whatsapp"``: the same words, the same
survey, the same STOP (for the number, so it stops SMS and WhatsApp alike); the answer to
them goes back on WhatsApp.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from chalicelib.core import validate
from chalicelib.core.clock import epoch, parse_iso
from chalicelib.core.errors import InvalidInput
from chalicelib.messaging import delivery, suppression, transports, whatsapp
from chalicelib.platform.aws import Clients
from chalicelib.platform.observability import count
from chalicelib.rendering import templating
from chalicelib.storage import db, keys
from chalicelib.storage.expression import Update
from chalicelib.storage.items import StoreItem, SurveyItem
from chalicelib.stores import registry
from chalicelib.support import escalation
from chalicelib.surveys import answers, tokens


class Intent(str, Enum):
    STOP = "stop"
    HELP = "help"
    START = "start"
    SCORE = "score"
    OTHER = "other"


_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, tatweel
_LETTER_VARIANTS = str.maketrans(
    {
        "\u0623": "\u0627",  # أ -> ا
        "\u0625": "\u0627",  # إ -> ا
        "\u0622": "\u0627",  # آ -> ا
        "\u0671": "\u0627",  # ٱ -> ا
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh (one spelling for both languages)
        "\u0649": "\u06cc",  # alef maksura -> yeh
        "\u0643": "\u06a9",  # Arabic kaf -> keheh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u03c2": "\u03c3",  # final sigma -> sigma
    }
)


def fold(text: str) -> str:
    """Lower case, no accents or Arabic diacritics, one spelling per letter, words only."""
    value = unicodedata.normalize("NFKD", text.casefold())
    value = "".join(
        c
        for c in value
        if unicodedata.category(c) != "Mn" or ("\u0600" <= c <= "\u06ff" and not _ARABIC_MARKS.match(c))
    )
    value = unicodedata.normalize("NFC", _ARABIC_MARKS.sub("", value)).translate(_LETTER_VARIANTS)
    value = re.sub(r"[^\w\s]", " ", value.replace("-", "").replace("_", ""))
    return " ".join(value.split())


def _folded(*words: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


# Whole-message keywords (what carriers and AWS End User Messaging honour, and their equivalents).
STOP_WORDS = _folded(
    # English
    "stop",
    "end",
    "cancel",
    "unsubscribe",
    "quit",
    "stopall",
    "stop all",
    "revoke",
    "optout",
    "opt out",
    "opt-out",
    # Arabic
    "توقف",
    "توقّف",
    "قف",
    "إلغاء",
    "الغاء",
    "إلغاء الاشتراك",
    "الغاء الاشتراك",
    "إيقاف",
    "ايقاف",
    "أوقف",
    "اوقف",
    "إنهاء",
    # Persian
    "لغو",
    "لغو عضویت",
    "توقف",
    "ایست",
    "انصراف",
    "قطع",
    # Hebrew
    "עצור",
    "הסר",
    "הסרה",
    "ביטול",
    "בטל",
    "הפסק",
    "די",
    # Greek
    "ΣΤΟΠ",
    "στοπ",
    "ΔΙΑΓΡΑΦΗ",
    "διαγραφή",
    "ΑΠΕΓΓΡΑΦΗ",
    "απεγγραφή",
    "ΔΙΑΚΟΠΗ",
    "διακοπή",
    "ΤΕΛΟΣ",
    "τέλος",
    "ΑΚΥΡΩΣΗ",
    "ακύρωση",
    "ΣΤΑΜΑΤΑ",
)
HELP_WORDS = _folded("help", "info", "مساعدة", "مساعده", "راهنما", "کمک", "עזרה", "ΒΟΗΘΕΙΑ", "βοήθεια")
START_WORDS = _folded(
    "start",
    "unstop",
    "subscribe",
    "ابدأ",
    "ابدا",
    "اشتراك",
    "شروع",
    "عضویت",
    "התחל",
    "חידוש",
    "ΕΝΑΡΞΗ",
    "έναρξη",
    "ΞΕΚΙΝΑ",
)

# Words that, inside a short message, clearly ask us to stop ("please stop texting me").
OPT_OUT_MARKERS = _folded(
    "stop",
    "unsubscribe",
    "optout",
    "opt out",
    "stopall",
    "توقف",
    "التوقف",
    "توقفوا",
    "ايقاف",
    "إلغاء الاشتراك",
    "الغاء الاشتراك",
    "لا ترسل",
    "لا ترسلوا",
    "لغو",
    "لغو عضویت",
    "نفرستید",
    "انصراف",
    "עצור",
    "הסר",
    "הסירו",
    "תפסיקו",
    "הפסיקו",
    "הפסק",
    "στοπ",
    "σταματηστε",
    "σταματηστε να",
    "διαγραφη",
    "απεγγραφη",
)
PHRASE_MAX_WORDS = 10

_SCORE = re.compile(
    r"^\s*[#(\[]?\s*(\d{1,2})(?:\s*[٫.,]\s*[0٠۰]+)?(?!\d)(?![^\W\d_])\s*(?:/\s*\d{1,2}(?!\d))?[\s)\].,،٫!:;\-–—]*(.*)$",
    re.S,
)


# A number followed by one of these is a quantity, not a score: "2 min away, I'll call you
# back", "5 minutes", "3 pm", "10 more days" (auto-responders and people on the move).
QUANTITY_WORDS = _folded(
    "s",
    "sec",
    "secs",
    "second",
    "seconds",
    "m",
    "min",
    "mins",
    "minute",
    "minutes",
    "h",
    "hr",
    "hrs",
    "hour",
    "hours",
    "d",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "am",
    "pm",
    "oclock",
    "o",
    "more",
    "times",
    "km",
    "mi",
    "mile",
    "miles",
    "st",
    "nd",
    "rd",
    "th",
    "of",
    "to",
    "and",
    "or",
    "x",
    "people",
    "items",
    "pieces",
    "ثانية",
    "دقيقة",
    "دقائق",
    "دقايق",
    "ساعة",
    "ساعات",
    "يوم",
    "أيام",
    "ايام",
    "صباحا",
    "مساء",
    "ثانیه",
    "دقیقه",
    "ساعت",
    "روز",
    "هفته",
    "שניות",
    "דקה",
    "דקות",
    "שעה",
    "שעות",
    "יום",
    "ימים",
    "δευτερόλεπτα",
    "λεπτό",
    "λεπτά",
    "ώρα",
    "ώρες",
    "μέρα",
    "μέρες",
    "ημέρες",
    "πμ",
    "μμ",
)


def _a_quantity(rest: str) -> bool:
    words = fold(rest).split()
    return bool(words) and words[0] in QUANTITY_WORDS


@dataclass(frozen=True)
class Reply:
    intent: Intent
    score: int | None = None
    comment: str = ""


def _has_marker(folded: str) -> bool:
    words = folded.split()
    if not words or len(words) > PHRASE_MAX_WORDS:
        return False
    padded = f" {folded} "
    return any(f" {marker} " in padded for marker in OPT_OUT_MARKERS)


def read_reply(body: str) -> Reply:
    """What an inbound SMS asks for.  Scores are any script's digits: "9", "٩", "۹"."""
    text = unicodedata.normalize("NFC", body or "").strip()
    folded = fold(text)
    if folded in STOP_WORDS:
        return Reply(Intent.STOP)
    if folded in HELP_WORDS:
        return Reply(Intent.HELP)
    if folded in START_WORDS:
        return Reply(Intent.START)
    match = _SCORE.match(text)
    if match and not _a_quantity(match.group(2)):
        return Reply(Intent.SCORE, int(match.group(1)), match.group(2).strip())
    if _has_marker(folded):
        return Reply(Intent.STOP)
    return Reply(Intent.OTHER, comment=text)


# --- handling a reply --------------------------------------------------------------------
RECENT_MESSAGES = 50
DEDUPE_DAYS = 7
MAX_MESSAGE_ID = 200
# JSON can carry half of a surrogate pair ("\\ud800"); such text cannot be stored or sent as UTF-8.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Outcome:
    """What a reply led to (for logs and tests; never the message text)."""

    intent: Intent
    stores: list[str]
    recorded: bool = False
    replied: str | None = None
    reason: str | None = None
    via: str = "sms"  # where the reply came from, and where our answer goes: sms | whatsapp


def inbound(payload_text: str) -> dict[str, str] | None:
    """The End User Messaging two-way payload (``originationNumber``, ``destinationNumber``,
    ``messageKeyword``, ``messageBody``, ``inboundMessageId``...), or None when malformed."""

    try:
        payload = json.loads(payload_text)
    except ValueError:
        return None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("originationNumber"), str)
        or not isinstance(payload.get("messageBody"), str)
    ):
        return None
    read = {
        k: _LONE_SURROGATE.sub("\ufffd", str(v))
        for k, v in payload.items()
        if isinstance(v, (str, int)) and not isinstance(v, bool)
    }
    message_id = read.get("inboundMessageId")
    if message_id is not None and not (0 < len(message_id) <= MAX_MESSAGE_ID and message_id.isprintable()):
        del read["inboundMessageId"]  # not an id we can key a dedupe marker on
    return read


def received_at(timestamp: Any, fallback: datetime) -> datetime:
    """When SNS took the message (the event's own time), else ``fallback``."""

    if isinstance(timestamp, str) and timestamp:
        try:
            return parse_iso(timestamp)
        except ValueError:
            pass
    return fallback


def _phone(value: str) -> str | None:

    try:
        return validate.phone(value, "originationNumber")
    except InvalidInput:
        return None


def _recent(table: db.Table, phone: str, prefix: str) -> list[dict[str, Any]]:
    items, _ = table.query(
        db.Expr("PK = :pk AND begins_with(SK, :sk)", values={":pk": keys.phone_pk(phone), ":sk": prefix}),
        forward=False,
        limit=RECENT_MESSAGES,
        consistent=True,
    )
    return items


def _open_survey(table: db.Table, phone: str, now: datetime) -> SurveyItem | None:
    """The newest SMS survey to this number that may still be answered."""

    for entry in _recent(table, phone, keys.phone_survey_prefix()):
        if parse_iso(str(entry["expires"])) > now:
            return tokens.load(table, str(entry["token"]), now, consistent=True)
    return None


def handle(table: db.Table, clients: Clients, payload: dict[str, str], now: datetime, *, via: str = "sms") -> Outcome:
    """Act on one inbound SMS (or WhatsApp message): opt out, help, opt back in, or record a
    survey answer."""

    reply = read_reply(payload.get("messageBody", ""))
    phone = _phone(payload.get("originationNumber", ""))
    if phone is None:
        return Outcome(reply.intent, [], reason="bad_number", via=via)
    survey = _open_survey(table, phone, now)
    store_ids: list[str] = []
    if survey is not None:
        store_ids.append(str(survey["store_id"]))
    messages = _recent(table, phone, keys.phone_message_prefix())
    for item in messages:
        if str(item["store_id"]) not in store_ids:
            store_ids.append(str(item["store_id"]))
    if not store_ids:
        if reply.intent in (Intent.STOP, Intent.START):
            return _number_only(table, reply, phone, now, via)
        return Outcome(reply.intent, [], reason="unknown_number", via=via)
    main_store_id = store_ids[0] if survey is not None else str(messages[0]["store_id"])
    message_id = payload.get("inboundMessageId")
    source = f"{via}-inbound"
    if message_id:
        marker = {
            **keys.event_marker(main_store_id, source, message_id),
            "type": "event_marker",
            "expires_at": epoch(now + timedelta(days=DEDUPE_DAYS)),
        }
        try:
            table.create(marker)
        except db.ConditionFailed:
            return Outcome(reply.intent, store_ids, reason="duplicate", via=via)
    try:
        return _act(table, clients, reply, survey, store_ids, main_store_id, messages, phone, now, via)
    except BaseException:
        if message_id:
            table.delete(keys.event_marker(main_store_id, source, message_id))  # let SNS's retry through
        raise


def handle_whatsapp(table: db.Table, clients: Clients, event_text: str, now: datetime) -> list[Outcome]:
    """Act on each customer message of one End User Messaging Social event, as on an SMS, and
    mark the messages it reports undelivered on their jobs."""
    for message_id, why in whatsapp.failures(event_text):
        delivery.whatsapp_undelivered(table, message_id, why, now)
    return [handle(table, clients, payload, now, via=whatsapp.WHATSAPP) for payload in whatsapp.inbound(event_text)]


def _act(
    table: db.Table,
    clients: Clients,
    reply: Reply,
    survey: SurveyItem | None,
    store_ids: list[str],
    main_store_id: str,
    messages: list[dict[str, Any]],
    phone: str,
    now: datetime,
    via: str,
) -> Outcome:

    store = registry.with_defaults(registry.get_store(table, main_store_id))
    language = str(survey["language"]) if survey is not None else _language(table, store, messages, phone)
    outcome = Outcome(reply.intent, store_ids, via=via)
    if reply.intent is Intent.STOP:
        return _stop(table, clients, store, store_ids, phone, language, now, outcome)
    if reply.intent is Intent.START:
        return _start(table, clients, store, store_ids, phone, language, now, outcome)
    if _suppressed(table, main_store_id, phone):
        outcome.reason = "opted_out"
        return outcome
    if reply.intent is Intent.HELP:
        return _send(clients, store, phone, language, "help", outcome)
    if survey is None:
        outcome.reason = "no_open_survey"
        return outcome
    return _answer(table, clients, store, survey, reply, phone, now, outcome)


def _language(table: db.Table, store: StoreItem, messages: list[dict[str, Any]], phone: str) -> str:

    customer_id = next(
        (m.get("customer_id") for m in messages if m.get("customer_id") and m.get("store_id") == store["store_id"]),
        None,
    )
    customer = table.get(keys.customer(str(store["store_id"]), str(customer_id))) if customer_id else None
    return templating.language_or((customer or {}).get("language"), str(store.get("language") or "en"))


def _suppressed(table: db.Table, store_id: str, phone: str) -> bool:

    item = suppression.lookup(table, store_id, phone, "sms")
    return item is not None and item.get("scope") == "all"


def _number_only(table: db.Table, reply: Reply, phone: str, now: datetime, via: str) -> Outcome:
    """STOP or START from a number no store has texted lately: it still holds for the
    number (no brand to confirm in, so no reply)."""

    if reply.intent is Intent.STOP:
        suppression.suppress_number(table, phone, "sms_stop", now)
    else:
        suppression.unsuppress_number(table, phone)
    return Outcome(reply.intent, [], recorded=True, reason="number_only", via=via)


def _stop(
    table: db.Table,
    clients: Clients,
    store: StoreItem,
    store_ids: list[str],
    phone: str,
    language: str,
    now: datetime,
    outcome: Outcome,
) -> Outcome:
    """Suppress the number for every store that texted it; confirm once, then stay silent."""

    newly = [s for s in store_ids if not _suppressed(table, s, phone)]
    for store_id in newly:
        suppression.suppress(table, store_id, phone, "sms", "all", "sms_stop", now)
    suppression.suppress_number(table, phone, "sms_stop", now)
    outcome.recorded = bool(newly)
    if not newly:
        outcome.reason = "already_opted_out"
        return outcome
    return _send(clients, store, phone, language, "stopped", outcome)


def _start(
    table: db.Table,
    clients: Clients,
    store: StoreItem,
    store_ids: list[str],
    phone: str,
    language: str,
    now: datetime,
    outcome: Outcome,
) -> Outcome:
    """Lift the STOP (only a STOP: a store's own or a bounce-driven block stays)."""

    lifted = []
    for store_id in store_ids:
        item = suppression.lookup(table, store_id, phone, "sms")
        if item and item.get("reason") == "sms_stop":
            suppression.unsuppress(table, store_id, phone, "sms")
            lifted.append(store_id)
    suppression.unsuppress_number(table, phone)
    outcome.recorded = bool(lifted)
    if not lifted:
        outcome.reason = "not_opted_out"
        return outcome
    return _send(clients, store, phone, language, "started", outcome)


def _answer(
    table: db.Table,
    clients: Clients,
    store: StoreItem,
    survey: SurveyItem,
    reply: Reply,
    phone: str,
    now: datetime,
    outcome: Outcome,
) -> Outcome:
    pass  # split-import

    survey_type = str(survey["survey_type"])
    language = str(survey["language"])
    answered = survey.get("answered_at") is not None and survey.get("score") is not None
    if reply.intent is Intent.SCORE and reply.score is not None and reply.score in tokens.scale(survey_type):
        score, comment, kind = reply.score, answers.parse_comment(reply.comment[: answers.MAX_COMMENT]), "score"
    elif answered and reply.intent is Intent.OTHER and reply.comment:
        # The answer to our "what went wrong?": a comment on the score already given.
        score, comment, kind = (
            int(survey["score"]),
            answers.parse_comment(reply.comment[: answers.MAX_COMMENT]),
            "comment",
        )
    else:
        return _help_once(table, clients, store, survey, phone, outcome)
    response = answers.record_answer(
        table,
        survey,
        score=score,
        comment=comment,
        via=outcome.via,
        now=now,
        theme_keywords=store.get("theme_keywords"),
    )
    count("SurveyAnswered", channel=outcome.via)
    outcome.recorded = True
    escalation.on_response(table, clients, store, response, now)
    if kind == "comment":
        return outcome
    if not _first(table, survey, "sms_thanks_sent"):
        outcome.reason = "thanks_already_sent"  # an auto-responder must not start a loop
        return outcome
    # "What went wrong?" only of someone who has not said it already, here or on the page.
    low = answers.sentiment(survey_type, score) == "negative" and not response.get("comment")
    return _send(clients, store, phone, language, "thanks_low" if low else "thanks", outcome)


def _first(table: db.Table, survey: SurveyItem, flag: str) -> bool:
    """Sets ``flag`` on the survey; False when it was already set (one such reply per survey)."""
    try:
        table.update(
            keys.survey(str(survey["token"])),
            Update().set({flag: True}),
            condition=db.Expr(f"attribute_exists(PK) AND attribute_not_exists({flag})"),
        )
    except db.ConditionFailed:
        return False
    return True


def _help_once(
    table: db.Table, clients: Clients, store: StoreItem, survey: SurveyItem, phone: str, outcome: Outcome
) -> Outcome:
    """One "please reply with a number" per survey: an auto-responder gets no second one."""
    if not _first(table, survey, "sms_help_sent"):
        outcome.reason = "help_already_sent"
        return outcome
    low, *_, high = tokens.scale(str(survey["survey_type"]))
    return _send(clients, store, phone, str(survey["language"]), "not_a_score", outcome, low=low, high=high)


def _send(
    clients: Clients, store: StoreItem, phone: str, language: str, reply: str, outcome: Outcome, **extra: Any
) -> Outcome:

    support = store.get("support_phone") or store.get("support_email") or ""
    body = templating.render(
        "pages/sms_reply.txt",
        language,
        {"reply": reply, "store_name": store.get("name") or "", "support": support, **extra},
        store=store,
    )
    body = templating.start_direction(body, language)
    if outcome.via == whatsapp.WHATSAPP and store.get("whatsapp_phone_number_id"):
        # The customer just wrote on WhatsApp: a free-form answer is allowed there for 24 hours.
        transports.send_whatsapp(clients, store, phone, whatsapp.text_message(phone, body))
    else:
        transports.send_sms(clients, store, phone, body)
    outcome.replied = reply
    return outcome
