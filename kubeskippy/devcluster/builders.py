"""Small manifest builders for fixtures: the minimum valid objects, as plain dicts.

Shared by the devcluster's own tests and by anyone seeding a :class:`MemoryCluster`; each returns
a fresh dict the caller may extend.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["namespace", "pod", "deployment", "replicaset", "statefulset", "pdb", "configmap", "event",
           "healing_policy", "container"]


def container(name: str = "app", image: str = "nginx:1.27", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def pod(name: str, namespace: str = "default", *, labels: Mapping[str, str] | None = None,
        containers: list[dict[str, Any]] | None = None, node: str | None = None, phase: str | None = None,
        ready: bool | None = None, owner: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pod; ``phase``/``ready`` fill ``status`` (for :meth:`ObjectStore.load`, which keeps it)."""
    obj: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": {"containers": containers or [container()]},
    }
    if node:
        obj["spec"]["nodeName"] = node
    if owner is not None:
        obj["metadata"]["ownerReferences"] = [{
            "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    if phase is not None or ready is not None:
        status: dict[str, Any] = {"phase": phase or "Running"}
        if ready is not None:
            status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
        obj["status"] = status
    return obj


def _workload(kind: str, name: str, namespace: str, replicas: int, labels: Mapping[str, str] | None,
              containers: list[dict[str, Any]] | None) -> dict[str, Any]:
    labels = dict(labels or {"app": name})
    return {
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)},
                         "spec": {"containers": containers or [container()]}},
        },
    }


def deployment(name: str, namespace: str = "default", *, replicas: int = 1, labels: Mapping[str, str] | None = None,
               containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return _workload("Deployment", name, namespace, replicas, labels, containers)


def replicaset(name: str, namespace: str = "default", *, replicas: int = 1, labels: Mapping[str, str] | None = None,
               containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return _workload("ReplicaSet", name, namespace, replicas, labels, containers)


def statefulset(name: str, namespace: str = "default", *, replicas: int = 1, labels: Mapping[str, str] | None = None,
                containers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    obj = _workload("StatefulSet", name, namespace, replicas, labels, containers)
    obj["spec"]["serviceName"] = name
    return obj


def pdb(name: str, namespace: str = "default", *, match_labels: Mapping[str, str] | None = None,
        min_available: int | str | None = None, max_unavailable: int | str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": dict(match_labels or {})}}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def configmap(name: str, namespace: str = "default", data: Mapping[str, str] | None = None,
              labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": name, "namespace": namespace}, "data": dict(data or {})}
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    return obj


def event(name: str, involved: Mapping[str, Any], *, reason: str, message: str = "", type_: str = "Warning",
          count: int = 1) -> dict[str, Any]:
    """A core/v1 Event about ``involved`` (an object dict)."""
    meta = involved["metadata"]
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": meta.get("namespace", "default")},
        "involvedObject": {"apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": meta["name"],
                           "namespace": meta.get("namespace"), "uid": meta.get("uid", "")},
        "reason": reason, "message": message, "type": type_, "count": count,
        "source": {"component": "kubelet"},
    }


def healing_policy(name: str, namespace: str = "default", spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": dict(spec or {"mode": "dryrun"})}
