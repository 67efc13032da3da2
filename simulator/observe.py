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
from bisect import bisect_left
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


_HOT, _DIED, _SHORT = 1, 2, 4  # cause bits
_CAUSES = ((_HOT, "memory_or_errors"), (_DIED, "container_died"), (_SHORT, "unavailable"))


class Observer:
    """Per-tick ground truth, one vector operation per measure whatever the Deployment count:
    open incidents are arrays indexed by Deployment (Python runs only when one closes)."""

    def __init__(self, world: World, scenario: Scenario) -> None:
        self.world = world
        self.spec = scenario.incidents
        self.scenario = scenario
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
        # open incidents, by Deployment index
        self._open = np.zeros(0, dtype=bool)
        self._start = np.zeros(0)
        self._last_bad = np.zeros(0)
        self._detected = np.zeros(0)
        self._causes = np.zeros(0, dtype=np.int8)
        self._seq = np.zeros(0, dtype=np.int64)  # opening order (closing ties keep it)
        self._opened = 0

    def _grow(self, k: int) -> None:
        extra = k - len(self._open)
        if extra <= 0:
            return
        self._open = np.concatenate([self._open, np.zeros(extra, dtype=bool)])
        self._start = np.concatenate([self._start, np.zeros(extra)])
        self._last_bad = np.concatenate([self._last_bad, np.zeros(extra)])
        self._detected = np.concatenate([self._detected, np.full(extra, np.nan)])
        self._causes = np.concatenate([self._causes, np.zeros(extra, dtype=np.int8)])
        self._seq = np.concatenate([self._seq, np.zeros(extra, dtype=np.int64)])
        self._exits_seen = np.concatenate([self._exits_seen, np.zeros(extra, dtype=np.int64)])

    def _incident(self, d: int, *, closed: bool) -> Incident:
        dep = self.world.deployments[d]
        detected = None if np.isnan(self._detected[d]) else float(self._detected[d])
        return Incident(f"{dep.namespace}/{dep.name}", float(self._start[d]),
                        float(self._last_bad[d]) if closed else None, float(self._last_bad[d]), detected,
                        {name for bit, name in _CAUSES if self._causes[d] & bit})

    @property
    def open(self) -> dict[int, Incident]:
        """Open incidents by Deployment index, in the order they opened."""
        return {int(d): self._incident(int(d), closed=False)
                for d in sorted(np.flatnonzero(self._open), key=lambda d: self._seq[d])}

    # -- healing hooks

    def on_finding(self, t: float, finding: Finding) -> None:
        self.findings.append((t, finding))
        workload = finding.workload
        dep = self.world.by_name.get((workload.namespace, workload.name))
        if dep is not None and dep.index < len(self._open) and self._open[dep.index] \
                and np.isnan(self._detected[dep.index]):
            self._detected[dep.index] = t

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
        self._grow(k)
        avail, existing = world.ready_by_deployment()
        desired = world.desired
        self.available_seconds += float(np.minimum(avail, desired).sum()) * dt
        self.desired_seconds += float(desired.sum()) * dt
        self.replica_seconds += float(existing.sum()) * dt
        limit = tbl.mem_limit[:n]
        mem_pct = np.divide(100.0 * tbl.mem[:n], limit, out=np.zeros(n), where=limit > 0)
        err = tbl.err[:n]
        hot = tbl.alive[:n] & ((mem_pct >= self.spec.memory_percent) | (err >= self.spec.error_rate) & (err > 0))
        hot_deps = np.bincount(tbl.dep[:n][hot], minlength=k) > 0
        exits = world.stats.exits[:k]
        died = exits > self._exits_seen[:k]
        self._exits_seen[:k] = exits
        short = avail < desired
        bad = hot_deps | died | short
        opening = bad & ~self._open
        if opening.any():
            new = np.flatnonzero(opening)
            self._open[new] = True
            self._start[new] = t - dt
            self._detected[new] = np.nan
            self._causes[new] = 0
            self._seq[new] = self._opened + np.arange(len(new))
            self._opened += len(new)
        self._last_bad[bad] = t
        self._causes[hot_deps] |= _HOT  # every bad Deployment has an open incident by now
        self._causes[died] |= _DIED
        self._causes[short] |= _SHORT
        closing = self._open & ~bad & (t - self._last_bad >= self.spec.merge_gap)
        if closing.any():
            for d in sorted(np.flatnonzero(closing), key=lambda d: self._seq[d]):
                self.closed.append(self._incident(int(d), closed=True))
            self._open[closing] = False
        if t >= self._next_plot:
            self._next_plot = t + _PLOT_STEP
            self._sample_plot(t, mem_pct)

    def tick_block(self, frames) -> None:
        """``tick`` at every tick of a block (``world.block.Frames``), with the same arithmetic:
        per (tick, Deployment) matrices, and the incident state machine solved per Deployment
        from its bad ticks (Python runs per closed incident and per plot sample, not per tick)."""
        world = self.world
        tbl = world.table
        n = frames.n
        T, Tprev = frames.T, frames.Tprev
        B = len(T)
        K = len(world.deployments)
        self._grow(K)
        alive = tbl.alive[:n]
        deps = tbl.dep[:n]
        by_dep = _DeploymentColumns(deps, K)
        serving = frames.ready & (alive & np.isnan(tbl.deleting[:n]))[None, :]
        avail = by_dep.count(serving)
        existing = np.bincount(deps[alive], minlength=K)
        desired = world.desired
        limit = tbl.mem_limit[:n]
        if (limit > 0).all():  # the same division, without the masked loop
            mem_pct = np.multiply(100.0, frames.mem)
            mem_pct /= limit
        else:
            mem_pct = np.divide(100.0 * frames.mem, limit, out=np.zeros((B, n)), where=limit > 0)
        hot_rows = mem_pct >= self.spec.memory_percent
        if not frames.no_errors():  # (an error ratio of +0.0 is never "err > 0")
            err = frames.err
            hot_rows |= (err >= self.spec.error_rate) & (err > 0)
        hot_rows &= alive
        hot = by_dep.any(hot_rows)
        died = np.zeros((B, K), dtype=bool)
        died[frames.exit_ticks, deps[frames.exit_rows]] = True
        short = avail < desired
        bad = hot | died | short
        # availability and replica-seconds, added tick by tick as ``tick`` does
        avail_sum = np.minimum(avail, desired).sum(axis=1)
        desired_sum, existing_sum = float(desired.sum()), float(existing.sum())
        dts = T - Tprev
        # added one tick after another (a cumulative sum is sequential: the same roundings)
        self.available_seconds = _added(self.available_seconds, avail_sum * dts)
        self.desired_seconds = _added(self.desired_seconds, desired_sum * dts)
        self.replica_seconds = _added(self.replica_seconds, existing_sum * dts)
        self._incidents_block(T, Tprev, bad, hot, died, short)
        self._exits_seen[:K] = world.stats.exits[:K]
        self._last_t = float(T[-1])
        self._plot_block(T, frames, mem_pct)

    def _incidents_block(self, T, Tprev, bad, hot, died, short) -> None:
        """Open/close incidents over a block. Per Deployment: after a bad tick the incident
        closes at the first tick that is not bad and ``merge_gap`` past the last bad one; a bad
        tick opens one when none is open."""
        B, K = bad.shape
        G = self.spec.merge_gap
        open0 = self._open[:K].copy()
        ks = np.arange(B)[:, None]
        seen = np.maximum.accumulate(np.where(bad, ks, -1), axis=0)  # latest bad tick so far
        has_lb = (seen >= 0) | open0
        lb_time = np.where(seen >= 0, T[np.maximum(seen, 0)], np.where(open0, self._last_bad[:K], np.nan))
        cond = ~bad & has_lb & (T[:, None] - lb_time >= G)  # "would close now" (True from the close on)
        cond_prev = np.vstack([np.zeros((1, K), dtype=bool), cond[:-1]])
        has_prev = np.vstack([open0[None, :], has_lb[:-1]])
        opening = bad & (~has_prev | cond_prev)
        closing = cond & ~cond_prev
        incident = np.cumsum(opening, axis=0)  # 0: the incident open at the block's start, j: the j-th opened
        n_inc = int(incident[-1].max()) + 1 if K else 1
        key = np.arange(K)[None, :] * n_inc + incident  # (Deployment, incident) of every cell
        causes = np.zeros(K * n_inc, dtype=np.int8)
        causes[np.arange(K) * n_inc] = np.where(open0, self._causes[:K], 0)
        for bit, flag in ((_HOT, hot), (_DIED, died), (_SHORT, short)):
            marked = np.zeros(K * n_inc, dtype=bool)
            marked[key[flag]] = True  # (a mark per incident: no sort, unlike np.unique)
            causes[marked] |= bit
        start = np.full(K * n_inc, np.nan)
        start[np.arange(K) * n_inc] = self._start[:K]
        seq = np.zeros(K * n_inc, dtype=np.int64)
        seq[np.arange(K) * n_inc] = self._seq[:K]
        detected = np.full(K * n_inc, np.nan)
        detected[np.arange(K) * n_inc] = np.where(open0, self._detected[:K], np.nan)
        ok, od = np.nonzero(opening)  # tick-major, Deployments ascending within a tick: opening order
        if len(ok):
            start[key[ok, od]] = T[ok] - (T[ok] - Tprev[ok])
            seq[key[ok, od]] = self._opened + np.arange(len(ok))
            self._opened += len(ok)
        ck, cd = np.nonzero(closing)
        if len(ck):
            ids = key[ck, cd]
            for i in np.lexsort((seq[ids], ck)):  # closing tick, then opening order
                d, c = int(cd[i]), int(ids[i])
                dep = self.world.deployments[d]
                self.closed.append(Incident(f"{dep.namespace}/{dep.name}", float(start[c]), float(lb_time[ck[i], d]),
                                            float(lb_time[ck[i], d]),
                                            None if np.isnan(detected[c]) else float(detected[c]),
                                            {name for b, name in _CAUSES if causes[c] & b}))
        now = key[-1]
        self._open[:K] = has_lb[-1] & ~cond[-1]
        self._last_bad[:K] = np.where(has_lb[-1], lb_time[-1], self._last_bad[:K])
        still = self._open[:K]
        self._start[:K] = np.where(still, start[now], self._start[:K])
        self._seq[:K] = np.where(still, seq[now], self._seq[:K])
        self._causes[:K] = np.where(still, causes[now], self._causes[:K])
        self._detected[:K] = np.where(still, detected[now], self._detected[:K])

    def _plot_block(self, T, frames, mem_pct) -> None:
        world = self.world
        picks = []
        times_ = T.tolist()
        k = bisect_left(times_, self._next_plot)  # the ticks ``_sample_plot`` would meet: the first at
        while k < len(times_):  # or after the next plot time, which is then that tick's + the step
            picks.append(k)
            self._next_plot = times_[k] + _PLOT_STEP
            k = bisect_left(times_, self._next_plot, k + 1)
        if not picks:
            return
        plotted = [(f"{dep.name}#{int(world.table.ordinal[row]) % _PLOT_PODS}", row)
                   for dep in world.deployments[:_PLOT_DEPLOYMENTS] for rs_index in dep.replicasets
                   for row in sorted(world.replicasets[rs_index].rows)[:_PLOT_PODS]]
        if not plotted:
            return
        rows = [row for _, row in plotted]
        keys = [key for key, _ in plotted]
        if len(set(keys)) < len(keys):  # two pods on one key (a rollout): interleave tick by tick
            running = (frames.cstate[np.ix_(picks, rows)] == RUNNING).tolist()
            values = mem_pct[np.ix_(picks, rows)].tolist()
            for i, k in enumerate(picks):  # tick by tick, in ``_sample_plot``'s order
                t = float(T[k])
                for j, key in enumerate(keys):
                    if running[i][j]:
                        self.plot_memory.setdefault(key, []).append((t, round(values[i][j], 2)))
            return
        # one pod per key: each key's samples at once, keys first added in the order the tick
        # loop would meet them (by first running sample, then plotted order)
        running = frames.cstate[np.ix_(picks, rows)] == RUNNING
        values = mem_pct[np.ix_(picks, rows)]
        times = np.array(T[picks].tolist(), dtype=object)  # Python floats, taken by index below
        rounded, which = _rounded(values)
        shown = np.flatnonzero(running.any(axis=0))
        first = running.argmax(axis=0)
        for j in sorted(shown.tolist(), key=lambda j: (int(first[j]), j)):
            self.plot_memory.setdefault(keys[j], [])
        for j in shown.tolist():
            at = np.flatnonzero(running[:, j])
            self.plot_memory[keys[j]].extend(zip(times[at].tolist(), rounded[which[at, j]].tolist()))

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


class _DeploymentColumns:
    """Per (tick, Deployment) counts of a (ticks × rows) mask, with rows grouped by Deployment:
    the columns in Deployment order (the identity while no pod was replaced: rows are allocated
    a Deployment at a time) reduced over each Deployment's run of columns. Why: the same integer
    counts as ``np.bincount`` over (tick, Deployment) flat indices, without building a (ticks ×
    rows) index matrix and gathering from it (the observer's largest part at 1,000 pods)."""

    def __init__(self, deps: np.ndarray, K: int) -> None:
        order = np.argsort(deps, kind="stable")
        self.order = None if np.array_equal(order, np.arange(len(deps))) else order
        grouped = deps[order]
        self.starts = np.flatnonzero(np.concatenate([[True], grouped[1:] != grouped[:-1]])) if len(deps) else order
        self.groups = grouped[self.starts]
        self.K = K

    def count(self, mask: np.ndarray) -> np.ndarray:
        """(ticks × K) int64: the True cells of ``mask`` (ticks × rows) per tick and Deployment."""
        out = np.zeros((len(mask), self.K), dtype=np.int64)
        if len(self.starts):
            cols = mask if self.order is None else mask[:, self.order]
            out[:, self.groups] = np.add.reduceat(cols, self.starts, axis=1, dtype=np.int64)
        return out

    def any(self, mask: np.ndarray) -> np.ndarray:
        """(ticks × K) bool: does a Deployment have a True cell in ``mask`` at a tick?"""
        out = np.zeros((len(mask), self.K), dtype=bool)
        if len(self.starts):
            cols = mask if self.order is None else mask[:, self.order]
            out[:, self.groups] = np.logical_or.reduceat(cols, self.starts, axis=1)
        return out


def _added(total: float, terms: np.ndarray) -> float:
    """``total`` plus each term in turn, left to right (as a loop of ``+=`` would round)."""
    if not len(terms):
        return total
    return float(np.cumsum(np.concatenate([[total], terms]))[-1])


def _rounded(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``round(v, 2)`` of every value, as Python floats: the rounded distinct values (an object
    array) and, per value, the index of its rounding in it. Why: a plot's samples take few distinct values
    (memory moves in chunks), and Python's ``round`` (correctly rounded, unlike numpy's) is then
    called once per distinct value rather than per sample. Distinct by bit pattern, so −0.0 and
    0.0 (and NaNs) keep their own rounding."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    distinct, which = np.unique(bits.ravel(), return_inverse=True)
    rounded = np.empty(len(distinct), dtype=object)
    rounded[:] = [round(v, 2) for v in distinct.view(np.float64).tolist()]
    return rounded, which.reshape(values.shape)
