"""Replies to our SMS: opt-out, help and opt-in keywords in every supported language, and
survey scores written in any script.

The reading is a pure function (:func:`read_reply`).  Keywords are compared after folding
case, accents, Arabic letter variants and punctuation, so "STOP", "Stop!", "ΣΤΟΠ", "στόπ",
"إلغاء" and "الغاء" read the same.  A message that *is* a keyword, or a short phrase built
around a clear opt-out word ("please stop texting me"), is that keyword; a message that
starts with a number is a score with the rest as its comment.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


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
    value = "".join(c for c in value if unicodedata.category(c) != "Mn" or "\u0600" <= c <= "\u06ff" and not _ARABIC_MARKS.match(c))
    value = unicodedata.normalize("NFC", _ARABIC_MARKS.sub("", value)).translate(_LETTER_VARIANTS)
    value = re.sub(r"[^\w\s]", " ", value.replace("-", "").replace("_", ""))
    return " ".join(value.split())


def _folded(*words: str) -> frozenset[str]:
    return frozenset(fold(w) for w in words)


# Whole-message keywords (what carriers and AWS End User Messaging honour, and their equivalents).
STOP_WORDS = _folded(
    # English
    "stop", "end", "cancel", "unsubscribe", "quit", "stopall", "stop all", "revoke", "optout", "opt out", "opt-out",
    # Arabic
    "توقف", "توقّف", "قف", "إلغاء", "الغاء", "إلغاء الاشتراك", "الغاء الاشتراك", "إيقاف", "ايقاف", "أوقف", "اوقف", "إنهاء",
    # Persian
    "لغو", "لغو عضویت", "توقف", "ایست", "انصراف", "قطع",
    # Hebrew
    "עצור", "הסר", "הסרה", "ביטול", "בטל", "הפסק", "די",
    # Greek
    "ΣΤΟΠ", "στοπ", "ΔΙΑΓΡΑΦΗ", "διαγραφή", "ΑΠΕΓΓΡΑΦΗ", "απεγγραφή", "ΔΙΑΚΟΠΗ", "διακοπή", "ΤΕΛΟΣ", "τέλος", "ΑΚΥΡΩΣΗ", "ακύρωση", "ΣΤΑΜΑΤΑ",
)
HELP_WORDS = _folded("help", "info", "مساعدة", "مساعده", "راهنما", "کمک", "עזרה", "ΒΟΗΘΕΙΑ", "βοήθεια")
START_WORDS = _folded(
    "start", "unstop", "subscribe", "ابدأ", "ابدا", "اشتراك", "شروع", "عضویت", "התחל", "חידוש", "ΕΝΑΡΞΗ", "έναρξη", "ΞΕΚΙΝΑ",
)

# Words that, inside a short message, clearly ask us to stop ("please stop texting me").
OPT_OUT_MARKERS = _folded(
    "stop", "unsubscribe", "optout", "opt out", "stopall",
    "توقف", "التوقف", "توقفوا", "ايقاف", "إلغاء الاشتراك", "الغاء الاشتراك", "لا ترسل", "لا ترسلوا",
    "لغو", "لغو عضویت", "نفرستید", "انصراف",
    "עצור", "הסר", "הסירו", "תפסיקו", "הפסיקו", "הפסק",
    "στοπ", "σταματηστε", "σταματηστε να", "διαγραφη", "απεγγραφη",
)
PHRASE_MAX_WORDS = 10

_SCORE = re.compile(r"^\s*[#(\[]?\s*(\d{1,2})(?:\s*[٫.,]\s*[0٠۰]+)?(?!\d)\s*(?:/\s*\d{1,2}(?!\d))?[\s)\].,،٫!:;\-–—]*(.*)$", re.S)


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
    if match:
        return Reply(Intent.SCORE, int(match.group(1)), match.group(2).strip())
    if _has_marker(folded):
        return Reply(Intent.STOP)
    return Reply(Intent.OTHER, comment=text)
