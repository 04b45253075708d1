"""The negative lexicon, per language, with negation, and the score thresholds."""

from __future__ import annotations

import pytest

from chalicelib.support.sentiment import classify, normalise, read_comment, score_is_negative

DEFAULTS = {"nps_threshold": 6, "csat_threshold": 2, "ces_threshold": 5}


@pytest.mark.parametrize(
    "comment",
    [
        # English
        "Not happy with the delivery.",
        "The handle was broken when it arrived",
        "It didn't work after two days",
        "Wasn't satisfied, honestly",
        "Delivery was late and the box damaged",
        # Arabic: standard, Egyptian, Levantine
        "مش مبسوط من الطلب",
        "المنتج وصل مكسور",
        "للأسف الخدمة سيئة جداً",
        "الجهاز لا يعمل",
        "ما عجبني أبداً",
        "مو راضي عن التوصيل",
        "فيه مشكلة في الغطاء",
        # Persian
        "راضی نیستم",
        "کیفیت خوب نبود",
        "بسته خراب رسید",
        "دستگاه کار نمی‌کند",
        "كيفيت افتضاح بود",  # typed with Arabic yeh and kaf
        # Hebrew
        "לא מרוצה מהשירות",
        "המוצר הגיע שבור",
        "יש בעיה עם המכסה",
        "זה לא טוב",
        "שירות רע",
        # Greek
        "Δεν είμαι ικανοποιημένος",
        "ΔΕΝ ΕΙΜΑΙ ΕΥΧΑΡΙΣΤΗΜΕΝΟΣ",
        "Το προϊόν ήρθε σπασμένο",
        "Υπήρξε πρόβλημα με την παράδοση",
        "απαράδεκτη εξυπηρέτηση",
    ],
)
def test_negative_comments_are_caught_in_every_language(comment: str) -> None:
    # GIVEN a middling NPS score (7, a passive) and a negative comment
    verdict = classify("nps", 7, comment, DEFAULTS)
    # THEN the answer is negative on its comment alone
    assert verdict.negative, read_comment(comment)
    assert "comment" in verdict.reasons or "urgent" in verdict.reasons


@pytest.mark.parametrize(
    "comment",
    [
        "No problems at all!",
        "Not bad, works fine",
        "Nothing wrong with it, very happy",
        "بدون مشكلة",
        "ما في مشكلة، الحمد لله",
        "مفيش مشاكل خالص",
        "مبسوط جداً",
        "هیچ مشکلی نداشتم",
        "بدون مشکل رسید، ممنون",
        "راضی هستم",
        "אין בעיה",
        "בלי בעיות בכלל",
        "מרוצה מאוד",
        "לא רע בכלל",
        "κανένα πρόβλημα",
        "Χωρίς κανένα πρόβλημα, ευχαριστώ",
        "Πολύ ικανοποιημένος",
        "",
    ],
)
def test_kind_or_reassuring_comments_are_not_negative(comment: str) -> None:
    # GIVEN a middling score and a comment that is fine
    verdict = classify("nps", 7, comment, DEFAULTS)
    # THEN nothing is opened
    assert not verdict.negative, read_comment(comment)


def test_normalisation_folds_the_ways_words_are_typed() -> None:
    # Arabic diacritics, tatweel and alef forms; Persian and Arabic yeh/kaf; Greek accents and sigma
    assert normalise("مُمْتـــاز") == normalise("ممتاز")
    assert normalise("أإآا") == "اااا"
    assert normalise("کیفیت") == normalise("كيفيت")
    assert normalise("Πρόβλημα ΚΑΚΌΣ") == normalise("προβλημα κακοσ")
    assert normalise("ΟΔΥΣΣΕΑΣ").endswith("σ") and normalise("οδυσσεας") == normalise("ΟΔΥΣΣΕΑΣ")


@pytest.mark.parametrize(
    "comment",
    [
        "I will open a chargeback",
        "My lawyer will hear about this",
        "The charger is dangerous, it sparked",
        "This is fraud",
        "محاميّ سيتواصل معكم",
        "المنتج خطير جداً",
        "این کلاهبرداری است",
        "شارژر خطرناک است",
        "אני פונה לעורך דין",
        "המטען מסוכן",
        "Θα μιλήσει ο δικηγόρος μου",
        "Είναι επικίνδυνο",
    ],
)
def test_urgent_words_make_a_case_urgent(comment: str) -> None:
    verdict = classify("nps", 5, comment, DEFAULTS)
    assert verdict.negative and verdict.priority == "urgent", read_comment(comment)


def test_priority_is_high_for_the_bottom_of_the_scale_and_normal_otherwise() -> None:
    assert classify("nps", 1, "", DEFAULTS).priority == "high"
    assert classify("nps", 6, "", DEFAULTS).priority == "normal"
    assert classify("nps", 6, "It arrived broken", DEFAULTS).priority == "high"
    assert classify("csat", 1, None, DEFAULTS).priority == "high"


def test_store_keywords_count_as_negative_and_urgent() -> None:
    settings = {**DEFAULTS, "negative_keywords": ["wobbly lid"], "urgent_keywords": ["recall"]}
    assert classify("nps", 8, "The Wobbly Lid again", settings).negative
    assert classify("nps", 8, "is there a recall?", settings).priority == "urgent"
    assert not classify("nps", 8, "The lid is fine", settings).negative


@pytest.mark.parametrize(
    ("survey_type", "score", "negative"),
    [("nps", 6, True), ("nps", 7, False), ("csat", 2, True), ("csat", 3, False), ("ces", 5, True), ("ces", 4, False)],
)
def test_score_thresholds_follow_each_scale(survey_type: str, score: int, negative: bool) -> None:
    assert score_is_negative(survey_type, score, DEFAULTS) is negative


def test_store_thresholds_replace_the_defaults() -> None:
    assert score_is_negative("nps", 7, {"nps_threshold": 7})
    assert not score_is_negative("ces", 5, {"ces_threshold": 6})


def test_a_long_comment_is_read_in_time_proportional_to_its_length() -> None:
    import time

    comment = ("broken kettle arrived late and the box was crushed, never again " * 31)[:2000]
    started = time.perf_counter()
    reading = read_comment(comment)
    assert time.perf_counter() - started < 0.5  # it took over a second when every term was tried at every word
    assert "broken" in reading.negative
