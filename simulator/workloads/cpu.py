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
from .base import MIB, Schedule, Trajectory, WorkloadModel, draw_between_premixed, renewal_times, visible_counts

__all__ = ["CpuOscillation", "CpuSpike"]

_NORMAL, _SPIKE = 1, 2  # randomness purposes


class CpuOscillation(WorkloadModel):
    name = "cpu_oscillation"
    description = "intensity 25/50/75/100 % for 90 s (+30 s cool-down) then 60 s rest: 9 min period"
    defaults = {"stress": 90.0, "cooldown": 30.0, "rest": 60.0, "idle_cores": 0.005, "base_mib": 6.0}
    time_params = ("stress", "cooldown", "rest")

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

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        limit = tbl.cpu_limit[rows]
        started = tbl.started[rows][None, :]
        a0 = np.maximum(Tprev[:, None], started) - started
        a1 = T[:, None] - started
        deps = tbl.dep[rows]
        demand = np.zeros(a1.shape)
        used = np.zeros(a1.shape)
        for dep in np.unique(deps):
            sel = deps == dep
            sched = self._schedules[int(dep)]
            demand[:, sel] = sched.value(a1[:, sel])
            used[:, sel] = sched.integral(a1[:, sel]) - sched.integral(a0[:, sel])
        cap = np.where(limit > 0, limit, np.inf)
        # Throttling caps the rate: over a span, at most limit × span seconds.
        cores = np.minimum(demand, cap)
        return Trajectory((self.p(tbl, rows, "base_mib") * MIB)[None, :], np.minimum(used, cap * (a1 - a0)), cores[-1])


class CpuSpike(WorkloadModel):
    name = "cpu_spike"
    description = "normal randint(30,60) s, then a one-core spike for randint(10,30) s"
    defaults = {"normal_min": 30.0, "normal_max": 60.0, "spike_min": 10.0, "spike_max": 30.0,
                "spike_cores": 1.0, "idle_cores": 0.01, "base_mib": 20.0}
    time_params = ("normal_min", "normal_max", "spike_min", "spike_max")

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # phase: 0 normal, 1 spike
        tbl.n1[rows] = 0  # phases completed
        lo, hi = self.p(tbl, rows, "normal_min"), self.p(tbl, rows, "normal_max")
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _NORMAL)  # this incarnation's streams
        tbl.mkey2[rows] = randomness.premix(tbl.rkey[rows], _SPIKE)
        tbl.s0[rows] = at + draw_between_premixed(tbl.mkey[rows], 0, lo, hi)  # end of the phase
        tbl.s1[rows] = at  # start of the phase
        tbl.s2[rows] = 0.0  # CPU seconds used from the container's start to the phase's start

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        """CPU seconds are the exact integral of the phases: used(t) = s2 + cores × (t − s1)
        within a phase, and a tick adds used(T) − used(max(Tprev, started))."""
        P = self.params(tbl, rows)
        cap = np.where(tbl.cpu_limit[rows] > 0, tbl.cpu_limit[rows], np.inf)
        rate = np.minimum(np.stack([P["idle_cores"], P["spike_cores"]]), cap)  # (phase, row)
        r = len(rows)
        cols = np.arange(r)
        phase0, count0 = tbl.n0[rows], tbl.n1[rows]
        ends = tbl.s0[rows][None, :]  # phase changes (none due: the current phase's end only)
        due = np.flatnonzero(ends[0] <= T[-1])
        if len(due):
            rd, Pd = rows[due], P.subset(due)

            def lengths(j0: int, n: int) -> np.ndarray:
                count = count0[due] + j0 + 1 + np.arange(n)[:, None]
                spiking = (phase0[due] + j0 + 1 + np.arange(n)[:, None]) % 2 == 1
                return np.where(spiking,
                                draw_between_premixed(tbl.mkey2[rd], count, Pd["spike_min"], Pd["spike_max"]),
                                draw_between_premixed(tbl.mkey[rd], count, Pd["normal_min"], Pd["normal_max"]))

            lo = float(np.minimum(Pd["normal_min"], Pd["spike_min"]).min())
            times = renewal_times(tbl.s0[rd], lengths, T[-1], lo)
            ends = np.full((len(times), r), np.inf)
            ends[0] = tbl.s0[rows]
            ends[:, due] = times
        # phase starts: s1 then every end; used at each phase start: s2, then a running sum
        starts = np.concatenate([tbl.s1[rows][None, :], ends])
        j = np.arange(len(starts))[:, None]
        phase = (phase0 + j) % 2
        known = np.isfinite(starts[1:])  # the last phase's end may not be drawn yet: it adds nothing
        length = np.where(known, starts[1:], 0.0) - np.where(known, starts[:-1], 0.0)
        used = np.cumsum(np.concatenate([tbl.s2[rows][None, :], rate[phase[:-1], cols] * length]), axis=0)

        def used_at(t: np.ndarray, seen: np.ndarray) -> np.ndarray:
            return used[seen, cols] + rate[phase[seen, cols], cols] * (t - starts[seen, cols])

        seen = visible_counts(ends, T)  # phase changes processed by each tick
        before = visible_counts(ends, Tprev)
        lower = np.maximum(Tprev[:, None], tbl.started[rows][None, :])
        cpu_inc = used_at(T[:, None], seen) - used_at(lower, before)
        last = seen[-1]
        tbl.n0[rows] = (phase0 + last) % 2
        tbl.n1[rows] = count0 + last
        tbl.s0[rows] = ends[np.minimum(last, len(ends) - 1), cols]
        tbl.s1[rows] = starts[last, cols]
        tbl.s2[rows] = used[last, cols]
        cores = rate[(phase0 + last) % 2, cols]
        return Trajectory((P["base_mib"] * MIB)[None, :], cpu_inc, cores)
