"""Field-level differences between two versions of an object, for recording what a patch
changed (old → new) without trusting the patch text to describe itself."""

from __future__ import annotations

from typing import Any

__all__ = ["diff_fields", "IGNORED_PATHS"]

IGNORED_PATHS = (
    "metadata.resourceVersion", "metadata.generation", "metadata.managedFields", "metadata.uid",
    "metadata.creationTimestamp", "status",
)
_MAX_ENTRIES = 50


def _ignored(path: str) -> bool:
    return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") for p in IGNORED_PATHS)


def _join(prefix: str, key: str) -> str:
    if "." in key or "/" in key:
        return f"{prefix}[{key}]" if prefix else f"[{key}]"
    return f"{prefix}.{key}" if prefix else key


def diff_fields(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf paths whose value differs, as ``(path, old, new)`` (missing = None). Lists of equal
    length are compared item by item (``containers[0].image``); otherwise reported whole."""
    out: list[tuple[str, Any, Any]] = []
    _diff(old, new, prefix, out)
    return out[:_MAX_ENTRIES]


def _diff(old: Any, new: Any, path: str, out: list) -> None:
    if len(out) >= _MAX_ENTRIES or (path and _ignored(path)) or old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _diff(old.get(key), new.get(key), _join(path, str(key)), out)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            _diff(a, b, f"{path}[{i}]", out)
        return
    out.append((path, old, new))
