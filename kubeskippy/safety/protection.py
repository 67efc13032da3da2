"""Is an object off-limits? Checked against LIVE objects read through the Cluster port.

The original KubeSkippy checked labels on an object it had never filled in, so nothing was ever
protected. Here an object is protected when any of these holds:

* its namespace is one of ``SafetyConfig.protected_namespaces`` (kube-system, kube-public,
  kube-node-lease by default);
* it, any owner up its ownerReferences chain, or its live Namespace object carries the label or
  annotation ``kubeskippy.io/protected: "true"``, or ``kubeskippy.io/healing-disabled`` with any
  value other than ``"false"``;
* it or any owner matches the policy's ``safetyRules.protectedResources``: same apiVersion
  (``*`` matches any) and kind, and a name matching one of ``excludeNames`` (shell globs). An
  entry with an empty ``excludeNames`` protects every object of that kind. ("exclude" means
  excluded from healing.)

Every function returns a reason (a sentence naming the object and the rule) or None. Transient
API errors propagate: without the live objects we cannot know, so we do not act.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Sequence

from ..errors import APINotFound
from ..events.model import ObjectRef
from ..kinds import kind_info, object_ref
from ..policy.model import ResourceFilter
from ..ports import Cluster
from .config import SafetyConfig

__all__ = [
    "PROTECTED_KEY",
    "HEALING_DISABLED_KEY",
    "marker_reason",
    "protected_resource_reason",
    "live_owner_chain",
    "protection_reason",
    "protection_reason_of",
]

PROTECTED_KEY = "kubeskippy.io/protected"
HEALING_DISABLED_KEY = "kubeskippy.io/healing-disabled"


def marker_reason(obj: dict) -> str | None:
    """The protection markers on one object's own labels and annotations."""
    meta = obj.get("metadata") or {}
    for where in ("labels", "annotations"):
        values = meta.get(where) or {}
        if str(values.get(PROTECTED_KEY, "")).strip().lower() == "true":
            return f"{object_ref(obj)} has {where[:-1]} {PROTECTED_KEY}=true"
        if HEALING_DISABLED_KEY in values and str(values[HEALING_DISABLED_KEY]).strip().lower() != "false":
            return f"{object_ref(obj)} has {where[:-1]} {HEALING_DISABLED_KEY}={values[HEALING_DISABLED_KEY]!r}"
    return None


def protected_resource_reason(obj: dict, filters: Sequence[ResourceFilter]) -> str | None:
    """Whether ``obj`` matches one of a policy's protectedResources entries."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    name = (obj.get("metadata") or {}).get("name", "")
    for i, f in enumerate(filters):
        if f.kind != kind or f.api_version not in ("*", api_version):
            continue
        if not f.exclude_names:
            return f"{object_ref(obj)}: every {kind} is protected by safetyRules.protectedResources[{i}]"
        for pattern in f.exclude_names:
            if fnmatchcase(name, pattern):
                return (f"{object_ref(obj)} is protected by safetyRules.protectedResources[{i}] "
                        f"(name matches {pattern!r})")
    return None


def _owner_namespace(owner_ref: dict, namespace: str | None) -> str | None:
    try:
        return namespace if kind_info(owner_ref.get("apiVersion"), owner_ref.get("kind", "")).namespaced else None
    except KeyError:
        return namespace  # an unknown kind: owners of namespaced objects are usually in their namespace


def live_owner_chain(cluster: Cluster, obj: dict, max_depth: int = 8) -> list[dict]:
    """The live owners of ``obj``, nearest first, following every ownerReference breadth-first.

    An owner that no longer exists (404) is skipped; a reference cycle or a chain deeper than
    ``max_depth`` stops the walk.
    """
    chain: list[dict] = []
    seen = {((obj.get("metadata") or {}).get("uid")) or object_ref(obj)}
    frontier = [obj]
    for _ in range(max_depth):
        next_frontier: list[dict] = []
        for child in frontier:
            namespace = (child.get("metadata") or {}).get("namespace")
            for ref in (child.get("metadata") or {}).get("ownerReferences") or []:
                key = ref.get("uid") or f"{ref.get('kind')}/{namespace}/{ref.get('name')}"
                if key in seen:
                    continue
                seen.add(key)
                try:
                    owner = cluster.get(ref.get("apiVersion", ""), ref.get("kind", ""), ref.get("name", ""),
                                        _owner_namespace(ref, namespace))
                except APINotFound:
                    continue
                chain.append(owner)
                next_frontier.append(owner)
        if not next_frontier:
            break
        frontier = next_frontier
    return chain


def protection_reason_of(cluster: Cluster, obj: dict, *, protected_resources: Sequence[ResourceFilter] = (),
                         config: SafetyConfig | None = None) -> str | None:
    """Protection of an object the caller has just read live (owners and namespace are read here)."""
    config = config or SafetyConfig()
    namespace = (obj.get("metadata") or {}).get("namespace")
    if namespace and namespace in config.protected_namespaces:
        return f"{object_ref(obj)} is in protected namespace {namespace}"
    chain = [obj, *live_owner_chain(cluster, obj, config.max_owner_depth)]
    for item in chain:
        reason = marker_reason(item) or protected_resource_reason(item, protected_resources)
        if reason:
            return reason if item is obj else f"owner {reason}"
    if namespace:
        try:
            ns_obj = cluster.get("v1", "Namespace", namespace)
        except APINotFound:
            ns_obj = None
        if ns_obj is not None:
            reason = marker_reason({**ns_obj, "kind": ns_obj.get("kind") or "Namespace"})
            if reason:
                return f"namespace {reason}"
    return None


def protection_reason(cluster: Cluster, target: ObjectRef, *, protected_resources: Sequence[ResourceFilter] = (),
                      config: SafetyConfig | None = None) -> str | None:
    """Read ``target`` live and check it; raises APINotFound when it is gone."""
    obj = cluster.get(target.api_version, target.kind, target.name, target.namespace)
    return protection_reason_of(cluster, obj, protected_resources=protected_resources, config=config)
