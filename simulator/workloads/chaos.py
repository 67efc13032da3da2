"""chaos_monkey — demo/manifests/demo-apps/apps/chaos-monkey-component.yaml.

Every ``interval + randint(-15, 14)`` s (clamped to [15, 45] with the demo's env), one injection
chosen with weights memory 3 : cpu 3 : crash 2 : network 2 : restart 1, then a 10 s cool-down.
memory holds 50 MiB for 20 s; cpu runs two busy loops for 15 s (throttled at the 300m limit);
network degrades for 25 s. In the original, crash and restart only write a signal file that
nothing reads; here they act on the chaos pod itself by default (crash → exit 1, restart →
exit 0) so the component exercises restarts — set ``crash_exits``/``restart_exits`` to 0 for the
inert original. Its pod template is annotated ``kubeskippy.io/protected: "true"``.
"""

from __future__ import annotations

import numpy as np

from .. import randomness
from ..world.table import PodTable
from .base import MIB, WorkloadModel, draw_between_premixed
from .memory import add_cpu

__all__ = ["ChaosMonkey", "CHAOS_KINDS"]

_WAIT, _KIND = 1, 2  # randomness purposes
CHAOS_KINDS = ("memory", "cpu", "crash", "network", "restart")
_WAITING, _COOLDOWN = 0, 6  # phases; 1..5 are the CHAOS_KINDS
_KIND_OF_DRAW = np.array([1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5])  # randint(0, 10) → kind, odds 3:3:2:2:1


class ChaosMonkey(WorkloadModel):
    name = "chaos_monkey"
    description = "every 15–45 s one of memory/cpu/crash/network/restart (odds 3/3/2/2/1)"
    defaults = {"interval": 30.0, "min_interval": 15.0, "max_interval": 45.0, "cooldown": 10.0,
                "memory_mib": 50.0, "memory_seconds": 20.0, "cpu_cores": 2.0, "cpu_seconds": 15.0,
                "crash_seconds": 10.0, "network_seconds": 25.0, "network_error_rate": 0.5,
                "network_latency": 1.0, "restart_seconds": 5.0, "crash_exits": 1.0, "restart_exits": 1.0,
                "base_mib": 2.0, "idle_cores": 0.002}

    def _wait(self, tbl: PodTable, rows: np.ndarray, counter: np.ndarray, P) -> np.ndarray:
        offset = draw_between_premixed(tbl.mkey[rows], counter, -15, 14)
        return np.minimum(np.maximum(P["interval"] + offset, P["min_interval"]), P["max_interval"])  # np.clip

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # injections so far
        tbl.n1[rows] = _WAITING
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _WAIT)  # this incarnation's streams
        tbl.mkey2[rows] = randomness.premix(tbl.rkey[rows], _KIND)
        tbl.s0[rows] = at + self._wait(tbl, rows, np.zeros(len(rows), dtype=np.int64), self.params(tbl, rows))

    def injections(self, tbl: PodTable, rows: np.ndarray) -> np.ndarray:
        """The chaos kind (index into CHAOS_KINDS) each row is injecting now, or -1."""
        phase = tbl.n1[rows]
        return np.where((phase >= 1) & (phase <= 5), phase - 1, -1)

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        seconds = [self._index[k + "_seconds"] for k in CHAOS_KINDS]
        while True:
            live = np.isnan(tbl.exit_at[rows])
            due = live & (tbl.s0[rows] <= t1)
            if not due.any():
                break
            r = rows[due]
            Pr = P.subset(due)
            phase = tbl.n1[r]
            at = tbl.s0[r]
            # waiting → inject
            w = phase == _WAITING
            if w.any():
                rw, Pw = r[w], Pr.subset(w)
                draw = draw_between_premixed(tbl.mkey2[rw], tbl.n0[rw], 0, 10)
                kind = _KIND_OF_DRAW[draw.astype(np.int64)]
                length = Pw.values[np.arange(len(rw)), np.take(seconds, kind - 1)]
                tbl.n1[rw] = kind
                tbl.s0[rw] = at[w] + length
                exits = ((kind == 3) & (Pw["crash_exits"] > 0)) | ((kind == 5) & (Pw["restart_exits"] > 0))
                if exits.any():
                    dead = rw[exits]
                    tbl.exit_at[dead] = at[w][exits]
                    tbl.exit_code[dead] = np.where(tbl.n1[dead] == 3, 1, 0)
            # injecting → cool-down
            inj = (phase >= 1) & (phase <= 5)
            if inj.any():
                ri = r[inj]
                tbl.n1[ri] = _COOLDOWN
                tbl.s0[ri] = at[inj] + Pr["cooldown"][inj]
            # cool-down → waiting
            cd = phase == _COOLDOWN
            if cd.any():
                rc = r[cd]
                tbl.n0[rc] += 1
                tbl.n1[rc] = _WAITING
                tbl.s0[rc] = at[cd] + self._wait(tbl, rc, tbl.n0[rc], Pr.subset(cd))
        kind = self.injections(tbl, rows)
        mem = P["base_mib"] + np.where(kind == 0, P["memory_mib"], 0.0)
        tbl.mem[rows] = mem * MIB
        cap = np.where(tbl.cpu_limit[rows] > 0, tbl.cpu_limit[rows], np.inf)
        cores = np.where(kind == 1, P["cpu_cores"], P["idle_cores"])
        add_cpu(tbl, rows, np.minimum(cores, cap), t0, t1)
        tbl.err[rows] = np.where(kind == 3, P["network_error_rate"], 0.0)
        tbl.lat[rows] = np.where(kind == 3, P["network_latency"], 0.005)
