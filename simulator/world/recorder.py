"""Kubernetes Events, recorded in batches and turned into objects only when someone reads them.

Why lazy: a crash-looping fleet of 10,000 pods produces hundreds of thousands of Events a
simulated day, and in most runs nobody lists them. Recording appends one batch (a reason and
arrays of subjects and times); ``objects()`` aggregates the way the kubelet's event recorder
does (same object, reason and message → one Event with ``count``, first and last timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from kubeskippy.clock import to_rfc3339

__all__ = ["EventBatch", "EventRecorder", "Subject"]


@dataclass(frozen=True)
class Subject:
    """The involved object of an Event."""

    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str
    field_path: str = ""


@dataclass
class EventBatch:
    reason: str
    type: str  # Normal / Warning
    component: str  # kubelet, default-scheduler, deployment-controller, …
    subjects: np.ndarray  # int ids resolved by the recorder's resolver for this batch's kind
    times: np.ndarray  # simulated seconds
    messages: list[str] | str
    kind: str = "Pod"
    extras: np.ndarray | None = None  # per subject: a pod serial the message names ({pod}, {container})
    latest: float = 0.0  # max(times), for pruning without a pass over every batch's times


@dataclass
class _Aggregate:
    subject: Subject
    reason: str
    type: str
    component: str
    message: str
    count: int
    first: float
    last: float
    host: str = ""


class EventRecorder:
    """Stores batches; ``resolve(kind, id) -> (Subject, host)`` names their subjects on read."""

    def __init__(self, resolve: Callable[[str, int], tuple[Subject, str]], *, epoch: float, ttl: float) -> None:
        self._resolve = resolve
        self._epoch = epoch
        self._ttl = ttl
        self._batches: list[EventBatch] = []
        self._folded = 0
        self._aggs: dict[tuple, _Aggregate] = {}
        self._objects: dict[tuple, dict] = {}  # built Event dicts, read-only, rebuilt when counts change
        self.total = 0
        self.by_reason: dict[str, int] = {}

    def record(self, reason: str, type_: str, component: str, subjects: np.ndarray, times: np.ndarray | float,
               messages: list[str] | str, *, kind: str = "Pod", extras: np.ndarray | None = None) -> None:
        subjects = np.atleast_1d(np.asarray(subjects, dtype=np.int64))
        if len(subjects) == 0:
            return
        times = np.array(times, dtype=float)  # a copy: callers pass views of live columns
        if times.shape != subjects.shape:
            times = np.broadcast_to(times, subjects.shape).copy()
        latest = float(times.max())
        self._batches.append(EventBatch(reason, type_, component, subjects, times, messages, kind, extras, latest))
        self.total += len(subjects)
        self.by_reason[reason] = self.by_reason.get(reason, 0) + len(subjects)

    def prune(self, now: float) -> None:
        """Forget what is older than the API server's --event-ttl (without aggregating it first:
        in runs where nobody reads Events, they are never turned into objects at all)."""
        cutoff = now - self._ttl
        kept = [b for b in self._batches if b.latest >= cutoff]
        self._folded = sum(1 for b in self._batches[: self._folded] if b.latest >= cutoff)
        self._batches = kept
        for key in [k for k, a in self._aggs.items() if a.last < cutoff]:
            del self._aggs[key]
            self._objects.pop(key, None)

    def _fold(self) -> None:
        """Aggregate batches recorded since the last read (incremental: reads stay cheap)."""
        for b in self._batches[self._folded:]:
            for i in range(len(b.subjects)):
                subject, host = self._resolve(b.kind, int(b.subjects[i]))
                message = b.messages if isinstance(b.messages, str) else b.messages[i]
                message = self.format(message, subject, host, int(b.extras[i]) if b.extras is not None else None)
                key = (subject.uid, b.reason, message)
                t = float(b.times[i])
                agg = self._aggs.get(key)
                if agg is None:
                    self._aggs[key] = _Aggregate(subject, b.reason, b.type, b.component, message, 1, t, t, host)
                else:
                    agg.count += 1
                    agg.first = min(agg.first, t)
                    agg.last = max(agg.last, t)
                    self._objects.pop(key, None)
        self._folded = len(self._batches)

    def format(self, template: str, subject: Subject, host: str, pod: int | None = None) -> str:
        """Fill a message template: {name} {namespace} {host} of the subject, {container} of a
        Pod subject, {pod} {pod_namespace} {pod_container} of the pod named by ``extras``."""
        fields = {"name": subject.name, "namespace": subject.namespace, "host": host,
                  "container": subject.field_path[len("spec.containers{"):-1] if subject.field_path else ""}
        if pod is not None:
            other, _ = self._resolve("Pod", pod)
            fields.update(pod=other.name, pod_namespace=other.namespace,
                          pod_container=other.field_path[len("spec.containers{"):-1])
        return template.format(**fields)

    def aggregates(self, now: float, namespace: str | None = None, *, kind: str | None = None,
                   name: str | None = None) -> list[_Aggregate]:
        """Aggregated Events as of ``now`` (an Event whose first occurrence is after ``now`` is not
        there yet; one whose last occurrence is older than the TTL is gone), optionally only those
        about objects of ``kind`` and/or named ``name``."""
        self._fold()
        cutoff = now - self._ttl
        found = [a for a in self._aggs.values() if a.last >= cutoff and a.first <= now
                 and (namespace is None or a.subject.namespace == namespace)
                 and (kind is None or a.subject.kind == kind) and (name is None or a.subject.name == name)]
        return sorted(found, key=lambda a: (a.last, a.subject.name, a.reason))

    def objects(self, now: float, namespace: str | None = None, *, kind: str | None = None,
                name: str | None = None) -> list[dict]:
        out = []
        for a in self.aggregates(now, namespace, kind=kind, name=name):
            key = (a.subject.uid, a.reason, a.message)
            obj = self._objects.get(key)
            if obj is None:
                obj = self._objects[key] = self.to_object(a)
            out.append(obj)
        return out

    def to_object(self, a: _Aggregate) -> dict:
        from .naming import uid_for

        name = f"{a.subject.name}.{uid_for(a.subject.uid, a.reason, a.message)[:16].replace('-', '')}"
        involved = {"apiVersion": a.subject.api_version, "kind": a.subject.kind, "name": a.subject.name,
                    "uid": a.subject.uid}
        if a.subject.namespace:
            involved["namespace"] = a.subject.namespace
        if a.subject.field_path:
            involved["fieldPath"] = a.subject.field_path
        source = {"component": a.component}
        if a.host:
            source["host"] = a.host
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": a.subject.namespace or "default",
                         "uid": uid_for("event", name), "resourceVersion": str(int(a.last * 1000)),
                         "creationTimestamp": to_rfc3339(self._epoch + a.first)},
            "involvedObject": involved,
            "reason": a.reason,
            "message": a.message,
            "type": a.type,
            "count": a.count,
            "firstTimestamp": to_rfc3339(self._epoch + a.first),
            "lastTimestamp": to_rfc3339(self._epoch + a.last),
            "source": source,
            "reportingComponent": a.component,
            "reportingInstance": a.host,
        }
