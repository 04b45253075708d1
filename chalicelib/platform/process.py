"""What a warm process keeps: the settings, the AWS clients, the table and what is derived
from them (secrets read from SSM, the store cache, template environments, the API document).

Each is built lazily at first use, never at import (moto and cold starts both care), and kept
in one object, :data:`PROCESS`.  :meth:`Process.reset` forgets all of it at once, as a new
Lambda would start: tests and the local stack call it when they switch environments.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar, cast

T = TypeVar("T")


class Process:
    """Values built once per process, keyed by their builder (or an explicit key)."""

    def __init__(self) -> None:
        self._built: dict[Hashable, object] = {}

    def once(self, build: Callable[[], T], *, key: Hashable | None = None) -> T:
        """The value ``build()`` returned the first time, built now if it never was."""
        slot = build if key is None else key
        if slot not in self._built:
            self._built[slot] = build()
        return cast(T, self._built[slot])

    def forget(self, key: Hashable) -> None:
        """Build this one value again at its next use (a benchmark's cold cache)."""
        self._built.pop(key, None)

    def reset(self) -> None:
        self._built.clear()


PROCESS = Process()
