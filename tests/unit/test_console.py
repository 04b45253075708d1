"""The console's pure parts: every setting has its place and its widget, the settings form
reads back what the API takes, every word is translated, the copy script is allowed by hash."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from chalicelib.console import pages, settings, setup
from chalicelib.core.models import LANGUAGES
from chalicelib.rendering import templating
from chalicelib.stores import registry

ROOT = Path(__file__).resolve().parents[2]
STORE = {
    "store_id": "st0000000000test",
    "name": "Cedar & Sage",
    "sender_email": "hello@cedarsage.example",
    "timezone": "Europe/Athens",
    "language": "en",
    "support_email": "care@cedarsage.example",
    "webhook_secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
}


def test_every_setting_has_one_group_a_widget_and_a_label() -> None:
    grouped = [name for names in settings.GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(registry.FIELDS) and len(grouped) == len(set(grouped))
    assert set(settings.WIDGETS) == set(registry.FIELDS)
    assert set(settings.labels(str)) == set(registry.FIELDS)


def test_a_group_left_as_shown_changes_nothing() -> None:
    # GIVEN the follow-ups form as the page draws it for a store with every default
    store = registry.with_defaults(STORE)
    shown = settings.current(store)
    form: dict[str, str] = {}
    for name in settings.GROUPS["followups"]:
        kind, value = settings.WIDGETS[name], shown.get(name)
        if kind == settings.DAYS:
            form.update({f"{name}.{d}": "1" for d in value})
        elif kind == settings.SWITCHES:
            form.update({f"{name}.{k}": "1" for k, on in value.items() if on})
        elif kind == settings.CHANNELS:
            form.update({f"{name}.{k}": v for k, v in value.items()})
        elif kind in (settings.LINES, settings.LINKS):
            form[name] = ""
        elif value is not None:
            form[name] = str(value)
    # WHEN it is posted unchanged THEN there is nothing to save, and the local week stays unset
    change = settings.read_group("followups", form, store)
    assert change.changes == {} and change.errors == {}


def test_the_form_is_read_as_the_api_takes_it_and_checked_by_its_rules() -> None:
    store = registry.with_defaults(STORE)
    form = {
        "name": "Cedar & Sage",
        "sender_email": "hello@cedarsage.example",
        "timezone": "Europe/Athens",
        "language": "ar",
        "support_email": "care@cedarsage.example",
        "languages.ar": "1",
        "languages.en": "1",
    }
    change = settings.read_group("identity", form, store)
    assert change.changes == {"language": "ar", "languages": ["en", "ar"]} and change.errors == {}
    wrong = settings.read_group("escalation", {"nps_threshold": "eleven", "sla_minutes": "1"}, store)
    assert set(wrong.errors) >= {"nps_threshold", "sla_minutes"}


def test_the_secret_is_masked_to_its_last_four_characters() -> None:
    shown = setup.masked(STORE["webhook_secret"])
    assert shown.startswith("whsec_") and shown.endswith(STORE["webhook_secret"][-4:])
    assert STORE["webhook_secret"][6:-4] not in shown


def test_the_copy_script_is_allowed_by_its_hash_only() -> None:
    digest = base64.b64encode(hashlib.sha256(pages.SCRIPT.encode()).digest()).decode()
    assert templating.script_csp(pages.SCRIPT).endswith(f"script-src 'sha256-{digest}'")
    assert "unsafe-inline" not in templating.script_csp(pages.SCRIPT).split("script-src")[1]


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_console_word_is_translated(language: str) -> None:
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import read_po

    wanted: set[str] = set()
    for path in sorted((ROOT / "templates" / "pages").glob("console*.html")):
        options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
        wanted |= {str(m[1]) for m in extract_from_file("jinja2", str(path), options=options)}
    for path in sorted((ROOT / "chalicelib" / "console").glob("*.py")):
        wanted |= {str(m[1]) for m in extract_from_file("python", str(path), keywords={"_": None, "gettext": None})}
    translated: dict[str, str] = {}
    for po in (templating.LOCALE / language / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as handle:
            translated |= {str(m.id): str(m.string) for m in read_po(handle) if m.id and m.string}
    assert sorted(w for w in wanted if not translated.get(w)) == []
