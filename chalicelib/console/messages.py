"""The messages page: each message kind in each channel and language, rendered with sample data
exactly as it would be sent (the store's overrides included); the store's overrides edited in
place under the API's sandbox rules; and a test sent to the store's own support contacts
through the real transports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.console import words
from chalicelib.console.view import Ctx, Moved, Shown
from chalicelib.core.errors import InvalidInput, Unavailable
from chalicelib.core.models import LANGUAGES, RTL_LANGUAGES
from chalicelib.messaging import compose, transports
from chalicelib.messaging.delivery import TRANSACTIONAL
from chalicelib.rendering import templating
from chalicelib.stores import overrides

SAMPLE_UNSUBSCRIBE = "https://example.invalid/u/sample"
PART_ORDER = ("subject", "html", "txt", "sms")


@dataclass(frozen=True)
class Sms:
    body: str
    encoding: str  # GSM-7 or UCS-2
    segments: int
    characters: int
    direction: str


def _choice(value: str | None, options: tuple[str, ...], fallback: str) -> str:
    return value if value in options else fallback


def preview_email(ctx: Ctx, kind: str, language: str, store_overrides: Mapping[str, str]) -> compose.Email:
    unsubscribe = None if kind in TRANSACTIONAL else SAMPLE_UNSUBSCRIBE
    return compose.compose_email(
        kind, language, overrides.sample_context(kind), ctx.store, store_overrides, unsubscribe=unsubscribe
    )


def preview_sms(ctx: Ctx, kind: str, language: str, store_overrides: Mapping[str, str]) -> Sms:
    body = compose.compose_sms(kind, language, overrides.sample_context(kind), ctx.store, store_overrides)
    direction = "rtl" if language in RTL_LANGUAGES or body.startswith(templating.RLM) else "ltr"
    encoding = "GSM-7" if transports.is_gsm(body) else "UCS-2"
    return Sms(body, encoding, transports.segments(body), len(body), direction)


def page(
    ctx: Ctx,
    query: Mapping[str, str],
    *,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    _ = ctx.gettext
    kind = _choice(query.get("kind"), overrides.KINDS, "survey")
    language = _choice(query.get("lang"), LANGUAGES, ctx.language)
    kinds = words.kind_labels(_)
    saved = {lang: overrides.for_store(ctx.table, ctx.store_id, lang) for lang in LANGUAGES}
    grid = []
    for k in overrides.KINDS:
        cells = []
        for lang in LANGUAGES:
            sms = preview_sms(ctx, k, lang, saved[lang])
            cells.append(
                {
                    "lang": lang,
                    "encoding": sms.encoding,
                    "segments": sms.segments,
                    "current": (k, lang) == (kind, language),
                }
            )
        grid.append({"kind": k, "label": kinds[k], "cells": cells})
    email = preview_email(ctx, kind, language, saved[language])
    sms = preview_sms(ctx, kind, language, saved[language])
    parts = []
    for part in PART_ORDER:
        name = f"{kind}.{part}"
        path = overrides.template_path(name)
        own = saved[language].get(path)
        built_in = (templating.TEMPLATES / path).read_text(encoding="utf-8")
        parts.append(
            {
                "name": name,
                "path": path,
                "overridden": own is not None,
                "source": (typed or {}).get(name)
                if typed and name in typed
                else (own if own is not None else built_in),
                "error": (errors or {}).get(name),
            }
        )
    return {
        "kind": kind,
        "kind_label": kinds[kind],
        "language": language,
        "language_name": words.LANGUAGE_NAMES[language],
        "kinds": [(k, kinds[k]) for k in overrides.KINDS],
        "languages": [(code, words.LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "grid": grid,
        "email": email,
        "sms": sms,
        "parts": parts,
        "message_dir": templating.direction(language),
        "support_email": ctx.store.get("support_email"),
        "support_phone": ctx.store.get("support_phone"),
    }


def save_template(ctx: Ctx, clients: Any, form: Mapping[str, str]) -> Shown | Moved:
    """Save (or with ``delete``, remove) one override; refused with the line, nothing saved,
    when it does not render in the sandbox."""
    name, language = form.get("name") or "", form.get("lang") or ""
    kind = name.rpartition(".")[0]
    place = {"kind": kind, "lang": language}
    if form.get("delete"):
        overrides.delete(ctx.table, ctx.store_id, name, language)
        return Moved("messages", "template_deleted", place, "templates")
    try:
        overrides.save(ctx.table, ctx.store, name, language, form.get("source") or "", ctx.now)
    except InvalidInput as exc:
        if exc.field != "source":
            raise
        typed = {name: form.get("source") or ""}
        return Shown("messages", page(ctx, place, errors={name: exc.message}, typed=typed), 400)
    return Moved("messages", "template_saved", place, "templates")


def send_test(ctx: Ctx, clients: Any, form: Mapping[str, str]) -> Shown | Moved:
    """The previewed message, sent to the store's support email (or phone) by the transports
    every message goes through: the store's sender, headers and overrides."""
    kind = _choice(form.get("kind"), overrides.KINDS, "survey")
    language = _choice(form.get("lang"), LANGUAGES, ctx.language)
    saved = overrides.for_store(ctx.table, ctx.store_id, language)
    place = {"kind": kind, "lang": language}
    try:
        if form.get("channel") == "sms":
            phone = ctx.store.get("support_phone")
            if not phone:
                raise InvalidInput("the store has no support_phone to send a test to", field="support_phone")
            transports.send_sms(clients, ctx.store, str(phone), preview_sms(ctx, kind, language, saved).body)
            return Moved("messages", "test_sms", place, "test")
        email = preview_email(ctx, kind, language, saved)
        to = str(ctx.store["support_email"])
        transports.send_email(clients, ctx.store, to, email.subject, email.html, email.text, email.headers)
    except transports.Rejected as exc:
        refused = ctx.gettext("The provider refused the test: %(code)s") % {"code": exc.code}
        return Shown("messages", {**page(ctx, place), "error": refused}, 400)
    except (transports.ProviderBusy, transports.Ambiguous) as exc:
        raise Unavailable("the provider did not answer; try the test again") from exc
    return Moved("messages", "test_email", place, "test")
