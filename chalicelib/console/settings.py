"""The settings page: every field of :data:`chalicelib.stores.registry.FIELDS`, grouped as the
README groups them, read from a form and checked by the very rules of ``PATCH /stores/{id}``.

Each group is its own form (a form body holds at most 50 fields).  Only the fields whose value
differs from the one in force are sent on; each is validated alone first, so every wrong field
is named next to itself, and nothing is saved while one is wrong."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.console import words
from chalicelib.core.errors import InvalidInput
from chalicelib.core.models import LANGUAGES
from chalicelib.storage.items import StoreItem
from chalicelib.stores import registry

Gettext = Callable[[str], str]

# How each field is shown and read back from the form.
TEXT, EMAIL, PHONE, URL, NUMBER, CHOICE, LANGUAGE, LANGUAGES_ = (
    "text",
    "email",
    "tel",
    "url",
    "number",
    "choice",
    "language",
    "languages",
)
DAYS, TIME, LINES, LINKS, THEME_WORDS, SWITCHES, CHANNELS, BOOL, SECRET, TEMPLATES = (
    "days",
    "time",
    "lines",
    "links",
    "theme_words",
    "switches",
    "channels",
    "bool",
    "secret",
    "whatsapp_templates",
)

WIDGETS: dict[str, str] = {
    "name": TEXT,
    "sender_email": EMAIL,
    "timezone": TEXT,
    "language": LANGUAGE,
    "languages": LANGUAGES_,
    "support_email": EMAIL,
    "support_phone": PHONE,
    "second_contact_email": EMAIL,
    "second_contact_phone": PHONE,
    "slack_webhook_url": URL,
    "shopify_webhook_secret": SECRET,
    "shop_domain": TEXT,
    "birthday_field": TEXT,
    "email_consent_field": TEXT,
    "sms_consent_field": TEXT,
    "whatsapp_consent_field": TEXT,
    "followups": SWITCHES,
    "channels": CHANNELS,
    "default_transit_days": NUMBER,
    "tips_delay_days": NUMBER,
    "survey_type": CHOICE,
    "survey_delay_days": NUMBER,
    "survey_reminder_days": NUMBER,
    "survey_cooldown_days": NUMBER,
    "survey_expiry_days": NUMBER,
    "weekly_cap": NUMBER,
    "quiet_start": TIME,
    "quiet_end": TIME,
    "send_days": DAYS,
    "winback_days": NUMBER,
    "warranty_notice_days": NUMBER,
    "birthday_coupon": TEXT,
    "next_event": TEXT,
    "next_event_url": URL,
    "review_links": LINKS,
    "review_invite": CHOICE,
    "nps_threshold": NUMBER,
    "csat_threshold": NUMBER,
    "ces_threshold": NUMBER,
    "negative_keywords": LINES,
    "urgent_keywords": LINES,
    "theme_keywords": THEME_WORDS,
    "sla_minutes": NUMBER,
    "business_start": TIME,
    "business_end": TIME,
    "business_days": DAYS,
    "made_it_right": BOOL,
    "sms_origination": TEXT,
    "whatsapp_phone_number_id": TEXT,
    "whatsapp_templates": TEMPLATES,
}
CHOICES: dict[str, tuple[str, ...]] = {
    "survey_type": ("nps", "csat", "ces"),
    "review_invite": ("everyone", "promoters"),
}

GROUPS: dict[str, tuple[str, ...]] = {
    "identity": (
        "name",
        "sender_email",
        "timezone",
        "language",
        "languages",
        "support_email",
        "support_phone",
        "second_contact_email",
        "second_contact_phone",
        "slack_webhook_url",
    ),
    "platform": (
        "shopify_webhook_secret",
        "shop_domain",
        "birthday_field",
        "email_consent_field",
        "sms_consent_field",
        "whatsapp_consent_field",
    ),
    "followups": (
        "followups",
        "channels",
        "default_transit_days",
        "tips_delay_days",
        "survey_type",
        "survey_delay_days",
        "survey_reminder_days",
        "survey_cooldown_days",
        "survey_expiry_days",
        "weekly_cap",
        "quiet_start",
        "quiet_end",
        "send_days",
        "winback_days",
        "warranty_notice_days",
        "birthday_coupon",
        "next_event",
        "next_event_url",
        "review_links",
        "review_invite",
    ),
    "escalation": (
        "nps_threshold",
        "csat_threshold",
        "ces_threshold",
        "negative_keywords",
        "urgent_keywords",
        "theme_keywords",
        "sla_minutes",
        "business_start",
        "business_end",
        "business_days",
        "made_it_right",
    ),
    "sms": ("sms_origination",),
    "whatsapp": ("whatsapp_phone_number_id", "whatsapp_templates"),
}


def group_titles(_: Gettext) -> dict[str, str]:
    return {
        "identity": _("Identity and contacts"),
        "platform": _("Platform"),
        "followups": _("Follow-ups"),
        "escalation": _("Escalation"),
        "sms": _("SMS"),
        "whatsapp": _("WhatsApp"),
    }


def labels(_: Gettext) -> dict[str, str]:
    return {
        "name": _("Store name"),
        "sender_email": _("Sender email"),
        "timezone": _("Time zone (IANA)"),
        "language": _("Store language"),
        "languages": _("Languages the store writes in"),
        "support_email": _("Support email"),
        "support_phone": _("Support phone"),
        "second_contact_email": _("Second contact email"),
        "second_contact_phone": _("Second contact phone"),
        "slack_webhook_url": _("Slack webhook address"),
        "shopify_webhook_secret": _("Shopify client secret"),
        "shop_domain": _("Shop domain"),
        "birthday_field": _("Birthday field"),
        "email_consent_field": _("Email consent field"),
        "sms_consent_field": _("SMS consent field"),
        "whatsapp_consent_field": _("WhatsApp consent field"),
        "followups": _("Follow-ups sent"),
        "channels": _("Channel of each follow-up"),
        "default_transit_days": _("Days in transit"),
        "tips_delay_days": _("Days before usage tips"),
        "survey_type": _("Survey type"),
        "survey_delay_days": _("Days before the survey"),
        "survey_reminder_days": _("Days before the survey reminder"),
        "survey_cooldown_days": _("Days between two surveys"),
        "survey_expiry_days": _("Days a survey link stays open"),
        "weekly_cap": _("Messages per customer per week"),
        "quiet_start": _("Sending starts at"),
        "quiet_end": _("Sending ends at"),
        "send_days": _("Sending days"),
        "winback_days": _("Days before the win-back"),
        "warranty_notice_days": _("Days of warranty notice"),
        "birthday_coupon": _("Birthday coupon"),
        "next_event": _("Next event"),
        "next_event_url": _("Next event address"),
        "review_links": _("Review links"),
        "review_invite": _("Who is invited to review"),
        "nps_threshold": _("NPS alert at or below"),
        "csat_threshold": _("CSAT alert at or below"),
        "ces_threshold": _("CES alert at or above"),
        "negative_keywords": _("Negative keywords"),
        "urgent_keywords": _("Urgent keywords"),
        "theme_keywords": _("Theme keywords"),
        "sla_minutes": _("Minutes to acknowledge"),
        "business_start": _("Business hours start"),
        "business_end": _("Business hours end"),
        "business_days": _("Business days"),
        "made_it_right": _("Ask whether we made it right"),
        "sms_origination": _("SMS origination identity"),
        "whatsapp_phone_number_id": _("WhatsApp phone number id"),
        "whatsapp_templates": _("WhatsApp templates"),
    }


def hints(_: Gettext) -> dict[str, str]:
    return {
        "languages": _("A customer whose language is not ticked is written to in the store language."),
        "shopify_webhook_secret": _("Write-only: leave empty to keep the one saved."),
        "negative_keywords": _("One word or phrase a line."),
        "urgent_keywords": _("One word or phrase a line."),
        "theme_keywords": _("One theme a line: the theme, a colon, its words separated by commas."),
        "review_links": _("One link a line: a name, a vertical bar, the address."),
        "send_days": _("In the customer's own time zone."),
        "whatsapp_templates": _(
            "One message a line: thank_you, survey or made_it_right, a colon, the template's name, "
            "a vertical bar, its languages (en=en_US, el=el), a vertical bar, the values of its body in order."
        ),
    }


@dataclass(frozen=True)
class Change:
    """What a group's form asks for: the changed fields, each wrong one's message, and the
    values to show again (as typed) when something is wrong."""

    changes: dict[str, Any]
    errors: dict[str, str]
    typed: dict[str, Any]


_WHOLE = re.compile(r"^-?[0-9]{1,9}$")


def _read(name: str, form: Mapping[str, str]) -> Any:
    """One field's value from the form, shaped as the JSON API takes it (a value the rules
    refuse is passed on as typed, so they name it)."""
    kind = WIDGETS[name]
    raw = form.get(name, "")
    if kind == NUMBER:
        text = raw.strip()
        return int(text) if _WHOLE.match(text) else text
    if kind in (TEXT, EMAIL, PHONE, URL, SECRET, CHOICE, LANGUAGE):
        text = raw.strip()
        return text or None
    if kind == TIME:
        return raw.strip()
    if kind == LANGUAGES_:
        return [code for code in LANGUAGES if form.get(f"{name}.{code}")]
    if kind == DAYS:
        return [day for day in range(7) if form.get(f"{name}.{day}")]
    if kind == LINES:
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if kind == LINKS:
        links = []
        for line in raw.splitlines():
            if line.strip():
                label, bar, address = line.partition("|")
                links.append(
                    {"name": label.strip(), "url": address.strip()} if bar else {"name": "", "url": line.strip()}
                )
        return links
    if kind == THEME_WORDS:
        themes: dict[str, Any] = {}
        for line in raw.splitlines():
            if line.strip():
                theme, _, words = line.partition(":")
                themes[theme.strip()] = [word.strip() for word in words.split(",") if word.strip()]
        return themes
    if kind == TEMPLATES:
        return _read_templates(raw)
    if kind == SWITCHES:
        return {kind_: bool(form.get(f"{name}.{kind_}")) for kind_ in registry.FOLLOWUP_KINDS}
    if kind == CHANNELS:
        return {kind_: form.get(f"{name}.{kind_}") or "auto" for kind_ in registry.FOLLOWUP_KINDS}
    if kind == BOOL:
        return bool(form.get(name))
    raise AssertionError(kind)


def _read_templates(raw: str) -> Any:
    """``survey: order_feedback | en=en_US, el=el | first_name, survey_url`` a line; a line
    that does not read so is passed on as typed, for the rules to name."""
    templates: dict[str, Any] = {}
    for line in raw.splitlines():
        if not line.strip():
            continue
        kind, colon, rest = line.partition(":")
        parts = [part.strip() for part in rest.split("|")]
        if not colon or len(parts) not in (2, 3):
            templates[kind.strip()] = line.strip()
            continue
        languages = dict(pair.strip().partition("=")[::2] for pair in parts[1].split(",") if pair.strip())
        templates[kind.strip()] = {
            "name": parts[0],
            "languages": {k.strip(): v.strip() for k, v in languages.items()},
            "parameters": [p.strip() for p in (parts[2] if len(parts) == 3 else "").split(",") if p.strip()],
        }
    return templates


def _show_templates(value: Any) -> str:
    lines = []
    for kind, template in (value or {}).items():
        languages = ", ".join(f"{k}={v}" for k, v in (template.get("languages") or {}).items())
        lines.append(
            f"{kind}: {template.get('name', '')} | {languages} | {', '.join(template.get('parameters') or [])}"
        )
    return "\n".join(lines)


def current(store: StoreItem) -> dict[str, Any]:
    """Every setting as it is in force (defaults and the local week filled in), shaped as the
    form reads it back."""
    shown = registry.public_view(store)
    shown["followups"] = {k: bool((shown.get("followups") or {}).get(k, True)) for k in registry.FOLLOWUP_KINDS}
    shown["channels"] = {k: (shown.get("channels") or {}).get(k, "auto") for k in registry.FOLLOWUP_KINDS}
    shown["languages"] = list(shown.get("languages") or LANGUAGES)
    shown["shopify_webhook_secret"] = None
    return shown


def read_group(group: str, form: Mapping[str, str], store: StoreItem) -> Change:
    """The group's changes, each checked by the settings rules on its own."""
    if group not in GROUPS:
        raise InvalidInput(f"group must be one of {', '.join(GROUPS)}", field="group")
    now_in_force = current(store)
    typed = {name: _read(name, form) for name in GROUPS[group]}
    changes = {name: value for name, value in typed.items() if _differs(name, value, now_in_force.get(name))}
    errors: dict[str, str] = {}
    for name, value in changes.items():
        try:
            registry.validate_settings({name: value}, creating=False)
        except InvalidInput as exc:
            # A part of a field (whatsapp_templates.survey.name) is named next to the field itself.
            errors[name if (exc.field or "").startswith(f"{name}.") else (exc.field or name)] = exc.message
    return Change(changes, errors, typed)


def _differs(name: str, value: Any, in_force: Any) -> bool:
    if WIDGETS[name] == SECRET:
        return value is not None
    if WIDGETS[name] in (LANGUAGES_, DAYS):
        return sorted(value) != sorted(in_force or [])
    return bool(value != in_force)


def form_fields(
    group: str, values: Mapping[str, Any], errors: Mapping[str, str], _: Gettext, day_names: list[str]
) -> list[dict[str, Any]]:
    """What the template draws for each field of a group."""
    names, helps, kinds = labels(_), hints(_), words.kind_labels(_)
    channel_names = {
        "auto": _("Automatic"),
        "email": _("Email"),
        "sms": _("SMS"),
        "both": _("Email and SMS"),
        "whatsapp": _("WhatsApp, else automatic"),
    }
    out = []
    for name in GROUPS[group]:
        kind, value = WIDGETS[name], values.get(name)
        field: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "label": names[name],
            "hint": helps.get(name),
            "error": errors.get(name),
            "value": value,
        }
        if kind == LINES:
            field["value"] = "\n".join(value or [])
        elif kind == LINKS:
            field["value"] = "\n".join(f"{link.get('name', '')} | {link.get('url', '')}" for link in value or [])
        elif kind == THEME_WORDS:
            field["value"] = "\n".join(f"{theme}: {', '.join(words)}" for theme, words in (value or {}).items())
        elif kind == TEMPLATES:
            field["value"] = value if isinstance(value, str) else _show_templates(value)
        elif kind == DAYS:
            field["options"] = [(str(day), day_names[day], day in (value or [])) for day in range(7)]
        elif kind == LANGUAGES_:
            field["options"] = [(code, words.LANGUAGE_NAMES[code], code in (value or [])) for code in LANGUAGES]
        elif kind == SWITCHES:
            field["options"] = [(k, kinds[k], bool((value or {}).get(k, True))) for k in registry.FOLLOWUP_KINDS]
        elif kind == CHANNELS:
            field["rows"] = [(k, kinds[k], (value or {}).get(k, "auto")) for k in registry.FOLLOWUP_KINDS]
            field["choices"] = [(c, channel_names[c]) for c in registry.CHANNEL_CHOICES]
        elif kind == CHOICE:
            field["choices"] = [(c, words.choice_labels(_).get(c, c)) for c in CHOICES[name]]
        elif kind == LANGUAGE:
            field["choices"] = [(c, words.LANGUAGE_NAMES[c]) for c in LANGUAGES]
        out.append(field)
    return out
