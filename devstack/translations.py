"""Compile the message catalogues (``templates/locale/<lang>/LC_MESSAGES/*.po``) to ``.mo``.

The compiled files are build products (gitignored); ``make`` compiles them before running,
testing or packaging, so the templates always speak the catalogues' current words.
"""

from __future__ import annotations

from pathlib import Path

from devstack import ROOT

LOCALE = ROOT / "templates" / "locale"


def catalogues(locale: Path = LOCALE) -> list[Path]:
    """Every ``.po`` file under ``locale`` (none is fine: nothing to compile yet)."""
    if not locale.is_dir():
        return []
    return sorted(locale.glob("*/LC_MESSAGES/*.po"))


def compile_all(locale: Path = LOCALE) -> list[Path]:
    """Write a ``.mo`` next to each ``.po`` that is newer than its ``.mo``; return them all."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = []
    for po in catalogues(locale):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            language = po.parent.parent.name
            with po.open("rb") as source:
                catalog = read_po(source, locale=language, domain=po.stem)
            with mo.open("wb") as target:
                write_mo(target, catalog, use_fuzzy=False)
        compiled.append(mo)
    return compiled
