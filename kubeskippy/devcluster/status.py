"""Errors the way the Kubernetes API server reports them: a ``Status`` object with a reason.

The engine raises :mod:`kubeskippy.errors` API errors whose ``payload`` is the exact ``Status``
document the real API server would send, so the in-process :class:`MemoryCluster` can let them
propagate unchanged and the HTTP server can write the payload as the response body.

Messages follow the API server's wording (``pods "web-1" not found``) because callers and humans
grep for them.
"""

from __future__ import annotations

from typing import Any

from ..errors import APIError, api_error_for_status
from ..kinds import KindInfo

__all__ = [
    "REASON_BY_CODE",
    "status_document",
    "status_error",
    "not_found",
    "already_exists",
    "conflict",
    "invalid",
    "bad_request",
    "gone",
    "too_many_requests",
    "unsupported_media_type",
    "method_not_allowed",
    "forbidden",
    "unauthorized",
    "internal_error",
    "cause",
]

REASON_BY_CODE: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def cause(field: str, message: str, reason: str = "FieldValueInvalid") -> dict[str, str]:
    """One entry of ``details.causes`` (what ``kubectl`` prints under a 422)."""
    return {"reason": reason, "message": message, "field": field}


def status_document(code: int, message: str, *, reason: str | None = None,
                    details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``v1 Status`` with ``status: Failure``, as the API server writes for every error."""
    doc: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASON_BY_CODE.get(code, "Unknown"),
        "code": code,
    }
    if details:
        doc["details"] = details
    return doc


def status_error(code: int, message: str, *, reason: str | None = None,
                 details: dict[str, Any] | None = None) -> APIError:
    """The kubeskippy API error for ``code`` carrying the Status document as its payload."""
    doc = status_document(code, message, reason=reason, details=details)
    return api_error_for_status(code, message, payload=doc)


def _details(info: KindInfo | None, name: str | None, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if info is not None:
        if info.group:
            d["group"] = info.group
        d["kind"] = info.plural
    d.update({k: v for k, v in extra.items() if v is not None})
    return d


def _resource(info: KindInfo) -> str:
    return f"{info.plural}.{info.group}" if info.group else info.plural


def not_found(info: KindInfo, name: str) -> APIError:
    return status_error(404, f'{_resource(info)} "{name}" not found', details=_details(info, name))


def already_exists(info: KindInfo, name: str) -> APIError:
    return status_error(409, f'{_resource(info)} "{name}" already exists', reason="AlreadyExists",
                        details=_details(info, name))


def conflict(info: KindInfo, name: str, why: str = "the object has been modified; please apply "
             "your changes to the latest version and try again") -> APIError:
    return status_error(409, f'Operation cannot be fulfilled on {_resource(info)} "{name}": {why}',
                        reason="Conflict", details=_details(info, name))


def invalid(info: KindInfo | None, name: str | None, causes: list[dict[str, str]]) -> APIError:
    kind = info.kind if info else "Object"
    summary = ", ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
    message = f'{kind} "{name or ""}" is invalid: {summary}' if len(causes) == 1 else \
        f'{kind} "{name or ""}" is invalid: [{summary}]'
    details = _details(info, name, causes=causes)
    if info is not None:
        details["kind"] = info.kind  # a 422 names the Kind, not the resource
    return status_error(422, message, details=details)


def bad_request(message: str) -> APIError:
    return status_error(400, message)


def gone(message: str) -> APIError:
    return status_error(410, message, reason="Expired")


def too_many_requests(message: str, causes: list[dict[str, str]] | None = None,
                      retry_after: int | None = None) -> APIError:
    details: dict[str, Any] = {}
    if causes:
        details["causes"] = causes
    if retry_after is not None:
        details["retryAfterSeconds"] = retry_after
    return status_error(429, message, details=details or None)


def unsupported_media_type(message: str) -> APIError:
    return status_error(415, message)


def method_not_allowed(message: str) -> APIError:
    return status_error(405, message)


def forbidden(user: str, verb: str, resource: str, group: str, namespace: str | None,
              name: str | None = None, subresource: str | None = None) -> APIError:
    res = f"{resource}/{subresource}" if subresource else resource
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    subject = f'{resource} "{name}"' if name else resource
    message = f'{subject} is forbidden: User "{user}" cannot {verb} resource "{res}" in API group "{group}"{where}'
    details: dict[str, Any] = {"kind": resource}
    if group:
        details["group"] = group
    if name:
        details["name"] = name
    return status_error(403, message, details=details)


def unauthorized(message: str = "Unauthorized") -> APIError:
    return status_error(401, message)


def internal_error(message: str) -> APIError:
    return status_error(500, f"Internal error occurred: {message}")
