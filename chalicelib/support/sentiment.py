"""Is this answer negative, and how urgent is it?  Pure functions of the answer and the
store's settings.

A score at or beyond the store's threshold is negative on its own.  A middling score is
negative when the comment says so: a lexicon in English, Arabic (standard, Egyptian and
Levantine), Persian, Hebrew and Greek, aware of negation ("not happy" and "مش مبسوط" are
negative; "no problems at all" and "بدون مشكلة" are not).  Text and lexicon go through the
same normalisation (case, accents and diacritics, tatweel, alef and hamza forms, Persian and
Arabic yeh and kaf, Greek final sigma), so a word matches however it was typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

PRIORITIES = ("urgent", "high", "normal")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}

# Words that, in front of a term (within a few words of the same clause), turn it around.
NEGATORS_BEFORE = """
    not no never nothing none nobody neither nor without hardly barely cannot cant dont didnt
    doesnt isnt wasnt werent wont aint zero
    لا لم لن ما مش مو مب ماهو مهو مفيش مافي مافيه ما_في ليس ليست لست غير بدون بلا ولا ابدا
    نه نمی هیچ بدون بی اصلا
    לא אין בלי ללא אף אינו אינה אינני איני אינם מעולם
    δεν μην ουτε κανενα κανενας καμια καμμια χωρις ποτε μηδεν
"""
# Phrases that deny what follows at a distance ("no need for a lawyer").
NEGATOR_PHRASES = """
    no_need_for no_need_to no_need_of not_going_to never_going_to
"""
# A condition ("if you don't answer, I'll call a lawyer"): a negation inside it negates only
# the condition's own verb, never the consequence that follows.
CONDITIONALS = frozenset(
    {"if", "unless", "اذا", "واذا", "فاذا", "لو", "ولو", "اگر", "اگه", "אם", "ואם", "אילו", "αν", "εαν", "ακομα_και_αν"}
)
CONDITION_REACH = 2  # at most this many words between the conditional and its negation
# Persian negates with the verb that follows ("راضی نیستم", "مشکلی نداشتم").
NEGATORS_AFTER = """
    نیست نیستم نیستیم نیستند نبود نبودم نبودیم نبودند نشد نشدم نداشتم نداشت نداشتیم نداره ندارد ندارم
"""
# Clause breaks: a negation never reaches across "but".
CLAUSE_BREAKS = frozenset(
    {"but", "however", "although", "though", "لكن", "بس", "ولكن", "اما", "ولی", "אבל", "אך", "αλλα", "ομως"}
)

# Terms: space-separated words are a phrase; a trailing * matches any ending.
NEGATIVE_TERMS = """
    bad terrible awful horrible horrendous worst poor* broken broke damaged defective faulty
    problem* issue* disappoint* late delay* missing wrong useless waste rude unhappy dissatisf*
    unsatisf* unacceptable complain* angry frustrat* garbage junk refund* cheaply scratched leak*
    never_arrived did_not_arrive never_came stopped_working fell_apart rip_off ripped_off
    سيء سيئه سيئة زفت وحش وحشه خربان خربانه خربانة مكسور مكسوره مكسورة تالف تالفه معطل معطله
    متاخر متاخره تاخير تأخير مشكل* مشاكل مزعج محبط خيبه_امل غلط رديء رديئه اسوا فاشل زعلان
    ما_وصل ماوصل موصلش لم_يصل ما_اشتغل مابيشتغل مبيشتغلش ناقص
    بد افتضاح خراب خراب_شد شکسته مشکل* ناراضی ناامید دیر تاخیر ضعیف کار_نمیکند نرسید
    گران_و_بد معیوب اشتباه بدترین
    רע רעה גרוע גרועה נורא נוראי נוראית שבור שבורה פגום פגומה בעיה בעיות בעייה תקלה תקלות איחור מאוחר
    אכזבה מאוכזב מאוכזבת זוועה החזר_כספי לא_הגיע הפסיק_לעבוד
    προβλημ* χαλια απαισι* απαραδεκτ* σπασμεν* χαλασμεν* ελαττωματικ* απογοητευ* καθυστερ*
    κακο κακη κακος κακα χειροτερ* ατυχ* δεν_ηρθε δεν_εφτασε επιστροφη_χρηματων
"""
# Words that are good news unless negated ("not happy", "مش مبسوط", "לא מרוצה").
POSITIVE_TERMS = """
    happy satisfied pleased good great fine ok okay alright recommend* like love* work* arrived best
    مبسوط* راضي* راض سعيد* ممتاز* جيد* كويس* منيح* حلو* عاجب* عجب* رائع* مرتاح* يعمل تعمل
    يشتغل بيشتغل شغال* وصل تمام
    راضی خوب عالی خوشحال* کار_میکند رسید
    מרוצה מרוצים מרוצות שמח שמחה טוב טובה מעולה עובד עובדת אהבתי ממליץ ממליצה הגיע בסדר
    ικανοποιημεν* ευχαριστημεν* καλο καλη καλος καλα τελει* λειτουργει δουλευει αρεσ* ηρθε ενταξει
"""
URGENT_TERMS = """
    chargeback* lawyer* attorney* solicitor* sue suing lawsuit* legal_action court dangerous hazard*
    injur* hurt burn* fire electric_shock electrocut* fraud* scam* police
    احتيال نصب نصاب محامي محاماه قضيه محكمه خطير خطيره خطر اصابه اصابة انجرح حريق حرق
    كهربني شرطه الغاء_الدفع استرداد_من_البنك
    کلاهبرداری وکیل شکایت دادگاه خطرناک آسیب مصدوم سوختگی آتش برق_گرفت پلیس
    הונאה רמאות עורך_דין עורכי_דין עו״ד תביעה לתבוע מסוכן מסוכנת פציעה נפצעתי כוויה שריפה
    התחשמלתי משטרה ביטול_עסקה
    απατη δικηγορ* αγωγη μηνυση επικινδυν* τραυματ* εγκαυμα φωτια ηλεκτροπληξια αστυνομια
    chargeback charge_back dispute_the* dispute_it* small_claims trading_standards consumer_protection
    consumer_rights consumer_affairs better_business_bureau bbb ftc ombudsman regulator* report_you
    report_this_to report_it_to
    دعوي دعوي_قضائيه رفع_قضيه ارفع_قضيه قضائيه حمايه_المستهلك جهاز_حمايه_المستهلك وزاره_التجاره
    شكوي_رسميه الدفع_من_البنك عن_طريق_البنك اعتراض_علي_الدفع فضح* هفضح* افضح* سافضح* النيابه
    وکیل* تعزیرات حمایت_از_مصرف_کننده سازمان_حمایت برگشت_میزنم پرداخت_را_برگشت*
    אתבע אתבעו נתבע תבעתי תביעה_קטנה תביעות_קטנות הגנת_הצרכן מועצה_לצרכנות חברת_האשראי
    חברת_אשראי ביטול_חיוב אבטל_את_העסקה
    μηνυσ* καταγγελ* συνηγορο_του_καταναλωτη συνηγορος_του_καταναλωτη εκποιζω αντιλογισμ* δικαστηρι*
"""
# Going public: a threat when the answer is negative ("a one star review everywhere"), praise
# otherwise ("found you on social media"), so urgent only together with a negative answer.
EXPOSURE_TERMS = """
    one_star 1_star star_review bad_review* negative_review* trustpilot social_media go_public
    تقييم_سلبي تقييمات_سلبيه نجمه_واحده سوشيال_ميديا مواقع_التواصل
    نظر_منفی امتیاز_منفی
    ביקורת_שלילית ביקורות_שליליות רשתות_החברתיות רשתות_חברתיות
    αρνητικη_κριτικη αρνητικες_κριτικες
"""

NEGATION_WINDOW = 3
POST_NEGATION_WINDOW = 2
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل")
_HEBREW_PREFIXES = (
    "כשה",
    "שה",
    "וה",
    "וב",
    "ול",
    "ומ",
    "וש",
    "מה",
    "בה",
    "לה",
    "כש",
    "ו",
    "ה",
    "ב",
    "ל",
    "מ",
    "ש",
    "כ",
)
_LATIN_CONTRACTIONS = re.compile(r"(\w)n['’]t\b")
_TOKEN = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Case, accents, diacritics and letter variants folded away; words kept."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = text.casefold()
    text = text.translate(_FOLD)
    text = _LATIN_CONTRACTIONS.sub(r"\1 not", text)
    # Persian writes the negative and continuous prefixes apart or joined; join them.
    text = re.sub(r"\b(ن?مي)\s+(?=\w)", r"\1", text)
    return unicodedata.normalize("NFC", text)


_FOLD = str.maketrans(
    {
        "\u0640": None,  # tatweel
        "\u200c": None,  # zero-width non-joiner
        "\u200f": None,
        "\u200e": None,
        "\u06cc": "\u064a",  # Persian yeh -> Arabic yeh
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u06a9": "\u0643",  # Persian kaf -> Arabic kaf
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06c1": "\u0647",
        "\u06d5": "\u0647",
        "\u0671": "\u0627",  # alef wasla
        "\u2019": "'",
        "\u05f3": "'",  # Hebrew geresh
        "\u05f4": "'",  # Hebrew gershayim
        '"': "'",
    }
)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


@dataclass(frozen=True)
class Term:
    """One lexicon entry: its words, each exact or a stem (``*``)."""

    text: str
    words: tuple[tuple[str, bool], ...]


def _terms(source: Iterable[str]) -> tuple[Term, ...]:
    out: list[Term] = []
    for raw in source:
        raw = raw.strip()
        if not raw:
            continue
        words: list[tuple[str, bool]] = []
        for part in raw.replace("_", " ").split():
            stem = part.endswith("*")
            for piece in tokens(part.rstrip("*")):
                words.append((piece, False))
            if stem and words:
                words[-1] = (words[-1][0], True)
        if words:
            out.append(Term(raw, tuple(words)))
    return tuple(out)


@dataclass(frozen=True)
class Lexicon:
    negative: tuple[Term, ...]
    positive: tuple[Term, ...]
    urgent: tuple[Term, ...]
    exposure: tuple[Term, ...]
    before: tuple[Term, ...]
    after: tuple[Term, ...]
    conditionals: tuple[Term, ...]


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon(
        negative=_terms(NEGATIVE_TERMS.split()),
        positive=_terms(POSITIVE_TERMS.split()),
        urgent=_terms(URGENT_TERMS.split()),
        exposure=_terms(EXPOSURE_TERMS.split()),
        before=_terms(NEGATORS_BEFORE.split() + NEGATOR_PHRASES.split()),
        after=_terms(NEGATORS_AFTER.split()),
        conditionals=_terms(sorted(CONDITIONALS)),
    )


@lru_cache(maxsize=8192)
def _variants(token: str) -> tuple[str, ...]:
    """The token and the token without a clinging Arabic or Hebrew prefix ("والمنتج", "והמוצר")."""
    out = [token]
    for prefix in _ARABIC_PREFIXES + _HEBREW_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            out.append(token[len(prefix) :])
    return tuple(out)


def _word_matches(token: str, word: str, stem: bool) -> bool:
    for variant in _variants(token):
        if variant == word or (stem and variant.startswith(word)):
            return True
    return False


def _match_at(clause: Sequence[str], i: int, term: Term) -> int:
    """How many tokens ``term`` covers at position ``i`` (0 when it does not match)."""
    if i + len(term.words) > len(clause):
        return 0
    for offset, (word, stem) in enumerate(term.words):
        if not _word_matches(clause[i + offset], word, stem):
            return 0
    return len(term.words)


@dataclass(frozen=True)
class Hit:
    term: str
    start: int
    end: int


@lru_cache(maxsize=64)
def _by_first_word(terms: tuple[Term, ...]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Positions of terms indexed by their first word: exact words, and stems (by prefix)."""
    exact: dict[str, list[int]] = {}
    stems: dict[str, list[int]] = {}
    for at, term in enumerate(terms):
        if term.words:
            word, stem = term.words[0]
            (stems if stem else exact).setdefault(word, []).append(at)
    return exact, stems


def _hits(clause: Sequence[str], terms: Sequence[Term]) -> list[Hit]:
    """Where ``terms`` occur in ``clause``; each position looks only at the terms whose first
    word can match there (a long comment costs its length, not length × lexicon)."""
    exact, stems = _by_first_word(tuple(terms))
    found: list[Hit] = []
    for i in range(len(clause)):
        candidates: set[int] = set()
        for variant in _variants(clause[i]):
            candidates.update(exact.get(variant, ()))
            for end in range(1, len(variant) + 1):
                candidates.update(stems.get(variant[:end], ()))
        for at in sorted(candidates):
            term = terms[at]
            width = _match_at(clause, i, term)
            if width:
                found.append(Hit(term.text, i, i + width))
    return found


def _clauses(text: str) -> list[list[str]]:
    parts = re.split(r"[.!?;:,،؛؟\n\u061b\u06d4·…()\[\]]+", normalise(text))
    out: list[list[str]] = []
    for part in parts:
        current: list[str] = []
        for tok in _TOKEN.findall(part):
            if tok in CLAUSE_BREAKS:
                if current:
                    out.append(current)
                current = []
            else:
                current.append(tok)
        if current:
            out.append(current)
    return out


def _negated(hit: Hit, before: list[Hit], after: list[Hit], others: list[Hit], conditions: Sequence[Hit] = ()) -> bool:
    """A negator turns the nearest term it reaches ("without problems, it arrived": the
    problems are negated, the arrival is not); inside a condition it reaches only the next word."""

    def between(start: int, end: int) -> bool:
        return any(start <= o.start and o.end <= end and o != hit for o in others)

    def reach(neg: Hit) -> int:
        conditioned = any(c.end <= neg.start and neg.start - c.end <= CONDITION_REACH for c in conditions)
        return 1 if conditioned else NEGATION_WINDOW

    for neg in before:
        if neg.end <= hit.start and hit.start - neg.end < reach(neg) and not between(neg.end, hit.start):
            return True
    for neg in after:
        if neg.start >= hit.end and neg.start - hit.end < POST_NEGATION_WINDOW and not between(hit.end, neg.start):
            return True
    return False


@dataclass(frozen=True)
class Reading:
    """What a comment says: the negative and urgent terms found (negation applied)."""

    negative: tuple[str, ...] = ()
    urgent: tuple[str, ...] = ()
    exposure: tuple[str, ...] = ()  # urgent when the answer is negative

    @property
    def is_negative(self) -> bool:
        return bool(self.negative or self.urgent)


def read_comment(
    comment: str | None,
    *,
    negative_keywords: Sequence[str] = (),
    urgent_keywords: Sequence[str] = (),
    lexicon: Lexicon | None = None,
) -> Reading:
    """The negative and urgent terms a comment uses, in any of the five languages."""
    if not comment or not comment.strip():
        return Reading()
    lex = lexicon or default_lexicon()
    negative_terms = lex.negative + _store_terms(tuple(negative_keywords))
    urgent_terms = lex.urgent + _store_terms(tuple(urgent_keywords))
    negative: list[str] = []
    urgent: list[str] = []
    exposure: list[str] = []
    for clause in _clauses(comment):
        found = _read_clause(clause, lex, negative_terms, urgent_terms)
        negative.extend(found.negative)
        urgent.extend(found.urgent)
        exposure.extend(found.exposure)
    return Reading(tuple(dict.fromkeys(negative)), tuple(dict.fromkeys(urgent)), tuple(dict.fromkeys(exposure)))


@dataclass(frozen=True)
class _ClauseReading:
    negative: list[str]
    urgent: list[str]
    exposure: list[str]
    others: list[Hit]  # every lexicon term found (a negator reaches only the nearest)
    before: list[Hit]
    after: list[Hit]
    conditions: list[Hit]


def _read_clause(
    clause: Sequence[str], lex: Lexicon, negative_terms: Sequence[Term], urgent_terms: Sequence[Term]
) -> _ClauseReading:
    before = _hits(clause, lex.before)
    after = _hits(clause, lex.after)
    negative_hits = _hits(clause, negative_terms)
    covered = {(h.start, h.end) for h in negative_hits}
    # "never arrived" is a negative phrase of its own, not a negated "arrived".
    positive_hits = [h for h in _hits(clause, lex.positive) if not any(s <= h.start and h.end <= e for s, e in covered)]
    urgent_hits = _hits(clause, urgent_terms)
    exposure_hits = _hits(clause, lex.exposure)
    conditions = _hits(clause, lex.conditionals)
    others = negative_hits + positive_hits + urgent_hits + exposure_hits
    negative: list[str] = []
    for hit in negative_hits:
        if not _negated(hit, before, after, others, conditions):
            negative.append(hit.term)
    for hit in positive_hits:
        if _negated(hit, before, after, others, conditions):
            negative.append("not " + hit.term)
    urgent = [h.term for h in urgent_hits if not _negated(h, before, after, others, conditions)]
    exposure = [h.term for h in exposure_hits if not _negated(h, before, after, others, conditions)]
    return _ClauseReading(negative, urgent, exposure, others, before, after, conditions)


def lexicon_terms(words: Iterable[str]) -> tuple[Term, ...]:
    """Entries in the lexicon's own form: words of a phrase joined by spaces or ``_``, a stem
    marked by a trailing ``*``, each normalised as the text will be."""
    return _store_terms(tuple(words))


@dataclass(frozen=True)
class Mention:
    """Where a comment uses one of the terms asked for (:func:`mentions`)."""

    term: str
    clause: int
    negated: bool  # a negator reaches it ("not late", "بدون تأخير", "δεν άργησε")
    clause_negative: bool  # its clause says something negative, as :func:`read_comment` reads it


def mentions(comment: str | None, terms: Sequence[Term], *, lexicon: Lexicon | None = None) -> list[Mention]:
    """The terms a comment uses, clause by clause, with the same normalisation and negation
    as the sentiment reading (so other readers of comments never keep a copy of either)."""
    if not comment or not comment.strip() or not terms:
        return []
    lex = lexicon or default_lexicon()
    out: list[Mention] = []
    for index, clause in enumerate(_clauses(comment)):
        reading = _read_clause(clause, lex, lex.negative, lex.urgent)
        found = _hits(clause, terms)
        others = reading.others + found
        for hit in found:
            negated = _negated(hit, reading.before, reading.after, others, reading.conditions)
            out.append(Mention(hit.term, index, negated, bool(reading.negative)))
    return out


@lru_cache(maxsize=256)
def _store_terms(words: tuple[str, ...]) -> tuple[Term, ...]:
    return _terms(w.replace(" ", "_") for w in words)


# --- scores ------------------------------------------------------------------------------
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def score_is_negative(survey_type: str, score: int | None, settings: Mapping[str, Any]) -> bool:
    """NPS and CSAT: at or under the threshold; CES (effort): at or over it."""
    if score is None:
        return False
    if survey_type == "ces":
        return int(score) >= int(settings.get("ces_threshold", 5))
    if survey_type == "csat":
        return int(score) <= int(settings.get("csat_threshold", 2))
    return int(score) <= int(settings.get("nps_threshold", 6))


def score_is_severe(survey_type: str, score: int | None) -> bool:
    """The bottom of the scale: an angry customer, whatever the threshold."""
    if score is None:
        return False
    if survey_type == "ces":
        return int(score) >= 7
    if survey_type == "csat":
        return int(score) <= 1
    return int(score) <= 3


@dataclass(frozen=True)
class Verdict:
    negative: bool
    priority: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    urgent_terms: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self.priority]


def classify(survey_type: str, score: int | None, comment: str | None, settings: Mapping[str, Any]) -> Verdict:
    """Negative or not, and with which priority (urgent > high > normal)."""
    by_score = score_is_negative(survey_type, score, settings)
    reading = read_comment(
        comment,
        negative_keywords=settings.get("negative_keywords") or (),
        urgent_keywords=settings.get("urgent_keywords") or (),
    )
    reasons: list[str] = []
    if by_score:
        reasons.append("score")
    if reading.negative:
        reasons.append("comment")
    negative = by_score or reading.is_negative
    urgent_terms = reading.urgent + (reading.exposure if negative else ())
    if urgent_terms:
        reasons.append("urgent")
        priority = "urgent"
    elif negative and (score_is_severe(survey_type, score) or (by_score and reading.negative)):
        priority = "high"
    else:
        priority = "normal"
    return Verdict(negative, priority, tuple(reasons), urgent_terms)


def higher(a: str, b: str) -> str:
    return a if PRIORITY_RANK.get(a, 9) <= PRIORITY_RANK.get(b, 9) else b
