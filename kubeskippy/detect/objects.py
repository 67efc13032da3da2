"""Small, defensive readers for Kubernetes objects held as JSON dicts.

Objects come from the API server, the simulator or a webhook payload; any field may be missing
or malformed. These helpers never raise on a bad shape: a missing timestamp is ``None``, a
missing label map is empty, so detection can skip what it cannot read instead of crashing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from ..clock import from_rfc3339

__all__ = [
    "ObjectKey",
    "api_group",
    "key_of",
    "meta_of",
    "labels_of",
    "is_being_deleted",
    "parse_time",
]


class ObjectKey(NamedTuple):
    """Identity of an object for caches and grouping: API group (not version), kind, namespace, name.

    The version is left out on purpose: Kubernetes serves one object under several versions, and a
    policy written for ``apps/v1`` must match the same Deployment read as ``apps/v1beta2``.
    """

    group: str
    kind: str
    namespace: str
    name: str


def api_group(api_version: str | None) -> str:
    """``apps/v1`` → ``apps``; ``v1`` (the core group) → ``""``."""
    if not api_version or "/" not in api_version:
        return ""
    return api_version.split("/", 1)[0]


def meta_of(obj: dict) -> dict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def labels_of(obj: dict) -> dict:
    labels = meta_of(obj).get("labels")
    return labels if isinstance(labels, dict) else {}


def key_of(obj: dict) -> ObjectKey:
    meta = meta_of(obj)
    return ObjectKey(api_group(obj.get("apiVersion")), obj.get("kind", ""), meta.get("namespace") or "",
                     meta.get("name", ""))


def is_being_deleted(obj: dict) -> bool:
    """A set deletionTimestamp means the object is going away: healing it would be wasted work."""
    return bool(meta_of(obj).get("deletionTimestamp"))


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an RFC 3339 string (or a number); ``None`` when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            # Fast path: Python 3.11 reads "…Z" and up to 6 fraction digits itself.
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                return parsed.timestamp()
        except ValueError:
            pass
        try:
            return from_rfc3339(value)  # nanoseconds, or no offset (taken as UTC)
        except ValueError:
            return None
    return None
