"""PodDisruptionBudget arithmetic: what the disruption controller would write into a PDB's status.

The real API server's eviction handler trusts ``status.disruptionsAllowed`` computed by the
disruption controller. The double has no controller loop, so it computes the same numbers on the
spot from the pods it stores, which is what the controller converges to:

* ``currentHealthy``: matching pods that are Ready and not being deleted;
* ``expectedPods``: for ``maxUnavailable`` or a percentage ``minAvailable``, the owners'
  ``spec.replicas`` summed; a matching pod without a scalable controller makes the controller fail
  safe (``disruptionsAllowed: 0``, reason SyncFailed), as upstream. An integer ``minAvailable``
  counts the matching pods;
* ``desiredHealthy``: ``minAvailable`` (a percentage of expected, rounded up) or
  ``expected - maxUnavailable`` (a percentage rounded up); neither set → 0;
* ``disruptionsAllowed = max(0, currentHealthy - desiredHealthy)``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

from .selectors import selector_object_matches

__all__ = ["is_pod_ready", "pod_is_terminating", "pdb_matches_pod", "budget_status", "scaled_value"]


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def pod_is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def pdb_matches_pod(pdb: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """A nil selector matches nothing and ``{}`` matches every pod of the namespace (policy/v1)."""
    if (pdb.get("metadata") or {}).get("namespace") != (pod.get("metadata") or {}).get("namespace"):
        return False
    return selector_object_matches((pdb.get("spec") or {}).get("selector"),
                                   (pod.get("metadata") or {}).get("labels"))


def scaled_value(value: int | str, total: int, *, round_up: bool) -> int:
    """An IntOrString: an int as is, ``"25%"`` of ``total`` rounded as asked."""
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def _controller_ref(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def budget_status(pdb: Mapping[str, Any], pods: Iterable[Mapping[str, Any]],
                  replicas_of: Callable[[Mapping[str, Any], str], int | None]) -> dict[str, Any]:
    """The PDB ``status`` the disruption controller would publish for ``pods``.

    ``replicas_of(owner_ref, namespace)`` returns a controller's ``spec.replicas`` or ``None``.
    """
    matching = [p for p in pods if pdb_matches_pod(pdb, p)]
    spec = pdb.get("spec") or {}
    healthy = sum(1 for p in matching if is_pod_ready(p) and not pod_is_terminating(p))
    min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")

    expected = len(matching)
    sync_failed = False
    if max_unavailable is not None or (isinstance(min_available, str) and min_available.endswith("%")):
        controllers: dict[str, int] = {}
        for pod in matching:
            ref = _controller_ref(pod)
            replicas = replicas_of(ref, pod["metadata"]["namespace"]) if ref else None
            if replicas is None:  # upstream: "found no controllers" -> fail safe, allow nothing
                sync_failed = True
                break
            controllers[ref["uid"]] = replicas
        else:
            expected = sum(controllers.values())

    if max_unavailable is not None:
        desired = max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
    elif min_available is not None:
        desired = scaled_value(min_available, expected, round_up=True)
    else:
        desired = 0
    allowed = 0 if sync_failed else max(0, healthy - desired)
    reason = "SyncFailed" if sync_failed else ("SufficientPods" if allowed > 0 else "InsufficientPods")
    return {
        "observedGeneration": (pdb.get("metadata") or {}).get("generation", 1),
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "disruptionsAllowed": allowed,
        "conditions": [{"type": "DisruptionAllowed", "status": "True" if allowed > 0 else "False", "reason": reason}],
    }
