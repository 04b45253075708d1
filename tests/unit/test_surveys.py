"""Pure survey rules: categories, score and comment validation, nonces, stats arithmetic."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import InvalidInput
from chalicelib.reports import stats
from chalicelib.surveys import answers, tokens


@pytest.mark.parametrize(
    ("survey_type", "score", "expected"),
    [
        ("nps", 10, "promoter"),
        ("nps", 9, "promoter"),
        ("nps", 8, "passive"),
        ("nps", 7, "passive"),
        ("nps", 6, "detractor"),
        ("nps", 0, "detractor"),
        ("csat", 5, "satisfied"),
        ("csat", 4, "satisfied"),
        ("csat", 3, "neutral"),
        ("csat", 2, "unsatisfied"),
        ("csat", 1, "unsatisfied"),
        ("ces", 1, "low_effort"),
        ("ces", 3, "low_effort"),
        ("ces", 4, "neutral"),
        ("ces", 5, "high_effort"),
        ("ces", 7, "high_effort"),
    ],
)
def test_each_score_falls_in_its_category(survey_type: str, score: int, expected: str) -> None:
    assert answers.category(survey_type, score) == expected


def test_scores_outside_the_scale_are_refused() -> None:
    assert answers.parse_score("10", "nps") == 10
    assert answers.parse_score("٣", "csat") == 3
    for bad, kind in (
        ("11", "nps"),
        ("0", "csat"),
        ("8", "ces"),
        ("", "nps"),
        ("-1", "nps"),
        ("3.5", "nps"),
        (None, "nps"),
        ("1e1", "nps"),
        ("²", "nps"),
    ):
        with pytest.raises(InvalidInput):
            answers.parse_score(bad, kind)


def test_comments_keep_any_script_and_lose_markup() -> None:
    assert answers.parse_comment("  الطرد وصل <b>متأخر</b>  ") == "الطرد وصل متأخر"
    assert answers.parse_comment("<script>alert(1)</script>Το προϊόν είναι καλό") == "alert(1) Το προϊόν είναι καλό"
    assert answers.parse_comment("&lt;img src=x onerror=alert(1)&gt;ok") == "ok"
    assert answers.parse_comment("line one\r\nline\u0000 two") == "line one\nline two"
    assert answers.parse_comment("می‌خواهم") == "می‌خواهم"  # the zero-width non-joiner Persian needs stays
    assert answers.parse_comment("א" * 2000) == "א" * 2000
    with pytest.raises(InvalidInput):
        answers.parse_comment("א" * 2001)


def test_a_nonce_only_fits_its_own_token(local_env: dict[str, str]) -> None:
    token, other = tokens.new_token(), tokens.new_token()
    assert answers.nonce_matches(token, answers.nonce(token))
    assert not answers.nonce_matches(other, answers.nonce(token))
    assert not answers.nonce_matches(token, "")
    assert not answers.nonce_matches(token, None)
    assert not answers.nonce_matches(token, token)


def test_tokens_have_at_least_128_random_bits() -> None:
    token = tokens.new_token()
    assert tokens.looks_like_token(token)
    assert len(tokens.BASE62) ** len(token) >= 2**128
    assert not tokens.looks_like_token("../../etc/passwd")


def _ops(ops: list) -> dict[str, dict[str, int]]:
    out = {}
    for op in ops:
        values = op.update.values
        names = op.update.names
        added = op.update.text.partition(" ADD ")[2]
        adds = {names[name]: values[value] for name, value in re.findall(r"(#\w+) (:\w+)", added)}
        out[op.key["SK"]] = adds
    return out


def test_a_changed_answer_moves_its_counts_from_the_old_answer() -> None:
    monday = datetime(2026, 12, 7, 9, tzinfo=UTC)
    tuesday = datetime(2026, 12, 8, 9, tzinfo=UTC)
    first = stats.Counted("nps", 3, "detractor", monday)
    # the same day: one update that nets out
    same_day = _ops(stats.response_ops("st1", stats.Counted("nps", 9, "promoter", monday), first))
    assert same_day == {"DAY#2026-12-07": {"nps_score_sum": 6, "nps_promoter": 1, "nps_detractor": -1}}
    # the next day: the old day loses one answer, the new day gains one
    next_day = _ops(stats.response_ops("st1", stats.Counted("nps", 9, "promoter", tuesday), first))
    assert next_day["DAY#2026-12-07"] == {
        "responses": -1,
        "nps_responses": -1,
        "nps_score_sum": -3,
        "nps_detractor": -1,
    }
    assert next_day["DAY#2026-12-08"] == {"responses": 1, "nps_responses": 1, "nps_score_sum": 9, "nps_promoter": 1}


def test_nps_csat_and_ces_summaries() -> None:
    assert stats.score_summary("nps", {"nps_responses": 4, "nps_promoter": 2, "nps_detractor": 1}) == 25.0
    assert stats.score_summary("csat", {"csat_responses": 4, "csat_satisfied": 3}) == 75.0
    assert stats.score_summary("ces", {"ces_responses": 2, "ces_score_sum": 5}) == 2.5
    assert stats.score_summary("nps", {}) is None


def test_an_answers_comments_keep_every_one_given_and_the_latest_wins() -> None:
    from datetime import datetime

    from chalicelib.surveys.answers import MAX_COMMENTS, _comments_with

    now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    first = _comments_with(None, "Cracked lid", "page", now)
    assert first == [{"text": "Cracked lid", "via": "page", "at": "2027-03-01T08:00:00Z"}]
    # a score alone, or the same words again, adds nothing
    assert _comments_with({"comments": first}, "", "sms", now) == first
    assert _comments_with({"comments": first}, "Cracked lid", "sms", now) == first
    # an answer stored before comments were kept counts its comment as the first
    assert [
        c["text"] for c in _comments_with({"comment": "Late", "answered_via": "page"}, "Broken too", "sms", now) or []
    ] == ["Late", "Broken too"]
    many: list[dict[str, object]] | None = None
    for i in range(MAX_COMMENTS + 5):
        many = _comments_with({"comments": many}, f"note {i}", "sms", now)
    assert many is not None and len(many) == MAX_COMMENTS and many[-1]["text"] == f"note {MAX_COMMENTS + 4}"
