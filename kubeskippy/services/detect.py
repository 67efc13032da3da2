"""detect: ApiServerSource events, alerts and sweeps in; findings out."""

from __future__ import annotations

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

__all__ = ["DetectService", "build", "PING_TYPE"]


class DetectService:
    def __init__(self, cfg: Mapping[str, str]) -> None:
        self.clock = WallClock()
        self.cluster = cluster_from_config(cfg)
        self.metrics = metrics_from_config(cfg)
        self.policies = PolicySource(cfg, self.cluster)
        self._detector: Detector | None = None
        self._generation = -1
        self._lock = threading.Lock()

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
