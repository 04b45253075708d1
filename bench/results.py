"""bench/RESULTS.md: the sections ``make bench`` owns are rewritten, every other ``## `` section
(for example ``## Fault injection``, written by ``make soak``) is kept as it was."""

from __future__ import annotations

import re
from pathlib import Path

PATH = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "# Aftercare benchmark results"


def split(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` for each ``## `` section; text before the first one is dropped."""
    sections: list[tuple[str, str]] = []
    for chunk in re.split(r"(?m)^(?=## )", text):
        if chunk.startswith("## "):
            heading, _, body = chunk.partition("\n")
            sections.append((heading[3:].strip(), body.rstrip("\n")))
    return sections


def merge(old: str, ours: list[tuple[str, str]], *, in_place: bool = False) -> str:
    """Our sections in our order, then every section of ``old`` we do not own, unchanged.
    ``in_place`` (a partial run) keeps ``old``'s order and replaces only the sections given."""
    owned = dict(ours)
    if in_place:
        previous = split(old)
        known = {h for h, _ in previous}
        merged = [(h, owned.get(h, b)) for h, b in previous] + [(h, b) for h, b in ours if h not in known]
    else:
        merged = ours + [(h, b) for h, b in split(old) if h not in owned]
    parts = [TITLE, ""]
    for heading, body in merged:
        parts += [f"## {heading}", body.strip("\n"), ""]
    return "\n".join(parts)


def write(ours: list[tuple[str, str]], path: Path = PATH, *, in_place: bool = False) -> Path:
    old = path.read_text() if path.exists() else ""
    path.write_text(merge(old, ours, in_place=in_place))
    return path
