"""KubeSkippy's exception tree.

Callers decide about retries from the class alone, never from a message::

    KubeSkippyError
    ├── PermanentError            bad input or a refusal: retrying cannot help (HTTP 400)
    │   ├── InvalidInput          names the offending field path(s)
    │   ├── PayloadTooLarge       body over the configured limit (HTTP 413)
    │   └── Refused               a safety rule or the guard said no
    └── TemporaryError            a fault outside us that may pass (HTTP 5xx, retried)
        └── APIError              a Kubernetes / S3 / HTTP API answered with a status
            ├── APINotFound       404 (permanent in meaning, but kept as APIError for context)
            ├── APIConflict       409: stale resourceVersion or already exists
            ├── APITooManyRequests 429: e.g. an eviction blocked by a PodDisruptionBudget
            └── APIRejected       400/403/405/410/415/422: the request itself is wrong; ALSO a
                                  PermanentError, and callers check PermanentError first, so it
                                  is answered 400 and never retried

An APIRejected stays an APIError so code that turns API errors into statuses keeps working.

Library errors are wrapped with context and chained (``raise ... from e``).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "KubeSkippyError",
    "PermanentError",
    "InvalidInput",
    "FieldError",
    "PayloadTooLarge",
    "Refused",
    "TemporaryError",
    "APIError",
    "APINotFound",
    "APIConflict",
    "APITooManyRequests",
    "APIRejected",
    "PERMANENT_API_STATUSES",
    "api_error_for_status",
]


class KubeSkippyError(Exception):
    """Base of every error KubeSkippy raises on purpose."""


class PermanentError(KubeSkippyError):
    """Retrying the same input will fail the same way (maps to HTTP 400)."""

    http_status = 400


class FieldError(NamedTuple):
    """One problem at one place in a document, e.g. ``spec.triggers[1].metricTrigger.operator``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidInput(PermanentError):
    """Input failed validation; ``errors`` names every bad field by path."""

    def __init__(self, errors: list[FieldError] | str, *, source: str | None = None) -> None:
        if isinstance(errors, str):
            errors = [FieldError("", errors)]
        self.errors: list[FieldError] = list(errors)
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(prefix + "; ".join(str(e) for e in self.errors))


class PayloadTooLarge(PermanentError):
    """A request or payload exceeded its size limit."""

    http_status = 413

    def __init__(self, size: int, limit: int, what: str = "body") -> None:
        self.size, self.limit = size, limit
        super().__init__(f"{what} of {size} bytes exceeds the limit of {limit} bytes")


class Refused(PermanentError):
    """A rule decided not to act; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, message: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}" if message else reason)


class TemporaryError(KubeSkippyError):
    """A fault that may pass; ``delay`` hints how long to wait before retrying (HTTP 5xx)."""

    http_status = 503

    def __init__(self, message: str, *, delay: float | None = None) -> None:
        self.delay = delay
        super().__init__(message)


class APIError(TemporaryError):
    """An API answered with an error status; carries status and payload for context."""

    def __init__(self, status: int, message: str, *, payload: object = None, delay: float | None = None) -> None:
        self.status = status
        self.payload = payload
        super().__init__(f"HTTP {status}: {message}", delay=delay)


class APINotFound(APIError):
    """404: the object does not exist (or no longer does)."""


class APIConflict(APIError):
    """409: a stale resourceVersion, or an object that already exists."""


class APITooManyRequests(APIError):
    """429: throttled, or an eviction that would violate a PodDisruptionBudget."""


class APIRejected(APIError, PermanentError):
    """The API refused the request as such (bad patch, invalid object, forbidden): retrying the
    same request cannot succeed."""

    http_status = 400


PERMANENT_API_STATUSES = frozenset({400, 403, 405, 410, 415, 422})


def api_error_for_status(status: int, message: str, *, payload: object = None, delay: float | None = None) -> APIError:
    """Build the most specific :class:`APIError` subclass for an HTTP status."""
    if status in PERMANENT_API_STATUSES:
        return APIRejected(status, message, payload=payload, delay=delay)
    cls = {404: APINotFound, 409: APIConflict, 429: APITooManyRequests}.get(status, APIError)
    return cls(status, message, payload=payload, delay=delay)
