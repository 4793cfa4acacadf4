"""Hunter's error model: services raise these, one handler turns them into JSON responses."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error a person can act on, with the HTTP status it maps to."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvalidInput(AppError):
    status_code = 422
    code = "invalid_input"


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class UpstreamError(AppError):
    """A service Hunter depends on (an ATS, Claude, the mail provider) failed."""

    status_code = 502
    code = "upstream_error"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


class UpstreamTimeout(AppError):
    status_code = 504
    code = "upstream_timeout"
