"""What remediate reports: Outcome (with its Changes), Verification and Notification
(io.kubeskippy.outcome, .verification, .notification).

Import these from :mod:`kubeskippy.events.model`, which loads this module on first use (detect
and analyze's first events need none of them).
"""

from typing import Any, Literal

from pydantic import ConfigDict, Field

from ..types import ChangeType, Timestamp, new_dict, new_list
from .model import EventModel, ObjectRef

__all__ = ["Change", "OutcomeAttribution", "Outcome", "Verification", "Notification"]


class Change(EventModel):
    """One field of one object changed from old to new (mirrors HealingAction ResourceChange)."""

    resource_ref: str
    change_type: ChangeType
    field: str = ""
    old_value: str = ""
    new_value: str = ""


class OutcomeAttribution(EventModel):
    """What the plan said about the action an Outcome reports: enough for learning to score the
    action without having noted the plan beforehand."""

    workload: ObjectRef = Field(description="The finding's workload (the plan's finding.workload)")
    root_cause: str = Field(description="The plan's root cause category")
    action_kind: str = Field(description="The analyzer's kind of the action (restart, raise_limit, rollback, ...)")


class Outcome(EventModel):
    """What happened to one planned action (io.kubeskippy.outcome)."""

    id: str
    plan_id: str
    finding_fingerprint: str
    policy: str
    action: str
    action_type: str
    target: ObjectRef
    status: Literal[
        "executed", "dry_run", "monitored", "pending_approval", "blocked", "failed", "duplicate", "cancelled"
    ]
    reason: str = ""
    message: str = ""
    changes: list[Change] = Field(default_factory=new_list)
    healing_action: str | None = Field(default=None, description="namespace/name of the HealingAction object")
    details: dict[str, Any] = Field(default_factory=new_dict, description="Action-specific data, e.g. captured "
                                    "diagnostics (status, events, log tails) or pods a drain left in place")
    attribution: OutcomeAttribution | None = Field(default=None, description="The plan's workload, root cause "
                                                   "and action kind, when the outcome answers a plan")
    at: Timestamp


class Verification(EventModel):
    """Whether the target became healthy after an action (io.kubeskippy.verification)."""

    # Built on first use, not at import: remediate's first plan reports Outcomes only, and building
    # Verification and Notification cost its cold start ~4 M instructions.
    model_config = ConfigDict(defer_build=True)

    id: str
    plan_id: str
    outcome_id: str
    finding_fingerprint: str
    target: ObjectRef
    healthy: bool
    detail: str = ""
    started_at: Timestamp
    checked_at: Timestamp


class Notification(EventModel):
    """A message for people or their tooling (io.kubeskippy.notification)."""

    model_config = ConfigDict(defer_build=True)  # see Verification

    id: str
    severity: Literal["info", "warning", "critical"] = "warning"
    title: str
    message: str
    target: ObjectRef | None = None
    plan_id: str | None = None
    finding_fingerprint: str | None = None
    at: Timestamp
