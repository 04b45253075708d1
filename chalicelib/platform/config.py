"""The one place configuration is read.

Every value comes from the stage's environment (``.chalice/config.json``).  A missing
variable fails loudly at first use instead of defaulting to a guess.
"""

from __future__ import annotations

import os
from functools import cached_property

from chalicelib.platform.process import PROCESS


class ConfigError(RuntimeError):
    """A required environment variable is missing or malformed."""


def _require(name: str) -> str:
    try:
        value = os.environ[name]
    except KeyError:
        raise ConfigError(f"environment variable {name} is not set for this stage") from None
    if not value:
        raise ConfigError(f"environment variable {name} is empty")
    return value


class Settings:
    """Lazily read settings; construct once per process through :func:`settings`."""

    @cached_property
    def stage(self) -> str:
        return _require("STAGE")

    @cached_property
    def table_name(self) -> str:
        return _require("TABLE_NAME")

    @cached_property
    def send_queue_url(self) -> str:
        return _require("SEND_QUEUE_URL")

    @cached_property
    def escalation_topic_arn(self) -> str:
        return _require("ESCALATION_TOPIC_ARN")

    @cached_property
    def public_base_url(self) -> str:
        """Where customers reach the API (survey and unsubscribe links)."""
        return _require("PUBLIC_BASE_URL").rstrip("/")

    @cached_property
    def due_shards(self) -> int:
        return int(_require("DUE_SHARDS"))

    @cached_property
    def sms_transport(self) -> str:
        value = _require("SMS_TRANSPORT")
        if value not in ("sns", "eum"):
            raise ConfigError("SMS_TRANSPORT must be 'sns' or 'eum'")
        return value

    @cached_property
    def whatsapp_transport(self) -> str:
        """``social``: AWS End User Messaging Social; ``sns``: the local stack's stand-in, which
        hands the WhatsApp message to SNS like an SMS so the dev outbox can show it."""
        value = _require("WHATSAPP_TRANSPORT")
        if value not in ("sns", "social"):
            raise ConfigError("WHATSAPP_TRANSPORT must be 'sns' or 'social'")
        return value

    @cached_property
    def whatsapp_api_version(self) -> str:
        """The Meta Cloud API version End User Messaging Social passes the message to (``v20.0``)."""
        value = _require("WHATSAPP_API_VERSION")
        if not value.startswith("v"):
            raise ConfigError("WHATSAPP_API_VERSION must look like v20.0")
        return value

    @cached_property
    def send_max_receives(self) -> int:
        """The send queue's maxReceiveCount: the receive that must not fail silently."""
        return int(_require("SEND_MAX_RECEIVES"))

    @cached_property
    def allow_local_webhooks(self) -> bool:
        """Whether stores may point webhooks at this machine or private networks (the local
        stage, where tests and the dev stack serve them on localhost)."""
        value = _require("ALLOW_LOCAL_WEBHOOKS")
        if value not in ("on", "off"):
            raise ConfigError("ALLOW_LOCAL_WEBHOOKS must be 'on' or 'off'")
        return value == "on"

    @cached_property
    def ses_configuration_set(self) -> str | None:
        """The SES configuration set that publishes bounces and complaints to the feedback
        topic (deployed stacks); the local stage has none."""
        return os.environ.get("SES_CONFIGURATION_SET") or None

    @cached_property
    def ses_suppression_check(self) -> bool:
        """Whether to ask SES's account suppression list before each email (the embedded
        AWS does not implement that call, so the local stage turns it off)."""
        value = _require("SES_SUPPRESSION_CHECK")
        if value not in ("on", "off"):
            raise ConfigError("SES_SUPPRESSION_CHECK must be 'on' or 'off'")
        return value == "on"

    @cached_property
    def operator_token(self) -> str | None:
        """The literal operator token (local stage only)."""
        return os.environ.get("OPERATOR_TOKEN") or None

    @cached_property
    def operator_token_param(self) -> str | None:
        """The SSM parameter holding the operator token (prod)."""
        return os.environ.get("OPERATOR_TOKEN_PARAM") or None

    @cached_property
    def session_secret_param(self) -> str | None:
        return os.environ.get("SESSION_SECRET_PARAM") or None

    @cached_property
    def session_secret(self) -> str | None:
        return os.environ.get("SESSION_SECRET") or None

    def optional(self, name: str) -> str | None:
        """A variable that a feature may go without (read here, never elsewhere)."""
        return os.environ.get(name) or None


def settings() -> Settings:
    """The process's settings, read from the environment at first use."""
    return PROCESS.once(Settings)
