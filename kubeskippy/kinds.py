"""The Kubernetes kinds KubeSkippy reads or acts on: apiVersion/kind → REST plural and scope.

One table serves the production adapter, the API test double and the simulator, so a kind is
spelled the same way everywhere.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["KindInfo", "KINDS", "kind_info", "api_path", "object_ref", "WORKLOAD_KINDS"]


class KindInfo(NamedTuple):
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""


KINDS: tuple[KindInfo, ...] = (
    KindInfo("v1", "Pod", "pods", True),
    KindInfo("v1", "Event", "events", True),
    KindInfo("events.k8s.io/v1", "Event", "events", True),
    KindInfo("v1", "ConfigMap", "configmaps", True),
    KindInfo("v1", "Secret", "secrets", True),
    KindInfo("v1", "Service", "services", True),
    KindInfo("v1", "Endpoints", "endpoints", True),
    KindInfo("v1", "Node", "nodes", False),
    KindInfo("v1", "Namespace", "namespaces", False),
    KindInfo("v1", "PersistentVolume", "persistentvolumes", False),
    KindInfo("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
    KindInfo("apps/v1", "Deployment", "deployments", True),
    KindInfo("apps/v1", "ReplicaSet", "replicasets", True),
    KindInfo("apps/v1", "StatefulSet", "statefulsets", True),
    KindInfo("apps/v1", "DaemonSet", "daemonsets", True),
    KindInfo("apps/v1", "ControllerRevision", "controllerrevisions", True),
    KindInfo("batch/v1", "Job", "jobs", True),
    KindInfo("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
    KindInfo("coordination.k8s.io/v1", "Lease", "leases", True),
    KindInfo("kubeskippy.io/v1alpha1", "HealingPolicy", "healingpolicies", True),
    KindInfo("kubeskippy.io/v1alpha1", "HealingAction", "healingactions", True),
)

_BY_KEY = {(k.api_version, k.kind): k for k in KINDS}
_BY_KIND = {}
for _k in KINDS:
    _BY_KIND.setdefault(_k.kind, _k)

WORKLOAD_KINDS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"})


def kind_info(api_version: str | None, kind: str) -> KindInfo:
    """Look a kind up; ``api_version`` may be omitted for the core/apps kinds we know."""
    if api_version:
        info = _BY_KEY.get((api_version, kind))
        if info:
            return info
    info = _BY_KIND.get(kind)
    if info is None or (api_version and info.api_version != api_version):
        raise KeyError(f"unsupported kind {api_version + '/' if api_version else ''}{kind}")
    return info


def api_path(api_version: str, kind: str, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
    """The REST path of a collection or object, e.g. ``/apis/apps/v1/namespaces/ns/deployments/web``."""
    info = kind_info(api_version, kind)
    base = "/api/v1" if info.api_version == "v1" else f"/apis/{info.api_version}"
    if info.namespaced and namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{info.plural}"
    if name:
        base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
    return base


def object_ref(obj: dict) -> str:
    """``Kind/namespace/name`` (or ``Kind/name`` when cluster-scoped), for logs and records."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind', '?')}/{ns}/{meta.get('name', '?')}" if ns else f"{obj.get('kind', '?')}/{meta.get('name', '?')}"
