"""dispatch's cost follows the jobs due, not the jobs pending (bench/dispatch.py, smaller)."""

from __future__ import annotations

import pytest


def test_one_dispatch_reads_what_is_due_and_nothing_pending(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import dispatch

    # GIVEN 2,000 jobs pending next month and 100 due now
    figures = dispatch.main(pending=2_000, due=100)
    # THEN one dispatch run queues the 100 and reads under 150 items
    assert figures["queued"] == 100
    assert figures["items_read"] < dispatch.LIMIT
    assert "items read by dispatch" in capsys.readouterr().out
