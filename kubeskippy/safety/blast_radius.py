"""How many of a workload's pods may an action take down at once?

Rule: after the action, at most ``floor(replicas × max_unavailable_fraction)`` of the desired
replicas may be unavailable, but at least one when the workload has two replicas or more (with
0.34, a 2- or 3-replica workload may lose one pod, a 6-replica one two). Pods already not Ready
count as unavailable, so a degraded workload gets no further disruption.

Only READY pods count as disrupted: acting on a pod that is already broken cannot lower
availability. That gives the single-replica rule: with one replica the allowance is zero, so its
only pod may be restarted or deleted automatically only when it is not Ready (the usual
CrashLoopBackOff case); a still-Ready single pod needs a human (requiresApproval). Controller-driven
changes (a rolling restart, a template patch) are left to the controller's own
maxUnavailable/maxSurge and disrupt nothing by our count; a "recreate" restart or deleting a
workload disrupts every pod.

PodDisruptionBudgets are not evaluated here: evictions go through the Eviction API, which answers
429 when a budget forbids one (kubeskippy.errors.APITooManyRequests), and that is authoritative.
"""

from __future__ import annotations

import math
from typing import Iterable, NamedTuple

from ..errors import FieldError, InvalidInput
from ..events.model import ObjectRef
from ..kinds import object_ref
from ..ports import Cluster

__all__ = [
    "Availability",
    "pod_is_ready",
    "selector_string",
    "allowed_unavailable",
    "workload_availability",
    "disrupted_pods",
    "blast_radius_reason",
]


class Availability(NamedTuple):
    """A workload's desired replicas and its pods split by readiness, as read live."""

    workload: str
    desired: int
    ready_pods: tuple[str, ...]
    unready_pods: tuple[str, ...]

    @property
    def unavailable(self) -> int:
        return max(0, self.desired - len(self.ready_pods))

    @property
    def all_pods(self) -> tuple[str, ...]:
        return self.ready_pods + self.unready_pods


def pod_is_ready(pod: dict) -> bool:
    """Ready condition True, running, and not being deleted."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    if status.get("phase") not in (None, "Running"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def selector_string(selector: dict | None) -> str:
    """A LabelSelector as the label_selector query string of a list call."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def allowed_unavailable(desired: int, fraction: float) -> int:
    if desired <= 1:
        return 0
    return max(1, math.floor(desired * fraction + 1e-9))


def _owned_by(obj: dict, owner: dict) -> bool:
    meta = owner.get("metadata") or {}
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == owner.get("kind") and ref.get("name") == meta.get("name"):
            if not (ref.get("uid") and meta.get("uid")) or ref.get("uid") == meta.get("uid"):
                return True
    return False


def _desired(obj: dict, pods: list[dict]) -> int:
    kind, spec, status = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        replicas = spec.get("replicas")
        return 1 if replicas is None else int(replicas)
    if kind == "DaemonSet":
        return int(status.get("desiredNumberScheduled", len(pods)))
    if kind == "Job":
        return int(spec.get("parallelism", 1))
    return 1  # a bare Pod


def workload_availability(cluster: Cluster, workload: ObjectRef) -> Availability:
    """Read the workload and its pods live. Supports Pod, Deployment, ReplicaSet, StatefulSet,
    DaemonSet and Job."""
    if workload.kind not in ("Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        raise InvalidInput([FieldError("workload.kind", f"blast radius cannot be judged for {workload.kind}")])
    obj = cluster.get(workload.api_version, workload.kind, workload.name, workload.namespace)
    if workload.kind == "Pod":
        pods = [obj]
    else:
        selector = selector_string((obj.get("spec") or {}).get("selector"))
        owners = [obj]
        if workload.kind == "Deployment":
            owners = [rs for rs in cluster.list("apps/v1", "ReplicaSet", workload.namespace, label_selector=selector)
                      if _owned_by(rs, obj)]
        candidates = cluster.list("v1", "Pod", workload.namespace, label_selector=selector)
        pods = [p for p in candidates if any(_owned_by(p, o) for o in owners)]
    ready = tuple(sorted(p["metadata"]["name"] for p in pods if pod_is_ready(p)))
    unready = tuple(sorted(p["metadata"]["name"] for p in pods if not pod_is_ready(p)))
    return Availability(object_ref(obj) if obj.get("kind") else str(workload), _desired(obj, pods), ready, unready)


def disrupted_pods(action_type: str, target: ObjectRef, availability: Availability, *,
                   restart_strategy: str = "rolling") -> tuple[str, ...]:
    """The pods an action takes down at once, by our count (see the module doc)."""
    if target.kind == "Pod":
        return (target.name,) if action_type in ("restart", "delete") else ()
    if action_type == "delete" or (action_type == "restart" and restart_strategy == "recreate"):
        return availability.all_pods
    return ()


def blast_radius_reason(availability: Availability, disrupted: Iterable[str], max_unavailable_fraction: float) -> str | None:
    """Why taking ``disrupted`` down now is too much, or None when it is within the allowance."""
    hit = sorted(set(disrupted) & set(availability.ready_pods))
    if not hit:
        return None
    allowed = allowed_unavailable(availability.desired, max_unavailable_fraction)
    after = max(0, availability.desired - (len(availability.ready_pods) - len(hit)))
    if after <= allowed:
        return None
    if availability.desired <= 1:
        return (f"{availability.workload} has a single replica and its pod {hit[0]} is Ready: disrupting it "
                "would take the workload down (needs approval)")
    return (f"{availability.workload}: {availability.unavailable} of {availability.desired} replicas unavailable "
            f"now; taking down {len(hit)} Ready pod(s) would make {after} unavailable, over the allowance of "
            f"{allowed} ({max_unavailable_fraction:g} of replicas)")
