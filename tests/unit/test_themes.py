"""Comment themes, per language: what each phrasing is about, with negation and mixed comments."""

from __future__ import annotations

import pytest

from chalicelib.core.models import THEMES
from chalicelib.support.themes import tag

CASES: list[tuple[str, str, tuple[str, ...]]] = [
    # English
    ("en", "The parcel arrived two weeks late", ("delivery",)),
    ("en", "Still waiting, it never arrived", ("delivery",)),
    ("en", "It arrived broken and I want a refund", ("damaged", "refund")),
    ("en", "The box was crushed and the mug cracked", ("damaged",)),
    ("en", "The quality is poor, it fell apart in a week", ("quality",)),
    ("en", "Wrong size, way too small", ("wrong_item",)),
    ("en", "Way too expensive for what it is", ("price",)),
    ("en", "Customer service was rude and nobody answered my emails", ("support",)),
    ("en", "Love it! Would recommend", ("praise",)),
    ("en", "Late delivery but the quality is amazing", ("delivery", "praise")),
    ("en", "Delivery was not late at all, thanks", ()),
    ("en", "Nothing was damaged", ()),
    ("en", "I don't want a refund, just a replacement", ()),
    ("en", "I would not recommend this shop", ()),
    ("en", "It wasn't expensive", ()),
    ("en", "Ordered it on Monday for my sister", ()),
    # Arabic: standard, Egyptian, Levantine
    ("ar", "المنتج وصل مكسور", ("damaged",)),
    ("ar", "الطلب ما وصل لحد الآن", ("delivery",)),
    ("ar", "الشحنة متأخرة أسبوعين", ("delivery",)),
    ("ar", "الجودة سيئة جداً", ("quality",)),
    ("ar", "المقاس غلط والسعر غالي", ("wrong_item", "price")),
    ("ar", "خدمة العملاء ما حدا رد علي", ("support",)),
    ("ar", "بدي استرجاع فلوسي", ("refund",)),
    ("ar", "ممتاز، شكراً جزيلاً", ("praise",)),
    ("ar", "وصل متأخر بس المنتج رائع", ("delivery", "praise")),
    ("ar", "التوصيل كان بدون تأخير", ()),
    ("ar", "ما عجبني أبداً", ()),
    ("ar", "طلبته لأخي", ()),
    # Persian
    ("fa", "بسته دیر رسید", ("delivery",)),
    ("fa", "محصول شکسته بود", ("damaged",)),
    ("fa", "کیفیت خوب نبود", ("quality",)),
    ("fa", "سایز اشتباه فرستادید", ("wrong_item",)),
    ("fa", "خیلی گرونه", ("price",)),
    ("fa", "پشتیبانی جواب ندادند", ("support",)),
    ("fa", "عالی بود، ممنون", ("praise",)),
    ("fa", "كيفيت افتضاح بود اما ارسال سریع بود", ("quality",)),  # Arabic yeh and kaf
    ("fa", "لطفاً پولم را پس بدهید", ("refund",)),
    ("fa", "دیر رسید و شکسته بود", ("delivery", "damaged")),
    ("fa", "هیچ آسیبی ندیده بود", ()),
    ("fa", "راضی نیستم", ()),
    ("fa", "برای مادرم خریدم", ()),
    # Hebrew
    ("he", "החבילה הגיעה באיחור של שבועיים", ("delivery",)),
    ("he", "המוצר הגיע שבור", ("damaged",)),
    ("he", "השירות רע", ("support",)),
    ("he", "מידה לא נכונה", ("wrong_item",)),
    ("he", "יקר מדי", ("price",)),
    ("he", "אני רוצה החזר כספי", ("refund",)),
    ("he", "מעולה, ממליץ בחום", ("praise",)),
    ("he", "המוצר מעולה אבל המשלוח לא הגיע בזמן", ("delivery", "praise")),
    ("he", "איכות ירודה, הפסיק לעבוד אחרי יומיים", ("quality",)),
    ("he", "לא היה שום איחור", ()),
    ("he", "לא מרוצה", ()),
    ("he", "קניתי לבת שלי", ()),
    # Greek
    ("el", "Το δέμα καθυστέρησε δύο εβδομάδες", ("delivery",)),
    ("el", "Ήρθε σπασμένο", ("damaged",)),
    ("el", "Κακή ποιότητα", ("quality",)),
    ("el", "Λάθος μέγεθος", ("wrong_item",)),
    ("el", "Πολύ ακριβό", ("price",)),
    ("el", "Κανείς δεν απαντάει στα email", ("support",)),
    ("el", "Θέλω επιστροφή χρημάτων", ("refund",)),
    ("el", "ΤΕΛΕΙΟ, ΤΟ ΣΥΣΤΗΝΩ", ("praise",)),
    ("el", "Υπέροχο προϊόν αλλά ήρθε σπασμένο", ("damaged", "praise")),
    ("el", "Ούτε κανένα πρόβλημα με την παράδοση", ()),
    ("el", "Δεν καθυστέρησε καθόλου", ()),
    ("el", "Ακριβώς όπως στη φωτογραφία", ()),
    ("el", "Δεν μου άρεσε", ()),
]


@pytest.mark.parametrize(("language", "comment", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_comment_is_tagged_with_what_it_is_about(language: str, comment: str, expected: tuple[str, ...]) -> None:
    # GIVEN a comment in one of the five languages; WHEN it is tagged
    # THEN it carries exactly the themes it talks about (a negated one is not one)
    assert tag(comment) == expected


def test_every_language_has_tagged_negated_and_untagged_phrasings() -> None:
    for language in ("en", "ar", "fa", "he", "el"):
        rows = [expected for lang, _, expected in CASES if lang == language]
        assert sum(1 for e in rows if e) >= 5, language
        assert sum(1 for e in rows if not e) >= 2, language
        assert any(len(e) > 1 for e in rows), language


def test_every_theme_is_found_in_every_language() -> None:
    for language in ("en", "ar", "fa", "he", "el"):
        found = {theme for lang, _, expected in CASES if lang == language for theme in expected}
        assert found == set(THEMES), (language, set(THEMES) - found)


def test_a_topic_counts_only_when_its_clause_is_negative() -> None:
    # GIVEN the subject named with and without a complaint
    assert tag("The delivery was terrible") == ("delivery",)
    assert tag("The delivery was quick") == ()
    assert tag("the price is fine") == ()


def test_spelling_variants_tag_alike() -> None:
    # GIVEN the same word typed with and without diacritics, tatweel, accents or capitals
    assert tag("متأخر") == tag("متاخر") == tag("متـأخر") == ("delivery",)
    assert tag("ΚΑΘΥΣΤΈΡΗΣΕ") == tag("καθυστερησε") == ("delivery",)


def test_a_store_adds_its_own_keywords_per_theme() -> None:
    keywords = {"delivery": ["Hermes", "ΕΛΤΑ Courier"], "damaged": ["wobbly lid"]}
    # GIVEN words only this store knows
    assert tag("Hermes again!", keywords) == ("delivery",)
    assert tag("Τα ΕΛΤΑ courier τα έχασαν", keywords) == ("delivery",)
    assert tag("wobbly lid", keywords) == ("damaged",)
    # THEN negation still applies, and another store does not see them
    assert tag("no wobbly lid this time", keywords) == ()
    assert tag("Hermes again!") == ()


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_no_comment_has_no_themes(comment: str | None) -> None:
    assert tag(comment) == ()
