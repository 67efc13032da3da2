"""CPU behaviours of the KubeSkippy demo apps.

cpu_oscillation — demo/manifests/demo-apps/apps/cpu-oscillation.yaml: cycles of intensity
25/50/75/100 % (intensity/25 busy processes for 90 s, then 30 s cool-down) and a 60 s rest: a
540 s (9 min) period. A process at intensity i is modelled busy i % of the time (the script's
intent; its ``usleep`` pauses), so demand is procs·i/100 cores, throttled at the 900m limit.

cpu_spike — demo/apps/cpu-spike-app.yaml: normal operation for randint(30, 60) s, then a spike
for randint(10, 30) s. The spike's four threads share one GIL, so it burns one core (capped by
the 1000m limit).
"""

from __future__ import annotations

import numpy as np

from .. import randomness
from ..world.table import PodTable
from .base import MIB, Schedule, WorkloadModel, draw_between_premixed

__all__ = ["CpuOscillation", "CpuSpike"]

_NORMAL, _SPIKE = 1, 2  # randomness purposes


class CpuOscillation(WorkloadModel):
    name = "cpu_oscillation"
    description = "intensity 25/50/75/100 % for 90 s (+30 s cool-down) then 60 s rest: 9 min period"
    defaults = {"stress": 90.0, "cooldown": 30.0, "rest": 60.0, "idle_cores": 0.005, "base_mib": 6.0}

    def __init__(self) -> None:
        super().__init__()
        self._schedules: dict[int, Schedule] = {}

    def configure(self, dep: int, params: dict) -> None:
        p = self.check_params(params, path="params")
        durations, values = [], []
        for intensity in (25, 50, 75, 100):
            procs = max(1, min(4, intensity // 25))
            durations += [p["stress"], p["cooldown"]]
            values += [procs * intensity / 100.0, p["idle_cores"]]
        durations.append(p["rest"])
        values.append(p["idle_cores"])
        self._schedules[dep] = Schedule(durations, values)

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        limit = tbl.cpu_limit[rows]
        started = tbl.started[rows]
        a0 = np.maximum(t0, started) - started
        a1 = t1 - started
        deps = tbl.dep[rows]
        demand = np.zeros(len(rows))
        used = np.zeros(len(rows))
        for dep in np.unique(deps):
            sel = deps == dep
            sched = self._schedules[int(dep)]
            demand[sel] = sched.value(a1[sel])
            used[sel] = sched.integral(a1[sel]) - sched.integral(a0[sel])
        cap = np.where(limit > 0, limit, np.inf)
        tbl.cpu[rows] = np.minimum(demand, cap)
        # Throttling caps the rate: over a span, at most limit × span seconds.
        tbl.cpu_total[rows] += np.minimum(used, cap * (a1 - a0))
        tbl.mem[rows] = self.p(tbl, rows, "base_mib") * MIB


class CpuSpike(WorkloadModel):
    name = "cpu_spike"
    description = "normal randint(30,60) s, then a one-core spike for randint(10,30) s"
    defaults = {"normal_min": 30.0, "normal_max": 60.0, "spike_min": 10.0, "spike_max": 30.0,
                "spike_cores": 1.0, "idle_cores": 0.01, "base_mib": 20.0}

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # phase: 0 normal, 1 spike
        tbl.n1[rows] = 0  # phases completed
        lo, hi = self.p(tbl, rows, "normal_min"), self.p(tbl, rows, "normal_max")
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _NORMAL)  # this incarnation's streams
        tbl.mkey2[rows] = randomness.premix(tbl.rkey[rows], _SPIKE)
        tbl.s0[rows] = at + draw_between_premixed(tbl.mkey[rows], 0, lo, hi)
        tbl.s1[rows] = at  # phase start

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        spike = P["spike_cores"]
        idle = P["idle_cores"]
        cap = np.where(tbl.cpu_limit[rows] > 0, tbl.cpu_limit[rows], np.inf)
        cores_of = lambda phase: np.minimum(np.where(phase == 1, spike, idle), cap)  # noqa: E731
        used = np.zeros(len(rows))
        cursor = np.maximum(t0, tbl.started[rows])
        while True:
            due = tbl.s0[rows] <= t1
            if not due.any():
                break
            r = rows[due]
            phase = tbl.n0[r]
            end = tbl.s0[r]
            used[due] += cores_of(tbl.n0[rows])[due] * np.maximum(end - cursor[due], 0)
            cursor[due] = end
            nxt = 1 - phase
            count = tbl.n1[r] + 1
            Pr = P.subset(due)
            spiking = nxt == 1
            length = np.empty(len(r))
            if spiking.any():
                length[spiking] = draw_between_premixed(tbl.mkey2[r[spiking]], count[spiking],
                                                        Pr["spike_min"][spiking], Pr["spike_max"][spiking])
            if not spiking.all():
                calm = ~spiking
                length[calm] = draw_between_premixed(tbl.mkey[r[calm]], count[calm],
                                                     Pr["normal_min"][calm], Pr["normal_max"][calm])
            tbl.s0[r] = end + length
            tbl.n0[r] = nxt
            tbl.n1[r] = count
        cores = cores_of(tbl.n0[rows])
        used += cores * np.maximum(t1 - cursor, 0)
        tbl.cpu[rows] = cores
        tbl.cpu_total[rows] += used
        tbl.mem[rows] = P["base_mib"] * MIB

