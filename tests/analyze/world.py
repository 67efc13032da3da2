"""Scenario builder for analysis tests: a Deployment, its ReplicaSets and pods, events, a node,
logs and metric series, served through the devcluster's MemoryCluster and a small Metrics fake.

Times are relative to a ManualClock so every test asserts exact ages and windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubeskippy.clock import ManualClock, to_rfc3339
from kubeskippy.devcluster.memory_cluster import MemoryCluster
from kubeskippy.events.model import Evidence, Finding, ObjectRef, stable_id
from kubeskippy.policy.model import HealingPolicy
from kubeskippy.ports import Sample, Series

MI = 2 ** 20

SIGNAL_OF_QUERY = (
    ("cfs_throttled", "cpu_throttling"),
    ("container_memory_working_set_bytes", "memory"),
    ("container_cpu_usage_seconds_total", "cpu"),
    ("http_requests_total", "error_rate"),
)


class SeriesMetrics:
    """Answers the context's range queries from prepared series keyed by (signal, pod)."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, str, str], list[Series]] = {}
        self.queries: list[str] = []
        self.fail_with: Exception | None = None

    def add(self, signal: str, namespace: str, pod: str, points: list[tuple[float, float]], **labels: str) -> None:
        self.series.setdefault((signal, namespace, pod), []).append(
            Series(labels={"namespace": namespace, "pod": pod, **labels}, points=tuple(points)))

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        return []

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        self.queries.append(promql)
        if self.fail_with is not None:
            raise self.fail_with
        signal = next(s for marker, s in SIGNAL_OF_QUERY if marker in promql)
        pod = re.search(r'pod="([^"]+)"', promql).group(1)
        namespace = re.search(r'namespace="([^"]+)"', promql).group(1)
        return [Series(labels=s.labels, points=tuple((t, v) for t, v in s.points if start <= t <= end))
                for s in self.series.get((signal, namespace, pod), [])]


def ramp(clock: ManualClock, start: float, end: float, *, minutes: float = 30, step: float = 30.0) -> list[tuple[float, float]]:
    """Points from ``start`` to ``end`` over the last ``minutes`` (linear)."""
    n = int(minutes * 60 / step)
    t0 = clock.now() - minutes * 60
    return [(t0 + i * step, start + (end - start) * i / n) for i in range(n + 1)]


def flat(clock: ManualClock, value: float, *, minutes: float = 30, step: float = 30.0, wobble: float = 0.0) -> list[tuple[float, float]]:
    n = int(minutes * 60 / step)
    t0 = clock.now() - minutes * 60
    return [(t0 + i * step, value + (wobble if i % 2 else -wobble)) for i in range(n + 1)]


@dataclass
class World:
    clock: ManualClock = field(default_factory=lambda: ManualClock(1_700_000_000.0))
    namespace: str = "shop"
    objects: list[dict] = field(default_factory=list)
    logs: dict[tuple[str, str], str] = field(default_factory=dict)
    metrics: SeriesMetrics = field(default_factory=SeriesMetrics)
    _events: int = 0

    def ts(self, seconds_ago: float) -> str:
        return to_rfc3339(self.clock.now() - seconds_ago)

    def deployment(self, name: str = "api", *, replicas: int = 2, image: str = "shop/api:1.0",
                   memory: str | None = "512Mi", cpu: str | None = "500m", labels: dict | None = None) -> dict:
        limits = {k: v for k, v in (("memory", memory), ("cpu", cpu)) if v}
        obj = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": self.namespace, "uid": f"uid-{name}", "labels": dict(labels or {}),
                            "annotations": {"deployment.kubernetes.io/revision": "1"}},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                                     "spec": {"containers": [{"name": "app", "image": image,
                                                              "resources": {"limits": limits}}]}}}}
        self.objects.append(obj)
        return obj

    def replicaset(self, deploy: dict, revision: int, *, age: float, image: str) -> dict:
        name = f"{deploy['metadata']['name']}-{revision}abc"
        obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
               "metadata": {"name": name, "namespace": self.namespace, "uid": f"uid-{name}",
                            "labels": {"app": deploy["metadata"]["name"]}, "creationTimestamp": self.ts(age),
                            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "controller": True,
                                                 "name": deploy["metadata"]["name"], "uid": deploy["metadata"]["uid"]}]},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": deploy["metadata"]["name"]}},
                        "template": {"metadata": {"labels": {"app": deploy["metadata"]["name"]}},
                                     "spec": {"containers": [{"name": "app", "image": image}]}}}}
        self.objects.append(obj)
        return obj

    def pod(self, rs: dict, suffix: str = "x1", *, node: str = "node-1", memory: str | None = "512Mi",
            cpu: str | None = "500m", state: dict | None = None, last: dict | None = None, ready: bool = True,
            restarts: int = 0, env: list | None = None, image: str = "shop/api:1.0", labels: dict | None = None) -> dict:
        limits = {k: v for k, v in (("memory", memory), ("cpu", cpu)) if v}
        container = {"name": "app", "image": image, "resources": {"limits": limits}}
        if env:
            container["env"] = env
        status = {"name": "app", "image": image, "ready": ready, "restartCount": restarts,
                  "state": state or {"running": {"startedAt": self.ts(3600)}}}
        if last:
            status["lastState"] = {"terminated": last}
        obj = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{rs['metadata']['name']}-{suffix}", "namespace": self.namespace,
                            "uid": f"uid-pod-{suffix}", "labels": {"app": rs["metadata"]["labels"]["app"], **(labels or {})},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True,
                                                 "name": rs["metadata"]["name"], "uid": rs["metadata"]["uid"]}]},
               "spec": {"nodeName": node, "containers": [container]},
               "status": {"phase": "Running", "containerStatuses": [status]}}
        self.objects.append(obj)
        return obj

    def node(self, name: str = "node-1", **conditions: str) -> dict:
        conds = [{"type": "Ready", "status": "True"}] + [{"type": k, "status": v} for k, v in conditions.items()]
        obj = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": f"uid-{name}", "labels": {}},
               "status": {"conditions": conds}}
        self.objects.append(obj)
        return obj

    def event(self, about: dict, reason: str, message: str = "", *, count: int = 1, age: float = 60.0,
              type_: str = "Warning") -> dict:
        self._events += 1
        meta = about["metadata"]
        obj = {"apiVersion": "v1", "kind": "Event",
               "metadata": {"name": f"{meta['name']}.{self._events:04d}", "namespace": meta.get("namespace", "default")},
               "involvedObject": {"apiVersion": about["apiVersion"], "kind": about["kind"], "name": meta["name"],
                                  "namespace": meta.get("namespace"), "uid": meta.get("uid", "")},
               "reason": reason, "message": message, "type": type_, "count": count,
               "firstTimestamp": self.ts(age + 60), "lastTimestamp": self.ts(age)}
        self.objects.append(obj)
        return obj

    def log(self, pod: dict, text: str) -> None:
        self.logs[(pod["metadata"]["name"], "app")] = text

    def cluster(self) -> MemoryCluster:
        cluster = MemoryCluster()
        cluster.seed([o for o in self.objects])
        for (pod, container), text in self.logs.items():
            cluster.store.set_log(self.namespace, pod, text, container=container)
        return cluster

    def finding(self, pod: dict, *, trigger: str = "high-memory", trigger_type: str = "metric",
                policy: str = "shop/healing", evidence: list[Evidence] | None = None) -> Finding:
        owners = []
        by_name = {(o["kind"], o["metadata"]["name"]): o for o in self.objects}
        current = pod
        while (refs := current["metadata"].get("ownerReferences")):
            ref = refs[0]
            owner = by_name[(ref["kind"], ref["name"])]
            owners.append(ObjectRef.of(owner))
            current = owner
        top = owners[-1] if owners else ObjectRef.of(pod)
        return Finding(id=stable_id("finding", pod["metadata"]["name"], trigger, self.clock.now()), policy=policy,
                       trigger=trigger, trigger_type=trigger_type, target=ObjectRef.of(pod), owner_chain=owners,
                       fingerprint=stable_id(policy, trigger, str(top)), evidence=evidence or [],
                       observed_at=self.clock.now())


POLICY_YAML = """
apiVersion: kubeskippy.io/v1alpha1
kind: HealingPolicy
metadata:
  name: healing
  namespace: shop
  annotations:
    kubeskippy.io/custom-actions: |
      rollback-deployment: {custom: rollback}
      raise-memory-limit: {custom: raise_limit, resource: memory, percent: 50, max: 2Gi}
      notify-oncall: {custom: notify}
      capture-diagnostics: {custom: diagnostics}
      cordon-node: {custom: cordon_drain}
spec:
  mode: automatic
  selector:
    resources: [{apiVersion: v1, kind: Pod}]
  triggers:
    - name: high-memory
      type: metric
      metricTrigger: {query: memory_usage_percent, threshold: 85, operator: ">", duration: 2m}
  actions:
    - {name: restart-pods, type: restart, priority: 50, restartAction: {strategy: rolling}}
    - {name: scale-up, type: scale, priority: 40, scaleAction: {direction: up, replicas: 1, minReplicas: 1, maxReplicas: 5}}
    - {name: raise-memory-limit, type: custom, priority: 30}
    - {name: rollback-deployment, type: custom, priority: 20}
    - {name: capture-diagnostics, type: custom, priority: 15}
    - {name: notify-oncall, type: custom, priority: 10}
    - {name: delete-pod, type: delete, priority: 5}
    - {name: cordon-node, type: custom, priority: 1}
"""


def policy(**annotations: str) -> HealingPolicy:
    doc: dict[str, Any] = yaml.safe_load(POLICY_YAML)
    doc["metadata"]["annotations"].update(annotations)
    return HealingPolicy.model_validate(doc)
