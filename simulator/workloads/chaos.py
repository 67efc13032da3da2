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
from .base import (MIB, Trajectory, WorkloadModel, between, draw_between_premixed, renewal_times, running_total,
                   visible_counts)

__all__ = ["ChaosMonkey", "CHAOS_KINDS"]

_WAIT, _KIND = 1, 2  # randomness purposes
CHAOS_KINDS = ("memory", "cpu", "crash", "network", "restart")
_WAITING, _COOLDOWN = 0, 6  # phases; 1..5 are the CHAOS_KINDS
_KIND_OF_DRAW = np.array([1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5])  # randint(0, 10) → kind, odds 3:3:2:2:1
_STAGE = np.array([0, 1, 1, 1, 1, 1, 2])  # phase → stage: waiting, injecting, cool-down
_FIRST_CYCLES = 8  # cycles ``first_exit`` draws at first (doubling): an injection exits with odds 3 in 11


class ChaosMonkey(WorkloadModel):
    name = "chaos_monkey"
    description = "every 15–45 s one of memory/cpu/crash/network/restart (odds 3/3/2/2/1)"
    defaults = {"interval": 30.0, "min_interval": 15.0, "max_interval": 45.0, "cooldown": 10.0,
                "memory_mib": 50.0, "memory_seconds": 20.0, "cpu_cores": 2.0, "cpu_seconds": 15.0,
                "crash_seconds": 10.0, "network_seconds": 25.0, "network_error_rate": 0.5,
                "network_latency": 1.0, "restart_seconds": 5.0, "crash_exits": 1.0, "restart_exits": 1.0,
                "base_mib": 2.0, "idle_cores": 0.002}
    time_params = ("interval", "min_interval", "max_interval", "cooldown", "memory_seconds", "cpu_seconds",
                   "crash_seconds", "network_seconds", "restart_seconds")

    def _wait(self, tbl: PodTable, rows: np.ndarray, counter: np.ndarray, P) -> np.ndarray:
        return _clamped(draw_between_premixed(tbl.mkey[rows], counter, -15, 14), P)

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

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        """Stages repeat waiting → injecting → cool-down; stage changes are a renewal process
        (a wait, the drawn injection's length, the cool-down), so a block is one cumulative sum.
        An injection that exits (crash, restart) ends the incarnation."""
        P = self.params(tbl, rows)
        r = len(rows)
        cols = np.arange(r)
        phase0 = tbl.n1[rows]
        exit_at = np.full(r, np.nan)
        exit_code = np.zeros(r, dtype=np.int16)
        changes = tbl.s0[rows][None, :]
        phases = phase0[None, :]  # phase after each change
        due = np.flatnonzero(np.isnan(tbl.exit_at[rows]) & (tbl.s0[rows] <= T[-1]))
        if len(due):
            d_changes, d_phases, d_exit, d_code = self._changes(tbl, rows[due], P.subset(due), T[-1])
            changes = np.full((len(d_changes), r), np.inf)
            changes[0] = tbl.s0[rows]
            changes[:, due] = d_changes
            phases = np.repeat(phases, len(d_changes), axis=0)
            phases[:, due] = d_phases
            exit_at[due], exit_code[due] = d_exit, d_code
        seen = visible_counts(changes, T)
        phase = np.where(seen > 0, phases[np.maximum(seen - 1, 0), cols], phase0)
        kind = np.where((phase >= 1) & (phase <= 5), phase - 1, -1)
        mem = (P["base_mib"] + np.where(kind == 0, P["memory_mib"], 0.0)) * MIB
        cap = np.where(tbl.cpu_limit[rows] > 0, tbl.cpu_limit[rows], np.inf)
        cores = np.minimum(np.where(kind == 1, P["cpu_cores"], P["idle_cores"]), cap)
        spans_ = np.maximum(T[:, None] - np.maximum(Tprev[:, None], tbl.started[rows][None, :]), 0.0)
        return Trajectory(mem, cores * spans_, cores[-1],
                          err=np.where(kind == 3, P["network_error_rate"], 0.0),
                          lat=np.where(kind == 3, P["network_latency"], 0.005), exit_at=exit_at, exit_code=exit_code)

    def first_exit(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> np.ndarray:
        """``run``'s ``exit_at`` by ``T[-1]`` for incarnations that have not changed stage yet
        (as a start leaves them: a probe's), from whole cycles — a wait ends, an injection of a
        drawn kind runs, a cool-down — instead of ``run``'s per-change plan of every stream.

        Why: ``world.block``'s probes ask hundreds of fresh incarnations when they first exit,
        12 minutes ahead; ``run`` plans 48 stage changes for each (its stream, counter, draw,
        kind and length all computed for every change) and then their phases, while the answer
        needs one kind draw per injection until the first that exits and the stage lengths
        before it. The same values: the same draws (``uniform_premixed`` of the same key and
        counter: injection i draws its kind at counter i, the wait after it at i + 1) and the
        same additions in the same order (start, injection, cool-down, wait, … summed one stage
        after another). Other rows (already past a change) are answered by ``run``."""
        until = float(T[-1])
        fresh = (tbl.n0[rows] == 0) & (tbl.n1[rows] == _WAITING) & np.isnan(tbl.exit_at[rows])
        if not fresh.all():
            x = np.full(len(rows), np.nan)
            if fresh.any():
                x[fresh] = self.first_exit(tbl, rows[fresh], T, Tprev)
            stale = np.flatnonzero(~fresh)
            x[stale] = self.run(tbl, rows[stale], T, Tprev).exit_at
            return x
        x = np.full(len(rows), np.nan)
        todo = np.flatnonzero(tbl.s0[rows] <= until)  # the first injection is due by ``until``
        at = tbl.s0[rows[todo]]  # when injection i0 starts
        i0, n = 0, _FIRST_CYCLES
        while len(todo):
            P = self.params(tbl, rows[todo])
            i = i0 + np.arange(n)[:, None]
            kind = _KIND_OF_DRAW[between(randomness.uniform_premixed(tbl.mkey2[rows[todo]], i), 0, 10)
                                 .astype(np.int64)]
            exits = ((kind == 3) & (P["crash_exits"] > 0)) | ((kind == 5) & (P["restart_exits"] > 0))
            seconds = np.stack([P[k + "_seconds"] for k in CHAOS_KINDS])  # (kind, column)
            cols = np.arange(len(todo))
            steps = np.empty((3 * n, len(todo)))  # injection, cool-down, wait after it: stage by stage
            steps[0] = at
            steps[1::3] = seconds[kind - 1, cols]
            steps[2::3] = P["cooldown"]
            steps[3::3] = _clamped(between(randomness.uniform_premixed(tbl.mkey[rows[todo]], i[:-1] + 1), -15, 14),
                                   P)
            starts = running_total(steps, out=steps)[0::3]  # (n, columns): when injection i0 + k starts
            first = np.where(exits.any(axis=0), exits.argmax(axis=0), n)
            hit = first < n
            when = starts[np.minimum(first, n - 1), cols]
            done = hit | (starts[-1] > until)  # exited, or the next injections start after ``until``
            ok = hit & (when <= until)
            x[todo[ok]] = when[ok]
            if done.all():
                break
            on = np.flatnonzero(~done)  # the last cycle's wait ends: the next injection's start
            last = n - 1
            nxt = starts[last, on] + seconds[kind[last, on] - 1, on] + P["cooldown"][on]
            wait = _clamped(between(randomness.uniform_premixed(tbl.mkey[rows[todo[on]]], i0 + n), -15, 14),
                            P.subset(on))
            at = nxt + wait
            todo, i0, n = todo[on], i0 + n, min(2 * n, 1024)
        return x

    def _changes(self, tbl: PodTable, rows: np.ndarray, P, until: float):
        """(times, phase after each) of the stage changes from s0 on, processed ones only; the
        first exit; and the scratch state as of ``until``."""
        seconds = np.stack([P[k + "_seconds"] for k in CHAOS_KINDS])  # (kind, row)
        stage0 = _STAGE[tbl.n1[rows]]
        n0 = tbl.n0[rows]
        mkey, mkey2 = tbl.mkey[rows], tbl.mkey2[rows]
        cols = np.arange(len(rows))

        def plan(j0: int, n: int, c):
            """Stage entered at changes j0 … j0+n−1 of columns ``c`` (positions), its counter and
            its length."""
            j = j0 + np.arange(n)[:, None]
            s0_ = stage0[c]
            entering = (s0_ + j + 1) % 3
            # injections so far: n0 plus the waits entered (before j0: whole cycles of three)
            waits_before = (s0_ + j0 + 1 + 2) // 3 - (s0_ + 1 + 2) // 3
            counter = n0[c] + waits_before + np.cumsum(entering == 0, axis=0)
            # one draw per change, from the stream its stage draws from at that counter: an
            # injection's kind (``_KIND``), a wait's length (``_WAIT``); a cool-down's is not used
            u = randomness.uniform_premixed(np.where(entering == 1, mkey2[c], mkey[c]), counter)
            kind = _KIND_OF_DRAW[between(u, 0, 10).astype(np.int64)]
            wait = _clamped(between(u, -15, 14), P.subset(c))
            length = np.where(entering == 1, seconds[kind - 1, cols[c]],
                              np.where(entering == 2, P["cooldown"][c], wait))
            return entering, counter, kind, length

        parts: list[tuple] = []  # plans of changes 0 … len(E) − 1 (the stage each change enters)

        def lengths(j0: int, n: int, c) -> np.ndarray:
            if c is None:  # the first chunk: every column
                p = plan(j0, n + 1, slice(None))  # one more: what the change ending these steps enters (E's last row)
                parts.append(p)
                return p[3][:n]
            # a later chunk, for columns ``c`` only: its first row is the last part's last (the
            # same values); the other columns' rows are never processed (their times are +inf)
            # and enter a wait, which does not exit
            p = plan(j0, n + 1, c)
            padded = tuple(np.zeros((n, len(rows)), dtype=x.dtype) for x in p)
            padded[2][:] = 1
            for full, x in zip(padded, p):
                full[:, c] = x[1:]
            parts.append(padded)
            return p[3][:n]

        def exiting(entering: np.ndarray, kind: np.ndarray) -> np.ndarray:
            return (entering == 1) & (((kind == 3) & (P["crash_exits"] > 0)) | ((kind == 5) & (P["restart_exits"] > 0)))

        def ended(E: np.ndarray) -> np.ndarray:  # an exiting injection among the changes so far
            return np.concatenate([exiting(p[0], p[2]) for p in parts]).any(axis=0)

        cycle = P["min_interval"] + seconds.min(axis=0) + P["cooldown"]  # three changes at least this long
        times = renewal_times(tbl.s0[rows], lengths, until, float(cycle.min()) / 3, chunk=48, ended=ended,
                              by_column=True)
        C = len(times)
        entering = np.concatenate([p[0] for p in parts])
        counter = np.concatenate([p[1] for p in parts])
        kind = np.concatenate([p[2] for p in parts])
        phase = np.where(entering == 1, kind, np.where(entering == 2, _COOLDOWN, _WAITING))
        exits = exiting(entering, kind)
        valid = times <= until
        exits &= valid
        first = np.where(exits.any(axis=0), exits.argmax(axis=0), C)
        died = first < C
        done = np.where(died, first + 1, valid.sum(axis=0))  # changes processed by ``until``
        last = np.maximum(done - 1, 0)
        tbl.n0[rows] = np.where(done > 0, counter[last, cols], n0)
        tbl.n1[rows] = np.where(done > 0, phase[last, cols], tbl.n1[rows])
        nxt = np.minimum(done, C - 1)
        # an exiting injection keeps its own end as s0 (as the per-tick code left it)
        tbl.s0[rows] = np.where(died, times[last, cols] + seconds[kind[last, cols] - 1, cols], times[nxt, cols])
        j = np.arange(C)[:, None]
        processed = np.where(j < done, times, np.inf)
        exit_at = np.where(died, times[last, cols], np.nan)
        exit_code = np.where(died & (kind[last, cols] == 3), 1, 0)
        return processed, phase, exit_at, exit_code


def _clamped(offset: np.ndarray, P) -> np.ndarray:
    """A wait: ``interval`` + the drawn offset, clamped to [min_interval, max_interval] (np.clip)."""
    return np.minimum(np.maximum(P["interval"] + offset, P["min_interval"]), P["max_interval"])
