"""Is a target healthy again after an action? Judged from live objects: its pods are all Ready,
none restarted beyond the count recorded when the action ran, enough of them exist, and — where a
controller maintains the workload's status (``status.observedGeneration`` is present) — the
rollout is complete the way ``kubectl rollout status`` sees it."""

from __future__ import annotations

from ..errors import APINotFound
from ..events.model import ObjectRef
from ..ports import Cluster
from .objects import meta, pod_ready, pods_of, restart_count

__all__ = ["check_health"]


def _desired(obj: dict) -> int:
    kind, spec, status = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    if kind == "DaemonSet":
        return int(status.get("desiredNumberScheduled", 0))
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        return int(spec.get("replicas", 1))
    return 1


def _rollout_problem(obj: dict, desired: int) -> str | None:
    status = obj.get("status") or {}
    if "observedGeneration" not in status:
        return None
    if int(status.get("observedGeneration", 0)) < int(meta(obj).get("generation", 0)):
        return "the controller has not observed the latest spec yet"
    kind = obj.get("kind")
    if kind == "DaemonSet":
        if int(status.get("updatedNumberScheduled", desired)) < desired:
            return f"{status.get('updatedNumberScheduled', 0)}/{desired} pods updated"
        if int(status.get("numberReady", 0)) < desired:
            return f"{status.get('numberReady', 0)}/{desired} pods ready"
        return None
    if kind in ("Deployment", "StatefulSet") and int(status.get("updatedReplicas", 0)) < desired:
        return f"{status.get('updatedReplicas', 0)}/{desired} replicas updated"
    if int(status.get("readyReplicas", 0)) < desired:
        return f"{status.get('readyReplicas', 0)}/{desired} replicas ready"
    return None


def check_health(cluster: Cluster, ref: ObjectRef, baseline: dict[str, int]) -> tuple[bool, str]:
    """(healthy, why). ``baseline`` maps pod uid → restarts when the action ran; pods not in it
    (replacements) must not have restarted at all."""
    try:
        obj = cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
    except APINotFound:
        return False, f"{ref} no longer exists"
    if ref.kind == "Node":
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (obj.get("status") or {}).get("conditions") or [])
        return ready, f"node {ref.name} is {'Ready' if ready else 'not Ready'}"
    if ref.kind not in ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return True, f"{ref} exists (no readiness to judge for a {ref.kind})"
    desired = _desired(obj)
    problem = _rollout_problem(obj, desired) if ref.kind != "Pod" else None
    if problem:
        return False, f"{ref}: {problem}"
    pods = pods_of(cluster, obj)
    unready = sorted(meta(p).get("name", "") for p in pods if not pod_ready(p))
    restarted = sorted(f"{meta(p).get('name')} (+{restart_count(p) - baseline.get(meta(p).get('uid', ''), 0)})"
                       for p in pods if restart_count(p) > baseline.get(meta(p).get("uid", ""), 0))
    ready = len(pods) - len(unready)
    if ready < desired:
        return False, f"{ref}: {ready}/{desired} pods ready" + (f" (not ready: {', '.join(unready)})" if unready else "")
    if unready:
        return False, f"{ref}: pods not ready: {', '.join(unready)}"
    if restarted:
        return False, f"{ref}: restarted since the action: {', '.join(restarted)}"
    return True, f"{ref}: {ready}/{desired} pods ready, no new restarts"
