"""Ground truth of one run: incidents, availability, replica-hours, what healing did.

The observer sees the world directly (not through the ports), so it measures what *happened*,
independently of what detection noticed. An incident is a spell during which a Deployment is
degraded — fewer available pods than desired, a pod over the memory or error thresholds of the
scenario's ``incidents`` section, or a container that died in the tick — with spells closer than
``merge_gap`` merged. Time to detect is from an incident's start to the first finding about that
Deployment; time to heal (MTTR) is the incident's length. Both arms are measured the same way.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kubeskippy.events.model import Finding, Outcome

from .scenario import Scenario
from .world import World
from .world.table import RUNNING

__all__ = ["Observer", "Incident", "RunRecord"]

_PLOT_STEP = 60.0
_PLOT_DEPLOYMENTS = 4
_PLOT_PODS = 3


@dataclass
class Incident:
    workload: str  # namespace/name
    start: float
    end: float | None = None
    last_bad: float = 0.0
    detected: float | None = None
    causes: set[str] = field(default_factory=set)

    @property
    def duration(self) -> float | None:
        return None if self.end is None else self.end - self.start


@dataclass
class RunRecord:
    """Everything the report needs from one (scenario, arm, seed) run — plain data, JSON-able."""

    scenario: str
    arm: str
    seed: int
    duration: float
    metrics: dict[str, Any]
    incidents: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    plots: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return copy.deepcopy({"scenario": self.scenario, "arm": self.arm, "seed": self.seed,
                              "duration": self.duration, "metrics": self.metrics, "incidents": self.incidents,
                              "actions": self.actions, "plots": self.plots})


class Observer:
    def __init__(self, world: World, scenario: Scenario) -> None:
        self.world = world
        self.spec = scenario.incidents
        self.scenario = scenario
        self.open: dict[int, Incident] = {}
        self.closed: list[Incident] = []
        self.available_seconds = 0.0
        self.desired_seconds = 0.0
        self.replica_seconds = 0.0
        self._exits_seen = np.zeros(0, dtype=np.int64)
        self._last_t = 0.0
        self.findings: list[tuple[float, Finding]] = []
        self.outcomes: list[tuple[float, Outcome]] = []
        self.plot_memory: dict[str, list[tuple[float, float]]] = {}
        self._next_plot = 0.0

    # -- healing hooks

    def on_finding(self, t: float, finding: Finding) -> None:
        self.findings.append((t, finding))
        workload = finding.workload
        key = f"{workload.namespace}/{workload.name}"
        for inc in self.open.values():
            if inc.workload == key and inc.detected is None:
                inc.detected = t

    def on_outcome(self, t: float, outcome: Outcome) -> None:
        self.outcomes.append((t, outcome))

    # -- the tick

    def tick(self, t: float) -> None:
        world = self.world
        tbl = world.table
        n = tbl.size
        dt = t - self._last_t
        self._last_t = t
        k = len(world.deployments)
        avail, existing = world.ready_by_deployment()
        desired = world.desired
        self.available_seconds += float(np.minimum(avail, desired).sum()) * dt
        self.desired_seconds += float(desired.sum()) * dt
        self.replica_seconds += float(existing.sum()) * dt
        alive = tbl.alive[:n]
        deps = tbl.dep[:n]
        with np.errstate(invalid="ignore", divide="ignore"):
            mem_pct = np.where(tbl.mem_limit[:n] > 0, 100.0 * tbl.mem[:n] / tbl.mem_limit[:n], 0.0)
        hot = alive & ((mem_pct >= self.spec.memory_percent) | (tbl.err[:n] >= self.spec.error_rate)
                       & (tbl.err[:n] > 0))
        hot_deps = np.bincount(deps[hot], minlength=k) > 0
        exits = world.stats.exits[:k]
        if len(self._exits_seen) < k:
            self._exits_seen = np.concatenate([self._exits_seen, np.zeros(k - len(self._exits_seen), dtype=np.int64)])
        died = exits > self._exits_seen
        self._exits_seen = exits.copy()
        short = avail < desired
        bad = hot_deps | died | short
        for d in np.flatnonzero(bad):
            d = int(d)
            inc = self.open.get(d)
            if inc is None:
                dep = world.deployments[d]
                inc = self.open[d] = Incident(f"{dep.namespace}/{dep.name}", t - dt)
            inc.last_bad = t
            if hot_deps[d]:
                inc.causes.add("memory_or_errors")
            if died[d]:
                inc.causes.add("container_died")
            if short[d]:
                inc.causes.add("unavailable")
        for d, inc in list(self.open.items()):
            if not bad[d] and t - inc.last_bad >= self.spec.merge_gap:
                inc.end = inc.last_bad
                self.closed.append(inc)
                del self.open[d]
        if t >= self._next_plot:
            self._next_plot = t + _PLOT_STEP
            self._sample_plot(t, mem_pct)

    def _sample_plot(self, t: float, mem_pct: np.ndarray) -> None:
        world = self.world
        for dep in world.deployments[:_PLOT_DEPLOYMENTS]:
            for rs_index in dep.replicasets:
                for row in sorted(world.replicasets[rs_index].rows)[:_PLOT_PODS]:
                    if world.table.cstate[row] == RUNNING:
                        key = f"{dep.name}#{int(world.table.ordinal[row]) % _PLOT_PODS}"
                        self.plot_memory.setdefault(key, []).append((t, round(float(mem_pct[row]), 2)))

    # -- the result

    def record(self, scenario: str, arm: str, seed: int, duration: float, extra: dict[str, Any]) -> RunRecord:
        world = self.world
        incidents = self.closed + list(self.open.values())
        closed = [i for i in incidents if i.end is not None]
        executed = [(t, o) for t, o in self.outcomes if o.status == "executed"]
        by_type: dict[str, int] = {}
        blocked: dict[str, int] = {}
        statuses: dict[str, int] = {}
        for _, o in self.outcomes:
            statuses[o.status] = statuses.get(o.status, 0) + 1
            if o.status == "executed":
                by_type[o.action_type] = by_type.get(o.action_type, 0) + 1
            if o.status == "blocked":
                blocked[o.reason or "unknown"] = blocked.get(o.reason or "unknown", 0) + 1
        flaps = 0
        last_action: dict[str, float] = {}
        for t, o in sorted(executed, key=lambda p: p[0]):
            key = f"{o.target.namespace}/{o.target.name}"
            workload = next((f"{f.workload.namespace}/{f.workload.name}" for _, f in self.findings
                             if f.fingerprint == o.finding_fingerprint), key)
            if workload in last_action and t - last_action[workload] < self.spec.flap_window:
                flaps += 1
            last_action[workload] = t
        ttd = [i.detected - i.start for i in incidents if i.detected is not None]
        hours = duration / 3600.0
        metrics: dict[str, Any] = {
            "incidents": len(incidents),
            "incidents_open_at_end": len(incidents) - len(closed),
            "detected_incidents": len(ttd),
            "time_to_detect_mean": float(np.mean(ttd)) if ttd else None,
            "mttr_mean": float(np.mean([i.duration for i in closed])) if closed else None,
            "mttr_values": [round(float(i.duration), 3) for i in closed],
            "ttd_values": [round(float(v), 3) for v in ttd],
            "oom_kills": int(world.stats.oom_kills.sum()),
            "container_exits": int(world.stats.exits.sum()),
            "liveness_kills": int(world.stats.liveness_kills.sum()),
            "availability": self.available_seconds / self.desired_seconds if self.desired_seconds else 1.0,
            "replica_hours": self.replica_seconds / 3600.0,
            "findings": len(self.findings),
            "actions": len(executed),
            "actions_per_hour": len(executed) / hours if hours else 0.0,
            "actions_by_type": by_type,
            "blocked": sum(blocked.values()),
            "blocked_by_reason": blocked,
            "outcomes_by_status": statuses,
            "flapping": flaps,
            "pods_created": int(world.stats.pods_created.sum()),
            "evictions": world.stats.evictions,
            **extra,
        }
        incident_rows = [{"workload": i.workload, "start": i.start, "end": i.end, "detected": i.detected,
                          "causes": sorted(i.causes)} for i in sorted(incidents, key=lambda i: (i.start, i.workload))]
        action_rows = [{"t": t, "status": o.status, "type": o.action_type, "action": o.action, "reason": o.reason,
                        "target": str(o.target), "policy": o.policy} for t, o in self.outcomes]
        plots = {"memory_percent": self.plot_memory,
                 "oom_times": [(world.deployments[d].name, t) for d, t in world.stats.oom_times]}
        return RunRecord(scenario, arm, seed, duration, metrics, incident_rows, action_rows, plots)
