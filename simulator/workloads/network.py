"""Service-level behaviours of the KubeSkippy demo apps (errors and latency).

network_degradation — demo/apps/continuous-network-degradation-app.yaml: 24 steps of 10 s; at
step s the app publishes an error rate of 3·s % and 50·s ms latency; at the last step it fails for
30 s and exits 1 (260 s after start), so the kubelet's back-off grows. We model the published
ramp (its /metrics values); the original nginx config actually answered every request with an
error once the rate passed 30 %.

flaky_web — demo/manifests/demo-apps/apps/flaky-web-app.yaml: 10 % 500s, 5 % 504s after a 30 s
hang, 5 % 502s; every randint(60, 180) s one of {100 MiB memory spike for 30 s, 20 s CPU spike,
nothing}. Its probes (readiness every 10 s, liveness every 30 s, threshold 3) fail like a
request does, so it goes unready and gets liveness-restarted now and then.
"""

from __future__ import annotations

import numpy as np

from .. import randomness
from ..world.table import PodTable
from .base import MIB, WorkloadModel, draw_between_premixed
from .memory import add_cpu

__all__ = ["NetworkDegradation", "FlakyWeb"]

_ISSUE_WAIT, _ISSUE_KIND = 1, 2  # randomness purposes


class NetworkDegradation(WorkloadModel):
    name = "network_degradation"
    description = "error rate +3 %/step and latency +50 ms/step over 24 × 10 s, then fails and exits"
    defaults = {"steps": 24.0, "step_seconds": 10.0, "error_per_step": 0.03, "latency_per_step": 0.05,
                "fail_hold": 30.0, "exit_code": 1.0, "base_mib": 8.0, "cpu_cores": 0.01}

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        steps = P["steps"]
        step_s = P["step_seconds"]
        age = t1 - tbl.started[rows]
        step = np.minimum(np.floor(age / step_s) + 1, steps)
        tbl.err[rows] = np.minimum(step * P["error_per_step"], 1.0)
        tbl.lat[rows] = step * P["latency_per_step"]
        end = tbl.started[rows] + (steps - 1) * step_s + P["fail_hold"]
        dying = (end <= t1) & np.isnan(tbl.exit_at[rows])
        if dying.any():
            r = rows[dying]
            tbl.exit_at[r] = end[dying]
            tbl.exit_code[r] = P["exit_code"][dying].astype(np.int16)
        tbl.mem[rows] = P["base_mib"] * MIB
        add_cpu(tbl, rows, P["cpu_cores"], t0, t1)


class FlakyWeb(WorkloadModel):
    name = "flaky_web"
    description = "20 % 5xx (10 % 500, 5 % slow 504, 5 % 502) and a memory or CPU spike every 1–3 min"
    defaults = {"error_500": 0.10, "error_504": 0.05, "error_502": 0.05, "hang_seconds": 30.0,
                "issue_min": 60.0, "issue_max": 180.0, "spike_mib": 100.0, "memory_seconds": 30.0,
                "cpu_seconds": 20.0, "spike_cores": 1.0, "base_mib": 20.0, "idle_cores": 0.01}

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # issues so far
        tbl.n1[rows] = 0  # current issue: 0 none, 1 memory, 2 cpu
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _ISSUE_WAIT)  # this incarnation's streams
        tbl.mkey2[rows] = randomness.premix(tbl.rkey[rows], _ISSUE_KIND)
        tbl.s0[rows] = at + draw_between_premixed(tbl.mkey[rows], 0, self.p(tbl, rows, "issue_min"),
                                                  self.p(tbl, rows, "issue_max"))
        tbl.s1[rows] = np.inf  # end of the current issue

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        P = self.params(tbl, rows)
        while True:
            ending = tbl.s1[rows] <= t1
            starting = (tbl.s0[rows] <= t1) & ~ending & (tbl.n1[rows] == 0)
            any_ending, any_starting = ending.any(), starting.any()
            if not (any_ending or any_starting):
                break
            if any_ending:
                r = rows[ending]
                tbl.n1[r] = 0
                tbl.s1[r] = np.inf
            if any_starting:
                r = rows[starting]
                Pr = P.subset(starting)
                n = tbl.n0[r]
                kind = draw_between_premixed(tbl.mkey2[r], n, 0, 2).astype(np.int64)  # memory, cpu, none
                began = tbl.s0[r]
                length = np.where(kind == 0, Pr["memory_seconds"], np.where(kind == 1, Pr["cpu_seconds"], 0.0))
                tbl.n1[r] = np.where(kind == 2, 0, kind + 1)
                tbl.s1[r] = np.where(kind == 2, np.inf, began + length)
                tbl.n0[r] = n + 1
                # The background thread sleeps randint(60, 180) after the issue finishes.
                tbl.s0[r] = began + length + draw_between_premixed(tbl.mkey[r], n + 1, Pr["issue_min"],
                                                                   Pr["issue_max"])
        issue = tbl.n1[rows]
        tbl.mem[rows] = (P["base_mib"] + np.where(issue == 1, P["spike_mib"], 0)) * MIB
        cap = np.where(tbl.cpu_limit[rows] > 0, tbl.cpu_limit[rows], np.inf)
        cores = np.minimum(np.where(issue == 2, P["spike_cores"], P["idle_cores"]), cap)
        add_cpu(tbl, rows, cores, t0, t1)
        e500, e504, e502 = (P[k] for k in ("error_500", "error_504", "error_502"))
        tbl.err[rows] = e500 + e504 + e502
        tbl.lat[rows] = e504 * P["hang_seconds"] + (1 - e504) * 0.005
