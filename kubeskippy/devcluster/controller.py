"""A deliberately small stand-in for the controllers, scheduler and kubelets of a cluster.

Nothing runs in the background: a test calls :meth:`Controller.reconcile` (one pass of the
Deployment, ReplicaSet, StatefulSet and PodDisruptionBudget logic) and :meth:`Controller.start_pods`
(the kubelet: Pending pods become Running and Ready), or :meth:`Controller.settle` for both until
nothing changes. Every change goes through the public store API, so watches see the same ADDED /
MODIFIED / DELETED stream a cluster would produce.

Simplifications (documented in docs/devcluster.md): a Deployment rolls out in one step (the new
ReplicaSet gets all replicas and the old ones go to zero in the same pass, whatever the strategy);
StatefulSet pods are created all at once and outdated ones replaced in the same pass; the
scheduler places pods round-robin on Ready, schedulable Nodes without looking at resources.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Iterable, Mapping

from ..clock import to_rfc3339
from ..errors import APIConflict, APINotFound
from .disruption import is_pod_ready, pod_is_terminating
from .selectors import selector_object_matches
from .store import ObjectStore

__all__ = ["Controller", "template_hash", "REVISION_ANNOTATION", "RESTARTED_AT_ANNOTATION"]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: Mapping[str, Any]) -> str:
    """A stable short hash of a pod template (the ``pod-template-hash`` label's role)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True, separators=(",", ":")).encode()).digest()
    return "".join(_HASH_ALPHABET[b % len(_HASH_ALPHABET)] for b in digest[:10])


def _owner_ref(owner: Mapping[str, Any]) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def _controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    return any(r.get("controller") and r.get("uid") == owner["metadata"]["uid"]
               for r in obj["metadata"].get("ownerReferences") or [])


def _is_active(pod: Mapping[str, Any]) -> bool:
    return not pod_is_terminating(pod) and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _condition(kind: str, status: bool, now: str, reason: str | None = None) -> dict[str, Any]:
    c = {"type": kind, "status": "True" if status else "False", "lastTransitionTime": now}
    if reason:
        c["reason"] = reason
    return c


class Controller:
    """Drive a :class:`ObjectStore` like a (tiny) cluster, one explicit call at a time.

    :param node_names: Nodes that :meth:`reconcile` makes sure exist (Ready). Pass ``()`` to
        manage Node objects yourself; with no schedulable Node, new pods stay Pending.
    """

    def __init__(self, store: ObjectStore, *, node_names: Iterable[str] = ("devcluster-node-1",)) -> None:
        self.store = store
        self.node_names = tuple(node_names)
        self._next_node = 0
        self._next_ip = 1

    # --- the passes ----------------------------------------------------------------------

    def reconcile(self) -> int:
        """One pass over every workload; returns how many writes it made."""
        with self.store.lock:
            before = int(self.store.resource_version)
            self.store.finish_terminations()
            self._ensure_nodes()
            for deployment in self.store.list("apps/v1", "Deployment"):
                self._reconcile_deployment(deployment)
            for replicaset in self.store.list("apps/v1", "ReplicaSet"):
                self._reconcile_replicaset(replicaset)
            for statefulset in self.store.list("apps/v1", "StatefulSet"):
                self._reconcile_statefulset(statefulset)
            for deployment in self.store.list("apps/v1", "Deployment"):
                self._write_deployment_status(deployment)
            self._schedule_pending_pods()
            self._write_budget_statuses()
            return int(self.store.resource_version) - before

    def start_pods(self, namespace: str | None = None) -> list[str]:
        """The kubelet: scheduled Pending pods become Running with every condition True.
        Returns ``namespace/name`` of the pods started."""
        started = []
        with self.store.lock:
            for pod in self.store.list("v1", "Pod", namespace):
                status = pod.get("status") or {}
                if status.get("phase") != "Pending" or pod_is_terminating(pod) or not pod["spec"].get("nodeName"):
                    continue
                self._write_pod_status(pod, self._running_status(pod))
                started.append(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
        return started

    def settle(self, max_rounds: int = 10) -> int:
        """:meth:`reconcile` and :meth:`start_pods` until a round writes nothing; returns the
        number of rounds. Raises RuntimeError if it does not converge (a controller bug)."""
        for rounds in range(1, max_rounds + 1):
            writes = self.reconcile()
            started = self.start_pods()
            if not writes and not started:
                return rounds
        raise RuntimeError(f"the devcluster did not settle in {max_rounds} rounds")

    # --- pod state helpers for tests -----------------------------------------------------

    def crash_pod(self, namespace: str, name: str, *, container: str | None = None, reason: str = "CrashLoopBackOff",
                  last_reason: str = "Error", exit_code: int = 1) -> dict[str, Any]:
        """Make a container restart and wait (CrashLoopBackOff by default; ``last_reason="OOMKilled"``,
        ``exit_code=137`` for an OOM kill): restartCount +1, pod not Ready."""
        with self.store.lock:
            pod = self.store.get("v1", "Pod", name, namespace)
            status = copy.deepcopy(pod.get("status") or {})
            if not status.get("containerStatuses"):
                status = self._running_status(pod)
            now = to_rfc3339(self.store.clock.now())
            for cs in status["containerStatuses"]:
                if container is not None and cs["name"] != container:
                    continue
                started = (cs.get("state") or {}).get("running", {}).get("startedAt", now)
                cs["lastState"] = {"terminated": {"exitCode": exit_code, "reason": last_reason,
                                                  "startedAt": started, "finishedAt": now}}
                cs["state"] = {"waiting": {"reason": reason}}
                cs["restartCount"] = cs.get("restartCount", 0) + 1
                cs["ready"] = False
                cs["started"] = False
            self._set_ready_conditions(status, ready=all(cs.get("ready") for cs in status["containerStatuses"]), now=now)
            return self._write_pod_status(pod, status)

    def set_pod_ready(self, namespace: str, name: str, ready: bool) -> dict[str, Any]:
        """Flip a running pod's readiness (a failing or recovering readiness probe)."""
        with self.store.lock:
            pod = self.store.get("v1", "Pod", name, namespace)
            status = copy.deepcopy(pod.get("status") or {})
            if not status.get("containerStatuses"):
                status = self._running_status(pod)
            for cs in status["containerStatuses"]:
                cs["ready"] = ready
                if ready:
                    cs["state"] = {"running": {"startedAt": to_rfc3339(self.store.clock.now())}}
                    cs["started"] = True
            self._set_ready_conditions(status, ready=ready, now=to_rfc3339(self.store.clock.now()))
            return self._write_pod_status(pod, status)

    # --- internals -----------------------------------------------------------------------

    def _write_pod_status(self, pod: Mapping[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(dict(pod))
        new["status"] = status
        return self.store.replace(new, subresource="status")

    @staticmethod
    def _set_ready_conditions(status: dict[str, Any], *, ready: bool, now: str) -> None:
        conditions = [c for c in status.get("conditions") or [] if c.get("type") not in ("Ready", "ContainersReady")]
        reason = None if ready else "ContainersNotReady"
        conditions += [_condition("ContainersReady", ready, now, reason), _condition("Ready", ready, now, reason)]
        status["conditions"] = conditions

    def _running_status(self, pod: Mapping[str, Any]) -> dict[str, Any]:
        now = to_rfc3339(self.store.clock.now())
        ip = f"10.244.{self._next_ip // 250}.{self._next_ip % 250 + 2}"
        self._next_ip += 1
        containers = pod["spec"].get("containers") or []
        return {
            "phase": "Running",
            "conditions": [_condition("PodReadyToStartContainers", True, now), _condition("Initialized", True, now),
                           _condition("Ready", True, now), _condition("ContainersReady", True, now),
                           _condition("PodScheduled", True, now)],
            "hostIP": "10.0.0.1",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": now,
            "qosClass": "Burstable" if any((c.get("resources") or {}).get("requests") for c in containers)
            else "BestEffort",
            "containerStatuses": [{
                "name": c["name"], "image": c.get("image", ""), "imageID": "",
                "containerID": f"containerd://{pod['metadata']['uid'].replace('-', '')}{i}",
                "ready": True, "started": True, "restartCount": 0,
                "state": {"running": {"startedAt": now}}, "lastState": {},
            } for i, c in enumerate(containers)],
        }

    def _ensure_nodes(self) -> None:
        now = to_rfc3339(self.store.clock.now())
        for name in self.node_names:
            if self.store.find("v1", "Node", name) is None:
                node = {"apiVersion": "v1", "kind": "Node",
                        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                        "spec": {}}
                created = self.store.create(node)
                created["status"] = {"conditions": [_condition("Ready", True, now, "KubeletReady")],
                                     "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                                     "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}
                self.store.replace(created, subresource="status")

    def _schedulable_nodes(self) -> list[str]:
        names = []
        for node in self.store.list("v1", "Node"):
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in (node.get("status") or {}).get("conditions") or [])
            if ready and not (node.get("spec") or {}).get("unschedulable"):
                names.append(node["metadata"]["name"])
        return names

    def _schedule_pending_pods(self) -> None:
        nodes = self._schedulable_nodes()
        if not nodes:
            return
        for pod in self.store.list("v1", "Pod"):
            if pod["spec"].get("nodeName") or pod_is_terminating(pod):
                continue
            node = nodes[self._next_node % len(nodes)]
            self._next_node += 1
            self.store.bind(pod["metadata"]["name"], pod["metadata"]["namespace"], node)

    def _new_pod(self, owner: Mapping[str, Any], template: Mapping[str, Any], *, name: str | None = None,
                 extra_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        tmeta = template.get("metadata") or {}
        meta: dict[str, Any] = {
            "namespace": owner["metadata"]["namespace"],
            "labels": {**(tmeta.get("labels") or {}), **(extra_labels or {})},
            "ownerReferences": [_owner_ref(owner)],
        }
        if tmeta.get("annotations"):
            meta["annotations"] = copy.deepcopy(tmeta["annotations"])
        if name:
            meta["name"] = name
        else:
            meta["generateName"] = owner["metadata"]["name"] + "-"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}
        return self.store.create(pod)

    def _owned(self, api_version: str, kind: str, owner: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [o for o in self.store.list(api_version, kind, owner["metadata"]["namespace"]) if _controlled_by(o, owner)]

    def _reconcile_deployment(self, deployment: dict[str, Any]) -> None:
        if deployment["metadata"].get("deletionTimestamp"):
            return
        spec = deployment["spec"]
        template = spec.get("template") or {}
        pod_hash = template_hash(template)
        owned = self._owned("apps/v1", "ReplicaSet", deployment)
        revisions = [int((rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION, "0")) for rs in owned]
        current = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == pod_hash),
                       None)
        if spec.get("paused"):
            if current is None and owned:
                current = max(owned, key=lambda rs: int((rs["metadata"].get("annotations") or {})
                                                        .get(REVISION_ANNOTATION, "0")))
            if current is None:
                return
        replicas = spec.get("replicas", 1)
        if current is None:
            current = self._create_replicaset(deployment, template, pod_hash, max(revisions, default=0) + 1, replicas)
        else:
            top = max(revisions, default=0)
            annotations = current["metadata"].get("annotations") or {}
            revision = int(annotations.get(REVISION_ANNOTATION, "0"))
            if revision != top or current["spec"].get("replicas") != replicas:
                updated = copy.deepcopy(current)
                updated["spec"]["replicas"] = replicas
                if revision != top:  # a rollback re-activates an old ReplicaSet under a new revision
                    updated["metadata"].setdefault("annotations", {})[REVISION_ANNOTATION] = str(top + 1)
                current = self.store.replace(updated)
        for rs in owned:
            if rs["metadata"]["uid"] != current["metadata"]["uid"] and rs["spec"].get("replicas", 0) != 0:
                scaled = copy.deepcopy(rs)
                scaled["spec"]["replicas"] = 0
                self.store.replace(scaled)
        self._prune_history(deployment, current)
        revision = (current["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)
        if (deployment["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION) != revision:
            self.store.patch("apps/v1", "Deployment", deployment["metadata"]["name"],
                             deployment["metadata"]["namespace"],
                             {"metadata": {"annotations": {REVISION_ANNOTATION: revision}}})

    def _create_replicaset(self, deployment: Mapping[str, Any], template: Mapping[str, Any], pod_hash: str,
                           revision: int, replicas: int) -> dict[str, Any]:
        labels = {**((template.get("metadata") or {}).get("labels") or {}), "pod-template-hash": pod_hash}
        rs_template = copy.deepcopy(dict(template))
        rs_template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy(deployment["spec"]["selector"])
        selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
        rs = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{deployment['metadata']['name']}-{pod_hash}",
                         "namespace": deployment["metadata"]["namespace"], "labels": labels,
                         "annotations": {REVISION_ANNOTATION: str(revision)},
                         "ownerReferences": [_owner_ref(deployment)]},
            "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
        }
        return self.store.create(rs)

    def _prune_history(self, deployment: Mapping[str, Any], current: Mapping[str, Any]) -> None:
        limit = deployment["spec"].get("revisionHistoryLimit", 10)
        old = [rs for rs in self._owned("apps/v1", "ReplicaSet", deployment)
               if rs["metadata"]["uid"] != current["metadata"]["uid"] and rs["spec"].get("replicas", 0) == 0
               and not (rs.get("status") or {}).get("replicas")]
        old.sort(key=lambda rs: int((rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION, "0")))
        for rs in old[:max(0, len(old) - limit)]:
            try:
                self.store.delete("apps/v1", "ReplicaSet", rs["metadata"]["name"], rs["metadata"]["namespace"])
            except APINotFound:
                pass

    def _reconcile_replicaset(self, rs: dict[str, Any]) -> None:
        if rs["metadata"].get("deletionTimestamp"):
            return
        pods = self._owned("v1", "Pod", rs)
        active = [p for p in pods if _is_active(p)]
        want = rs["spec"].get("replicas", 1)
        for _ in range(want - len(active)):
            active.append(self._new_pod(rs, rs["spec"]["template"]))
        if len(active) > want:
            # delete the least useful first: unscheduled, then not ready, then the youngest
            active.sort(key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]), reverse=True)
            active.sort(key=lambda p: (bool(p["spec"].get("nodeName")), is_pod_ready(p)))
            for pod in active[:len(active) - want]:
                self._delete_quietly(pod)
            active = active[len(active) - want:]
        ready = sum(1 for p in active if is_pod_ready(p))
        labelled = sum(1 for p in active if selector_object_matches(rs["spec"].get("selector"),
                                                                    p["metadata"].get("labels")))
        self._write_status(rs, {"replicas": len(active), "fullyLabeledReplicas": labelled, "readyReplicas": ready,
                                "availableReplicas": ready, "observedGeneration": rs["metadata"]["generation"]})

    def _reconcile_statefulset(self, sts: dict[str, Any]) -> None:
        if sts["metadata"].get("deletionTimestamp"):
            return
        name, ns = sts["metadata"]["name"], sts["metadata"]["namespace"]
        template = sts["spec"].get("template") or {}
        revision = f"{name}-{template_hash(template)}"
        want = sts["spec"].get("replicas", 1)
        pods = {p["metadata"]["name"]: p for p in self._owned("v1", "Pod", sts)}
        for pod_name, pod in sorted(pods.items()):
            ordinal = pod_name.rpartition("-")[2]
            outdated = (pod["metadata"].get("labels") or {}).get("controller-revision-hash") != revision
            if (ordinal.isdigit() and int(ordinal) >= want) or (outdated and not pod_is_terminating(pod)):
                self._delete_quietly(pod)
        for i in range(want):
            pod_name = f"{name}-{i}"
            if self.store.find("v1", "Pod", pod_name, ns) is None:
                self._new_pod(sts, template, name=pod_name,
                              extra_labels={"controller-revision-hash": revision,
                                            "statefulset.kubernetes.io/pod-name": pod_name,
                                            "apps.kubernetes.io/pod-index": str(i)})
        active = [p for p in self._owned("v1", "Pod", sts) if _is_active(p)]
        ready = sum(1 for p in active if is_pod_ready(p))
        self._write_status(sts, {"replicas": len(active), "readyReplicas": ready, "availableReplicas": ready,
                                 "currentReplicas": len(active), "updatedReplicas": len(active),
                                 "currentRevision": revision, "updateRevision": revision,
                                 "observedGeneration": sts["metadata"]["generation"]})

    def _write_deployment_status(self, deployment: dict[str, Any]) -> None:
        owned = self._owned("apps/v1", "ReplicaSet", deployment)
        pod_hash = template_hash(deployment["spec"].get("template") or {})
        replicas = ready = updated = 0
        for rs in owned:
            pods = [p for p in self._owned("v1", "Pod", rs) if _is_active(p)]
            replicas += len(pods)
            ready += sum(1 for p in pods if is_pod_ready(p))
            if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == pod_hash:
                updated += len(pods)
        want = deployment["spec"].get("replicas", 1)
        now = to_rfc3339(self.store.clock.now())
        previous = {c.get("type"): c for c in (deployment.get("status") or {}).get("conditions") or []}

        def condition(kind: str, ok: bool, reason: str) -> dict[str, Any]:
            old = previous.get(kind)
            if old and old.get("status") == ("True" if ok else "False") and old.get("reason") == reason:
                return old
            c = _condition(kind, ok, now, reason)
            c["lastUpdateTime"] = now
            return c

        status: dict[str, Any] = {
            "observedGeneration": deployment["metadata"]["generation"],
            "replicas": replicas, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
            "conditions": [
                condition("Available", ready >= want, "MinimumReplicasAvailable" if ready >= want
                          else "MinimumReplicasUnavailable"),
                condition("Progressing", True, "NewReplicaSetAvailable" if updated == want == ready
                          else "ReplicaSetUpdated"),
            ],
        }
        if replicas - ready > 0:
            status["unavailableReplicas"] = replicas - ready
        self._write_status(deployment, status)

    def _write_budget_statuses(self) -> None:
        for pdb in self.store.list("policy/v1", "PodDisruptionBudget"):
            status = self.store.budget_status(pdb)
            status["disruptedPods"] = (pdb.get("status") or {}).get("disruptedPods", {})
            if not status["disruptedPods"]:
                status.pop("disruptedPods")
            self._write_status(pdb, status)

    def _write_status(self, obj: Mapping[str, Any], status: dict[str, Any]) -> None:
        current = self.store.find(obj["apiVersion"], obj["kind"], obj["metadata"]["name"],
                                  obj["metadata"].get("namespace"))
        if current is None or current.get("status") == status:
            return
        current["status"] = status
        try:
            self.store.replace(current, subresource="status")
        except APIConflict:  # changed under us; the next pass writes it
            pass

    def _delete_quietly(self, obj: Mapping[str, Any]) -> None:
        try:
            self.store.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
        except APINotFound:
            pass
