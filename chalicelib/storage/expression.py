"""Update expressions for upserts that must never abort a transaction: plain ``SET`` for
what an event states, ``if_not_exists`` for what only the first event may set, ``ADD`` for
counters.  (``db.set_expr`` has no ``if_not_exists``; intake needs it on every write.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.storage import db


class Update:
    """Collects the parts of one ``UpdateItem`` expression with safe placeholders."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._sets: list[str] = []
        self._adds: list[str] = []

    def _name(self, attribute: str) -> str:
        for placeholder, name in self._names.items():
            if name == attribute:
                return placeholder
        placeholder = f"#n{len(self._names)}"
        self._names[placeholder] = attribute
        return placeholder

    def _value(self, value: Any) -> str:
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = value
        return placeholder

    def set(self, values: Mapping[str, Any]) -> Update:
        """``SET a = :a`` for every value that is not None (None means 'not stated')."""
        for attribute, value in values.items():
            if value is not None:
                self._sets.append(f"{self._name(attribute)} = {self._value(value)}")
        return self

    def set_once(self, values: Mapping[str, Any]) -> Update:
        """``SET a = if_not_exists(a, :a)``: the first event to state it wins."""
        for attribute, value in values.items():
            if value is not None:
                name = self._name(attribute)
                self._sets.append(f"{name} = if_not_exists({name}, {self._value(value)})")
        return self

    def add(self, attribute: str, amount: int) -> Update:
        self._adds.append(f"{self._name(attribute)} {self._value(amount)}")
        return self

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute, for use in a condition on the same operation."""
        return self._name(attribute)

    def value(self, value: Any) -> str:
        return self._value(value)

    def expression(self) -> db.Expr:
        parts = []
        if self._sets:
            parts.append("SET " + ", ".join(self._sets))
        if self._adds:
            parts.append("ADD " + ", ".join(self._adds))
        return db.Expr(" ".join(parts), dict(self._names), dict(self._values))
