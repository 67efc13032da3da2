"""The shape every remediation action has, and helpers they share.

An action is a small object with four steps: ``parse`` its parameters (InvalidInput naming the
parameter), ``resolve_target`` (the object it really acts on, or Refused("unsupported_target")),
``prepare`` an intent from live state, and ``apply`` the intent idempotently (dry run included).
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

from ...errors import APINotFound, APITooManyRequests, Refused
from ...events.model import ObjectRef
from ...ports import Cluster
from ..model import ActionContext, ActionReport, Intent, change
from ..objects import meta, owner_of, top_owner

__all__ = ["Action", "unsupported", "workload_for", "live_pod", "evict_pod", "ref_dict", "load_ref"]


class Action:
    """Base class; subclasses set ``type_name`` and ``kinds`` and implement parse/prepare/apply."""

    type_name: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str]] = frozenset()
    changes_cluster: ClassVar[bool] = True

    def parse(self, params: Mapping[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def resolve_target(self, cluster: Cluster, live: dict) -> dict:
        """The object this action acts on; by default the target itself if its kind is handled."""
        if live.get("kind") in self.kinds:
            return live
        raise unsupported(self.type_name, live, self.kinds)

    def disrupted(self, cluster: Cluster, target: dict, params: Any) -> list[str] | None:
        """Names of the pods this action would take out of service, when it knows them exactly
        (for the blast-radius check); None lets the safety rule count by action type."""
        return None

    def prepare(self, ctx: ActionContext, target: dict, params: Any) -> Intent:  # pragma: no cover
        raise NotImplementedError

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:  # pragma: no cover
        raise NotImplementedError


def unsupported(action: str, obj: dict, kinds: frozenset[str] | set[str]) -> Refused:
    return Refused("unsupported_target", f"{action} cannot act on a {obj.get('kind', '?')} "
                   f"({meta(obj).get('name', '?')}); it handles {', '.join(sorted(kinds))}")


def workload_for(action: str, cluster: Cluster, live: dict, kinds: frozenset[str]) -> dict:
    """Workload-level actions given a Pod or ReplicaSet act on its top owner (the Deployment)."""
    if live.get("kind") in kinds and not (live.get("kind") == "ReplicaSet" and owner_of(cluster, live)):
        return live
    if live.get("kind") in ("Pod", "ReplicaSet"):
        owner = top_owner(cluster, live)
        if owner.get("kind") in kinds:
            return owner
    raise unsupported(action, live, kinds)


def ref_dict(obj: dict) -> dict:
    """The identity of an object for an intent (uid included: a replacement is not the same)."""
    return ObjectRef.of(obj).model_dump(exclude_none=True)


def load_ref(data: dict) -> ObjectRef:
    return ObjectRef(**data)


def live_pod(ctx: ActionContext, ref: ObjectRef) -> dict | None:
    """The pod an intent names, or None when it is gone or replaced by one of the same name
    (the uid pins it, so a re-drive never acts on the replacement)."""
    try:
        live = ctx.cluster.get("v1", "Pod", ref.name, ref.namespace)
    except APINotFound:
        return None
    if ref.uid and meta(live).get("uid") != ref.uid:
        return None
    return live


def evict_pod(ctx: ActionContext, pod_ref: dict, grace: int | None) -> tuple[str, Any]:
    """Evict one pod unless it is already gone or replaced. Returns ("evicted", change),
    ("gone", None) or ("blocked", message) when a PodDisruptionBudget forbids it now."""
    ref = load_ref(pod_ref)
    live = live_pod(ctx, ref)
    if live is None:
        return "gone", None
    try:
        ctx.cluster.evict(ref.name, ref.namespace or "", grace_period_seconds=grace, dry_run=ctx.dry_run)
    except APITooManyRequests as e:
        return "blocked", f"eviction of {ref.name} blocked by a PodDisruptionBudget, retry later ({e})"
    except APINotFound:
        return "gone", None
    field = "eviction" + (f" (gracePeriodSeconds={grace})" if grace is not None else "")
    return "evicted", change(live, "delete", field, (live.get("status") or {}).get("phase", "present"), "evicted")
