"""analyze: findings in; plans (root cause and ordered, guarded actions) out.

Outcomes and verifications also arrive here: they teach the effectiveness scores the planner
uses to order the next plan's actions (kubeskippy.analyze.learning).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..analyze.config import analyzer_from_config
from ..analyze.planner import Planner
from ..clock import WallClock
from ..errors import InvalidInput
from ..events.cloudevents import as_cloudevent, decode_payload, make_event
from ..events.types import FINDING, OUTCOME, PLAN, VERIFICATION
from .config import Lazy, PolicySource, cluster_from_config, metrics_from_config, namespace_from_config
from .fanout import ThreadFanout
from .request_cache import RequestCachedCluster

__all__ = ["AnalyzeService", "build"]


class AnalyzeService:
    def __init__(self, cfg: Mapping[str, str]) -> None:
        self.clock = WallClock()
        self.cluster = cluster_from_config(cfg)
        self.metrics = metrics_from_config(cfg)
        self.policies = PolicySource(cfg, self.cluster)
        self.analyzer = analyzer_from_config(cfg, clock=self.clock)  # configuration errors surface at start
        namespace = namespace_from_config(cfg)
        # One request's repeated reads (the learning ConfigMap, owners) are served once.
        self.cached_cluster = Lazy(lambda: RequestCachedCluster(self.cluster.get()))
        self.learning = Lazy(lambda: _learning_store(self.cached_cluster.get(), namespace, self.clock))
        # The context's independent reads (owners; then node, rollouts, Events, logs) at once.
        self.planner = Lazy(lambda: Planner(policies=self.policies.get,
                                            cluster=self.cached_cluster.get(), metrics=self.metrics.get(),
                                            clock=self.clock, analyzer=self.analyzer,
                                            learning=self.learning.get(), fanout=ThreadFanout()))

    def handle(self, event: Any) -> Sequence[Any]:
        with self.cached_cluster.get().scope():
            return self._handle(event)

    def _handle(self, event: Any) -> Sequence[Any]:
        ce = as_cloudevent(event)
        event_type = ce["type"]
        if event_type == FINDING:
            plan = self.planner.get().plan(decode_payload(ce))
            return [make_event(PLAN, plan, function="analyze")]
        if event_type == OUTCOME:
            self.learning.get().observe_outcome(decode_payload(ce))
            return []
        if event_type == VERIFICATION:
            self.learning.get().observe_verification(decode_payload(ce))
            return []
        raise InvalidInput(f"type: analyze does not handle {event_type!r}; its Triggers send "
                           f"{FINDING}, {OUTCOME} and {VERIFICATION}")


def _learning_store(cluster, namespace: str, clock):
    from ..adapters.configmap_store import ConfigMapStore
    from ..analyze.learning import EffectivenessStore

    return EffectivenessStore(ConfigMapStore(cluster, namespace, prefix=""), clock)


def build(cfg: Mapping[str, str]) -> tuple[AnalyzeService, list]:
    return AnalyzeService(cfg), []
