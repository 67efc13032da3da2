"""Approvals: reading a decision from a HealingAction's ``status.approval`` and writing one.

A decision arrives either from ``kubeskippy approve|reject`` or from a plain
``kubectl patch healingaction NAME --subresource=status --type=merge -p
'{"status":{"approval":{"approved":true,"approvedBy":"alice","reason":"checked"}}}'``.
``approved: true`` approves. ``approved: false`` rejects only when someone signed it
(``approvedBy`` or ``reason`` set) — the undecided state we write is ``approved: false`` with
neither, as in KubeSkippy's original controller.
"""

from __future__ import annotations

from typing import Literal

from ..clock import Clock
from ..errors import Refused
from ..ports import Cluster
from .healing_actions import annotation, cas_status, parse_ts, phase_of, status_of, ts
from .naming import ANN_APPROVAL_EXPIRES

__all__ = ["Decision", "approval_decision", "approval_expired", "decide_approval"]

Decision = Literal["approved", "rejected", "undecided", "not_required"]


def approval_decision(obj: dict) -> Decision:
    if not (obj.get("spec") or {}).get("approvalRequired"):
        return "not_required"
    approval = status_of(obj).get("approval") or {}
    if approval.get("approved") is True:
        return "approved"
    if approval.get("approved") is False and (approval.get("approvedBy") or approval.get("reason")):
        return "rejected"
    return "undecided"


def approval_expired(obj: dict, now: float) -> bool:
    expires = parse_ts(annotation(obj, ANN_APPROVAL_EXPIRES) or None)
    return expires is not None and now >= expires


def decide_approval(cluster: Cluster, clock: Clock, obj: dict, *, approve: bool, by: str, reason: str = "") -> dict:
    """Record a decision on a Pending HealingAction by compare-and-swap (the CLI's path).
    Refused("not_pending") when it is not waiting for one any more."""

    def decide(current: dict) -> dict | None:
        if phase_of(current) != "Pending" or approval_decision(current) != "undecided":
            return None
        status = dict(status_of(current))
        status["approval"] = {"required": True, "approved": approve, "approvedBy": by,
                              "approvedAt": ts(clock.now()), **({"reason": reason} if reason else {})}
        return status

    result, won = cas_status(cluster, obj, decide)
    if not won:
        raise Refused("not_pending", f"HealingAction {obj['metadata']['name']} is {phase_of(result)} "
                      f"({approval_decision(result)}), not waiting for a decision")
    return result
