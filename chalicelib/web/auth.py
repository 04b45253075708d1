"""Operator credentials.  Local stage: the ``OPERATOR_TOKEN`` variable; prod: the SSM
parameter named by ``OPERATOR_TOKEN_PARAM`` (read once per process, decrypted)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from chalicelib.core.errors import Unauthorized
from chalicelib.platform.config import ConfigError, settings

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

_operator_token: str | None = None


def operator_token(ssm: SSMClient) -> str:
    global _operator_token
    if _operator_token is None:
        cfg = settings()
        if cfg.operator_token_param:
            raw = ssm.get_parameter(Name=cfg.operator_token_param, WithDecryption=True)
            _operator_token = raw["Parameter"]["Value"]
        elif cfg.operator_token:
            _operator_token = cfg.operator_token
        else:
            raise ConfigError("set OPERATOR_TOKEN (local) or OPERATOR_TOKEN_PARAM (prod)")
    return _operator_token


def require_operator(presented: str | None, ssm: SSMClient) -> None:
    if not presented:
        raise Unauthorized("missing credentials: send Authorization: Bearer <operator token>")
    if not hmac.compare_digest(presented.encode(), operator_token(ssm).encode()):
        raise Unauthorized("invalid credentials")


def bearer(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value: str | None = headers.get("authorization") if headers else None
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def reset() -> None:
    global _operator_token
    _operator_token = None
