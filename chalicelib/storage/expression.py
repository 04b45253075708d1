"""The one way to write a DynamoDB expression: :class:`Expr` for conditions, :class:`Update`
for update expressions, and :func:`combine`, the only code that joins their placeholders.

Every part of an expression carries its own ``#name`` and ``:value`` placeholders.  Parts are
written independently (a condition in one module, an update in another), so two of them may
pick the same placeholder for different things; :func:`combine` renames the later one instead
of letting it silently overwrite the first, which DynamoDB would accept and apply to the wrong
attribute or value.  The storage layer renders every request (update, condition, key
condition, filter) through :func:`combine` too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class Expr:
    """A condition (or any expression) with the placeholders it uses.

    Conditions are combined with ``&``, which goes through :func:`merge` like everything else.
    """

    text: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)

    def __and__(self, other: Expr) -> Expr:
        return merge([self, other], lambda texts: " AND ".join(f"({t})" for t in texts))


def merge(parts: Sequence[Expr], join: Callable[[list[str]], str] | None = None) -> Expr:
    """One expression from several (see :func:`combine`); ``join`` turns the parts' texts into
    the result's text (by default they are joined with a space)."""
    texts, names, values = combine(parts)
    return Expr(join(texts) if join is not None else " ".join(texts), names, values)


def combine(parts: Sequence[Expr]) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """The parts' texts and their placeholders as one request needs them: placeholders that
    mean the same attribute are shared, any other clash is renamed in the later part's text,
    so no part changes another's meaning."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    texts: list[str] = []
    for part in parts:
        taken = set(names) | set(values) | set(_PLACEHOLDER.findall(part.text))
        renamed: dict[str, str] = {}
        for placeholder, name in part.names.items():
            if names.get(placeholder, name) != name:
                renamed[placeholder] = _fresh(placeholder, taken)
            names[renamed.get(placeholder, placeholder)] = name
        for placeholder, value in part.values.items():
            # A value is never shared: 1 and True compare equal but are stored differently.
            if placeholder in values:
                renamed[placeholder] = _fresh(placeholder, taken)
            values[renamed.get(placeholder, placeholder)] = value
        texts.append(_rename(part.text, renamed))
    return texts, names, values


def _rename(text: str, renamed: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: renamed.get(m.group(), m.group()), text) if renamed else text


def _fresh(placeholder: str, taken: set[str]) -> str:
    n = 1
    while f"{placeholder}_{n}" in taken:
        n += 1
    taken.add(f"{placeholder}_{n}")
    return f"{placeholder}_{n}"


# An attribute, or a path into a map attribute: ("endpoint_subscriptions", "ep1") is
# ``endpoint_subscriptions.ep1``, each part a name placeholder of its own.
Name = str | tuple[str, ...]


LONG_PLACEHOLDER = 24


def _token(text: str) -> str:
    """A placeholder's body: the name made safe, shortened when long (a SKU in a counter's
    name must not carry DynamoDB's 4 KB expression limit away); :func:`combine` renames any
    two that still meet."""
    safe = _UNSAFE.sub("_", text)
    if len(safe) <= LONG_PLACEHOLDER:
        return safe
    return f"{safe[:12]}_{hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}"


def _attribute(name: Name) -> tuple[str, dict[str, str]]:
    parts = (name,) if isinstance(name, str) else name
    placeholders = ["#" + _token(part) for part in parts]
    return ".".join(placeholders), dict(zip(placeholders, parts, strict=True))


def _value(name: Name, value: Any, suffix: str = "") -> tuple[str, dict[str, Any]]:
    text = name if isinstance(name, str) else "_".join(name)
    placeholder = ":" + _token(text) + suffix
    return placeholder, {placeholder: value}


@dataclass(frozen=True)
class Update:
    """An ``UpdateItem`` expression, built step by step; every step returns a new ``Update``.

    Values are written as given: ``None`` is stored as DynamoDB's NULL (drop it first with
    :func:`stated` when None means "not stated").  Naming one attribute in two steps is a bug
    DynamoDB would only report at write time ("two document paths overlap"), so
    :meth:`expression` reports it at once.
    """

    _sets: tuple[tuple[Name, Expr], ...] = ()
    _removes: tuple[tuple[Name, Expr], ...] = ()
    _adds: tuple[tuple[Name, Expr], ...] = ()

    def set(self, values: Mapping[str, Any]) -> Update:
        """``SET a = :a`` for each value."""
        parts = []
        for name, value in values.items():
            n, names = _attribute(name)
            v, vals = _value(name, value)
            parts.append((name, Expr(f"{n} = {v}", names, vals)))
        return self._with(sets=parts)

    def set_in(self, attribute: str, key: str, value: Any) -> Update:
        """``SET a.k = :a_k``: one entry of a map attribute, which must exist already."""
        n, names = _attribute((attribute, key))
        v, vals = _value((attribute, key), value)
        return self._with(sets=[((attribute, key), Expr(f"{n} = {v}", names, vals))])

    def set_if_absent(self, values: Mapping[str, Any]) -> Update:
        """``SET a = if_not_exists(a, :a)``: the first write to state it wins, and no condition
        is needed (so the write can ride in a transaction without ever aborting it)."""
        parts = []
        for name, value in values.items():
            n, names = _attribute(name)
            v, vals = _value(name, value)
            parts.append((name, Expr(f"{n} = if_not_exists({n}, {v})", names, vals)))
        return self._with(sets=parts)

    def append(self, name: str, items: Sequence[Any], *, start_empty: bool = False) -> Update:
        """``SET a = list_append(a, :a)``; with ``start_empty`` a missing list starts empty,
        without it a missing list fails the write (the item must already have it)."""
        n, names = _attribute(name)
        v, vals = _value(name, list(items))
        if start_empty:
            empty, none = _value(name, [], "_empty")
            expr = Expr(f"{n} = list_append(if_not_exists({n}, {empty}), {v})", names, {**none, **vals})
        else:
            expr = Expr(f"{n} = list_append({n}, {v})", names, vals)
        return self._with(sets=[(name, expr)])

    def increment(self, name: str, amount: int = 1) -> Update:
        """``SET a = a + :a``: unlike :meth:`add`, a missing attribute fails the write, which
        a version number wants (a version that was never set must not start at one)."""
        n, names = _attribute(name)
        v, vals = _value(name, amount)
        return self._with(sets=[(name, Expr(f"{n} = {n} + {v}", names, vals))])

    def remove(self, *attributes: Name) -> Update:
        """``REMOVE a``."""
        parts = []
        for name in attributes:
            n, names = _attribute(name)
            parts.append((name, Expr(n, names)))
        return self._with(removes=parts)

    def add(self, amounts: Mapping[str, Any]) -> Update:
        """``ADD a :a``: counters (a missing one starts at zero) and sets."""
        parts = []
        for name, amount in amounts.items():
            n, names = _attribute(name)
            v, vals = _value(name, amount)
            parts.append((name, Expr(f"{n} {v}", names, vals)))
        return self._with(adds=parts)

    def _with(
        self,
        *,
        sets: Sequence[tuple[Name, Expr]] = (),
        removes: Sequence[tuple[Name, Expr]] = (),
        adds: Sequence[tuple[Name, Expr]] = (),
    ) -> Update:
        return Update(self._sets + tuple(sets), self._removes + tuple(removes), self._adds + tuple(adds))

    def expression(self) -> Expr:
        """The ``SET … REMOVE … ADD …`` text with its placeholders."""
        targeted = [name for name, _ in (*self._sets, *self._removes, *self._adds)]
        twice = sorted({str(name) for name in targeted if targeted.count(name) > 1})
        if twice:
            raise ValueError(f"an update names an attribute twice: {', '.join(twice)}")
        if not targeted:
            raise ValueError("an update must change something")
        sections = (("SET", self._sets), ("REMOVE", self._removes), ("ADD", self._adds))
        return merge([_section(keyword, [e for _, e in parts]) for keyword, parts in sections if parts])


def _section(keyword: str, parts: Sequence[Expr]) -> Expr:
    return merge(parts, lambda texts: f"{keyword} " + ", ".join(texts))


def stated(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that are not None: what an event states (None means it said nothing)."""
    return {name: value for name, value in values.items() if value is not None}
