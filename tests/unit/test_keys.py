"""Keys as text: the send ledger's key rides on each email as an SES message tag."""

from __future__ import annotations

from chalicelib.storage import keys


def test_a_reference_carries_a_key_in_what_an_ses_tag_allows_and_nothing_else_reads_as_one() -> None:
    key = keys.send_claim(keys.order_pk("st1", "Ω-1001"), "2027")
    text = keys.reference(key)
    assert all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in text) and len(text) <= 256
    assert keys.from_reference(text) == key
    for other in ("", "not base64!", "bm90LWEta2V5", 42, None, "W10", "x" * 300):
        assert keys.from_reference(other) is None
