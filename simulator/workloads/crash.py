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
from .base import MIB, Trajectory, WorkloadModel, draw_between_premixed, renewal_times, spans

__all__ = ["CrashLoop", "RandomCrasher"]

_RUNTIME, _CRASH = 1, 2  # randomness purposes


class CrashLoop(WorkloadModel):
    name = "crash_loop"
    description = "exits with exit_code after run_seconds"
    defaults = {"run_seconds": 30.0, "exit_code": 1.0, "base_mib": 1.0, "cpu_cores": 0.001}
    time_params = ("run_seconds",)

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        P = self.params(tbl, rows)
        end = tbl.started[rows] + P["run_seconds"]
        cores = P["cpu_cores"]
        return Trajectory((P["base_mib"] * MIB)[None, :], cores * spans(tbl, rows, T, Tprev, end), cores,
                          exit_at=np.where(end <= T[-1], end, np.nan), exit_code=P["exit_code"])


class RandomCrasher(WorkloadModel):
    name = "random_crasher"
    description = "runs randint(180, 419) s per cycle; after each, exits 1 with probability 0.4"
    defaults = {"runtime_min": 180.0, "runtime_max": 419.0, "crash_probability": 0.4, "exit_code": 1.0,
                "base_mib": 1.0, "cpu_cores": 0.001}
    time_params = ("runtime_min", "runtime_max")

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # cycles completed
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _RUNTIME)  # this incarnation's streams
        tbl.mkey2[rows] = randomness.premix(tbl.rkey[rows], _CRASH)
        tbl.s0[rows] = at + draw_between_premixed(tbl.mkey[rows], 0, self.p(tbl, rows, "runtime_min"),
                                                  self.p(tbl, rows, "runtime_max"))

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        P = self.params(tbl, rows)
        exit_at = np.full(len(rows), np.nan)
        due = np.flatnonzero((tbl.s0[rows] <= T[-1]) & np.isnan(tbl.exit_at[rows]))
        if len(due):
            exit_at[due] = self._cycles(tbl, rows[due], P.subset(due), T[-1])
        cores = P["cpu_cores"]
        return Trajectory((P["base_mib"] * MIB)[None, :], cores * spans(tbl, rows, T, Tprev), cores,
                          exit_at=exit_at, exit_code=P["exit_code"])

    def _cycles(self, tbl: PodTable, rows: np.ndarray, P, until: float) -> np.ndarray:
        """Cycle ends up to ``until``: cycle c (from n0) ends at s0 + the lengths of the cycles
        after it; at each end, "crash?" is drawn with counter c."""
        lo, hi = P["runtime_min"], P["runtime_max"]
        n0 = tbl.n0[rows]
        mkey, mkey2 = tbl.mkey[rows], tbl.mkey2[rows]
        crashes: list[np.ndarray] = []  # "crash?" at cycle ends 0 … len(E) − 1

        def ended(E: np.ndarray) -> np.ndarray:  # a crash among the cycle ends so far
            j = np.arange(sum(len(c) for c in crashes), len(E))[:, None]
            crashes.append(randomness.uniform_premixed(mkey2, n0 + j) < P["crash_probability"])
            return np.concatenate(crashes).any(axis=0)

        ends = renewal_times(tbl.s0[rows],
                             lambda j0, n: draw_between_premixed(mkey, n0 + j0 + 1 + np.arange(n)[:, None], lo, hi),
                             until, float(lo.min()), chunk=4, ended=ended)
        C = len(ends)
        j = np.arange(C)[:, None]
        crash = (randomness.uniform_premixed(mkey2, n0 + j) < P["crash_probability"]) & (ends <= until)
        first = np.where(crash.any(axis=0), crash.argmax(axis=0), C)
        cols = np.arange(len(rows))
        died = first < C
        passed = np.where(died, first, (ends <= until).sum(axis=0))  # cycles survived by ``until``
        tbl.n0[rows] = n0 + passed
        tbl.s0[rows] = np.where(died, np.inf, ends[np.minimum(passed, C - 1), cols])
        return np.where(died, ends[np.minimum(first, C - 1), cols], np.nan)
