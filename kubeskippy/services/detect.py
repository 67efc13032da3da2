"""detect: ApiServerSource events, alerts and sweeps in; findings out.

An ApiServerSource event is decided on the function's event loop (:mod:`.read_replay`): most are
dismissed without reading anything, and the reads of the others (a crash-looping Pod's owners)
are awaited on the loop, so no event waits for a worker thread and the GIL between them. A
worker thread decides the first event and any event while the policies are due for a re-read or
being recompiled, alerts, sweeps, decisions needing more than :data:`MAX_LOOP_READS` reads, and
everything when the cluster is reached through a kubeconfig (the official client is synchronous).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Mapping, Sequence

from ..clock import WallClock
from ..detect.detector import Detector
from ..errors import InvalidInput
from ..events.cloudevents import as_cloudevent, decode_payload, make_event
from ..events.types import (ALERT_FIRING, ALERT_RESOLVED, APISERVER_REF_PREFIX, APISERVER_RESOURCE_PREFIX, FINDING,
                            PING_TYPE)
from ..ingest.alertmanager import alert_event, decode_alertmanager_webhook
from ..ingest.apiserver import decode_apiserver_event
from ..serving.app import Route
from .config import PolicySource, cluster_from_config, metrics_from_config
from .read_replay import NOT_DECIDED, AsyncReads, ReplayedReads, decide_reading_on_loop, replay_fanout

__all__ = ["DetectService", "build", "PING_TYPE", "MAX_LOOP_READS"]

MAX_LOOP_READS = 6
"""A Pod's owners are two reads; an Event's subject, its owners and related Events four."""


class DetectService:
    def __init__(self, cfg: Mapping[str, str]) -> None:
        self.clock = WallClock()
        self.cluster = cluster_from_config(cfg)
        self.metrics = metrics_from_config(cfg)
        self.policies = PolicySource(cfg, self.cluster)
        self._detector: Detector | None = None
        self._generation = -1
        self._lock = threading.Lock()
        self._loop_reads: tuple[Any, Any] = (None, None)

    def detector(self) -> Detector:
        """The detector over the current policies, recompiled only when they changed."""
        policies = self.policies.policies()
        generation = self.policies.generation
        with self._lock:
            if self._detector is None:
                # No fan-out: reading a Pod's ReplicaSet and likely Deployment at once (Detector's
                # ``fanout``) measured slower here than two reads in a row (docs/functions.md).
                self._detector = Detector(policies, cluster=self.cluster.get(), metrics=self.metrics.get(),
                                          clock=self.clock)
            elif generation != self._generation:
                self._detector.set_policies(policies)
            self._generation = generation
            return self._detector

    def current_detector(self) -> Detector | None:
        """The detector if using it needs neither a policy re-read nor a recompile, else None.
        Never waits: while a worker thread holds the lock (recompiling) the answer is None."""
        if self.policies.due() or not self._lock.acquire(blocking=False):
            return None
        try:
            if self._detector is None or self._generation != self.policies.generation:
                return None
            return self._detector
        finally:
            self._lock.release()

    def loop_reads(self) -> AsyncReads | None:
        """The cluster's reads as coroutines on the running loop (one connection pool per loop),
        or None while the cluster is not built yet or can only be read synchronously."""
        cluster = self.cluster.built()
        if cluster is None or not hasattr(cluster, "loop_reads"):
            return None
        loop = asyncio.get_running_loop()
        if self._loop_reads[0] is not loop:
            if self._loop_reads[1] is not None:
                self._loop_reads[1].close()
            self._loop_reads = (loop, cluster.loop_reads())
        return self._loop_reads[1]

    async def handle_async(self, event: Any) -> Sequence[Any]:
        """:meth:`handle`, decided on the event loop with its reads awaited there, when the policies
        are current and the cluster can be read on the loop; else in a worker thread."""
        ce = as_cloudevent(event)
        detector = self.current_detector()
        if detector is None or not ce["type"].startswith((APISERVER_RESOURCE_PREFIX, APISERVER_REF_PREFIX)):
            return await asyncio.to_thread(self.handle, ce)

        def decide(cluster: ReplayedReads) -> list[Any]:
            observed = decode_apiserver_event(ce, cluster, clock=self.clock)  # type: ignore[arg-type]
            return detector.on_resource_event(observed, cluster=cluster, fanout=replay_fanout)  # type: ignore[arg-type]

        findings = await decide_reading_on_loop(decide, self.loop_reads(), max_reads=MAX_LOOP_READS)
        if findings is NOT_DECIDED:
            return await asyncio.to_thread(self.handle, ce)
        return [make_event(FINDING, f, function="detect") for f in findings]

    def handle(self, event: Any) -> Sequence[Any]:
        ce = as_cloudevent(event)
        event_type = ce["type"]
        if event_type.startswith((APISERVER_RESOURCE_PREFIX, APISERVER_REF_PREFIX)):
            observed = decode_apiserver_event(ce, self.cluster.get(), clock=self.clock)
            findings = self.detector().on_resource_event(observed)
        elif event_type in (ALERT_FIRING, ALERT_RESOLVED):
            findings = self.detector().on_alert(decode_payload(ce))
        elif event_type == PING_TYPE:
            findings = self.detector().sweep()
        else:
            raise InvalidInput(f"type: detect does not handle {event_type!r}; its Triggers send "
                               "dev.knative.apiserver.*, io.kubeskippy.alert.* and PingSource events")
        return [make_event(FINDING, f, function="detect") for f in findings]

    def alertmanager(self, headers: Mapping[str, str], body: bytes) -> Sequence[Any]:
        """Alertmanager webhook → one alert CloudEvent per alert (published to the Broker)."""
        return [alert_event(a) for a in decode_alertmanager_webhook(body)]


def build(cfg: Mapping[str, str]) -> tuple[DetectService, list[Route]]:
    service = DetectService(cfg)
    return service, [Route("POST", "/alertmanager", service.alertmanager)]
