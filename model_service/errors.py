"""The service's domain errors.

Each error carries the HTTP status it maps to as a plain :class:`http.HTTPStatus`, so the model
layer stays free of any web framework; the blueprints turn them into the one JSON error shape in
one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One problem found in a request: where it is (``path``) and what is wrong (``message``)."""

    path: tuple[str | int, ...]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": list(self.path), "message": self.message}


@dataclass
class ServingError(Exception):
    """Root of every error the service reports to a client."""

    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    type: str = "internal_error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidInput(ServingError):
    """Raised when a request does not match the model's input schema (400)."""

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message, details or [], HTTPStatus.BAD_REQUEST, "invalid_input")


class ModelNotFound(ServingError):
    """Raised when no loaded model has the requested name or version (404)."""

    def __init__(self, name: str, version: str | None = None) -> None:
        name = name[:80]
        what = f"Model '{name}'" if version is None else f"Model '{name}' version '{version[:80]}'"
        super().__init__(
            f"{what} is not loaded. GET /api/models lists the models this service serves.",
            [],
            HTTPStatus.NOT_FOUND,
            "model_not_found",
        )


class PayloadTooLarge(ServingError):
    """Raised when a body or a batch exceeds a configured limit (413)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large")


class UnsupportedMediaType(ServingError):
    """Raised when a request body comes in a content type the service does not read (415)."""

    def __init__(self, content_type: str, supported: list[str]) -> None:
        super().__init__(
            f"Content type '{content_type or '(none)'}' is not supported; "
            f"send one of: {', '.join(supported)}.",
            [],
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )


class ModelNotReady(ServingError):
    """Raised when a model cannot serve yet, or failed to load (503)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], HTTPStatus.SERVICE_UNAVAILABLE, "model_not_ready")


class PredictionError(ServingError):
    """Raised when a model raised while predicting, or returned something off its schema (500)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], HTTPStatus.INTERNAL_SERVER_ERROR, "prediction_error")


class ExplanationUnavailable(ServingError):
    """Raised when a model declares it cannot be explained (404: the endpoint is off for it)."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__(
            f"Model '{name}' version '{version}' does not offer explanations.",
            [],
            HTTPStatus.NOT_FOUND,
            "explanation_unavailable",
        )


class PredictionTimeout(ServingError):
    """Raised when a prediction takes longer than ``PREDICTION_TIMEOUT_S`` (504)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], HTTPStatus.GATEWAY_TIMEOUT, "prediction_timeout")


class Unauthorized(ServingError):
    """Raised when an admin request has no bearer token (401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], HTTPStatus.UNAUTHORIZED, "unauthorized")


class Forbidden(ServingError):
    """Raised when an admin request's token is wrong or the admin API is disabled (403)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], HTTPStatus.FORBIDDEN, "forbidden")


class Conflict(ServingError):
    """The change asked for contradicts the service's current state (409)."""

    def __init__(self, message: str, error_type: str = "conflict") -> None:
        super().__init__(message, [], HTTPStatus.CONFLICT, error_type)


class ModelLoadError(Exception):
    """Raised when a model class cannot be imported, checked or instantiated.

    The message names the class or file at fault and says what to do about it.
    """


class InvalidModelClass(ModelLoadError):
    """Raised when a configured class is not a subclass of :class:`MLModel`."""
