"""Our own sample events, built from the real payload models so the audit code sees exactly what
the functions emit."""

from __future__ import annotations

import base64
from typing import Any

from kubeskippy.events import types as t
from kubeskippy.events.model import Finding, ObjectRef, Outcome, Plan, RootCause, Verification
from kubeskippy.types import to_timestamp_text

T0 = 1_795_287_600.0  # 2026-11-21T19:00:00Z

POD = ObjectRef(api_version="v1", kind="Pod", name="web-7d4-abc", namespace="shop")
OTHER_POD = ObjectRef(api_version="v1", kind="Pod", name="cart-55f-xyz", namespace="shop")
DEPLOY = ObjectRef(api_version="apps/v1", kind="Deployment", name="web", namespace="shop")


def cloudevent(event_type: str, event_id: str, data: Any, *, at: float | None, source: str = "detect",
               **extensions: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"specversion": "1.0", "id": event_id, "source": t.source_for(source),
                             "type": event_type, "datacontenttype": "application/json", "data": data,
                             **extensions}
    if at is not None:
        event["time"] = to_timestamp_text(at)
    return event


def finding(fingerprint: str = "fp-web", *, at: float = T0, target: ObjectRef = POD,
            policy: str = "shop/memory-guard", finding_id: str | None = None) -> Finding:
    return Finding(id=finding_id or f"f-{fingerprint}-{int(at)}", policy=policy, trigger="high-memory",
                   trigger_type="metric", target=target, owner_chain=[DEPLOY], fingerprint=fingerprint,
                   observed_at=at)


def finding_event(f: Finding) -> dict[str, Any]:
    return cloudevent(t.FINDING, f.id, f.model_dump(mode="json"), at=f.observed_at)


def plan_event(f: Finding, *, at: float) -> tuple[Plan, dict[str, Any]]:
    plan = Plan(id=f"p-{f.id}", finding=f, analyzer="rules", created_at=at,
                root_cause=RootCause(category="memory_leak", confidence=0.8, explanation="grows"))
    return plan, cloudevent(t.PLAN, plan.id, plan.model_dump(mode="json"), at=at, source="analyze")


def outcome_event(plan: Plan, *, at: float, status: str = "executed", action_type: str = "restart",
                  outcome_id: str | None = None) -> dict[str, Any]:
    f = plan.finding
    outcome = Outcome(id=outcome_id or f"o-{plan.id}-{action_type}", plan_id=plan.id,
                      finding_fingerprint=f.fingerprint, policy=f.policy, action=f"{action_type}-it",
                      action_type=action_type, target=f.target, status=status, at=at)
    return cloudevent(t.OUTCOME, outcome.id, outcome.model_dump(mode="json"), at=at, source="remediate")


def verification_event(plan: Plan, *, at: float, healthy: bool, started: float | None = None) -> dict[str, Any]:
    f = plan.finding
    v = Verification(id=f"v-{plan.id}-{int(at)}", plan_id=plan.id, outcome_id=f"o-{plan.id}",
                     finding_fingerprint=f.fingerprint, target=f.target, healthy=healthy,
                     started_at=started if started is not None else at, checked_at=at)
    return cloudevent(t.VERIFICATION, v.id, v.model_dump(mode="json"), at=at, source="remediate")


def dead_letter(original: dict[str, Any], *, code: str = "500", reply: str = "boom") -> dict[str, Any]:
    return {**original, "knativeerrorcode": code, "knativeerrordest": "http://analyze.kubeskippy.svc",
            "knativeerrordata": base64.b64encode(reply.encode()).decode()}


def healing_action_event(phase: str, resource_version: str, *, at: float, event_id: str,
                         verb: str = "update") -> dict[str, Any]:
    obj = {
        "apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingAction",
        "metadata": {"name": "memory-guard-web-1", "namespace": "shop", "resourceVersion": resource_version,
                     "uid": "7f1c", "labels": {"kubeskippy.io/plan-id": "p-1"}},
        "spec": {"policyRef": {"name": "memory-guard", "namespace": "shop"},
                 "targetResource": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                    "namespace": "shop"},
                 "action": {"name": "restart-it", "type": "restart"}},
        "status": {"phase": phase},
    }
    return cloudevent(f"dev.knative.apiserver.resource.{verb}", event_id, obj, at=at, source="apiserversource",
                      kind="HealingAction", name="memory-guard-web-1", namespace="shop")


def healing_story(fingerprint: str, *, start: float, heal_after: float | None,
                  target: ObjectRef = POD) -> list[dict[str, Any]]:
    """finding -> plan -> outcome -> (healthy verification after ``heal_after`` seconds)."""
    f = finding(fingerprint, at=start, target=target)
    plan, plan_ev = plan_event(f, at=start + 1)
    events = [finding_event(f), plan_ev, outcome_event(plan, at=start + 2)]
    if heal_after is not None:
        events.append(verification_event(plan, at=start + heal_after, healthy=True))
    return events
