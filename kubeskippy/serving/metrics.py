"""Each function's own Prometheus metrics, served at GET /metrics on the function's port.

Why a scrape endpoint survives scale to zero: Knative keeps a pod for at least the
scale-to-zero retention period plus grace period after its last request (60 s+ with our
defaults), longer than two scrape intervals, so every increment is scraped at least once before
the pod goes; a new pod starts its counters at zero and Prometheus' rate()/increase() treat
that as a counter reset. Nothing is seeded: a series appears when its first event happens.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST

__all__ = ["FunctionMetrics", "CONTENT_TYPE_LATEST"]


class FunctionMetrics:
    def __init__(self, function: str) -> None:
        self.function = function
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter("kubeskippy_events", "CloudEvents handled, by type and HTTP status",
                              ["function", "type", "status"], registry=self.registry)
        self.decision_seconds = Histogram(
            "kubeskippy_decision_seconds", "Time spent in the core deciding on one event",
            ["function"], registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.actions = Counter("kubeskippy_actions", "Remediation outcomes by action type and result",
                               ["function", "action_type", "result"], registry=self.registry)
        self.safety_blocks = Counter("kubeskippy_safety_blocks", "Actions refused by a safety rule",
                                     ["function", "reason"], registry=self.registry)
        self.llm_calls = Counter("kubeskippy_llm_calls", "Analyses by analyzer, and fallbacks to rules",
                                 ["function", "analyzer", "result"], registry=self.registry)
        self.emitted = Counter("kubeskippy_emitted_events", "CloudEvents this function produced",
                               ["function", "type"], registry=self.registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
