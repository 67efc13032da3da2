"""Small builders for Kubernetes-shaped objects and policies used across detection tests."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from kubeskippy.policy.model import HealingPolicy
from kubeskippy.types import to_timestamp_text

T0 = 1_700_000_000.0
"""The ManualClock's start in every test: times are written as T0 ± seconds."""


def ts(t: float) -> str:
    return to_timestamp_text(t)


def owner(kind: str, name: str, uid: str | None = None, api_version: str = "apps/v1") -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid or f"uid-{name}", "controller": True}


def meta(name: str, namespace: str | None, labels: dict | None = None, owners: Sequence[dict] = (),
         uid: str | None = None, deleting: bool = False) -> dict:
    m: dict[str, Any] = {"name": name, "uid": uid or f"uid-{name}", "labels": dict(labels or {})}
    if namespace is not None:
        m["namespace"] = namespace
    if owners:
        m["ownerReferences"] = list(owners)
    if deleting:
        m["deletionTimestamp"] = ts(T0 - 1)
    return m


def condition(type_: str, status: str, since: float | None, reason: str = "", message: str = "") -> dict:
    c = {"type": type_, "status": status, "reason": reason, "message": message}
    if since is not None:
        c["lastTransitionTime"] = ts(since)
    return c


def container(name: str = "app", *, ready: bool = True, waiting: str | None = None, terminated: str | None = None,
              finished: float | None = None, last_terminated: str | None = None, last_finished: float | None = None,
              restarts: int = 0) -> dict:
    state: dict[str, Any]
    if waiting:
        state = {"waiting": {"reason": waiting, "message": f"{waiting} of {name}"}}
    elif terminated:
        state = {"terminated": {"reason": terminated, "exitCode": 137, "finishedAt": ts(finished or T0)}}
    else:
        state = {"running": {"startedAt": ts(T0 - 3600)}}
    cs: dict[str, Any] = {"name": name, "ready": ready, "restartCount": restarts, "state": state}
    if last_terminated:
        cs["lastState"] = {"terminated": {"reason": last_terminated, "exitCode": 137,
                                          "finishedAt": ts(last_finished or T0)}}
    return cs


def pod(name: str, namespace: str = "default", *, labels: dict | None = None, owners: Sequence[dict] = (),
        conditions: Iterable[dict] = (), containers: Iterable[dict] = (), uid: str | None = None,
        deleting: bool = False, start: float = T0 - 3600) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta(name, namespace, labels, owners, uid, deleting),
        "spec": {"containers": [{"name": "app"}]},
        "status": {"phase": "Running", "startTime": ts(start), "conditions": list(conditions),
                   "containerStatuses": list(containers)},
    }


def workload(kind: str, name: str, namespace: str = "default", *, labels: dict | None = None,
             owners: Sequence[dict] = (), conditions: Iterable[dict] = (), uid: str | None = None,
             api_version: str | None = None) -> dict:
    return {
        "apiVersion": api_version or ("batch/v1" if kind == "Job" else "apps/v1"), "kind": kind,
        "metadata": meta(name, namespace, labels, owners, uid),
        "spec": {}, "status": {"conditions": list(conditions)},
    }


def node(name: str, *, labels: dict | None = None, conditions: Iterable[dict] = ()) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": meta(name, None, labels),
            "status": {"conditions": list(conditions)}}


def deployment_with_pods(name: str, n: int, namespace: str = "default", labels: dict | None = None,
                         **pod_kwargs: Any) -> list[dict]:
    """A Deployment, its ReplicaSet and ``n`` Pods (``<name>-abc-0`` …), linked by ownerReferences."""
    labels = labels or {"app": name}
    rs_name = f"{name}-abc"
    objs = [workload("Deployment", name, namespace, labels=labels),
            workload("ReplicaSet", rs_name, namespace, labels=labels, owners=[owner("Deployment", name)])]
    for i in range(n):
        objs.append(pod(f"{rs_name}-{i}", namespace, labels=labels, owners=[owner("ReplicaSet", rs_name)],
                        **pod_kwargs))
    return objs


def event_v1(name: str, namespace: str, involved: dict, reason: str, *, type_: str = "Warning", count: int = 1,
             first: float = T0, last: float | None = None, message: str = "", series: dict | None = None,
             event_time: float | None = None) -> dict:
    imeta = involved["metadata"]
    ev: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "involvedObject": {"apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": imeta["name"],
                           "namespace": imeta.get("namespace"), "uid": imeta.get("uid")},
        "reason": reason, "type": type_, "message": message or f"{reason} on {imeta['name']}", "count": count,
        "firstTimestamp": ts(first), "lastTimestamp": ts(last if last is not None else first),
    }
    if series is not None:
        ev["series"] = series
    if event_time is not None:
        ev["eventTime"] = ts(event_time)
    return ev


def event_new(name: str, namespace: str, involved: dict, reason: str, *, type_: str = "Warning",
              event_time: float = T0, series_count: int | None = None, last_observed: float | None = None) -> dict:
    """An events.k8s.io/v1 Event (regarding, note, eventTime, series)."""
    imeta = involved["metadata"]
    ev: dict[str, Any] = {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "regarding": {"apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": imeta["name"],
                      "namespace": imeta.get("namespace"), "uid": imeta.get("uid")},
        "reason": reason, "type": type_, "note": f"{reason} on {imeta['name']}", "eventTime": ts(event_time),
        "reportingController": "kubelet", "reportingInstance": "node-1", "action": "Observe",
    }
    if series_count is not None:
        ev["series"] = {"count": series_count, "lastObservedTime": ts(last_observed or event_time)}
    return ev


def make_policy(name: str = "heal", namespace: str = "default", *, triggers: Sequence[dict],
                namespaces: Sequence[str] = (), resources: Sequence[dict] | None = None,
                match_labels: dict | None = None, match_expressions: Sequence[dict] | None = None) -> HealingPolicy:
    selector: dict[str, Any] = {"namespaces": list(namespaces),
                                "resources": list(resources or [{"apiVersion": "v1", "kind": "Pod"}])}
    if match_labels is not None or match_expressions is not None:
        selector["labelSelector"] = {"matchLabels": match_labels or {},
                                     "matchExpressions": list(match_expressions or [])}
    return HealingPolicy.model_validate({
        "apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": selector, "triggers": list(triggers),
                 "actions": [{"name": "restart", "type": "restart"}]},
    })


def metric_trigger(name: str = "mem", query: str = "memory_usage_percent", threshold: float = 85,
                   operator: str = ">", duration: str = "2m") -> dict:
    return {"name": name, "type": "metric",
            "metricTrigger": {"query": query, "threshold": threshold, "operator": operator, "duration": duration}}


def event_trigger(name: str = "backoff", reason: str = "BackOff", type_: str = "", count: int = 0,
                  window: str = "5m") -> dict:
    return {"name": name, "type": "event",
            "eventTrigger": {"reason": reason, "type": type_, "count": count, "window": window}}


def condition_trigger(name: str = "cond", type_: str = "Ready", status: str = "False",
                      duration: str = "2m") -> dict:
    return {"name": name, "type": "condition",
            "conditionTrigger": {"type": type_, "status": status, "duration": duration}}
