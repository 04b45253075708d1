"""Unit-test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.platform.process import PROCESS


@pytest.fixture
def public_base_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The public URL links in messages are built on, for tests that render messages."""

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://aftercare.example")
    PROCESS.reset()
    yield "https://aftercare.example"
    PROCESS.reset()
