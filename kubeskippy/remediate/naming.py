"""Deterministic names, labels and annotations of the objects remediation writes.

Every name is derived from the plan step id, so a redelivered plan, a retry after a crash and an
approval arriving on another replica all find the same HealingAction and the same Kubernetes
Event instead of creating a second one.
"""

from __future__ import annotations

import re

from ..events.model import Plan, PlannedAction, stable_id
# On a HealingPolicy: params of custom actions. One key, defined with the policy vocabulary.
from ..policy.action_kinds import CUSTOM_ACTIONS_ANNOTATION as ANN_CUSTOM_ACTIONS

__all__ = [
    "MANAGED_BY",
    "LABEL_MANAGED_BY",
    "LABEL_POLICY",
    "LABEL_POLICY_NAMESPACE",
    "LABEL_TARGET_KIND",
    "LABEL_TARGET_NAME",
    "LABEL_ACTION_TYPE",
    "LABEL_VERIFICATION",
    "ANN_STEP_ID",
    "ANN_PLAN_ID",
    "ANN_FINDING_FINGERPRINT",
    "ANN_TRIGGER",
    "ANN_PLANNED_ACTION",
    "ANN_WORKLOAD",
    "ANN_MODE",
    "ANN_APPROVAL_EXPIRES",
    "ANN_APPLIED_INTENT",
    "ANN_CUSTOM_ACTIONS",
    "plan_steps",
    "healing_action_name",
    "event_name",
    "label_value",
]

MANAGED_BY = "kubeskippy"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_POLICY = "kubeskippy.io/policy"
LABEL_POLICY_NAMESPACE = "kubeskippy.io/policy-namespace"
LABEL_TARGET_KIND = "kubeskippy.io/target-kind"
LABEL_TARGET_NAME = "kubeskippy.io/target-name"
LABEL_ACTION_TYPE = "kubeskippy.io/action-type"
LABEL_VERIFICATION = "kubeskippy.io/verification"  # pending | done | none

ANN_STEP_ID = "kubeskippy.io/step-id"
ANN_PLAN_ID = "kubeskippy.io/plan-id"
ANN_FINDING_FINGERPRINT = "kubeskippy.io/finding-fingerprint"
ANN_TRIGGER = "kubeskippy.io/trigger"
ANN_PLANNED_ACTION = "kubeskippy.io/planned-action"  # the PlannedAction as JSON: an approval re-runs it
ANN_WORKLOAD = "kubeskippy.io/workload"  # ObjectRef JSON: the ledger's key for leases/cooldowns
ANN_MODE = "kubeskippy.io/mode"
ANN_APPROVAL_EXPIRES = "kubeskippy.io/approval-expires-at"
ANN_APPLIED_INTENT = "kubeskippy.io/applied-intent"
"""The intent (JSON) of an observe-only action that ran before its record was made (a capture taken
ahead of the plan's changes): whoever drives the record later knows it was applied and with what."""
ANN_ATTRIBUTION = "kubeskippy.io/attribution"  # OutcomeAttribution JSON: learning scores outcomes of later drives

_LABEL_OK = re.compile(r"[^A-Za-z0-9._-]+")


def plan_steps(plan: Plan) -> list[tuple[str, PlannedAction]]:
    """Each planned action with its step id: ``plan id + ':' + action name`` (the ledger's
    idempotency key). A second step with the same action name in one plan gets ``#2``, ``#3``…
    so the ids stay unique and stable across redeliveries."""
    seen: dict[str, int] = {}
    steps: list[tuple[str, PlannedAction]] = []
    for planned in plan.actions:
        seen[planned.action] = seen.get(planned.action, 0) + 1
        n = seen[planned.action]
        step = f"{plan.id}:{planned.action}" + (f"#{n}" if n > 1 else "")
        steps.append((step, planned))
    return steps


def healing_action_name(step_id: str, action_name: str) -> str:
    """``<action name>-<hash of step id>``: readable in ``kubectl get ha`` and deterministic."""
    base = re.sub(r"[^a-z0-9-]+", "-", action_name.lower()).strip("-")[:40].strip("-") or "action"
    return f"{base}-{stable_id('healing-action', step_id, length=12)}"


def event_name(target_name: str, step_id: str, reason: str) -> str:
    """``<target>.<hash>`` like the kubelet's event names; one Event per step and reason."""
    base = re.sub(r"[^a-z0-9.-]+", "-", target_name.lower())[:200].strip("-.") or "object"
    return f"{base}.{stable_id('event', step_id, reason, length=16)}"


def label_value(text: str) -> str:
    """A valid label value (≤ 63 chars, alphanumeric at both ends); long values keep a hash suffix
    so two long names never collapse into one."""
    clean = _LABEL_OK.sub("-", text).strip("-._")
    if len(clean) <= 63:
        return clean
    return clean[:50].strip("-._") + "-" + stable_id("label", text, length=12)
