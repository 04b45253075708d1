"""Operator credentials.  Local stage: the ``OPERATOR_TOKEN`` variable; prod: the SSM
parameter named by ``OPERATOR_TOKEN_PARAM`` (read once per process, decrypted)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from chalicelib.core.errors import Unauthorized
from chalicelib.platform.config import ConfigError, settings
from chalicelib.platform.process import PROCESS

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


def _read_operator_token(ssm: SSMClient) -> str:
    cfg = settings()
    if cfg.operator_token_param:
        raw = ssm.get_parameter(Name=cfg.operator_token_param, WithDecryption=True)
        return str(raw["Parameter"]["Value"])
    if cfg.operator_token:
        return cfg.operator_token
    raise ConfigError("set OPERATOR_TOKEN (local) or OPERATOR_TOKEN_PARAM (prod)")


def operator_token(ssm: SSMClient) -> str:
    """The operator token, read once per process."""
    return PROCESS.once(lambda: _read_operator_token(ssm), key=_read_operator_token)


def require_operator(presented: str | None, ssm: SSMClient) -> None:
    if not presented:
        raise Unauthorized("missing credentials: send Authorization: Bearer <operator token>")
    if not hmac.compare_digest(presented.encode(), operator_token(ssm).encode()):
        raise Unauthorized("invalid credentials")
