"""Signed tokens: one spelling per token, so a tampered one never passes as genuine."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import signing

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib import config

    monkeypatch.setenv("SESSION_SECRET", "test-secret")
    monkeypatch.delenv("SESSION_SECRET_PARAM", raising=False)
    config.reset()
    signing.reset()
    yield
    signing.reset()
    config.reset()


def test_every_other_last_character_of_the_signature_is_refused() -> None:
    token = signing.sign("support-session", '{"s":"st1"}')
    body, _, mac = token.rpartition(".")
    assert signing.verify("support-session", token) == '{"s":"st1"}'
    # 16 bytes of MAC end in a character with four unused bits: none of its other spellings may pass
    others = [f"{body}.{mac[:-1]}{ch}" for ch in B64 if ch != mac[-1]]
    assert [t for t in others if signing.verify("support-session", t) is not None] == []


def test_a_token_of_one_purpose_does_not_pass_as_another() -> None:
    assert signing.verify("unsubscribe", signing.sign("support-session", "x")) is None
