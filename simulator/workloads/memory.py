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
from .base import MIB, Schedule, Trajectory, WorkloadModel, renewal_times, running_total, spans, visible_counts

__all__ = ["MemoryLeak", "MemoryDegradation"]

_FREE = 1  # randomness purpose: the "occasionally release" draw
_CHUNK = 128  # allocations drawn at first when a grid needs more (an OOM comes after ~50–65)


class MemoryLeak(WorkloadModel):
    name = "memory_leak"
    description = "+chunk_mib every interval s, occasionally freeing one; OOM at the limit"
    defaults = {"chunk_mib": 10.0, "interval": 10.0, "free_probability": 0.1, "free_min_chunks": 5.0,
                "base_mib": 10.0, "cpu_cores": 0.02}
    time_params = ("interval",)

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # chunks held
        tbl.n1[rows] = 0  # allocations done
        tbl.s0[rows] = at  # time of the next allocation (the first is immediate)
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _FREE)  # this incarnation's "free?" stream
        tbl.mem[rows] = self.p(tbl, rows, "base_mib") * MIB

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        P = self.params(tbl, rows)
        mem = tbl.mem[rows][None, :]
        exit_at = np.full(len(rows), np.nan)
        due = np.flatnonzero(tbl.s0[rows] <= T[-1])
        if len(due):  # only rows with an allocation due by the last tick take part
            mem = np.repeat(mem, len(T), axis=0)
            exit_at[due], mem[:, due] = self._allocate(tbl, rows[due], P.subset(due), T)
        cores = P["cpu_cores"]
        return Trajectory(mem, cores * spans(tbl, rows, T, Tprev), cores, exit_at=exit_at,
                          exit_code=np.full(len(rows), 137))

    def first_exit(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> np.ndarray:
        """``run``'s ``exit_at`` (the OOM kill by an allocation by ``T[-1]``), without the memory
        trajectory, the CPU spans or the scratch state (``_allocate(exit_only=True)``): the
        same draws and allocation times, so the same exits."""
        P = self.params(tbl, rows)
        exit_at = np.full(len(rows), np.nan)
        due = np.flatnonzero(tbl.s0[rows] <= T[-1])
        if len(due):
            exit_at[due] = self._allocate(tbl, rows[due], P.subset(due), T, exit_only=True)
        return exit_at

    def _allocate(self, tbl: PodTable, rows: np.ndarray, P, T: np.ndarray, *, exit_only: bool = False):
        """Every allocation due by T[-1]. Held chunks never decrease (an allocation frees at most
        the chunk it adds), so "holds more than free_min_chunks" becomes true at a fixed
        allocation and stays true: the chunk count is a cumulative sum of the "free?" draws.
        Answers (exit times, memory per tick), or with ``exit_only`` the exit times alone (the
        scratch state is then left as it was)."""
        chunk = P["chunk_mib"] * MIB
        base = P["base_mib"] * MIB
        interval = P["interval"]
        limit = tbl.mem_limit[rows]
        s0, held0, done0 = tbl.s0[rows], tbl.n0[rows], tbl.n1[rows]
        live = np.isnan(tbl.exit_at[rows])
        need = np.maximum(np.floor(P["free_min_chunks"] - held0) + 1, 0)  # first allocation that may free
        memo: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def held_after(C: int) -> tuple[np.ndarray, np.ndarray]:
            """(memory, chunks held) after each of allocations 0 … C − 1: the same whatever C."""
            if C not in memo:
                j = np.arange(C)[:, None]
                counter = done0 + j
                u = randomness.uniform_premixed(tbl.mkey[rows], counter)
                frees = (counter > 0) & (u < P["free_probability"]) & (j >= need)
                held = held0 + (j + 1) - running_total(frees.astype(np.int64))  # np.cumsum's counts
                memo.clear()
                memo[C] = (base + held * chunk, held)
            return memo[C]

        def ended(E: np.ndarray) -> np.ndarray:  # OOM-killed by an allocation so far
            return ((held_after(len(E))[0] >= limit) & live & (E <= T[-1])).any(axis=0)

        # allocations up to the last tick, drawn in doubling chunks past the first 128 and no
        # further than every container's OOM kill (the times do not depend on the chunking)
        times = renewal_times(s0, lambda j0, n: np.broadcast_to(interval, (n, len(rows))), T[-1],
                              float(interval.min()), chunk=_CHUNK, ended=ended)
        C = len(times)
        j = np.arange(C)[:, None]
        values, held = held_after(C)
        valid = times <= T[-1]
        oom = (values >= limit) & live & valid
        first_oom = np.where(oom.any(axis=0), oom.argmax(axis=0), C)
        done = np.minimum(valid.sum(axis=0), first_oom + 1)  # allocations processed by T[-1]
        cols = np.arange(len(rows))
        died = first_oom < C
        exit_at = np.where(died, times[np.minimum(first_oom, C - 1), cols], np.nan)
        if exit_only:
            return exit_at
        tbl.n0[rows] = held[done - 1, cols]
        tbl.n1[rows] = done0 + done
        tbl.s0[rows] = np.where(died, np.inf, times[np.minimum(done, C - 1), cols])
        seen = visible_counts(np.where(j < done, times, np.inf), T)  # allocations processed by each tick
        mem = np.where(seen > 0, values[np.maximum(seen - 1, 0), cols], tbl.mem[rows])
        return exit_at, mem


class MemoryDegradation(WorkloadModel):
    name = "memory_degradation"
    description = "cycles holding 20..80 MB for 60 s of every 105 s, cleanup pause every 4th cycle"
    defaults = {"base_mib": 4.0, "start_mb": 20.0, "step_mb": 15.0, "hold": 60.0, "pause": 45.0,
                "cleanup_every": 4.0, "cleanup_pause": 30.0, "cycles": 21.0, "cpu_cores": 0.01}
    time_params = ("hold", "pause", "cleanup_pause")

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

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        P = self.params(tbl, rows)
        base = P["base_mib"] * MIB
        age = T[:, None] - tbl.started[rows][None, :]
        deps = tbl.dep[rows]
        extra = np.zeros(age.shape)
        for dep in np.unique(deps):
            sel = deps == dep
            extra[:, sel] = self._schedules[int(dep)].value(age[:, sel])
        cores = P["cpu_cores"]
        return Trajectory(base + extra, cores * spans(tbl, rows, T, Tprev), cores)
