"""Advancing the world a block of ticks at once, with the per-tick semantics.

Why: a per-tick step costs a fixed number of numpy operations (a few hundred at the demo mix,
~1–3 µs each whatever the array length), so small runs paid mostly for overhead. When nothing
outside the world can act between ticks — no healing arm, no rule evaluation, no probes, no pod
being scheduled or deleted — each container is a renewal process the kubelet restarts: the
world asks every model for its containers' trajectories over the whole block (see
``workloads.base``), finds each container's exit tick (the model's exact exit time, or the
first tick its memory is at the limit), applies the exit with the same kubelet code as a tick
(``World.exit_rows``), restarts it at the first tick after its back-off (``World.start_rows``),
and asks the models again for the restarted incarnation in a later pass: passes follow
incarnations, not ticks. Every (tick, pod) value the per-tick code would have left — memory, counters, readiness,
container state — is kept as a (ticks × rows) matrix in :class:`Frames`, which the scrape
and the incident observer read. ``tests/simulator/test_blocks.py`` checks that a run in blocks
equals the same run tick by tick, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .table import BACKOFF, CREATING, RUNNING, TERMINATED

if TYPE_CHECKING:
    from .world import World

__all__ = ["Frames", "advance_block"]


class Frames:
    """The table's per-tick values over a block: (B, n) matrices over rows 0 … n−1 (released rows
    hold whatever; readers mask them with ``alive``, which cannot change inside a block)."""

    def __init__(self, T: np.ndarray, Tprev: np.ndarray, n: int) -> None:
        self.T = T
        self.Tprev = Tprev
        self.n = n
        self.mem = self.err = self.lat = self.cpu_total = self.req_total = self.err_total = np.zeros((0, n))
        self.restarts = np.zeros((0, n), dtype=np.int32)
        self.ready = np.zeros((0, n), dtype=bool)
        self.cstate = self.lt_reason = np.zeros((0, n), dtype=np.int8)
        self.exit_ticks = np.zeros(0, dtype=np.int64)  # one entry per container exit: its tick …
        self.exit_rows = np.zeros(0, dtype=np.int64)  # … and row
        self.exited = np.zeros((0, n), dtype=bool)  # exit ticks (the last terminated state changes there)


def advance_block(world: "World", T: np.ndarray) -> Frames:
    """Advance ``world`` through ticks ``T`` (ascending, after ``world._t``); ``world.can_block()``
    must hold. Leaves the table as the per-tick code would after ``T[-1]``."""
    tbl = world.table
    n = tbl.size
    B = len(T)
    Tprev = np.concatenate([[world._t], T[:-1]])
    f = Frames(T, Tprev, n)
    f.mem = np.repeat(tbl.mem[None, :n], B, axis=0)
    f.err = np.repeat(tbl.err[None, :n], B, axis=0)
    f.lat = np.repeat(tbl.lat[None, :n], B, axis=0)
    f.ready = np.repeat(tbl.ready[None, :n], B, axis=0)
    f.cstate = np.repeat(tbl.cstate[None, :n], B, axis=0)
    f.lt_reason = np.repeat(tbl.lt_reason[None, :n], B, axis=0)
    f.exited = np.zeros((B, n), dtype=bool)
    acc = _Accumulators(B, n)
    restarts0 = tbl.restarts[:n].copy()
    oom_times_before = len(world.stats.oom_times)

    alive = np.flatnonzero(tbl.alive[:n])
    cs = tbl.cstate[alive]
    waiting = alive[(cs == CREATING) | (cs == BACKOFF) | (cs == TERMINATED)]
    start = np.searchsorted(T, tbl.due[waiting], side="left")  # due NaN/inf: never (B)
    running = alive[cs == RUNNING]
    # The queue of segments to simulate: (row, first tick, starts a new incarnation?, window).
    # A pass takes the segments that begin within ``reach`` ticks of the earliest and of its window
    # length, and simulates them over [earliest, earliest + reach + window): an incarnation that
    # outlives it goes back with twice the window, one that exits comes back at its restart tick.
    q_rows = np.concatenate([running, waiting[start < B]])
    q_first = np.concatenate([np.zeros(len(running), dtype=np.int64), start[start < B]])
    q_fresh = np.concatenate([np.zeros(len(running), dtype=bool), np.ones(int((start < B).sum()), dtype=bool)])
    reach = window_for(n)
    q_win = np.full(len(q_rows), reach, dtype=np.int64)
    while len(q_rows):
        lo = int(q_first.min())
        win = int(q_win[q_first == lo].min())
        take = (q_first < lo + reach) & (q_win == win)
        rows, first, fresh = q_rows[take], q_first[take], q_fresh[take]
        q_rows, q_first, q_fresh, q_win = q_rows[~take], q_first[~take], q_fresh[~take], q_win[~take]
        hi = min(B, lo + reach + win)
        if fresh.any():
            world.start_rows(rows[fresh], tbl.due[rows[fresh]])
        ended, again = _simulate(world, f, rows, first, lo, hi, acc)
        survived = ~ended & (hi < B)
        q_rows = np.concatenate([q_rows, rows[survived], again[0]])
        q_first = np.concatenate([q_first, np.full(int(survived.sum()), hi, dtype=np.int64), again[1]])
        q_fresh = np.concatenate([q_fresh, np.zeros(int(survived.sum()), dtype=bool),
                                  np.ones(len(again[0]), dtype=bool)])
        q_win = np.concatenate([q_win, np.full(int(survived.sum()), min(2 * win, B), dtype=np.int64),
                                np.full(len(again[0]), reach, dtype=np.int64)])

    exit_ticks, exit_rows, oom_at = acc.exit_ticks, acc.exit_rows, acc.oom_at
    _fill_forward(f)
    _count_requests(world, f, acc)
    # counters: the value before the block plus the increments, added tick by tick (in place)
    for name, inc in (("cpu_total", acc.cpu), ("req_total", acc.req), ("err_total", acc.req_err)):
        inc[0] += getattr(tbl, name)[:n]
        setattr(f, name, np.cumsum(inc, axis=0, out=inc))
    acc.restarts[0] += restarts0
    f.restarts = np.cumsum(acc.restarts, axis=0, out=acc.restarts)
    tbl.cpu_total[:n] = f.cpu_total[-1]
    tbl.req_total[:n] = f.req_total[-1]
    tbl.err_total[:n] = f.err_total[-1]
    if exit_ticks:
        f.exit_ticks = np.concatenate(exit_ticks)
        f.exit_rows = np.concatenate(exit_rows)
    if oom_at:  # the per-tick code appends OOM kills tick by tick, rows ascending
        ticks = np.concatenate([t for t, _ in oom_at])
        rows_ = np.concatenate([r for _, r in oom_at])
        order = np.lexsort((rows_, ticks))
        added = world.stats.oom_times[oom_times_before:]
        world.stats.oom_times[oom_times_before:] = [added[i] for i in order]
    world._changed.clear()
    world._t = float(T[-1])
    return f


def _count_requests(world: "World", f: Frames, acc: "_Accumulators") -> None:
    """Requests (and failed ones) per (tick, row), as ``World._count_traffic`` counts them: a
    serving container (ready in the frames, which hold False while it waits) gets rps × the part
    of the tick it ran — the whole tick except at the tick it started, patched from the segments
    the passes recorded. Once per block, rather than per pass on each pass's cells."""
    B, n = len(f.T), f.n
    rps = world.scenario.signals.requests_per_second
    serving = f.ready & world.table.alive[None, :n]
    if rps <= 0 or not serving.any():
        acc.req, acc.req_err = np.zeros((B, n)), np.zeros((B, n))
        return
    acc.req = np.where(serving, rps * np.maximum(f.T - f.Tprev, 0.0)[:, None], 0.0)
    if acc.segments:
        ks = np.concatenate([k for k, _, _ in acc.segments])
        rows = np.concatenate([r for _, r, _ in acc.segments])
        started = np.concatenate([s for _, _, s in acc.segments])
        late = started > f.Tprev[ks]  # started within its first tick: part of it
        ks, rows, started = ks[late], rows[late], started[late]
        span = f.T[ks] - np.maximum(f.Tprev[ks], started)
        acc.req[ks, rows] = np.where(serving[ks, rows], rps * np.maximum(span, 0.0), 0.0)
    acc.req_err = np.where(serving, acc.req * f.err, 0.0)


def _hold(f: Frames, et: np.ndarray, er: np.ndarray, stop: np.ndarray) -> None:
    """Containers ``er`` wait from their exit tick ``et`` to their restart tick ``stop``: the
    cells in between hold the exit tick's values (what a tick leaves a waiting container)."""
    lengths = stop - et - 1
    total = int(lengths.sum())
    if total <= 0:
        return
    rows = np.repeat(er, lengths)
    ticks = np.repeat(et + 1 - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
    dst = ticks * f.n + rows  # flat indices into the (B, n) frames
    for name in ("mem", "err", "lat", "cstate", "ready"):
        frame = getattr(f, name)
        np.put(frame, dst, np.repeat(frame[et, er], lengths))


def _fill_forward(f: Frames) -> None:
    """The last terminated reason changes at exits only: from an exit tick on, a row holds that
    exit's (through the next incarnation), before its first exit the block's initial value."""
    B, n = len(f.T), f.n
    stale = np.flatnonzero(f.exited.any(axis=0))  # rows with an exit in the block
    if not len(stale):
        return
    ks = np.arange(B)[:, None]
    source = np.maximum.accumulate(np.where(f.exited[:, stale], ks, 0), axis=0)
    flat = (source * n + stale[None, :]).ravel()
    f.lt_reason[:, stale] = f.lt_reason.ravel().take(flat).reshape(B, len(stale))


WINDOW_SCALE = 640.0
WINDOW_MIN, WINDOW_MAX = 8, 128


def window_for(rows: int) -> int:
    """Ticks a pass simulates past the earliest segment start (at least), for a table of ``rows``.

    Why this size: a pass costs a fixed part (a few hundred numpy calls) plus a part per cell it
    simulates. A longer reach lets more segments share a pass (fewer passes) but simulates
    crash-looping containers further past their exit (more cells, about reach × rows). The sum
    is smallest near reach ∝ 1/√rows; the scale was fitted on the benchmark's mixes (64 ticks for
    100 pods, 20 for 1,000, 8 for 10,000). Results do not depend on it."""
    return int(min(WINDOW_MAX, max(WINDOW_MIN, round(WINDOW_SCALE / max(rows, 1) ** 0.5))))


class _Accumulators:
    """Per (tick, row) CPU and restart increments, the segments simulated, and the exits,
    gathered over the passes."""

    def __init__(self, B: int, n: int) -> None:
        self.cpu = np.zeros((B, n))
        self.restarts = np.zeros((B, n), dtype=np.int32)
        self.segments: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (first tick, row, started)
        self.exit_ticks: list[np.ndarray] = []
        self.exit_rows: list[np.ndarray] = []
        self.oom_at: list[tuple[np.ndarray, np.ndarray]] = []  # (tick, row) of OOM kills


def _simulate(world: "World", f: Frames, rows: np.ndarray, first: np.ndarray, lo: int, hi: int,
              acc: _Accumulators) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Containers ``rows``, running from tick ``first`` (≥ lo), over ticks [lo, hi): frames, counters
    and exits. Answers which of them exited, and (rows, tick) of the restarts within the block."""
    tbl = world.table
    T, Tprev = f.T[lo:hi], f.Tprev[lo:hi]
    B = len(f.T)
    W = hi - lo
    r = len(rows)
    ks = np.arange(lo, hi)[:, None]
    seg = ks >= first
    mem = np.empty((W, r))
    cpu = np.empty((W, r))
    err = tbl.err[rows][None, :]  # (1, r): constant unless a model sets it (then (W, r))
    lat = tbl.lat[rows][None, :]
    cores = np.empty(r)
    x = np.empty(r)
    code = np.empty(r, dtype=np.int16)
    models = tbl.model[rows]
    for k in np.flatnonzero(np.bincount(models, minlength=len(world.model_list))):
        sel = np.flatnonzero(models == k)
        traj = world.model_list[int(k)].run(tbl, rows[sel], T, Tprev)
        mem[:, sel] = traj.mem
        cpu[:, sel] = traj.cpu_inc
        if traj.err is not None:
            err = err if len(err) == W else np.repeat(err, W, axis=0)
            err[:, sel] = traj.err
        if traj.lat is not None:
            lat = lat if len(lat) == W else np.repeat(lat, W, axis=0)
            lat[:, sel] = traj.lat
        cores[sel] = traj.cores
        x[sel] = traj.exit_at
        code[sel] = traj.exit_code
    # the exit: the model's (at the first tick at or after its time), or the kubelet's OOM kill at
    # the first tick memory is at the limit, whichever tick comes first (the model's on a tie: it
    # is processed before the OOM check); ``hi``: none in this pass
    model_exit = np.where(np.isnan(x), hi, np.maximum(np.searchsorted(f.T, x, side="left"), first))
    limit = tbl.mem_limit[rows]
    over = seg & (mem >= limit) & (limit > 0)
    oom_exit = np.where(over.any(axis=0), lo + over.argmax(axis=0), hi)
    by_oom = oom_exit < model_exit
    last = np.minimum(np.where(by_oom, oom_exit, model_exit), hi)
    fin = np.where(by_oom, f.T[np.minimum(oom_exit, B - 1)], x)
    code = np.where(by_oom, 137, code).astype(np.int16)
    # readiness: at the first tick its time has come (the start tick at the earliest)
    ready_tick = np.where(tbl.ready[rows], first,
                          np.maximum(np.searchsorted(f.T, tbl.ready_at[rows], side="left"), first))
    run = seg & (ks < last)
    sub = (slice(lo, hi), rows)
    if run.all():  # the common case: every row runs through the whole pass
        f.mem[sub] = mem
        f.err[sub] = err
        f.lat[sub] = lat
        f.cstate[sub] = RUNNING
        f.ready[sub] = ks >= ready_tick
        acc.cpu[sub] = cpu  # no exit in the pass: every cell counts; no other pass writes them
    else:  # only the cells the containers ran (the others hold another incarnation's values)
        k, c = np.nonzero(run)
        dst = (k + lo) * f.n + rows[c]  # flat indices into the (B, n) frames, computed once
        src = k * r + c  # … and into this pass's (W, r) matrices
        np.put(f.mem, dst, mem.take(src))
        np.put(f.err, dst, err.take(src if len(err) > 1 else c))
        np.put(f.lat, dst, lat.take(src if len(lat) > 1 else c))
        np.put(f.cstate, dst, RUNNING)
        np.put(f.ready, dst, k + lo >= ready_tick[c])
        np.put(acc.cpu, dst, cpu.take(src))
        gone = np.flatnonzero(last < hi)  # the exit tick's CPU counts too
        acc.cpu[last[gone], rows[gone]] = cpu[last[gone] - lo, gone]
    acc.segments.append((first, rows, tbl.started[rows]))  # for request counting (``_count_requests``)
    # the table as of T[-1] for containers still running (exits overwrite theirs below)
    tbl.mem[rows] = mem[-1]
    tbl.err[rows] = err[-1]
    tbl.lat[rows] = lat[-1]
    tbl.cpu[rows] = cores
    settled = ready_tick < hi
    tbl.ready[rows] = settled
    tbl.ready_at[rows[settled]] = np.nan
    ended = last < hi
    ends = np.flatnonzero(ended)
    if not len(ends):
        return ended, (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    er, et = rows[ends], last[ends]
    tbl.mem[er] = mem[et - lo, ends]  # the values at the exit tick: the OOM check reads memory
    tbl.lat[er] = lat[et - lo if len(lat) > 1 else 0, ends]  # an exit leaves the latency gauge as it was
    oom = world.exit_rows(er, fin[ends], code[ends])
    if oom.any():
        acc.oom_at.append((et[oom], er[oom]))
    acc.restarts[et, er] += 1
    acc.exit_ticks.append(et)
    acc.exit_rows.append(er)
    # the exit tick's values, which hold until the restart (``_hold``)
    f.mem[et, er] = 0.0
    f.err[et, er] = 0.0
    f.lat[et, er] = tbl.lat[er]
    f.cstate[et, er] = tbl.cstate[er]
    f.ready[et, er] = False
    f.lt_reason[et, er] = tbl.lt_reason[er]
    f.exited[et, er] = True
    again = np.maximum(np.searchsorted(f.T, tbl.due[er], side="left"), et + 1)
    _hold(f, et, er, np.minimum(again, B))
    keep = again < B
    return ended, (er[keep], again[keep])
