"""Kubernetes Events, recorded in batches and turned into objects only when someone reads them.

Why lazy: a crash-looping fleet of 10,000 pods produces hundreds of thousands of Events a
simulated day, and in most runs nobody lists them. Recording appends one batch (a reason and
arrays of subjects and times); ``objects()`` aggregates the way the kubelet's event recorder
does (same object, reason and message → one Event with ``count``, first and last timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
        self.total = 0
        self.by_reason: dict[str, int] = {}

    def record(self, reason: str, type_: str, component: str, subjects: np.ndarray, times: np.ndarray | float,
               messages: list[str] | str, *, kind: str = "Pod") -> None:
        subjects = np.atleast_1d(np.asarray(subjects, dtype=np.int64))
        if len(subjects) == 0:
            return
        times = np.broadcast_to(np.asarray(times, dtype=float), subjects.shape).copy()
        self._batches.append(EventBatch(reason, type_, component, subjects, times, messages, kind))
        self.total += len(subjects)
        self.by_reason[reason] = self.by_reason.get(reason, 0) + len(subjects)

    def prune(self, now: float) -> None:
        """Drop batches older than the API server's --event-ttl."""
        cutoff = now - self._ttl
        self._batches = [b for b in self._batches if b.times.max() >= cutoff]

    def aggregates(self, now: float, namespace: str | None = None) -> list[_Aggregate]:
        cutoff = now - self._ttl
        found: dict[tuple, _Aggregate] = {}
        for b in self._batches:
            for i in np.flatnonzero((b.times >= cutoff) & (b.times <= now)):
                subject, host = self._resolve(b.kind, int(b.subjects[i]))
                if namespace is not None and subject.namespace != namespace:
                    continue
                message = b.messages if isinstance(b.messages, str) else b.messages[i]
                message = message.format(name=subject.name, namespace=subject.namespace, host=host)
                key = (subject.uid, b.reason, message)
                t = float(b.times[i])
                agg = found.get(key)
                if agg is None:
                    found[key] = _Aggregate(subject, b.reason, b.type, b.component, message, 1, t, t, host)
                else:
                    agg.count += 1
                    agg.first = min(agg.first, t)
                    agg.last = max(agg.last, t)
        return sorted(found.values(), key=lambda a: (a.last, a.subject.name, a.reason))

    def objects(self, now: float, namespace: str | None = None) -> list[dict]:
        return [self.to_object(a) for a in self.aggregates(now, namespace)]

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
