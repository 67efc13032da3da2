"""restart: evict or delete a Pod, or roll a workload's pods.

A Pod target is restarted alone, even when a Deployment owns it: the narrowest action that cures
one bad pod, and the Eviction API keeps the owner's PodDisruptionBudget honoured. Strategies:

| target   | rolling                          | graceful                               | recreate                     |
|----------|----------------------------------|----------------------------------------|------------------------------|
| Pod      | evict                            | evict with gracePeriodSeconds          | delete with gracePeriodSeconds |
| workload | restartedAt annotation (rollout) | evict ≤ maxConcurrent pods, with grace | delete ≤ maxConcurrent pods  |

The rollout annotation's value is the action's first start time, so a re-driven step writes the
same value and starts no second rollout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ...clock import to_rfc3339
from ...errors import APINotFound
from ...ports import Cluster
from ..model import ActionContext, ActionReport, Intent, change
from ..objects import meta, owner_of, pod_ready, pods_of, restart_count
from ..params import ParamReader
from .base import Action, evict_pod, live_pod, load_ref, ref_dict, unsupported

__all__ = ["RestartParams", "RestartAction", "RESTARTED_AT"]

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_ANNOTATION_FIELD = f"spec.template.metadata.annotations[{RESTARTED_AT}]"


@dataclass(frozen=True)
class RestartParams:
    strategy: str = "rolling"
    max_concurrent: int = 1
    grace_period_seconds: int = 30


def _restart_order(pod: dict) -> tuple:
    """Unready pods first, then the most restarted, then the oldest."""
    return (pod_ready(pod), -restart_count(pod), meta(pod).get("creationTimestamp", ""), meta(pod).get("name"))


class RestartAction(Action):
    type_name = "restart"
    kinds = frozenset({"Pod", "Deployment", "StatefulSet", "DaemonSet"})

    def parse(self, params: Mapping[str, Any]) -> RestartParams:
        r = ParamReader(params)
        p = RestartParams(
            strategy=r.choice("strategy", ("rolling", "recreate", "graceful"), "rolling") or "rolling",
            max_concurrent=r.integer("maxConcurrent", 1, minimum=1) or 1,
            grace_period_seconds=r.integer("gracePeriodSeconds", 30, minimum=0) or 0,
        )
        r.finish()
        return p

    def resolve_target(self, cluster: Cluster, live: dict) -> dict:
        if live.get("kind") == "ReplicaSet":
            owner = owner_of(cluster, live)
            if owner is not None and owner.get("kind") == "Deployment":
                return owner
        return super().resolve_target(cluster, live)

    def disrupted(self, cluster: Cluster, target: dict, params: RestartParams) -> list[str] | None:
        if target.get("kind") == "Pod" or params.strategy == "rolling":
            return None  # one pod (counted by the rule) / the controller's own rollout
        return [meta(p).get("name", "") for p in self._victims(cluster, target, params)]

    @staticmethod
    def _victims(cluster: Cluster, target: dict, params: RestartParams) -> list[dict]:
        return sorted(pods_of(cluster, target), key=_restart_order)[: params.max_concurrent]

    def prepare(self, ctx: ActionContext, target: dict, params: RestartParams) -> Intent:
        if target.get("kind") not in self.kinds:
            raise unsupported(self.type_name, target, self.kinds)
        if target.get("kind") == "Pod":
            mode = "delete" if params.strategy == "recreate" else "evict"
            grace = None if params.strategy == "rolling" else params.grace_period_seconds
            return {"mode": mode, "target": ref_dict(target), "pods": [ref_dict(target)], "grace": grace,
                    "strategy": params.strategy}
        if params.strategy == "rolling":
            return {"mode": "annotate", "target": ref_dict(target), "value": to_rfc3339(ctx.stamp),
                    "strategy": params.strategy}
        pods = self._victims(ctx.cluster, target, params)
        return {"mode": "delete" if params.strategy == "recreate" else "evict", "target": ref_dict(target),
                "pods": [ref_dict(p) for p in pods], "grace": params.grace_period_seconds,
                "strategy": params.strategy}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        if intent["mode"] == "annotate":
            return self._annotate(ctx, intent)
        return self._cycle_pods(ctx, intent)

    def _annotate(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        live = ctx.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        annotations = (((live.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations") or {}
        old = annotations.get(RESTARTED_AT)
        if old == intent["value"]:
            return ActionReport(message=f"rollout restart of {ref} already requested at {old}")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: intent["value"]}}}}}
        new = ctx.cluster.patch(ref.api_version, ref.kind, ref.name, ref.namespace, patch, patch_type="merge",
                                dry_run=ctx.dry_run)
        new_value = (((new.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
            "annotations", {}).get(RESTARTED_AT, intent["value"])
        return ActionReport(message=f"rollout restart of {ref} (strategy rolling)",
                            changes=[change(live, "patch", _ANNOTATION_FIELD, old, new_value)])

    def _cycle_pods(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        report = ActionReport(message="")
        done, gone, blocked = [], [], []
        for pod_ref in intent["pods"]:
            name = pod_ref["name"]
            if intent["mode"] == "evict":
                result, detail = evict_pod(ctx, pod_ref, intent["grace"])
            else:
                result, detail = self._delete_pod(ctx, pod_ref, intent["grace"])
            if result in ("evicted", "deleted"):
                done.append(name)
                report.changes.append(detail)
            elif result == "gone":
                gone.append(name)
            else:
                blocked.append(detail)
        verb = "evicted" if intent["mode"] == "evict" else "deleted"
        parts = [f"restart of {ref} (strategy {intent['strategy']}): {verb} {len(done)} pod(s)"
                 + (f" [{', '.join(done)}]" if done else "")]
        if gone:
            parts.append(f"already gone: {', '.join(gone)}")
        if blocked:
            parts.append("; ".join(blocked))
            report.details["blocked"] = blocked
        if not intent["pods"]:
            parts.append("no running pods to restart")
        report.message = "; ".join(parts)
        if blocked and not done:
            report.blocked = "disruption_budget"
        return report

    @staticmethod
    def _delete_pod(ctx: ActionContext, pod_ref: dict, grace: int | None) -> tuple[str, Any]:
        ref = load_ref(pod_ref)
        live = live_pod(ctx, ref)
        if live is None:
            return "gone", None
        try:
            ctx.cluster.delete("v1", "Pod", ref.name, ref.namespace, grace_period_seconds=grace, dry_run=ctx.dry_run)
        except APINotFound:
            return "gone", None
        field = "pod" + (f" (gracePeriodSeconds={grace})" if grace is not None else "")
        return "deleted", change(live, "delete", field, (live.get("status") or {}).get("phase", "present"), "deleted")
