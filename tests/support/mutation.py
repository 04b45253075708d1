"""Mutations of a real payload: every field, at every depth, replaced by a value of another kind.

A *field path* is a path of object keys and list positions with every position read as "any
element" (``line_items[*].price_set.shop_money.amount``): the first element stands for all of
them, since readers treat the elements of one list alike.  :func:`plan` pairs every field path
of a sample with every replacement kind exactly once and spreads the pairs over the deliveries
that share the sample (Shopify's four order topics carry the same order), so the whole walk is
covered once, deterministically.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]

# The lone surrogate cannot be encoded as UTF-8; the entity must not be decoded into markup.
ODD_TEXT = "\ud800<b>&amp;</b>"
KINDS: dict[str, Any] = {
    "null": None,
    "number": None,  # two numbers, alternating: see replacement()
    "string": ODD_TEXT,
    "list": [1, ODD_TEXT, {"a": None}],
    "object": {"a": 1, "id": ODD_TEXT},
}
NUMBERS = (2**64 + 1, -1.5e300)


def replacement(kind: str, index: int) -> Any:
    if kind == "number":
        return NUMBERS[index % len(NUMBERS)]
    return copy.deepcopy(KINDS[kind])


def field_paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every path below the root, the first element of each list standing for all of them."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield path + (key,)
            yield from field_paths(inner, path + (key,))
    elif isinstance(value, list) and value:
        yield path + (0,)
        yield from field_paths(value[0], path + (0,))


def replaced(value: Any, path: Path, new: Any) -> Any:
    out = copy.deepcopy(value)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


def dotted(path: Sequence[str | int]) -> str:
    """``customer.email``, ``items[0].sku``: how error answers name a field."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


@dataclass(frozen=True)
class Mutation:
    path: Path
    kind: str
    value: Any
    body: Any

    @property
    def name(self) -> str:
        return f"{dotted(self.path)} := {self.kind}"


def plan(sample: Any, shares: int = 1, *, skip: Sequence[Path] = ()) -> list[list[Mutation]]:
    """Every (field path, kind) pair of ``sample``, dealt round-robin into ``shares`` lists."""
    out: list[list[Mutation]] = [[] for _ in range(shares)]
    n = 0
    for path in field_paths(sample):
        if any(path[: len(s)] == tuple(s) for s in skip):
            continue
        for kind in KINDS:
            value = replacement(kind, n)
            out[n % shares].append(Mutation(path, kind, value, replaced(sample, path, value)))
            n += 1
    return out


def _overlap(a: Path, b: Path) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def groups(mutations: Sequence[Mutation], size: int) -> list[list[Mutation]]:
    """Mutations dealt into groups of at most ``size`` whose paths are apart (none inside
    another), in a fixed order: one delivery can carry a whole group."""
    out: list[list[Mutation]] = []
    pending = list(mutations)
    while pending:
        group: list[Mutation] = []
        rest: list[Mutation] = []
        for mutation in pending:
            if len(group) < size and not any(_overlap(mutation.path, other.path) for other in group):
                group.append(mutation)
            else:
                rest.append(mutation)
        out.append(group)
        pending = rest
    return out


def combined(sample: Any, group: Sequence[Mutation]) -> Any:
    out = copy.deepcopy(sample)
    for mutation in group:
        target = out
        for step in mutation.path[:-1]:
            target = target[step]
        target[mutation.path[-1]] = copy.deepcopy(mutation.value)
    return out


def names_the_field(field: Any, path: Path) -> bool:
    """A 4xx names the field when its ``field`` is the mutated path, one of its parents, or a
    part of the value put there (an unknown key inside a replaced object)."""
    if not isinstance(field, str) or not field:
        return False
    mutated = dotted(path)
    return (
        mutated == field
        or mutated.startswith(field + ".")
        or mutated.startswith(field + "[")
        or field.startswith(mutated)
    )


def encode(body: Any) -> bytes:
    """JSON as a sender would put it on the wire (ASCII escapes, so lone surrogates travel)."""
    return json.dumps(body, separators=(",", ":")).encode()
