"""Crashing behaviours of the KubeSkippy demo apps.

crash_loop — demo/manifests/demo-apps/apps/crashloop-app.yaml: ``sleep 30; exit 1``. The kubelet
restarts it with back-off 0, 10, 20, 40 … 300 s, so restarts thin out to one per 5.5 min.

random_crasher — demo/manifests/demo-apps/apps/random-crasher.yaml: cycles of
``180 + RANDOM % 240`` s (180–419 s); at the end of each, exit 1 with probability 0.4.
"""

from __future__ import annotations

import numpy as np

from .. import randomness
from ..world.table import PodTable
from .base import MIB, WorkloadModel, draw_between_premixed
from .memory import add_cpu

__all__ = ["CrashLoop", "RandomCrasher"]

_RUNTIME, _CRASH = 1, 2  # randomness purposes


class CrashLoop(WorkloadModel):
    name = "crash_loop"
    description = "exits with exit_code after run_seconds"
    defaults = {"run_seconds": 30.0, "exit_code": 1.0, "base_mib": 1.0, "cpu_cores": 0.001}

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        end = tbl.started[rows] + P["run_seconds"]
        dying = (end <= t1) & np.isnan(tbl.exit_at[rows])
        if dying.any():
            r = rows[dying]
            tbl.exit_at[r] = end[dying]
            tbl.exit_code[r] = P["exit_code"][dying].astype(np.int16)
        tbl.mem[rows] = P["base_mib"] * MIB
        add_cpu(tbl, rows, P["cpu_cores"], t0, np.minimum(t1, end))


class RandomCrasher(WorkloadModel):
    name = "random_crasher"
    description = "runs randint(180, 419) s per cycle; after each, exits 1 with probability 0.4"
    defaults = {"runtime_min": 180.0, "runtime_max": 419.0, "crash_probability": 0.4, "exit_code": 1.0,
                "base_mib": 1.0, "cpu_cores": 0.001}

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # cycles completed
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _RUNTIME)  # this incarnation's streams
        tbl.mkey2[rows] = randomness.premix(tbl.rkey[rows], _CRASH)
        tbl.s0[rows] = at + draw_between_premixed(tbl.mkey[rows], 0, self.p(tbl, rows, "runtime_min"),
                                                  self.p(tbl, rows, "runtime_max"))

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        if ((tbl.s0[rows] <= t1) & np.isnan(tbl.exit_at[rows])).any():
            self._cycle(tbl, rows, t1)
        tbl.mem[rows] = P["base_mib"] * MIB
        add_cpu(tbl, rows, P["cpu_cores"], t0, t1)

    def _cycle(self, tbl: PodTable, rows: np.ndarray, t1: float) -> None:
        while True:
            due = (tbl.s0[rows] <= t1) & np.isnan(tbl.exit_at[rows])
            if not due.any():
                break
            r = rows[due]
            cycle = tbl.n0[r]
            crash = randomness.uniform_premixed(tbl.mkey2[r], cycle) < self.p(tbl, r, "crash_probability")
            if crash.any():
                dead = r[crash]
                tbl.exit_at[dead] = tbl.s0[dead]
                tbl.exit_code[dead] = self.p(tbl, dead, "exit_code").astype(np.int16)
            alive = r[~crash]
            tbl.n0[alive] += 1
            tbl.s0[alive] += draw_between_premixed(tbl.mkey[alive], tbl.n0[alive],
                                                   self.p(tbl, alive, "runtime_min"), self.p(tbl, alive, "runtime_max"))
            tbl.s0[r[crash]] = np.inf
