"""From a series' labels (or an alert's) to the Kubernetes object it describes.

The most specific object label wins: ``pod``, then the workload labels kube-state-metrics uses
(``replicaset``, ``statefulset``, ``daemonset``, ``deployment``, ``job_name`` — not ``job``,
which is Prometheus' scrape job), then ``node``. When Prometheus scraped kube-state-metrics
without ``honor_labels``, the object's labels arrive as ``exported_namespace``/``exported_pod``
(and ``namespace``/``pod`` name the exporter itself), so the ``exported_`` form wins when present.
A series with none of these labels names no object and produces no finding.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

__all__ = ["TargetRef", "target_of", "TARGET_LABELS"]


class TargetRef(NamedTuple):
    api_version: str
    kind: str
    namespace: str | None
    name: str


TARGET_LABELS: tuple[tuple[str, str, str, bool], ...] = (
    ("pod", "v1", "Pod", True),
    ("replicaset", "apps/v1", "ReplicaSet", True),
    ("statefulset", "apps/v1", "StatefulSet", True),
    ("daemonset", "apps/v1", "DaemonSet", True),
    ("deployment", "apps/v1", "Deployment", True),
    ("job_name", "batch/v1", "Job", True),
    ("node", "v1", "Node", False),
)
"""(label, apiVersion, kind, namespaced), most specific first."""


def _label(labels: Mapping[str, str], name: str) -> str:
    return labels.get(f"exported_{name}") or labels.get(name) or ""


def target_of(labels: Mapping[str, str]) -> TargetRef | None:
    """The object a series is about, or ``None`` when its labels name none."""
    namespace = _label(labels, "namespace")
    for label, api_version, kind, namespaced in TARGET_LABELS:
        name = _label(labels, label)
        if not name:
            continue
        if namespaced:
            if not namespace:
                continue
            return TargetRef(api_version, kind, namespace, name)
        return TargetRef(api_version, kind, None, name)
    return None
