"""Runs: one (scenario, arm, seed) at a time, and the what-if grid over them.

An *arm* is a policy set (or none: the "no healing" baseline). Common random numbers: the seed
fixes every workload's behaviour through counter-based streams keyed by pod ordinal and
container incarnation, so arms differ only by what healing did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import simpy

from kubeskippy.errors import InvalidInput
from kubeskippy.policy.model import HealingPolicy

from .clock import SimClock
from .observe import Observer, RunRecord
from .scenario import AlertRule, Scenario
from .signals.alerting import Alertmanager, RuleEvaluator, rules_from_rule_file
from .signals.metrics import SimulatedMetrics
from .signals.store import SeriesStore
from .start_up import apply_first_run_settings
from .world import SimulatedCluster, World

__all__ = ["Arm", "Run", "run_once", "run_grid", "NO_HEALING", "BLOCK_CELLS"]

NO_HEALING = "no-healing"
BLOCK_CELLS = 400_000
"""A block of ticks holds (ticks × pods) matrices: its length is this many cells over the pod count
(≈ 150 bytes a cell at peak), so long blocks for small runs and bounded memory for large ones.
A remainder shorter than half a block joins the block before it (at most 1.5 × this many cells):
every block pays a fixed part (its first pass simulates every container, chains are laid out
again), and a short last block paid nearly all of it — ≈ 10 % of a 100-pod day (docs/simulator.md,
"Session 8"). Only the pod table's resource versions differ from cutting it off (a pass's starts
and exits take one version per batch); nothing reads them in a run without healing."""


@dataclass(frozen=True)
class Arm:
    name: str
    policies: tuple[HealingPolicy, ...] = ()

    @property
    def heals(self) -> bool:
        return bool(self.policies)


class Run:
    """One simulated run, assembled and ready; ``execute()`` runs it to the end."""

    def __init__(self, scenario: Scenario, arm: Arm, seed: int, *, duration: float | None = None,
                 extra_rules: Sequence[AlertRule] = (), blocks: bool = True) -> None:
        """``blocks``: advance in blocks of ticks whenever nothing can act between them (False:
        tick by tick throughout — the reference the block tests compare against)."""
        apply_first_run_settings()  # the process's first run: see start_up.py
        self.scenario = scenario
        self.blocks = blocks
        self.arm = arm
        self.seed = seed
        self.duration = float(duration if duration is not None else scenario.duration)
        self.env = simpy.Environment()
        self.clock = SimClock(self.env, scenario.epoch_seconds)
        self.world = World(scenario, seed, now=lambda: float(self.env.now))
        self.cluster = SimulatedCluster(self.world, self.clock)
        signals = scenario.signals
        self.store = SeriesStore(signals.retention, signals.scrape_interval,
                                 capacity=sum(w.replicas * w.count for w in scenario.workloads) + 16)  # grows on demand
        self.metrics = SimulatedMetrics(self.store, epoch=scenario.epoch_seconds, now=lambda: float(self.env.now),
                                        lookback=signals.lookback_delta)
        self.observer = Observer(self.world, scenario)
        self.healing = None
        if arm.heals:
            from .healing import HealingLoop  # imports the decision code only when it is used

            self.healing = HealingLoop(self.env, clock=self.clock, cluster=self.cluster, metrics=self.metrics,
                                       policies=arm.policies, knative=scenario.knative, observer=self.observer,
                                       seed=seed)
            self.world.watch = self.healing.watches
            self.healing.start()
        rules = list(scenario.alerting.rules) + list(extra_rules)
        if arm.heals and scenario.alerting.policy_rules:
            from kubeskippy.detect import compile_rules

            rules += rules_from_rule_file(compile_rules(list(arm.policies)))
        self.rules = RuleEvaluator(rules, self.metrics) if rules else None
        deliver = self.healing.on_alerts if self.healing else (lambda alerts: None)
        self.alertmanager = Alertmanager(self.env, scenario.alerting, epoch=scenario.epoch_seconds, deliver=deliver)
        self.world.add_workloads()
        self.wall_seconds = 0.0

    def _ticker(self, progress: Callable[[float], None] | None):
        if self.blocks and self.healing is None and self.rules is None:
            yield from self._block_ticker(progress)
            return
        sc = self.scenario
        step = sc.resolution
        scrape_every = int(round(sc.signals.scrape_interval / step))
        eval_every = int(round(sc.signals.evaluation_interval / step))
        k = 0
        prune_every = max(1, int(600 / step))
        while True:
            yield self.env.timeout(step)
            k += 1
            t = k * step
            self.world.step(t)
            if k % scrape_every == 0:
                self.store.scrape(self.world, t)
            if self.rules is not None and k % eval_every == 0:
                self.alertmanager.receive(self.rules.evaluate(t))
            self.observer.tick(t)
            if k % prune_every == 0:
                self.world.recorder.prune(t)
                if progress:
                    progress(t)

    def _block_ticker(self, progress: Callable[[float], None] | None):
        """The ticker of a run where nothing outside the world acts (no healing, no alert rules):
        blocks of ticks while ``World.can_block()`` (see ``world.block``), single ticks otherwise
        — the same ticks, scrapes, observations and pruning as ``_ticker``."""
        sc = self.scenario
        step = sc.resolution
        scrape_every = int(round(sc.signals.scrape_interval / step))
        prune_every = max(1, int(600 / step))
        until = self.duration + 1e-6
        last, at = 0, step  # ticks SimPy would run: SimPy stops before an event at ``until``
        while at < until:
            last += 1
            at += step
        k = 0
        while k < last:
            size = 1
            if self.world.can_block():
                size = max(1, min(BLOCK_CELLS // max(1, self.world.table.size), last - k))
                if 0 < last - k - size < size // 2:
                    size = last - k  # a short remainder joins this block (see BLOCK_CELLS)
            yield self.env.timeout(max(0.0, (k + size) * step - float(self.env.now)))
            if size == 1:
                k += 1
                t = k * step
                self.world.step(t)
                if k % scrape_every == 0:
                    self.store.scrape(self.world, t)
                self.observer.tick(t)
            else:
                ticks = np.arange(k + 1, k + size + 1)
                picks = np.flatnonzero(ticks % scrape_every == 0)
                kept = picks[-self.store.slots:]  # the scrapes the ring buffer keeps: counters' totals from there
                frames = self.world.step_block(ticks * step, totals_from=int(kept[0]) if len(kept) else size - 1)
                self.store.scrape_block(self.world, frames, picks)
                self.observer.tick_block(frames)
                del frames  # freed before the next block is built: its matrices reuse the memory
                k += size
            pruned = k - k % prune_every
            if pruned > k - size:  # a prune tick in this step: prune as of the last one
                self.world.recorder.prune(pruned * step)
                if progress:
                    progress(k * step)

    def execute(self, progress: Callable[[float], None] | None = None) -> RunRecord:
        started = time.perf_counter()
        self.env.process(self._ticker(progress))
        self.env.run(until=self.duration + 1e-6)
        self.wall_seconds = time.perf_counter() - started
        extra = {"wall_seconds": round(self.wall_seconds, 3),
                 "events_recorded": self.world.recorder.total,
                 "alert_notifications": self.alertmanager.notifications,
                 "alerts_fired": len(self.rules.firing_times()) if self.rules else 0,
                 "cluster_mutations": len(self.cluster.mutations)}
        if self.healing is not None:
            extra["healing"] = self.healing.summary()
        return self.observer.record(self.scenario.name, self.arm.name, self.seed, self.duration, extra)


def run_once(scenario: Scenario, arm: Arm, seed: int, *, duration: float | None = None,
             progress: Callable[[float], None] | None = None) -> RunRecord:
    return Run(scenario, arm, seed, duration=duration).execute(progress)


def run_grid(scenarios: Sequence[Scenario], arms: Sequence[Arm], seeds: Sequence[int], *,
             duration: float | None = None,
             on_run: Callable[[RunRecord], None] | None = None,
             progress: Callable[[str, float, float], None] | None = None) -> list[RunRecord]:
    """Every scenario × arm × seed. Seeds are offsets of each scenario's own ``seed``."""
    if not arms:
        raise InvalidInput("at least one arm is needed")
    records = []
    for scenario in scenarios:
        for seed in seeds:
            for arm in arms:
                label = f"{scenario.name} · {arm.name} · seed {scenario.seed + seed}"
                total = duration or scenario.duration
                cb = (lambda t, label=label, total=total: progress(label, t, total)) if progress else None
                record = run_once(scenario, arm, scenario.seed + seed, duration=duration, progress=cb)
                records.append(record)
                if on_run:
                    on_run(record)
    return records
