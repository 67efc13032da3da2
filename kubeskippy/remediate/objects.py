"""Reading Kubernetes objects the way remediation needs them: owners, a workload's pods,
readiness and restart counts. Pure functions over dicts read through the Cluster port."""

from __future__ import annotations

from ..errors import APINotFound
from ..events.model import ObjectRef
from ..ports import Cluster

__all__ = [
    "meta",
    "ref_of",
    "get_ref",
    "owner_of",
    "top_owner",
    "selector_text",
    "pods_of",
    "pod_ready",
    "restart_count",
    "restart_baseline",
    "is_daemonset_pod",
    "is_mirror_pod",
]

_MAX_OWNER_DEPTH = 8


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def ref_of(obj: dict) -> ObjectRef:
    return ObjectRef.of(obj)


def get_ref(cluster: Cluster, ref: ObjectRef) -> dict:
    """The live object behind a reference (APINotFound when gone)."""
    return cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)


def owner_of(cluster: Cluster, obj: dict) -> dict | None:
    """The controlling owner (ownerReference with controller=true, else the first), or None
    when there is none or it no longer exists."""
    refs = meta(obj).get("ownerReferences") or []
    if not refs:
        return None
    ref = next((r for r in refs if r.get("controller")), refs[0])
    try:
        return cluster.get(ref.get("apiVersion", ""), ref.get("kind", ""), ref.get("name", ""),
                           meta(obj).get("namespace"))
    except (APINotFound, KeyError):
        return None


def top_owner(cluster: Cluster, obj: dict) -> dict:
    """Follow owners up (Pod → ReplicaSet → Deployment); the object itself when it has none."""
    current = obj
    for _ in range(_MAX_OWNER_DEPTH):
        parent = owner_of(cluster, current)
        if parent is None:
            return current
        current = parent
    return current


def selector_text(selector: dict | None) -> str | None:
    """A LabelSelector (matchLabels + matchExpressions) as a label-selector string."""
    if not selector:
        return None
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or None


def pods_of(cluster: Cluster, workload: dict) -> list[dict]:
    """The pods a workload selects (a Pod is its own only pod). Terminal pods are left out."""
    if workload.get("kind") == "Pod":
        return [workload]
    selector = selector_text((workload.get("spec") or {}).get("selector"))
    if selector is None:
        return []
    pods = cluster.list("v1", "Pod", meta(workload).get("namespace"), label_selector=selector)
    return [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not meta(p).get("deletionTimestamp")]


def pod_ready(pod: dict) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def restart_count(pod: dict) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def restart_baseline(pods: list[dict]) -> dict[str, int]:
    """Restarts per pod uid now; verification counts only restarts beyond these."""
    return {meta(p).get("uid") or meta(p).get("name", ""): restart_count(p) for p in pods}


def is_daemonset_pod(pod: dict) -> bool:
    return any(r.get("kind") == "DaemonSet" for r in meta(pod).get("ownerReferences") or [])


def is_mirror_pod(pod: dict) -> bool:
    return "kubernetes.io/config.mirror" in (meta(pod).get("annotations") or {})
