"""Stateless signed tokens (unsubscribe links, support sessions): HMAC-SHA256 over a short
payload with the stage's secret, so a link needs no table write and cannot be forged."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

from chalicelib.platform.aws import clients
from chalicelib.platform.config import ConfigError, settings

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

_secret: bytes | None = None


def _key(ssm: SSMClient | None) -> bytes:
    global _secret
    if _secret is None:
        cfg = settings()
        if cfg.session_secret_param:
            if ssm is None:
                ssm = clients().ssm
            _secret = ssm.get_parameter(Name=cfg.session_secret_param, WithDecryption=True)["Parameter"][
                "Value"
            ].encode()
        elif cfg.session_secret:
            _secret = cfg.session_secret.encode()
        else:
            raise ConfigError("set SESSION_SECRET (local) or SESSION_SECRET_PARAM (prod)")
    return _secret


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(purpose: str, payload: str, *, ssm: SSMClient | None = None, mac_bytes: int = 16) -> str:
    """``<payload b64>.<mac b64>``; ``purpose`` keeps a token of one kind from passing as another."""
    body = _b64(payload.encode())
    mac = hmac.new(_key(ssm), f"{purpose}|{body}".encode(), hashlib.sha256).digest()[:mac_bytes]
    return f"{body}.{_b64(mac)}"


def verify(purpose: str, token: str, *, ssm: SSMClient | None = None, mac_bytes: int = 16) -> str | None:
    """The payload when the token is genuine, else None."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 1024:
        return None
    body, mac_text = token.split(".")
    expected = hmac.new(_key(ssm), f"{purpose}|{body}".encode(), hashlib.sha256).digest()[:mac_bytes]
    # The MAC's text is compared, not its decoded bytes: base64 decoding ignores the spare bits
    # of the last character, so another spelling of the same bytes would pass.
    if not hmac.compare_digest(mac_text.encode(), _b64(expected).encode()):
        return None
    try:
        return _unb64(body).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def reset() -> None:
    global _secret
    _secret = None
