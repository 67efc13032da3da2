"""Live objects for the protection and blast-radius tests, seeded into the devcluster's MemoryCluster
with real owner references (uids assigned by the store)."""

from __future__ import annotations

from typing import Any

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import MemoryCluster, ObjectStore
from kubeskippy.devcluster import builders as b

from .builders import T0


def new_cluster() -> MemoryCluster:
    return MemoryCluster(ObjectStore(ManualClock(T0), seed=3))


def owned(obj: dict[str, Any], owner: dict[str, Any]) -> dict[str, Any]:
    obj["metadata"]["ownerReferences"] = [{
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": True}]
    return obj


def seed_deployment(cluster: MemoryCluster, name: str, namespace: str = "prod", *, replicas: int = 3,
                    ready: list[bool] | None = None, annotations: dict[str, str] | None = None,
                    labels: dict[str, str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """A Deployment → ReplicaSet → Pods chain; ``ready`` gives each pod's readiness (all Ready by default)."""
    ready = [True] * replicas if ready is None else ready
    dep = b.deployment(name, namespace, replicas=replicas)
    dep["metadata"]["annotations"] = dict(annotations or {})
    dep["metadata"]["labels"].update(labels or {})
    [dep] = cluster.seed([dep])
    rs = b.replicaset(f"{name}-5d8f", namespace, replicas=replicas, labels={"app": name})
    [rs] = cluster.seed([owned(rs, dep)])
    pods = cluster.seed([owned(b.pod(f"{name}-5d8f-{i}", namespace, labels={"app": name}, ready=r), rs)
                         for i, r in enumerate(ready)])
    return {"deployment": [dep], "replicaset": [rs], "pods": pods}
