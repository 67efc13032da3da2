"""Pod subresources: ``binding``, ``eviction`` (checked against PodDisruptionBudgets) and ``log``.

Each is a POST or GET on a pod that is not a plain write of the pod: binding sets ``spec.nodeName``
once, eviction is a DELETE the disruption budgets may refuse with 429 (and that spends the
budget), and a pod's log is text the store keeps beside the pod, not in it. The budget arithmetic
itself is pure and lives in :mod:`kubeskippy.devcluster.disruption`; this module applies it to
the pods and owners the store holds.

:class:`PodSubresources` is a mixin of :class:`~kubeskippy.devcluster.store.ObjectStore` (see
:mod:`.store_part` for why mixins and what they may use of the store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..clock import to_rfc3339
from . import status as st
from .disruption import budget_status, is_pod_ready, pdb_matches_pod, pod_is_terminating
from .documents import clone_document
from .scale import SCALABLE_KINDS
from .store_part import StorePart

__all__ = ["PodSubresources"]


class PodSubresources(StorePart):
    """Mixin of ObjectStore: pods/binding, pods/eviction, pods/log. An eviction ends in the
    store's DELETE (:class:`~.deletion.Deletion`)."""

    # What pods/log returns, by (namespace, pod, container, previous); _commit drops a pod's
    # logs when the pod goes.
    _logs: dict[tuple[str, str, str, bool], str]

    if TYPE_CHECKING:
        def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None, *,
                   grace_period_seconds: int | None = None, propagation_policy: str | None = None,
                   dry_run: bool = False,
                   preconditions: Mapping[str, str] | None = None) -> tuple[dict[str, Any], bool]: ...

    # --- binding -------------------------------------------------------------------------

    def bind(self, name: str, namespace: str, node_name: str) -> dict[str, Any]:
        """POST pods/{name}/binding: the scheduler's one-time write of ``spec.nodeName`` (409 when
        the pod is already bound), with the PodScheduled condition set."""
        with self._lock:
            info = self.kind("v1", "Pod")
            pod = self._stored(info, name, namespace)
            if pod["spec"].get("nodeName"):
                raise st.conflict(info, name, f"pod {name} is already assigned to node \"{pod['spec']['nodeName']}\"")
            bound = clone_document(pod)
            bound["spec"]["nodeName"] = node_name
            status = bound.setdefault("status", {})
            status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"] + [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": to_rfc3339(self.clock.now())}]
            return self._commit("MODIFIED", bound, pod)

    # --- eviction ------------------------------------------------------------------------

    def _replicas_of(self, ref: Mapping[str, Any], namespace: str) -> int | None:
        info = self._kinds.get((ref.get("apiVersion", ""), ref.get("kind", "")))
        if info is None or (info.api_version, info.kind) not in SCALABLE_KINDS:
            return None
        owner = self._bucket(info).get((namespace, ref.get("name", "")))
        if owner is None or owner["metadata"]["uid"] != ref.get("uid"):
            return None
        return int((owner.get("spec") or {}).get("replicas", 1))

    def budget_status(self, pdb: Mapping[str, Any]) -> dict[str, Any]:
        """What the disruption controller would write into ``pdb.status`` right now."""
        with self._lock:
            pods = [p for p in self._bucket(self.kind("v1", "Pod")).values()
                    if p["metadata"].get("namespace") == pdb["metadata"].get("namespace")]
            return budget_status(pdb, pods, self._replicas_of)

    def evict(self, name: str, namespace: str, *, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> dict[str, Any]:
        """POST pods/{name}/eviction: delete the pod unless a PodDisruptionBudget forbids it
        (429 TooManyRequests). Returns the Status the API server answers with (201)."""
        with self._lock:
            pod_info = self.kind("v1", "Pod")
            pod = self._stored(pod_info, name, namespace)
            success = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
            if pod_is_terminating(pod):
                return success
            phase = (pod.get("status") or {}).get("phase")
            if phase not in ("Succeeded", "Failed", "Pending"):
                pdb_info = self.kind("policy/v1", "PodDisruptionBudget")
                budgets = [b for b in self._bucket(pdb_info).values() if pdb_matches_pod(b, pod)]
                if len(budgets) > 1:
                    raise st.internal_error("This pod has more than one PodDisruptionBudget, which the eviction "
                                            "subresource does not support.")
                if budgets:
                    self._check_budget(budgets[0], pod, dry_run)
            self.delete("v1", "Pod", name, namespace, grace_period_seconds=grace_period_seconds, dry_run=dry_run)
            return success

    def _check_budget(self, pdb: dict[str, Any], pod: Mapping[str, Any], dry_run: bool) -> None:
        status = self.budget_status(pdb)
        policy = (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
        if not is_pod_ready(pod) and (policy == "AlwaysAllow" or (
                status["currentHealthy"] >= status["desiredHealthy"] and status["desiredHealthy"] > 0)):
            return  # an unready pod does not count towards the budget
        if status["disruptionsAllowed"] <= 0:
            pdb_name = pdb["metadata"]["name"]
            raise st.too_many_requests(
                "Cannot evict pod as it would violate the pod's disruption budget.",
                causes=[{"reason": "DisruptionBudget",
                         "message": f"The disruption budget {pdb_name} needs {status['desiredHealthy']} healthy "
                                    f"pods and has {status['currentHealthy']} currently"}])
        if not dry_run:
            updated = clone_document(pdb)
            status["disruptionsAllowed"] -= 1
            status["disruptedPods"] = {pod["metadata"]["name"]: to_rfc3339(self.clock.now())}
            updated["status"] = status
            if updated != pdb:
                self._commit("MODIFIED", updated, pdb)

    # --- logs ----------------------------------------------------------------------------

    def set_log(self, namespace: str, pod: str, text: str, *, container: str | None = None,
                previous: bool = False) -> None:
        """Store what ``pods/log`` returns (``previous=True``: the last terminated container's)."""
        with self._lock:
            self._logs[(namespace, pod, container or "", previous)] = text

    def read_log(self, name: str, namespace: str, *, container: str | None = None, tail_lines: int | None = None,
                 previous: bool = False) -> str:
        with self._lock:
            pod = self._stored(self.kind("v1", "Pod"), name, namespace)
            names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
            if container is None:
                if len(names) > 1:
                    raise st.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                                         f"[{' '.join(str(n) for n in names)}]")
                container = names[0] if names else ""
            elif container not in names:
                raise st.bad_request(f"container {container} is not valid for pod {name}")
            text = self._logs.get((namespace, name, container, previous))
            if text is None:
                text = self._logs.get((namespace, name, "", previous))
            if text is None:
                if previous:
                    raise st.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
                text = ""
        if tail_lines is not None and tail_lines >= 0:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-tail_lines:]) if tail_lines else ""
        return text
