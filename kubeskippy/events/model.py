"""The CloudEvent payloads KubeSkippy defines (io.kubeskippy.*).

These models are the contracts between the four functions and the simulator: detect emits
Findings, analyze emits Plans, remediate emits Outcomes, Verifications and Notifications, and
Alerts enter from Alertmanager. Ids are deterministic (derived from content), so an
at-least-once redelivery is recognised downstream.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..types import Timestamp

__all__ = [
    "EventModel",
    "ObjectRef",
    "Alert",
    "Evidence",
    "Finding",
    "RootCause",
    "PlannedAction",
    "RejectedSuggestion",
    "Plan",
    "Change",
    "Outcome",
    "Verification",
    "Notification",
    "stable_id",
    "ROOT_CAUSES",
    "OUTCOME_STATUSES",
]


def stable_id(*parts: Any, length: int = 24) -> str:
    """A deterministic id from content: the same inputs always give the same id."""
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:length]


class EventModel(BaseModel):
    """Base for event payloads: snake_case on the wire, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectRef(EventModel):
    """A Kubernetes object by identity."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None
    uid: str | None = None

    @classmethod
    def of(cls, obj: dict) -> "ObjectRef":
        meta = obj.get("metadata") or {}
        return cls(api_version=obj.get("apiVersion", "v1"), kind=obj.get("kind", ""), name=meta.get("name", ""),
                   namespace=meta.get("namespace"), uid=meta.get("uid"))

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


class Alert(EventModel):
    """One Prometheus alert from an Alertmanager webhook (io.kubeskippy.alert.firing/.resolved)."""

    status: Literal["firing", "resolved"]
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: Timestamp
    ends_at: Timestamp | None = None
    fingerprint: str
    generator_url: str = ""
    receiver: str = ""
    group_key: str = ""

    @property
    def id(self) -> str:
        """Deterministic: a resend of the same alert state gets the same id."""
        return stable_id("alert", self.fingerprint, self.starts_at, self.status)


class Evidence(EventModel):
    """One observation that supports a finding or a root cause."""

    kind: Literal["metric", "event", "condition", "state", "trend", "rollout", "alert", "context"]
    description: str
    value: float | None = None
    threshold: float | None = None
    since: Timestamp | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Finding(EventModel):
    """A trigger of a policy breached by one target (io.kubeskippy.finding)."""

    id: str
    policy: str = Field(description="namespace/name of the HealingPolicy")
    trigger: str
    trigger_type: Literal["metric", "event", "condition"]
    target: ObjectRef = Field(description="The object that breached (e.g. the Pod)")
    owner_chain: list[ObjectRef] = Field(default_factory=list, description="target's owners, nearest first")
    fingerprint: str = Field(description="Stable per policy × trigger × top owner: one workload, one finding")
    evidence: list[Evidence] = Field(default_factory=list)
    observed_at: Timestamp
    source_event_id: str | None = None

    @property
    def workload(self) -> ObjectRef:
        """The top of the owner chain (the Deployment of a Pod), or the target itself."""
        return self.owner_chain[-1] if self.owner_chain else self.target


ROOT_CAUSES = (
    "memory_leak",
    "memory_limit_too_low",
    "crash_loop_after_rollout",
    "crash_loop_config",
    "cpu_saturation",
    "failing_probes",
    "image_pull_failure",
    "node_pressure",
    "error_rate_spike",
    "unknown",
)


class RootCause(EventModel):
    category: str = Field(description="One of ROOT_CAUSES")
    confidence: float = Field(ge=0.0, le=1.0)
    explanation: str
    evidence: list[Evidence] = Field(default_factory=list)


class PlannedAction(EventModel):
    """One step of a plan: a policy action (by name) applied to one target."""

    action: str = Field(description="Name of the HealingActionTemplate in the policy")
    type: str = Field(description="restart, scale, patch, delete, custom, or an extended type")
    target: ObjectRef
    params: dict[str, Any] = Field(default_factory=dict, description="Action parameters (camelCase, as in the policy)")
    reason: str = ""
    requires_approval: bool = False


class RejectedSuggestion(EventModel):
    """Something an analyzer suggested that the guard refused, and why."""

    suggestion: dict[str, Any]
    reason: str


class Plan(EventModel):
    """Root cause and ordered actions for one finding (io.kubeskippy.plan)."""

    id: str
    finding: Finding
    root_cause: RootCause
    analyzer: str = Field(description="rules, ollama or openai")
    actions: list[PlannedAction] = Field(default_factory=list)
    rejected: list[RejectedSuggestion] = Field(default_factory=list)
    created_at: Timestamp
    notes: list[str] = Field(default_factory=list, description="How the plan came about: fallbacks, cache hits, "
                                                             "learning preferences, escalation")


class Change(EventModel):
    """One field of one object changed from old to new (mirrors HealingAction ResourceChange)."""

    resource_ref: str
    change_type: Literal["create", "update", "delete", "patch", "scale"]
    field: str = ""
    old_value: str = ""
    new_value: str = ""


OUTCOME_STATUSES = (
    "executed",  # the change was made
    "dry_run",  # server-side dry run: intended change recorded, nothing changed
    "monitored",  # monitor mode: recorded only
    "pending_approval",  # a HealingAction waits for approval
    "blocked",  # a safety rule said no (reason names it)
    "failed",  # tried and failed permanently
    "duplicate",  # this plan step had already been executed
    "cancelled",  # rejected or expired approval
)


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
    changes: list[Change] = Field(default_factory=list)
    healing_action: str | None = Field(default=None, description="namespace/name of the HealingAction object")
    details: dict[str, Any] = Field(default_factory=dict, description="Action-specific data, e.g. captured "
                                    "diagnostics (status, events, log tails) or pods a drain left in place")
    at: Timestamp


class Verification(EventModel):
    """Whether the target became healthy after an action (io.kubeskippy.verification)."""

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

    id: str
    severity: Literal["info", "warning", "critical"] = "warning"
    title: str
    message: str
    target: ObjectRef | None = None
    plan_id: str | None = None
    finding_fingerprint: str | None = None
    at: Timestamp
