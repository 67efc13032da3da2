"""Deletion: DELETE with preconditions, graceful pod termination, and the garbage collector.

A DELETE on a real cluster is not one removal: a scheduled pod with a grace period only gets a
``deletionTimestamp`` until the kubelet confirms; deleting an owner deletes (Background,
Foreground) or releases (Orphan) its dependents by ownerReferences, in the order the garbage
collector would emit the events; deleting a Namespace deletes what is in it. Those rules walk the
whole store and are tested apart (tests/devcluster/test_devcluster_watch_delete.py), so they live
apart from create / update.

:class:`Deletion` is a mixin of :class:`~kubeskippy.devcluster.store.ObjectStore` (see
:mod:`.store_part` for why mixins and what they may use of the store).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..clock import to_rfc3339
from . import status as st
from .documents import clone_document
from .store_part import StorePart

__all__ = ["Deletion"]

_PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")


class Deletion(StorePart):
    """Mixin of ObjectStore: DELETE, graceful termination and cascading deletion."""

    graceful_pod_deletion: bool  # see ObjectStore

    # --- DELETE and graceful pod termination ---------------------------------------------

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               dry_run: bool = False, preconditions: Mapping[str, str] | None = None) -> tuple[dict[str, Any], bool]:
        """DELETE. Returns ``(object, deleted_now)``: ``deleted_now`` is False when a pod entered
        graceful termination (the object returned then carries ``deletionTimestamp``)."""
        with self._lock:
            info = self.kind(api_version, kind)
            policy = propagation_policy or "Background"
            if policy not in _PROPAGATION_POLICIES:
                raise st.invalid(None, None, [st.cause("propagationPolicy", f'Unsupported value: "{policy}": supported '
                                                       'values: "Foreground", "Background", "Orphan"', "FieldValueNotSupported")])
            if grace_period_seconds is not None and grace_period_seconds < 0:
                raise st.invalid(None, None, [st.cause("gracePeriodSeconds", "Invalid value: must be >= 0")])
            obj = self._stored(info, name, namespace)
            meta = obj["metadata"]
            for key, field_name in (("uid", "uid"), ("resourceVersion", "resourceVersion")):
                wanted = (preconditions or {}).get(key)
                if wanted and wanted != meta.get(field_name):
                    raise st.conflict(info, name, f"Precondition failed: {key} in precondition: {wanted}, "
                                                  f"{key} in object meta: {meta.get(field_name)}")
            if info.kind == "Pod" and self._should_terminate_gracefully(obj, grace_period_seconds):
                grace = self._grace_of(obj, grace_period_seconds)
                deadline = self.clock.now() + grace
                marked = clone_document(obj)
                current_deadline = meta.get("deletionTimestamp")
                if current_deadline and current_deadline <= to_rfc3339(deadline):
                    return clone_document(obj), False  # already terminating at least this soon
                marked["metadata"]["deletionTimestamp"] = to_rfc3339(deadline)
                marked["metadata"]["deletionGracePeriodSeconds"] = grace
                if dry_run:
                    return marked, False
                return self._commit("MODIFIED", marked, obj), False
            if dry_run:
                return clone_document(obj), True
            return self._delete_now(obj, policy), True

    @staticmethod
    def _grace_of(pod: Mapping[str, Any], requested: int | None) -> int:
        if requested is not None:
            return requested
        return int((pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))

    def _should_terminate_gracefully(self, pod: Mapping[str, Any], requested: int | None) -> bool:
        if not self.graceful_pod_deletion or self._grace_of(pod, requested) <= 0:
            return False
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return False
        return bool((pod.get("spec") or {}).get("nodeName"))  # unscheduled pods go at once

    def finish_terminations(self) -> list[str]:
        """Remove terminating pods whose grace period has passed on the clock (what the kubelet
        confirms). Returns ``namespace/name`` of the pods removed."""
        now = to_rfc3339(self.clock.now())
        removed = []
        with self._lock:
            for pod in list(self._bucket(self.kind("v1", "Pod")).values()):
                deadline = pod["metadata"].get("deletionTimestamp")
                if deadline and deadline <= now:
                    self._delete_now(pod, "Background")
                    removed.append(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
        return removed

    # --- cascading deletion and garbage collection ---------------------------------------

    def _delete_now(self, obj: dict[str, Any], policy: str) -> dict[str, Any]:
        """Remove ``obj`` and handle its dependents per ``policy``; emits the events a real
        cluster would, in the order it would (Foreground: dependents first)."""
        current = self._lookup(obj)
        if current is None:
            return obj
        if current["kind"] == "Namespace":
            for member in self._namespace_contents(current["metadata"]["name"]):
                if self._lookup(member) is not None:
                    self._delete_now(member, "Background")
        if policy == "Orphan":
            for dependent in self._dependents(current):
                self._remove_owner_ref(dependent, current["metadata"]["uid"])
            return self._commit("DELETED", None, current)
        if policy == "Foreground":
            marked = clone_document(current)
            marked["metadata"]["deletionTimestamp"] = to_rfc3339(self.clock.now())
            marked["metadata"]["deletionGracePeriodSeconds"] = 0
            marked["metadata"]["finalizers"] = list(marked["metadata"].get("finalizers") or []) + ["foregroundDeletion"]
            current = self._commit("MODIFIED", marked, current)
            stored = self._lookup(current)
            self._collect_garbage(current, "Foreground")
            return self._commit("DELETED", None, stored)
        gone = self._commit("DELETED", None, current)
        self._collect_garbage(current, "Background")
        return gone

    def _lookup(self, obj: Mapping[str, Any]) -> dict[str, Any] | None:
        info = self.kind(obj["apiVersion"], obj["kind"])
        return self._bucket(info).get((obj["metadata"].get("namespace", "") if info.namespaced else "",
                                       obj["metadata"]["name"]))

    def _namespace_contents(self, namespace: str) -> list[dict[str, Any]]:
        return [obj for (av, kind), bucket in sorted(self._objects.items()) if self._kinds[(av, kind)].namespaced
                for (ns, _), obj in sorted(bucket.items()) if ns == namespace]

    def _dependents(self, owner: Mapping[str, Any]) -> list[dict[str, Any]]:
        uid = owner["metadata"]["uid"]
        owner_info = self.kind(owner["apiVersion"], owner["kind"])
        owner_ns = owner["metadata"].get("namespace")
        out = []
        for kind_key, key in self._dependents_by_owner.get(uid, ()):
            obj = self._objects.get(kind_key, {}).get(key)
            if obj is None:
                continue
            meta = obj["metadata"]
            if owner_info.namespaced and meta.get("namespace") != owner_ns:
                continue
            if any(ref.get("uid") == uid for ref in meta.get("ownerReferences") or []):
                out.append(obj)
        return sorted(out, key=lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def _collect_garbage(self, owner: dict[str, Any], policy: str) -> None:
        """Delete (or release) the dependents of a deleted owner, as the garbage collector does:
        a dependent that still has another owner only loses the dangling reference."""
        uid = owner["metadata"]["uid"]
        for dependent in self._dependents(owner):
            if self._lookup(dependent) is None:
                continue
            others = [r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
                      and self._owner_exists(r, dependent)]
            if others:
                self._remove_owner_ref(dependent, uid)
            else:
                self._delete_now(dependent, policy)

    def _owner_exists(self, ref: Mapping[str, Any], dependent: Mapping[str, Any]) -> bool:
        info = self._kinds.get((ref.get("apiVersion", ""), ref.get("kind", "")))
        if info is None:
            return False
        obj = self._bucket(info).get((dependent["metadata"].get("namespace", "") if info.namespaced else "",
                                      ref.get("name", "")))
        return obj is not None and obj["metadata"]["uid"] == ref.get("uid")

    def _remove_owner_ref(self, dependent: dict[str, Any], owner_uid: str) -> None:
        new = clone_document(dependent)
        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        self._commit("MODIFIED", new, dependent)
