"""The one template loader: Jinja2 over the top-level ``templates/`` folder, in five languages.

Translations come from Babel catalogs in ``templates/locale/<lang>/LC_MESSAGES/``: every
domain found there (``messages``, ``surveys``, ``support``...) is merged into one catalog per
language, so any part of the product adds its own ``.po`` without touching this module.
A compiled ``.mo`` is used when it is at least as new as its ``.po``; otherwise the ``.po``
is compiled in memory (a fresh checkout renders the same text as a built package).

Numbers are written in one digit system per language (:data:`DIGITS`), in pages, emails
and SMS alike; text of the other direction is isolated (:func:`isolate`), and every
right-to-left SMS starts right to left (:func:`start_direction`).

Stores may override a template per language; their text renders in Jinja's sandbox, and
:func:`validate_override` rejects one that does not parse or render, naming the line.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from chalicelib.core.errors import TemplateBudgetExceeded
from chalicelib.core.models import LANGUAGES, RTL_LANGUAGES
from chalicelib.core.validate import one_line
from chalicelib.platform.observability import count, logger
from chalicelib.platform.process import PROCESS
from chalicelib.rendering.headers import HTML_HEADERS
from chalicelib.storage.items import StoreItem

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LOCALE = TEMPLATES / "locale"


def script_csp(script: str) -> str:
    """The pages' CSP, allowing exactly ``script`` (an inline script) by its hash."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return f"{HTML_HEADERS['Content-Security-Policy']}; script-src 'sha256-{digest}'"


def _environments() -> dict[tuple[str, bool, bool], jinja2.Environment]:
    """Jinja environments by (language, autoescape, sandboxed), kept for the process."""
    return PROCESS.once(dict, key="templating.environments")


class _I18nEnvironment(Protocol):
    """What the ``jinja2.ext.i18n`` extension adds to an environment it is loaded into."""

    def install_gettext_translations(self, translations: Any, newstyle: bool | None = None) -> None: ...


def _translations() -> dict[str, Any]:
    """Compiled catalogues by language, kept for the process."""
    return PROCESS.once(dict, key="templating.translations")


# The digits each language writes: Persian readers expect Persian digits everywhere; Arabic
# stores sell across regions where Western digits are the ones commerce uses (order
# numbers, prices, phone numbers), so Arabic keeps 0-9 like the other languages.
DIGITS: dict[str, str] = {"fa": "۰۱۲۳۴۵۶۷۸۹"}
_NUMBERING: dict[str, str] = {"fa": "arabext"}  # the CLDR symbols (separators) that go with them

FSI, PDI, RLM = "\u2068", "\u2069", "\u200f"
_RTL_BIDI = {"R", "AL"}


def numerals(value: Any, language: str) -> str:
    """``value`` as text with its ASCII digits in the language's digits."""
    text = "" if value is None else str(value)
    digits = DIGITS.get(language)
    return text.translate(str.maketrans("0123456789", digits)) if digits else text


def format_number(value: float | int, language: str, pattern: str | None = None) -> str:
    """A number as the language writes it (grouping, decimal sign and digits)."""
    from babel.numbers import format_decimal  # lazy: heavy at import (make bench, import time)

    return numerals(
        format_decimal(value, format=pattern, locale=language, numbering_system=_NUMBERING.get(language, "latn")),
        language,
    )


def format_share(share: float, language: str) -> str:
    """A fraction (0.8) as a percentage ("80%"; "۸۰%" in Persian)."""
    from babel.numbers import format_percent  # lazy: heavy at import (make bench, import time)

    return numerals(format_percent(share, locale=language, numbering_system=_NUMBERING.get(language, "latn")), language)


def has_rtl(text: str) -> bool:

    return any(unicodedata.bidirectional(ch) in _RTL_BIDI for ch in text)


def isolate(value: Any, language: str, *, html: bool) -> Any:
    """Store-, product- or customer-given text set apart from the message around it, so its
    direction and punctuation stay its own: ``<span dir="auto">`` in HTML, FSI…PDI in text.
    Plain text in a left-to-right message is marked only when it holds right-to-left
    letters (an English SMS stays GSM-7, one segment)."""
    from markupsafe import Markup, escape  # lazy: heavy at import (make bench, import time)

    if value is None or value == "":
        return value
    if html:
        return Markup('<span dir="auto">%s</span>') % escape(value)
    text = str(value)
    if language in RTL_LANGUAGES or has_rtl(text):
        return f"{FSI}{text}{PDI}"
    return text


def start_direction(body: str, language: str) -> str:
    """An SMS in a right-to-left language starts with a right-to-left mark: phones take the
    direction from the first strong letter, which is often the Latin brand name."""
    if language in RTL_LANGUAGES and not body.startswith(RLM):
        return RLM + body
    return body


def direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def language_or(language: str | None, fallback: str) -> str:
    """A supported language code from ``language`` (``ar-EG``, ``fa_IR``...), else ``fallback``."""
    if language:
        code = str(language).strip().replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return fallback if fallback in LANGUAGES else "en"


def language_for(wanted: str | None, store: StoreItem) -> str:
    """The language to write to a customer in: theirs when the store speaks it (its
    ``languages``, all five when unset), else the store's own."""
    own = language_or(store.get("language"), "en")
    chosen = language_or(wanted, own)
    spoken = store.get("languages") or LANGUAGES
    spoken = [spoken] if isinstance(spoken, str) else list(spoken)
    return chosen if chosen == own or chosen in spoken else own


def translations(language: str) -> Any:
    """Every domain's catalog for ``language``, merged (built once per process)."""
    if language not in _translations():
        from babel.support import NullTranslations  # lazy: heavy at import (make bench, import time)

        merged: Any = None
        folder = LOCALE / language / "LC_MESSAGES"
        domains = (
            sorted({p.stem for p in folder.glob("*.po")} | {p.stem for p in folder.glob("*.mo")})
            if folder.is_dir()
            else []
        )
        for domain in domains:
            catalog = _load_domain(folder, domain)
            if merged is None:
                merged = catalog
            else:
                merged.merge(catalog)
        _translations()[language] = merged if merged is not None else NullTranslations()
    return _translations()[language]


def _load_domain(folder: Path, domain: str) -> Any:
    from babel.support import Translations  # lazy: heavy at import (make bench, import time)

    po, mo = folder / f"{domain}.po", folder / f"{domain}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=domain)

    from babel.messages.mofile import write_mo  # lazy: heavy at import (make bench, import time)
    from babel.messages.pofile import read_po  # lazy: heavy at import (make bench, import time)

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=folder.parent.name, domain=domain)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)


def _is_html(name: str | None) -> bool:
    return bool(name) and str(name).endswith((".html", ".htm"))


def environment(language: str, *, sandboxed: bool = False, html: bool = True) -> jinja2.Environment:
    """The Jinja environment of a language (cached).  The sandboxed ones are for store
    overrides: one that escapes (HTML) and one that does not (text, SMS)."""
    key = (language, sandboxed, html if sandboxed else True)
    if key not in _environments():
        import jinja2  # lazy: heavy at import (make bench, import time)

        from chalicelib.rendering.sandbox import BudgetedSandbox  # lazy: it loads jinja2's sandbox

        cls = BudgetedSandbox if sandboxed else jinja2.Environment
        env = cls(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=html if sandboxed else _is_html,
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined if sandboxed else jinja2.Undefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # Loading the i18n extension (above) adds this method to the environment.
        cast(_I18nEnvironment, env).install_gettext_translations(translations(language), newstyle=True)
        env.filters["truncate_words"] = _truncate
        env.filters["digits"] = lambda value: numerals(value, language)
        env.filters["isolate"] = jinja2.pass_eval_context(
            lambda ctx, value: isolate(value, language, html=bool(ctx.autoescape))
        )
        if isinstance(env, BudgetedSandbox):
            env.guard_filters()
        _environments()[key] = env
    return _environments()[key]


def _truncate(value: Any, length: int = 40) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= length else text[: max(1, length - 1)].rstrip() + "…"


def base_context(language: str, store: StoreItem | None = None) -> dict[str, Any]:
    rtl = language in RTL_LANGUAGES
    context: dict[str, Any] = {
        "lang": language,
        "dir": direction(language),
        "align": "right" if rtl else "left",
        "rtl": rtl,
    }
    if store is not None:
        context["store"] = {
            "name": one_line(store["name"]) if store.get("name") else store.get("name"),
            "support_email": store.get("support_email"),
            "support_phone": store.get("support_phone"),
            "sender_email": store.get("sender_email"),
        }
    return context


def render(
    name: str,
    language: str,
    context: Mapping[str, Any],
    store: StoreItem | None = None,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """Render ``templates/<name>`` in ``language``; a store's override of ``name`` wins when
    given (``overrides``: template name → source, see :mod:`chalicelib.stores.overrides`).  An
    override that fails at render time falls back to the built-in template; one that goes
    over its budget raises :class:`~chalicelib.core.errors.TemplateBudgetExceeded` (the message
    fails with that reason rather than keep the batch waiting)."""
    values = {**base_context(language, store), **context}
    source = (overrides or {}).get(name)
    if source is not None:
        try:
            return _render_override(name, language, source, values).strip()
        except _override_errors() as exc:
            logger.warning(
                "store template failed; using the built-in one", extra={"template": name, "error": type(exc).__name__}
            )
            count("TemplateOverrideFailed")
    return environment(language).get_template(name).render(values).strip()


def _render_override(name: str, language: str, source: str, values: Mapping[str, Any]) -> str:
    """A store's template, compiled and rendered within the sandbox's budget."""

    env = environment(language, sandboxed=True, html=_is_html(name))
    try:
        template = env.from_string(source)
    except (RecursionError, MemoryError) as exc:
        raise TemplateBudgetExceeded("the template nests too deeply") from exc
    from chalicelib.rendering import sandbox  # lazy: it loads jinja2's sandbox

    return sandbox.render(template, values)


def _override_errors() -> tuple[type[BaseException], ...]:
    """What a store template may raise while rendering (built at first use: it names Jinja's error)."""
    import jinja2  # lazy: heavy at import (make bench, import time)

    # SyntaxError: Python refuses generated code nested too deeply (20 blocks, 200 brackets).
    return (
        jinja2.TemplateError,
        TypeError,
        ValueError,
        ArithmeticError,
        LookupError,
        AttributeError,
        RuntimeError,
        SyntaxError,
    )


def exists(name: str) -> bool:
    return (TEMPLATES / name).is_file()


@dataclass(frozen=True)
class TemplateProblem:
    line: int | None
    error: str


def validate_override(
    name: str, language: str, source: str, sample: Mapping[str, Any], store: StoreItem | None = None
) -> TemplateProblem | None:
    """None when ``source`` parses and renders with ``sample`` in the sandbox, within its
    budget; else where and why not."""
    import jinja2  # lazy: heavy at import (make bench, import time)

    from chalicelib.rendering import sandbox  # lazy: it loads jinja2's sandbox

    env = environment(language, sandboxed=True, html=_is_html(name))
    try:
        template = env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        return TemplateProblem(exc.lineno, exc.message or "syntax error")
    except (RecursionError, MemoryError, SyntaxError):
        return TemplateProblem(_deepest_line(source), "the template nests too deeply")
    try:
        sandbox.render(template, {**base_context(language, store), **sample})
    except TemplateBudgetExceeded as exc:
        line, _, message = exc.message.partition(": ") if exc.message.startswith("line ") else ("", "", exc.message)
        return TemplateProblem(int(line.split()[1]) if line else None, message)
    except _override_errors() as exc:
        message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else _plain_error(exc)
        return TemplateProblem(sandbox.template_line(template, exc), str(message))
    return None


def _plain_error(exc: BaseException) -> str:
    """An error's kind and text, safe to show the store (its own template's doing)."""
    return f"{type(exc).__name__}: {exc}"[:300]


def _deepest_line(source: str) -> int:
    """The line where ``{%`` blocks nest deepest (Python allows 20 nested blocks)."""

    depth, deepest, where = 0, 0, 1
    for number, text in enumerate(source.splitlines(), start=1):
        for tag in re.findall(r"{%-?\s*(\w+)", text):
            if tag in ("for", "if", "macro", "call", "filter", "with", "block"):
                depth += 1
                if depth > deepest:
                    deepest, where = depth, number
            elif tag.startswith("end"):
                depth -= 1
    return where
