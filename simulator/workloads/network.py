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
from .base import MIB, Trajectory, WorkloadModel, draw_between_premixed, renewal_times, spans, visible_counts

__all__ = ["NetworkDegradation", "FlakyWeb"]

_ISSUE_WAIT, _ISSUE_KIND = 1, 2  # randomness purposes


class NetworkDegradation(WorkloadModel):
    name = "network_degradation"
    description = "error rate +3 %/step and latency +50 ms/step over 24 × 10 s, then fails and exits"
    defaults = {"steps": 24.0, "step_seconds": 10.0, "error_per_step": 0.03, "latency_per_step": 0.05,
                "fail_hold": 30.0, "exit_code": 1.0, "base_mib": 8.0, "cpu_cores": 0.01}
    time_params = ("step_seconds", "fail_hold")

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        P = self.params(tbl, rows)
        steps = P["steps"]
        step_s = P["step_seconds"]
        age = T[:, None] - tbl.started[rows][None, :]
        step = np.minimum(np.floor(age / step_s) + 1, steps)
        end = tbl.started[rows] + (steps - 1) * step_s + P["fail_hold"]
        cores = P["cpu_cores"]
        return Trajectory((P["base_mib"] * MIB)[None, :], cores * spans(tbl, rows, T, Tprev), cores,
                          err=np.minimum(step * P["error_per_step"], 1.0), lat=step * P["latency_per_step"],
                          exit_at=np.where(end <= T[-1], end, np.nan), exit_code=P["exit_code"])


class FlakyWeb(WorkloadModel):
    name = "flaky_web"
    description = "20 % 5xx (10 % 500, 5 % slow 504, 5 % 502) and a memory or CPU spike every 1–3 min"
    defaults = {"error_500": 0.10, "error_504": 0.05, "error_502": 0.05, "hang_seconds": 30.0,
                "issue_min": 60.0, "issue_max": 180.0, "spike_mib": 100.0, "memory_seconds": 30.0,
                "cpu_seconds": 20.0, "spike_cores": 1.0, "base_mib": 20.0, "idle_cores": 0.01}
    time_params = ("hang_seconds", "issue_min", "issue_max", "memory_seconds", "cpu_seconds")

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        tbl.n0[rows] = 0  # issues so far
        tbl.n1[rows] = 0  # current issue: 0 none, 1 memory, 2 cpu
        tbl.mkey[rows] = randomness.premix(tbl.rkey[rows], _ISSUE_WAIT)  # this incarnation's streams
        tbl.mkey2[rows] = randomness.premix(tbl.rkey[rows], _ISSUE_KIND)
        tbl.s0[rows] = at + draw_between_premixed(tbl.mkey[rows], 0, self.p(tbl, rows, "issue_min"),
                                                  self.p(tbl, rows, "issue_max"))
        tbl.s1[rows] = np.inf  # end of the current issue

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        """Issue i starts at S_i, lasts a drawn kind's length (memory, cpu, or nothing), and the
        next starts randint(issue_min, issue_max) s after it ends: one cumulative sum of
        [S_0, length_0, wait_1, length_1, …] per container."""
        P = self.params(tbl, rows)
        r = len(rows)
        cols = np.arange(r)
        issue0, end0 = tbl.n1[rows], tbl.s1[rows]
        starts = tbl.s0[rows][None, :]
        ends = np.full((1, r), np.inf)  # of the issues that start in the grid
        kinds = np.zeros((1, r), dtype=np.int64)
        due = np.flatnonzero(tbl.s0[rows] <= T[-1])
        if len(due):
            rd, Pd = rows[due], P.subset(due)
            n0 = tbl.n0[rd]

            def lengths(j0: int, n: int) -> np.ndarray:
                # steps alternate: an issue's length (even steps), then the wait before the next
                j = j0 + np.arange(n)[:, None]
                issue = n0 + j // 2
                kind = draw_between_premixed(tbl.mkey2[rd], issue, 0, 2).astype(np.int64)
                length = np.where(kind == 0, Pd["memory_seconds"], np.where(kind == 1, Pd["cpu_seconds"], 0.0))
                wait = draw_between_premixed(tbl.mkey[rd], issue + 1, Pd["issue_min"], Pd["issue_max"])
                return np.where(j % 2 == 0, length, wait)

            times = renewal_times(tbl.s0[rd], lengths, T[-1], float(Pd["issue_min"].min()) / 2)
            if len(times) % 2 == 0:  # end on a start (after the last end): the next issue's
                times = np.concatenate([times, times[-1:] + lengths(len(times) - 1, 1)])
            d_starts, d_ends = times[0::2], times[1::2]  # S_0 … S_m; the ends of S_0 … S_m-1
            m = len(d_starts)
            d_kinds = draw_between_premixed(tbl.mkey2[rd], n0 + np.arange(m)[:, None], 0, 2).astype(np.int64)
            d_ends = np.concatenate([d_ends, np.full((1, len(rd)), np.inf)])
            d_ends = np.where(d_kinds == 2, np.inf, d_ends)  # "nothing" has no end to process
            starts = np.full((m, r), np.inf)
            starts[0] = tbl.s0[rows]
            starts[:, due] = d_starts
            ends = np.full((m, r), np.inf)
            ends[:, due] = d_ends
            kinds = np.zeros((m, r), dtype=np.int64)
            kinds[:, due] = d_kinds
        seen = visible_counts(starts, T)  # issues started by each tick
        last = np.maximum(seen - 1, 0)
        ongoing = (seen > 0) & (kinds[last, cols] != 2) & (ends[last, cols] > T[:, None])
        issue = np.where(seen > 0, np.where(ongoing, kinds[last, cols] + 1, 0),
                         np.where(end0 > T[:, None], issue0, 0))
        n = seen[-1]
        tbl.n0[rows] += n
        tbl.s0[rows] = starts[np.minimum(n, len(starts) - 1), cols]
        tbl.n1[rows] = issue[-1]
        tbl.s1[rows] = np.where(issue[-1] == 0, np.inf, np.where(n > 0, ends[last[-1], cols], end0))
        mem = (P["base_mib"] + np.where(issue == 1, P["spike_mib"], 0)) * MIB
        cap = np.where(tbl.cpu_limit[rows] > 0, tbl.cpu_limit[rows], np.inf)
        cores = np.minimum(np.where(issue == 2, P["spike_cores"], P["idle_cores"]), cap)
        e500, e504, e502 = (P[k] for k in ("error_500", "error_504", "error_502"))
        return Trajectory(mem, cores * spans(tbl, rows, T, Tprev), cores[-1], err=(e500 + e504 + e502)[None, :],
                          lat=(e504 * P["hang_seconds"] + (1 - e504) * 0.005)[None, :])
