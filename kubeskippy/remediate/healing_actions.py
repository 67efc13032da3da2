"""HealingAction objects: how remediation records, claims and finishes every action.

One HealingAction per plan step (its name derives from the step id). Its status moves
Pending → Approved → InProgress → Succeeded | Failed | Cancelled, and every move is a
compare-and-swap on ``metadata.resourceVersion`` through the status subresource: whoever wins the
write to InProgress owns the execution; a loser re-reads and re-decides.

Bookkeeping that has no field in KubeSkippy's published schema lives in ``status.result.metrics``
(a string map the CRD already has), keys prefixed ``kubeskippy.io/``: the intent, the holder and
its lease, whether the intent was applied, the outcome, and verification state. So everything a
restarted or scaled-from-zero replica needs is in the object, none of it in process memory.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..clock import from_rfc3339
from ..errors import APIConflict, APINotFound, TemporaryError
from ..events.model import Change, ObjectRef, Outcome, PlannedAction, stable_id
from ..events.remediation import OutcomeAttribution
from ..jsoncopy import copy_json
from ..policy.model import API_VERSION, HealingActionTemplate, HealingPolicy
from ..ports import Cluster
from ..types import to_timestamp_text
from .naming import (ANN_APPLIED_INTENT, ANN_APPROVAL_EXPIRES, ANN_ATTRIBUTION, ANN_FINDING_FINGERPRINT, ANN_MODE,
                     ANN_PLAN_ID, ANN_PLANNED_ACTION, ANN_STEP_ID, ANN_TRIGGER, ANN_WORKLOAD, LABEL_ACTION_TYPE,
                     LABEL_MANAGED_BY, LABEL_POLICY, LABEL_POLICY_NAMESPACE, LABEL_TARGET_KIND, LABEL_TARGET_NAME,
                     LABEL_VERIFICATION, MANAGED_BY, label_value)
from .objects import meta

__all__ = [
    "KIND",
    "M_INTENT", "M_HOLDER", "M_LEASE_EXPIRES", "M_APPLIED", "M_OUTCOME", "M_REASON",
    "M_VERIFY", "M_VERIFY_DEADLINE", "M_VERIFY_STARTED", "M_VERIFY_BASELINE",
    "build_healing_action",
    "phase_of", "status_of", "metrics_of", "annotation", "planned_action_of", "workload_of", "target_of",
    "attribution_of",
    "set_condition", "ts", "parse_ts",
    "get_healing_action", "create_or_get", "cas_status",
    "outcome_from_record", "changes_to_status", "changes_from_status", "intent_of",
    "applied_before_record",
]

KIND = "HealingAction"
M_INTENT = "kubeskippy.io/intent"
M_HOLDER = "kubeskippy.io/holder"
M_LEASE_EXPIRES = "kubeskippy.io/lease-expires"
M_APPLIED = "kubeskippy.io/applied"
M_OUTCOME = "kubeskippy.io/outcome"
M_REASON = "kubeskippy.io/reason"
M_VERIFY = "kubeskippy.io/verification"
M_VERIFY_DEADLINE = "kubeskippy.io/verification-deadline"
M_VERIFY_STARTED = "kubeskippy.io/verification-started"
M_VERIFY_BASELINE = "kubeskippy.io/verification-baseline"

_CAS_ATTEMPTS = 8


def ts(when: float) -> str:
    return to_timestamp_text(when)


def parse_ts(text: str | None) -> float | None:
    return from_rfc3339(text) if text else None


def build_healing_action(*, name: str, namespace: str, step_id: str, plan_id: str, fingerprint: str, trigger: str,
                         policy: HealingPolicy, template: HealingActionTemplate, planned: PlannedAction,
                         action_type: str, target: dict, workload: ObjectRef, mode: str, approval_required: bool,
                         dry_run: bool, timeout: float, approval_expires: float | None,
                         verification: bool, attribution: OutcomeAttribution | None = None,
                         applied_intent: dict | None = None) -> dict:
    """The HealingAction as created (no status: the status subresource is written separately).
    ``applied_intent``: the intent of an action that already ran (see ANN_APPLIED_INTENT)."""
    t = meta(target)
    annotations = {
        ANN_STEP_ID: step_id, ANN_PLAN_ID: plan_id, ANN_FINDING_FINGERPRINT: fingerprint, ANN_TRIGGER: trigger,
        ANN_PLANNED_ACTION: planned.model_dump_json(), ANN_WORKLOAD: workload.model_dump_json(exclude_none=True),
        ANN_MODE: mode,
    }
    if approval_expires is not None:
        annotations[ANN_APPROVAL_EXPIRES] = ts(approval_expires)
    if attribution is not None:
        annotations[ANN_ATTRIBUTION] = attribution.model_dump_json()
    if applied_intent is not None:
        annotations[ANN_APPLIED_INTENT] = json.dumps(applied_intent, sort_keys=True)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                LABEL_MANAGED_BY: MANAGED_BY,
                LABEL_POLICY: label_value(policy.name),
                LABEL_POLICY_NAMESPACE: label_value(policy.namespace),
                LABEL_TARGET_KIND: label_value(target.get("kind", "")),
                LABEL_TARGET_NAME: label_value(t.get("name", "")),
                LABEL_ACTION_TYPE: label_value(action_type),
                LABEL_VERIFICATION: "pending" if verification else "none",
            },
            "annotations": annotations,
        },
        "spec": {
            "policyRef": {"name": policy.name, "namespace": policy.namespace,
                          **({"uid": policy.metadata.uid} if policy.metadata.uid else {})},
            "targetResource": {k: v for k, v in {
                "apiVersion": target.get("apiVersion", ""), "kind": target.get("kind", ""), "name": t.get("name", ""),
                "namespace": t.get("namespace", ""), "uid": t.get("uid", "")}.items() if v or k in ("apiVersion",
                                                                                                   "kind", "name")},
            "action": template.to_json_dict(),
            "approvalRequired": approval_required,
            "dryRun": dry_run,
            "timeout": f"{int(timeout)}s",
        },
    }


def status_of(obj: dict) -> dict:
    return obj.get("status") or {}


def phase_of(obj: dict) -> str:
    return status_of(obj).get("phase") or "Pending"


def metrics_of(obj: dict) -> dict[str, str]:
    return (status_of(obj).get("result") or {}).get("metrics") or {}


def annotation(obj: dict, key: str, default: str = "") -> str:
    return (meta(obj).get("annotations") or {}).get(key, default)


def planned_action_of(obj: dict) -> PlannedAction:
    return PlannedAction.model_validate_json(annotation(obj, ANN_PLANNED_ACTION))


def workload_of(obj: dict) -> ObjectRef:
    return ObjectRef.model_validate_json(annotation(obj, ANN_WORKLOAD))


def attribution_of(obj: dict) -> OutcomeAttribution | None:
    """The step's attribution as recorded; None when absent (older records, steps without a
    plan's attribution) or unreadable (an edited annotation must not stop the step)."""
    text = annotation(obj, ANN_ATTRIBUTION)
    if not text:
        return None
    try:
        return OutcomeAttribution.model_validate_json(text)
    except ValueError:
        return None


def target_of(obj: dict) -> ObjectRef:
    t = (obj.get("spec") or {}).get("targetResource") or {}
    return ObjectRef(api_version=t.get("apiVersion", ""), kind=t.get("kind", ""), name=t.get("name", ""),
                     namespace=t.get("namespace") or None, uid=t.get("uid") or None)


def set_condition(status: dict, ctype: str, value: str, reason: str, message: str, now: float) -> None:
    """Add or update one condition; lastTransitionTime moves only when the value changes."""
    conditions = status.setdefault("conditions", [])
    for c in conditions:
        if c.get("type") == ctype:
            if c.get("status") != value:
                c["lastTransitionTime"] = ts(now)
            c.update({"status": value, "reason": reason, "message": message[:1024]})
            return
    conditions.append({"type": ctype, "status": value, "reason": reason, "message": message[:1024],
                       "lastTransitionTime": ts(now)})


def changes_to_status(changes: list[Change], now: float) -> list[dict]:
    return [{"resourceRef": c.resource_ref, "changeType": c.change_type, "field": c.field,
             "oldValue": c.old_value, "newValue": c.new_value, "timestamp": ts(now)} for c in changes]


def changes_from_status(obj: dict) -> list[Change]:
    return [Change(resource_ref=c.get("resourceRef", ""), change_type=c.get("changeType", "update"),
                   field=c.get("field", ""), old_value=c.get("oldValue", ""), new_value=c.get("newValue", ""))
            for c in (status_of(obj).get("result") or {}).get("changes") or []]


def get_healing_action(cluster: Cluster, namespace: str, name: str) -> dict | None:
    try:
        return cluster.get(API_VERSION, KIND, name, namespace)
    except APINotFound:
        return None


def create_or_get(cluster: Cluster, obj: dict) -> tuple[dict, bool]:
    """Create the HealingAction, or return the existing one of that name (a redelivery)."""
    try:
        return cluster.create(obj), True
    except APIConflict:
        existing = get_healing_action(cluster, meta(obj)["namespace"], meta(obj)["name"])
        if existing is None:  # deleted between our create and get: let the caller retry
            raise TemporaryError(f"HealingAction {meta(obj)['name']} vanished while being created") from None
        return existing, False


def cas_status(cluster: Cluster, obj: dict, decide: Callable[[dict], dict | None]) -> tuple[dict, bool]:
    """Compare-and-swap the status: ``decide`` gets a copy of the current object and returns the
    new status, or None when the transition no longer applies. On 409 the object is re-read and
    ``decide`` runs again on the fresh copy. Returns (object, whether our write won)."""
    current = obj
    for _ in range(_CAS_ATTEMPTS):
        candidate = copy_json(current)  # a status write copies the whole HealingAction
        new_status = decide(candidate)
        if new_status is None:
            return current, False
        candidate["status"] = new_status
        try:
            return cluster.replace(candidate, subresource="status"), True
        except APIConflict:
            fresh = get_healing_action(cluster, meta(current)["namespace"], meta(current)["name"])
            if fresh is None:
                raise TemporaryError(f"HealingAction {meta(current)['name']} was deleted while being updated") from None
            current = fresh
    raise TemporaryError(f"HealingAction {meta(obj)['name']}: status kept changing under us "
                         f"({_CAS_ATTEMPTS} conflicts); retry later", delay=1.0)


def outcome_from_record(obj: dict, *, status: str | None = None, reason: str | None = None,
                        message: str | None = None, at: float | None = None,
                        details: dict[str, Any] | None = None) -> Outcome:
    """The Outcome a HealingAction stands for. With no overrides it re-creates the outcome
    recorded when the step finished — same id — so a replayed plan yields the same outcome."""
    m = metrics_of(obj)
    s = status_of(obj)
    status = status or m.get(M_OUTCOME) or "failed"
    result = s.get("result") or {}
    when = at if at is not None else (parse_ts(s.get("completionTime")) or parse_ts(s.get("lastAttemptTime")) or 0.0)
    planned = planned_action_of(obj)
    step_id = annotation(obj, ANN_STEP_ID)
    labels = meta(obj).get("labels") or {}
    policy_ref = (obj.get("spec") or {}).get("policyRef") or {}
    return Outcome(
        id=stable_id("outcome", step_id, status),
        plan_id=annotation(obj, ANN_PLAN_ID),
        finding_fingerprint=annotation(obj, ANN_FINDING_FINGERPRINT),
        policy=f"{policy_ref.get('namespace', '')}/{policy_ref.get('name', '')}",
        action=planned.action,
        action_type=labels.get(LABEL_ACTION_TYPE, planned.type),
        target=target_of(obj),
        status=status,
        reason=reason if reason is not None else m.get(M_REASON, ""),
        message=message if message is not None else result.get("message", ""),
        changes=changes_from_status(obj),
        healing_action=f"{meta(obj).get('namespace')}/{meta(obj).get('name')}",
        details=details or {},
        at=when,
        attribution=attribution_of(obj),
    )


def intent_of(obj: dict) -> dict | None:
    """The step's intent: as its claim recorded it, else as it was applied before the record."""
    text = metrics_of(obj).get(M_INTENT) or annotation(obj, ANN_APPLIED_INTENT)
    return json.loads(text) if text else None


def applied_before_record(obj: dict) -> bool:
    """The action ran before this record was created (ANN_APPLIED_INTENT)."""
    return bool(annotation(obj, ANN_APPLIED_INTENT))
