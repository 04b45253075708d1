"""Unit-test fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def public_base_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The public URL links in messages are built on, for tests that render messages."""
    from chalicelib.platform import config

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://aftercare.example")
    config.reset()
    yield "https://aftercare.example"
    config.reset()
