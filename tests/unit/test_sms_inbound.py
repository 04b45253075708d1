"""Reading SMS replies: keywords in five languages, scores in any script."""

from __future__ import annotations

import pytest

from chalicelib.messaging.sms_inbound import Intent, Reply, fold, read_reply


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop! ",
        "END",
        "CANCEL",
        "UNSUBSCRIBE",
        "QUIT",
        "STOPALL",
        "REVOKE",
        "OPTOUT",
        "opt-out",
        "توقف",
        "توقّف",
        "إلغاء",
        "الغاء",
        "لغو",
        "ایست",
        "עצור",
        "הסר",
        "ביטול",
        "ΣΤΟΠ",
        "στόπ",
        "ΔΙΑΓΡΑΦΗ",
        "Διαγραφή",
    ],
)
def test_opt_out_keywords_in_every_language_stop_messages(body: str) -> None:
    assert read_reply(body).intent is Intent.STOP


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "Stop sending me these messages!",
        "unsubscribe me please",
        "لطفا لغو کنید",
        "أرجو التوقف",
        "من فضلك توقف",
        "תפסיקו לשלוח לי הודעות",
        "Σταματήστε να μου στέλνετε",
    ],
)
def test_a_short_phrase_around_an_opt_out_word_stops_messages(body: str) -> None:
    assert read_reply(body).intent is Intent.STOP


@pytest.mark.parametrize("body", ["HELP", "help", "INFO", "مساعدة", "راهنما", "עזרה", "ΒΟΗΘΕΙΑ", "βοήθεια"])
def test_help_keywords(body: str) -> None:
    assert read_reply(body).intent is Intent.HELP


@pytest.mark.parametrize("body", ["START", "unstop", "UNSTOP", "ابدأ", "شروع", "התחל", "ΕΝΑΡΞΗ"])
def test_start_keywords(body: str) -> None:
    assert read_reply(body).intent is Intent.START


@pytest.mark.parametrize(
    ("body", "score", "comment"),
    [
        ("3", 3, ""),
        ("٣", 3, ""),
        ("۳", 3, ""),
        ("9", 9, ""),
        ("٩", 9, ""),
        ("۹", 9, ""),
        ("10", 10, ""),
        ("١٠", 10, ""),
        ("10 great service", 10, "great service"),
        ("٩٫", 9, ""),
        ("٨٫٠ ممتاز", 8, "ممتاز"),
        ("7/10 ok", 7, "ok"),
        ("2. Η συσκευασία ήταν σκισμένη", 2, "Η συσκευασία ήταν σκισμένη"),
        ("۴ ارسال دیر بود", 4, "ارسال دیر بود"),
    ],
)
def test_scores_in_any_script_with_the_rest_as_comment(body: str, score: int, comment: str) -> None:
    assert read_reply(body) == Reply(Intent.SCORE, score, comment)


@pytest.mark.parametrize(
    "body",
    [
        "asdf qwerty",
        "",
        "100",
        "what is this?",
        "cancel my order, it's late",
        "I can't stop smiling at this lamp, it is just the best gift ever",
    ],
)
def test_anything_else_is_neither_a_score_nor_an_opt_out(body: str) -> None:
    assert read_reply(body).intent is Intent.OTHER


def test_folding_merges_spellings() -> None:
    assert fold("إلغاء") == fold("الغاء")
    assert fold("ΣΤΟΠ") == fold("στόπ")
    assert fold("مساعدة") == fold("مساعده")


@pytest.mark.parametrize(
    "body", ["3rd order, all great", "2nd time it broke", "1st class service", "5x better than before"]
)
def test_a_number_inside_a_word_is_not_a_score(body: str) -> None:
    # GIVEN a reply that starts with a number glued to letters (an ordinal, "5x")
    # WHEN it is read
    reply = read_reply(body)
    # THEN it is not taken for a score (a happy "3rd order" must not open a detractor case)
    assert reply.intent is Intent.OTHER
