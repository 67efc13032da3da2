"""The integration point: the production decision code, driven on SimPy time.

Nothing here decides anything. The simulator hands the very objects the Knative functions use —
:class:`kubeskippy.detect.Detector`, :class:`kubeskippy.analyze.planner.Planner`,
:class:`kubeskippy.safety.ledger.Ledger` over a :class:`~kubeskippy.safety.memory_store.MemoryStore`,
:class:`kubeskippy.remediate.executor.Remediator` — the simulated ports, and models only the
path between them: ApiServerSource / Alertmanager / PingSource events, broker hops, each
function's scale-to-zero and cold start, an LLM's latency, and the Broker's retries of
temporary failures (5xx) with back-off. A permanent failure (4xx) goes to the dead-letter count.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

import simpy

from kubeskippy.analyze.planner import Planner
from kubeskippy.detect import Detector
from kubeskippy.errors import KubeSkippyError, TemporaryError
from kubeskippy.events.model import Alert, Finding, Plan
from kubeskippy.ingest.model import ResourceEvent
from kubeskippy.policy.model import HealingPolicy
from kubeskippy.remediate.executor import Remediator
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore

from .clock import SimClock
from .observe import Observer
from .scenario import FunctionTiming, KnativeSpec
from .signals.metrics import SimulatedMetrics
from .world import SimulatedCluster

__all__ = ["HealingLoop", "FunctionState", "BROKER_RETRIES"]


BROKER_RETRIES = 5
"""Knative's default delivery.retry for a Trigger; back-off linear 1 s × attempt here."""


@dataclass
class FunctionState:
    """One Knative function's instances as the autoscaler sees them."""

    name: str
    timing: FunctionTiming
    last_request: float | None = None
    cold_starts: int = 0
    invocations: int = 0
    busy_seconds: float = 0.0

    def start_delay(self, now: float) -> float:
        """Cold start if scaled to zero (no request for stable window + grace + retention)."""
        warm = self.timing.min_scale > 0 or (
            self.last_request is not None and now - self.last_request <= self.timing.idle_before_zero)
        self.invocations += 1
        if not warm:
            self.cold_starts += 1
        return 0.0 if warm else self.timing.cold_start


@dataclass
class _Counters:
    dead_letters: int = 0
    retries: int = 0
    events_in: int = 0
    alerts_in: int = 0
    plans: int = 0
    errors: list[str] = field(default_factory=list)


class HealingLoop:
    def __init__(self, env: simpy.Environment, *, clock: SimClock, cluster: SimulatedCluster,
                 metrics: SimulatedMetrics, policies: Sequence[HealingPolicy], knative: KnativeSpec,
                 observer: Observer, seed: int) -> None:
        self.env = env
        self.clock = clock
        self.cluster = cluster
        self.knative = knative
        self.observer = observer
        self.policies = list(policies)
        by_key = {f"{p.namespace}/{p.name}": p for p in self.policies}
        self.detector = Detector(self.policies, cluster=cluster, metrics=metrics, clock=clock)
        self.planner = Planner(policies=by_key, cluster=cluster, metrics=metrics, clock=clock)
        self.store = MemoryStore(seed=seed)
        config = SafetyConfig()
        self.ledger = Ledger(self.store, clock, config, holder="remediate-sim", sleep=lambda s: None,
                             rng=random.Random(seed))
        self.remediator = Remediator(cluster=cluster, ledger=self.ledger, clock=clock, policies=by_key,
                                     holder="remediate-sim", protection=config)
        self.functions = {name: FunctionState(name, getattr(knative, name)) for name in ("detect", "analyze", "remediate")}
        self.counters = _Counters()
        self.namespaces = self._watched_namespaces()

    # ------------------------------------------------------------------ wiring

    def _watched_namespaces(self) -> set[str] | None:
        """Namespaces whose objects ApiServerSource forwards (None: all)."""
        out: set[str] = set()
        for p in self.policies:
            if not p.spec.selector.namespaces:
                return None
            out.update(p.spec.selector.namespaces)
        return out

    def watches(self, namespace: str, labels: dict) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def start(self) -> None:
        if self.knative.apiserver_source:
            self.cluster.world.listeners.append(self.on_resource_event)
        self.env.process(self._sweeper())
        self.env.process(self._verifier())

    # ------------------------------------------------------------------ the Knative path

    def _invoke(self, function: str, call: Callable[[], object], extra_latency: float = 0.0):
        """A SimPy process: broker hop, cold start if needed, processing; retries on 5xx."""
        state = self.functions[function]
        for attempt in range(BROKER_RETRIES + 1):
            yield self.env.timeout(self.knative.broker_hop)
            now = float(self.env.now)
            delay = state.start_delay(now) + state.timing.processing + extra_latency
            state.last_request = now
            if delay:
                yield self.env.timeout(delay)
            state.busy_seconds += delay
            try:
                return call()
            except TemporaryError as e:
                self.counters.retries += 1
                if attempt == BROKER_RETRIES:
                    self.counters.dead_letters += 1
                    self.counters.errors.append(f"{function}: {e}")
                    return None
                yield self.env.timeout(e.delay if e.delay else 1.0 * (attempt + 1))
            except KubeSkippyError as e:
                self.counters.dead_letters += 1
                self.counters.errors.append(f"{function}: {type(e).__name__}: {e}")
                return None
        return None

    def on_resource_event(self, event: ResourceEvent) -> None:
        self.counters.events_in += 1
        self.env.process(self._detect(lambda: self.detector.on_resource_event(event)))

    def on_alerts(self, alerts: list[Alert]) -> None:
        self.counters.alerts_in += len(alerts)
        for alert in alerts:
            self.env.process(self._detect(lambda a=alert: self.detector.on_alert(a)))

    def _detect(self, call: Callable[[], list[Finding]]):
        findings = yield from self._invoke("detect", call)
        for finding in findings or []:
            self.observer.on_finding(float(self.env.now), finding)
            self.env.process(self._analyze(finding))

    def _analyze(self, finding: Finding):
        plan = yield from self._invoke("analyze", lambda: self.planner.plan(finding),
                                       extra_latency=self.knative.llm_latency or 0.0)
        if plan is None:
            return
        self.counters.plans += 1
        self.env.process(self._remediate(plan))

    def _remediate(self, plan: Plan):
        result = yield from self._invoke("remediate", lambda: self.remediator.execute(plan))
        self._record(result)

    def _record(self, result) -> None:
        if result is None:
            return
        now = float(self.env.now)
        for outcome in result.outcomes:
            self.observer.on_outcome(now, outcome)

    def _sweeper(self):
        while True:
            yield self.env.timeout(self.knative.sweep_interval)
            self.env.process(self._detect(lambda: self.detector.sweep()))

    def _verifier(self):
        while True:
            yield self.env.timeout(self.knative.verify_interval)
            yield from self._invoke("remediate", self._verify)

    def _verify(self):
        self.remediator.verify_pending()
        self.remediator.expire_approvals()
        return None

    # ------------------------------------------------------------------ numbers for the report

    def summary(self) -> dict:
        return {
            "cold_starts": {n: f.cold_starts for n, f in self.functions.items()},
            "invocations": {n: f.invocations for n, f in self.functions.items()},
            "dead_letters": self.counters.dead_letters,
            "broker_retries": self.counters.retries,
            "apiserver_events": self.counters.events_in,
            "alerts_delivered": self.counters.alerts_in,
            "plans": self.counters.plans,
            "errors": self.counters.errors[:20],
        }
