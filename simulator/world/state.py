"""The simulated cluster's non-pod state: nodes, Deployments and ReplicaSets.

Deployments and ReplicaSets are few, so they are plain objects holding their manifest dicts
(the source of truth for spec, exactly what a patch changes); pods are rows of the PodTable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..scenario import WorkloadSpec
from ..workloads import WorkloadModel

__all__ = ["NodeState", "DeploymentState", "ReplicaSetState", "PodIdentity", "ProbeSettings"]


@dataclass
class NodeState:
    index: int
    name: str
    uid: str
    cpu: float
    memory: float
    pods: int
    cpu_used: float = 0.0
    memory_used: float = 0.0
    pods_used: int = 0
    images: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ProbeSettings:
    initial_delay: float
    period: float
    failure_threshold: int


@dataclass
class ReplicaSetState:
    index: int
    dep: int
    name: str
    uid: str
    hash: str
    template: dict
    revision: int
    created: float
    replicas: int = 0
    rows: set[int] = field(default_factory=set)
    mem_limit: float = 0.0
    cpu_limit: float = 0.0
    mem_req: float = 0.0
    cpu_req: float = 0.0
    readiness: ProbeSettings | None = None
    liveness: ProbeSettings | None = None
    resource_version: int = 0
    deleted: bool = False
    deleting: int = 0  # pods of this ReplicaSet in graceful termination


@dataclass
class DeploymentState:
    index: int
    spec: WorkloadSpec
    obj: dict  # apiVersion/kind/metadata/spec as stored (status computed on read)
    model: WorkloadModel
    model_index: int
    uid: str
    created: float
    watched: bool = False
    next_ordinal: int = 0
    generation: int = 1
    replicasets: list[int] = field(default_factory=list)
    resource_version: int = 0
    deleted: bool = False
    last_status: tuple = ()
    hash_cache: tuple | None = None  # (template object, its pod-template-hash)

    @property
    def namespace(self) -> str:
        return self.obj["metadata"]["namespace"]

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    @property
    def replicas(self) -> int:
        return int(self.obj["spec"].get("replicas", 1))


@dataclass
class PodIdentity:
    """What outlives a pod's row: enough to name it in Events and metric series."""

    serial: int
    name: str
    namespace: str
    uid: str
    dep: int
    rs: int
    container: str
    node: str = ""
