"""Which objects a policy's ``spec.selector`` selects.

The rule (also in docs/detection.md):

* **Namespaces** — an empty list means every namespace. A non-empty list restricts namespaced
  objects to those namespaces; cluster-scoped objects (Nodes) are selected only by policies whose
  list is empty. ``kube-system`` and friends are *not* special here: protecting them is the
  safety ledger's job, detection reports what it sees.
* **Resources** — an object is selected when *any* filter selects it. A filter selects an object
  directly when API group and kind match (the version is ignored: one object, many versions), or
  through the owner chain: a Deployment filter selects that Deployment's ReplicaSets and Pods, a
  StatefulSet / DaemonSet / Job / ReplicaSet filter selects its Pods.
* **labelSelector** — applies to the object the filter matched: the Pod for a Pod filter, the
  Deployment for a Deployment filter (a Pod is then selected when its Deployment's labels match,
  exactly as ``kubectl get deployments -l`` would list it).
* **excludeNames** — shell globs (``fnmatch``, case-sensitive) against the name of the object the
  filter matched.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

from ..policy.model import ResourceSelector
from .labels import CompiledLabelSelector, compile_label_selector
from .objects import api_group, labels_of, meta_of

__all__ = ["CompiledFilter", "CompiledSelector", "SelectionPlan", "compile_selector", "OWNED_KINDS"]

OWNED_KINDS: dict[str, frozenset[str]] = {
    "Deployment": frozenset({"ReplicaSet", "Pod"}),
    "ReplicaSet": frozenset({"Pod"}),
    "StatefulSet": frozenset({"Pod"}),
    "DaemonSet": frozenset({"Pod"}),
    "Job": frozenset({"Pod"}),
}
"""Workload kind → kinds it can own (directly or through a ReplicaSet)."""


class CompiledFilter(NamedTuple):
    api_version: str
    group: str
    kind: str
    excluded: re.Pattern[str] | None

    def matches(self, obj: dict, labels: CompiledLabelSelector) -> bool:
        if obj.get("kind") != self.kind or api_group(obj.get("apiVersion")) != self.group:
            return False
        if self.excluded is not None and self.excluded.match(meta_of(obj).get("name", "")):
            return False
        return labels.matches(labels_of(obj))


def _compile_globs(globs: Sequence[str]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


class SelectionPlan(NamedTuple):
    """How one policy selects objects of one kind: the filters that match that kind directly and
    those that can match one of its owners. Built once per (policy, kind) and reused."""

    labels: CompiledLabelSelector
    direct: tuple[CompiledFilter, ...]
    via_owner: tuple[CompiledFilter, ...]

    @property
    def possible(self) -> bool:
        return bool(self.direct or self.via_owner)

    def selects(self, name: str, labels: dict, owners: Callable[[], Sequence[dict]]) -> bool:
        """The object (its name and labels given) or one of its owners is selected.

        ``owners`` is called only when no filter matches the object itself, so the API reads
        behind an owner chain happen only when they can matter.
        """
        if self.direct and self.labels.matches(labels):
            for f in self.direct:
                if f.excluded is None or not f.excluded.match(name):
                    return True
        if self.via_owner:
            for owner in owners():
                for f in self.via_owner:
                    if f.matches(owner, self.labels):
                        return True
        return False


@dataclass(frozen=True)
class CompiledSelector:
    namespaces: frozenset[str] | None
    labels: CompiledLabelSelector
    filters: tuple[CompiledFilter, ...]
    _plans: dict[tuple[str, str], SelectionPlan] = field(default_factory=dict, compare=False, repr=False)

    @property
    def observable_kinds(self) -> frozenset[str]:
        """Kinds this selector can select, directly or through an owner."""
        kinds: set[str] = set()
        for f in self.filters:
            kinds.add(f.kind)
            kinds |= OWNED_KINDS.get(f.kind, frozenset())
        return frozenset(kinds)

    def in_scope(self, namespace: str | None) -> bool:
        """Namespace rule: cluster-scoped objects only for all-namespace policies."""
        if self.namespaces is None:
            return True
        return bool(namespace) and namespace in self.namespaces

    def plan(self, kind: str, group: str) -> SelectionPlan:
        """The (cached) :class:`SelectionPlan` for objects of this API group and kind."""
        plan = self._plans.get((kind, group))
        if plan is None:
            direct = tuple(f for f in self.filters if f.kind == kind and f.group == group)
            # Owners are always workloads of the core/apps/batch groups; owned kinds are Pods
            # (core) and ReplicaSets (apps).
            owned = group == ("" if kind == "Pod" else "apps")
            via_owner = tuple(f for f in self.filters if owned and kind in OWNED_KINDS.get(f.kind, ()))
            plan = SelectionPlan(self.labels, direct, via_owner)
            self._plans[(kind, group)] = plan
        return plan

    def selects(self, obj: dict, owners: Callable[[], Sequence[dict]]) -> bool:
        """True when the namespace is in scope and some filter selects ``obj`` or one of its owners."""
        meta = meta_of(obj)
        if not self.in_scope(meta.get("namespace")):
            return False
        plan = self.plan(obj.get("kind", ""), api_group(obj.get("apiVersion")))
        return plan.possible and plan.selects(meta.get("name", ""), labels_of(obj), owners)


def compile_selector(selector: ResourceSelector) -> CompiledSelector:
    filters = tuple(
        CompiledFilter(r.api_version, api_group(r.api_version), r.kind, _compile_globs(r.exclude_names))
        for r in selector.resources
    )
    namespaces = frozenset(selector.namespaces) if selector.namespaces else None
    return CompiledSelector(namespaces, compile_label_selector(selector.label_selector), filters)
