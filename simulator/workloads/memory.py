"""Memory behaviours of the KubeSkippy demo apps.

memory_leak — demo/apps/memory-leak-app.yaml: a Python loop that allocates a 10 MiB bytearray,
sleeps 10 s, and with probability 0.1 drops its oldest chunk when it holds more than 5. Against
the 512 Mi limit the container is OOM-killed after ~50–60 allocations: 8–10 minutes.

memory_degradation — demo/manifests/demo-apps/apps/memory-degradation.yaml: cycles of 105 s;
cycle c holds 20 + (c mod 5)·15 MB for 60 s then idles 45 s; every 4th cycle adds a 30 s cleanup
pause; the counter resets after cycle 21. Peaks at 80 MB against a 200 Mi limit: pressure, not
OOM, unless the parameters say otherwise.
"""

from __future__ import annotations

import numpy as np

from .. import randomness
from ..world.table import PodTable
from .base import MIB, Schedule, WorkloadModel

__all__ = ["MemoryLeak", "MemoryDegradation", "add_cpu"]

_FREE = 1  # randomness purpose: the "occasionally release" draw


def add_cpu(tbl: PodTable, rows: np.ndarray, cores: np.ndarray | float, t0: float, t1: float) -> None:
    """Constant ``cores`` over the part of (t0, t1] the container was running."""
    span = t1 - np.maximum(t0, tbl.started[rows])
    tbl.cpu[rows] = cores
    tbl.cpu_total[rows] += np.asarray(cores) * np.maximum(span, 0.0)


class MemoryLeak(WorkloadModel):
    name = "memory_leak"
    description = "+chunk_mib every interval s, occasionally freeing one; OOM at the limit"
    defaults = {"chunk_mib": 10.0, "interval": 10.0, "free_probability": 0.1, "free_min_chunks": 5.0,
                "base_mib": 10.0, "cpu_cores": 0.02}

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # chunks held
        tbl.n1[rows] = 0  # allocations done
        tbl.s0[rows] = at  # time of the next allocation (the first is immediate)
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _FREE)  # this incarnation's "free?" stream
        tbl.mem[rows] = self.p(tbl, rows, "base_mib") * MIB

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        due = tbl.s0[rows] <= t1
        if due.any():  # only rows with an allocation due take part in the loop
            rows_due, P_due = rows[due], P.subset(due)
            self._allocate(tbl, rows_due, P_due, t1)
        add_cpu(tbl, rows, P["cpu_cores"], t0, t1)

    def _allocate(self, tbl: PodTable, rows: np.ndarray, P, t1: float) -> None:
        """Every allocation due by t1, in order, for rows with at least one due: the state is
        gathered once, stepped allocation by allocation on local arrays, and written back."""
        chunk = P["chunk_mib"] * MIB
        base = P["base_mib"] * MIB
        interval = P["interval"]
        p_free = P["free_probability"]
        min_chunks = P["free_min_chunks"]
        limit = tbl.mem_limit[rows]
        keys = tbl.mkey[rows]
        s0, held, done = tbl.s0[rows], tbl.n0[rows], tbl.n1[rows]
        live = np.isnan(tbl.exit_at[rows])
        exit_at = np.full(len(rows), np.nan)
        act = s0 <= t1
        while True:
            u = randomness.uniform_premixed(keys[act], done[act])
            frees = (done[act] > 0) & (u < p_free[act]) & (held[act] > min_chunks[act])
            held[act] += 1 - frees
            done[act] += 1
            mem = base + held * chunk
            oom = act & (mem >= limit) & live
            exit_at[oom] = s0[oom]
            live &= ~oom
            s0 = np.where(act, np.where(oom, np.inf, s0 + interval), s0)
            act = s0 <= t1
            if not act.any():
                break
        tbl.s0[rows], tbl.n0[rows], tbl.n1[rows], tbl.mem[rows] = s0, held, done, mem
        dead = ~np.isnan(exit_at)
        if dead.any():
            tbl.exit_at[rows[dead]] = exit_at[dead]
            tbl.exit_code[rows[dead]] = 137


class MemoryDegradation(WorkloadModel):
    name = "memory_degradation"
    description = "cycles holding 20..80 MB for 60 s of every 105 s, cleanup pause every 4th cycle"
    defaults = {"base_mib": 4.0, "start_mb": 20.0, "step_mb": 15.0, "hold": 60.0, "pause": 45.0,
                "cleanup_every": 4.0, "cleanup_pause": 30.0, "cycles": 21.0, "cpu_cores": 0.01}

    def __init__(self) -> None:
        super().__init__()
        self._schedules: dict[int, Schedule] = {}

    def configure(self, dep: int, params: dict) -> None:
        p = self.check_params(params, path="params")
        durations, values = [], []
        for cycle in range(1, int(p["cycles"]) + 1):
            pressure = (p["start_mb"] + (cycle % 5) * p["step_mb"]) * 1e6  # dd bs=1M: MB as the script says
            durations += [p["hold"], p["pause"]]
            values += [pressure, 0.0]
            if p["cleanup_every"] and cycle % int(p["cleanup_every"]) == 0:
                durations.append(p["cleanup_pause"])
                values.append(0.0)
        self._schedules[dep] = Schedule(durations, values)

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        base = P["base_mib"] * MIB
        age = t1 - tbl.started[rows]
        deps = tbl.dep[rows]
        extra = np.zeros(len(rows))
        for dep in np.unique(deps):
            sel = deps == dep
            extra[sel] = self._schedules[int(dep)].value(age[sel])
        tbl.mem[rows] = base + extra
        add_cpu(tbl, rows, P["cpu_cores"], t0, t1)
