"""Signed tokens: one spelling only, so no altered token passes as genuine."""

from __future__ import annotations

import string
from collections.abc import Iterator

import pytest

from chalicelib.platform import signing
from chalicelib.platform.process import PROCESS


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SESSION_SECRET", "unit-test-secret")
    PROCESS.reset()
    PROCESS.reset()
    yield
    PROCESS.reset()
    PROCESS.reset()


def test_a_genuine_token_gives_its_payload_back() -> None:
    assert signing.verify("session", signing.sign("session", '{"s":"st1"}')) == '{"s":"st1"}'
    assert signing.verify("unsubscribe", signing.sign("session", '{"s":"st1"}')) is None


@pytest.mark.parametrize("payload", [f'{{"n":"{i}"}}' for i in range(40)])
def test_no_other_spelling_of_the_last_two_mac_characters_passes(payload: str) -> None:
    # base64 ignores the spare low bits of the last character: "...xw" and "...xx" can decode
    # to the same bytes, and a token compared by its bytes would accept both
    token = signing.sign("session", payload)
    alphabet = string.ascii_letters + string.digits + "-_"
    forged = [token[:-2] + a + b for a in alphabet for b in alphabet if a + b != token[-2:]]
    assert all(signing.verify("session", f) is None for f in forged)
