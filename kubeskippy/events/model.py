"""The CloudEvent payloads KubeSkippy defines (io.kubeskippy.*).

These models are the contracts between the four functions and the simulator: detect emits
Findings, analyze emits Plans, remediate emits Outcomes, Verifications and Notifications, and
Alerts enter from Alertmanager. Ids are deterministic (derived from content), so an
at-least-once redelivery is recognised downstream.

Import every payload model from here. What a Finding holds is defined in this module; Alert,
the Plan models and the models remediate reports with live in :mod:`.alert`, :mod:`.plan` and
:mod:`.remediation` and load on first use of their names here, so each function builds only the
models its first event touches (detect, for one, never builds a Plan). Annotations are plain
objects rather than strings, which pydantic need not evaluate. See docs/functions.md, "Cold start".
"""

import hashlib
import importlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..types import Timestamp, new_dict, new_list

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


class Evidence(EventModel):
    """One observation that supports a finding or a root cause."""

    kind: Literal["metric", "event", "condition", "state", "trend", "rollout", "alert", "context"]
    description: str
    value: float | None = None
    threshold: float | None = None
    since: Timestamp | None = None
    details: dict[str, Any] = Field(default_factory=new_dict)


class Finding(EventModel):
    """A trigger of a policy breached by one target (io.kubeskippy.finding)."""

    id: str
    policy: str = Field(description="namespace/name of the HealingPolicy")
    trigger: str
    trigger_type: Literal["metric", "event", "condition"]
    target: ObjectRef = Field(description="The object that breached (e.g. the Pod)")
    owner_chain: list[ObjectRef] = Field(default_factory=new_list, description="target's owners, nearest first")
    fingerprint: str = Field(description="Stable per policy × trigger × top owner: one workload, one finding")
    evidence: list[Evidence] = Field(default_factory=new_list)
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


_LAZY = {
    "Alert": ".alert",
    "RootCause": ".plan", "PlannedAction": ".plan", "RejectedSuggestion": ".plan", "Plan": ".plan",
    "Change": ".remediation", "Outcome": ".remediation", "Verification": ".remediation",
    "Notification": ".remediation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        return getattr(importlib.import_module(module, __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
