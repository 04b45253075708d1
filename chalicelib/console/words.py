"""The console's names for codes: follow-up kinds, skip and wait reasons, languages."""

from __future__ import annotations

from collections.abc import Callable

Gettext = Callable[[str], str]

# Each language by its own name: nobody needs a translation to find theirs.
LANGUAGE_NAMES = {"en": "English", "ar": "العربية", "fa": "فارسی", "he": "עברית", "el": "Ελληνικά"}


def kind_labels(_: Gettext) -> dict[str, str]:
    return {
        "thank_you": _("Thank-you"),
        "delivery_checkin": _("Delivery check-in"),
        "usage_tips": _("Usage tips"),
        "survey": _("Survey"),
        "survey_reminder": _("Survey reminder"),
        "birthday": _("Birthday"),
        "anniversary": _("Anniversary"),
        "warranty": _("Warranty reminder"),
        "winback": _("Win-back"),
        "made_it_right": _("Did we make it right?"),
        "case_realert": _("Case re-alert"),
        "alert_retry": _("Alert retry"),
    }


def reason_labels(_: Gettext) -> dict[str, str]:
    return {
        "quiet_hours": _("Quiet hours: waits for the morning"),
        "weekly_cap": _("Weekly cap reached"),
        "no_consent": _("No marketing consent"),
        "suppressed": _("Unsubscribed or suppressed"),
        "bounced": _("The address bounced"),
        "survey_cooldown": _("A survey was sent recently"),
        "late_event": _("Its moment had passed when the event arrived"),
        "no_contact": _("No email or phone to write to"),
        "order_cancelled": _("The order was cancelled"),
        "nothing_to_say": _("Nothing to say"),
        "already_sent": _("Already sent"),
    }


def status_labels(_: Gettext) -> dict[str, str]:
    return {
        "pending": _("Pending"),
        "claimed": _("Sending"),
        "sent": _("Sent"),
        "skipped": _("Skipped"),
        "cancelled": _("Cancelled"),
        "failed": _("Failed"),
        "done": _("Done"),
        "sent_unconfirmed": _("Sent, unconfirmed"),
    }


def choice_labels(_: Gettext) -> dict[str, str]:
    return {
        "nps": "NPS",
        "csat": "CSAT",
        "ces": "CES",
        "everyone": _("Everyone who answered"),
        "promoters": _("Promoters only"),
    }
