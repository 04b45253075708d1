"""Domain errors.  Storage and rules raise these; the web layer maps them to HTTP in one place."""

from __future__ import annotations


class AftercareError(Exception):
    """Base of every error the caller may be told about."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(AftercareError):
    status = 400
    code = "invalid_input"


class PayloadTooLarge(AftercareError):
    status = 413
    code = "payload_too_large"


class Unauthorized(AftercareError):
    status = 401
    code = "unauthorized"


class Forbidden(AftercareError):
    status = 403
    code = "forbidden"


class NotFound(AftercareError):
    status = 404
    code = "not_found"


class Conflict(AftercareError):
    status = 409
    code = "conflict"


class Unavailable(AftercareError):
    """A dependency failed; the caller should retry (platform webhooks do), after
    ``retry_after`` seconds (the API's ``Retry-After``)."""

    status = 503
    code = "unavailable"
    retry_after = 5


class AlreadyExists(Exception):
    """A conditional create found the item already there (not an HTTP error by itself)."""


class TemplateBudgetExceeded(AftercareError):
    """A store's template needed more steps, time, output or nesting than a message may
    take.  At save time it is refused (400); at send time the job fails with this reason."""

    status = 400
    code = "template_too_costly"
