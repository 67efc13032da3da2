"""Values that flow between the executor and the actions.

An action works in two phases so that a retry after a crash changes the world at most once:
``prepare`` reads live state and returns an *intent* (plain JSON, stored in the HealingAction
before anything is written), and ``apply`` carries out exactly that intent — idempotently, so
applying a stored intent a second time is a no-op.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple

from ..clock import Clock
from ..events.model import Change, ObjectRef
from ..ports import Cluster, fan_out
from ..slot_record import SlotRecord

__all__ = ["ActionContext", "ActionReport", "Intent", "change", "value_text", "ref_text"]

Intent = dict[str, Any]
"""What an action will do, as JSON: small, self-contained, replayable."""


class ActionContext(NamedTuple):
    """Everything an action may use. ``stamp`` is the action's first start time, kept in the
    HealingAction, so values derived from it (the restartedAt annotation) are the same on a
    re-drive. ``is_protected`` lets multi-object actions (drain) skip protected objects."""

    cluster: Cluster
    clock: Clock
    dry_run: bool
    step_id: str
    reason: str
    stamp: float
    holder: str = "kubeskippy"
    is_protected: Any = None  # Callable[[dict], str | None] | None
    fanout: Any = None
    """Callable running independent reads at once, results in order (None: one after another)."""

    def all_of(self, calls: list) -> list:
        """Run independent reads through ``fanout`` (at once when there is one)."""
        return fan_out(self.fanout, calls)


class ActionReport(SlotRecord):
    """What ``apply`` did. ``blocked`` names why nothing could be done right now (e.g. a
    PodDisruptionBudget) — the executor reports that as a blocked outcome, not a crash."""

    __slots__ = ("message", "changes", "details", "blocked", "notification", "metrics")

    def __init__(self, message: str, changes: list[Change] | None = None, details: dict[str, Any] | None = None,
                 blocked: str | None = None, notification: Mapping[str, str] | None = None,
                 metrics: dict[str, str] | None = None) -> None:
        self.message = message
        self.changes: list[Change] = changes if changes is not None else []
        self.details: dict[str, Any] = details if details is not None else {}
        self.blocked = blocked
        self.notification = notification  # {"severity", "title", "message"}
        self.metrics: dict[str, str] = metrics if metrics is not None else {}


def value_text(value: Any) -> str:
    """Old/new values as text: scalars plainly, structures as compact JSON, absent as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def ref_text(obj_or_ref: dict | ObjectRef) -> str:
    """``Kind/namespace/name`` (the ResourceChange.resourceRef convention)."""
    if isinstance(obj_or_ref, ObjectRef):
        return str(obj_or_ref)
    meta = obj_or_ref.get("metadata") or {}
    ns = meta.get("namespace")
    kind = obj_or_ref.get("kind", "?")
    return f"{kind}/{ns}/{meta.get('name', '?')}" if ns else f"{kind}/{meta.get('name', '?')}"


def change(target: dict | ObjectRef, change_type: str, field_path: str, old: Any, new: Any) -> Change:
    return Change(resource_ref=ref_text(target), change_type=change_type, field=field_path,
                  old_value=value_text(old), new_value=value_text(new))
