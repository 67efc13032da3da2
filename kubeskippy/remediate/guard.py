"""The live checks run right before acting: is the object protected, and would the action take
down too much of its workload at once? Both read live objects through the Cluster port and
delegate the rules to kubeskippy.safety, so remediation and the ledger judge by one rulebook.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

from ..events.model import ObjectRef
from ..policy.model import HealingPolicy
from ..ports import Cluster
from ..safety.blast_radius import blast_radius_reason, disrupted_pods, selector_string, workload_availability
from ..safety.config import SafetyConfig
from ..safety.protection import protection_reason_of

__all__ = ["TargetGuard", "SafetyGuard", "BLAST_RADIUS_TYPES"]

BLAST_RADIUS_TYPES = {"restart": "restart", "delete": "delete", "quarantine": "delete"}
"""Action types that take pods out of service, and how the blast-radius rule counts them
(quarantine removes a pod from service like a delete does)."""

_AVAILABILITY_KINDS = {"Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}


@runtime_checkable
class TargetGuard(Protocol):
    """A guard may also offer ``reads_ahead(action_type, workload) -> list of calls``: the reads
    its blast-radius check will make, for the executor to make early and at once."""

    def protected(self, obj: dict, policy: HealingPolicy | None) -> str | None:
        """Why ``obj`` (read live) must not be touched, or None."""
        ...

    def blast_radius(self, action_type: str, target: dict, workload: dict, strategy: str | None,
                     disrupted: list[str] | None = None) -> str | None:
        """Why acting now would disrupt too much of ``workload``, or None. ``disrupted`` names the
        pods the action will take down when the action knows exactly (else the rule's count)."""
        ...


class SafetyGuard:
    """The default guard: kubeskippy.safety's protection and blast-radius rules."""

    def __init__(self, cluster: Cluster, config: SafetyConfig | None = None) -> None:
        self._cluster = cluster
        self._config = config or SafetyConfig()

    def protected(self, obj: dict, policy: HealingPolicy | None) -> str | None:
        filters = policy.spec.safety_rules.protected_resources if policy is not None else ()
        return protection_reason_of(self._cluster, obj, protected_resources=filters, config=self._config)

    def reads_ahead(self, action_type: str, workload: dict) -> list[Callable[[], Any]]:
        """The list reads :meth:`blast_radius` will make for ``workload``, as independent calls
        (the executor runs them beside its other early reads; a request cache keeps the results
        for the check itself). Mirrors kubeskippy.safety.blast_radius.workload_availability."""
        if BLAST_RADIUS_TYPES.get(action_type) is None or workload.get("kind") not in _AVAILABILITY_KINDS \
                or workload.get("kind") == "Pod":
            return []
        meta = workload.get("metadata") or {}
        namespace, selector = meta.get("namespace"), selector_string((workload.get("spec") or {}).get("selector"))
        calls: list[Callable[[], Any]] = [
            lambda: self._cluster.list("v1", "Pod", namespace, label_selector=selector)]
        if workload.get("kind") == "Deployment":
            calls.append(lambda: self._cluster.list("apps/v1", "ReplicaSet", namespace, label_selector=selector))
        return calls

    def blast_radius(self, action_type: str, target: dict, workload: dict, strategy: str | None,
                     disrupted: list[str] | None = None) -> str | None:
        counted = BLAST_RADIUS_TYPES.get(action_type)
        if counted is None or workload.get("kind") not in _AVAILABILITY_KINDS:
            return None
        availability = workload_availability(self._cluster, ObjectRef.of(workload))
        hit = disrupted if disrupted is not None else disrupted_pods(
            counted, ObjectRef.of(target), availability, restart_strategy=strategy or "rolling")
        return blast_radius_reason(availability, hit, self._config.max_unavailable_fraction)
