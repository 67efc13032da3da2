"""Advancing the world a block of ticks at once, with the per-tick semantics.

Why: a per-tick step costs a fixed number of numpy operations (a few hundred at the demo mix,
~1–3 µs each whatever the array length), so small runs paid mostly for overhead. When nothing
outside the world can act between ticks — no healing arm, no rule evaluation, no probes, no pod
being scheduled or deleted — each container is a renewal process the kubelet restarts: the
world asks every model for its containers' trajectories over the whole block (see
``workloads.base``), finds each container's exit tick (the model's exact exit time, or the
first tick its memory is at the limit), applies the exit with the same kubelet code as a tick
(``World.exit_rows``), restarts it at the first tick after its back-off (``World.start_rows``),
and simulates the restarted incarnation after it. In small tables (``CHAIN_MAX_ROWS``) the
incarnations after the current ones are laid out ahead from predicted exits and simulated in
the same pass (``_Chain``: one model call for many incarnations, each on a grid as long as it
runs), kept only where the kubelet code, run on the real exits, restarts them exactly so;
otherwise — and always in large tables — a restarted incarnation is simulated in a later pass.
Passes follow incarnations, not ticks. Every (tick, pod) value the per-tick code would have
left — memory, counters, readiness, container state — is kept as a (ticks × rows) matrix in
:class:`Frames`, which the scrape and the incident observer read.
``tests/simulator/test_blocks.py`` checks that a run in blocks equals the same run tick by
tick, bit for bit, with and without laying out ahead, and when the predictions are wrong.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..workloads.base import running_total
from .table import BACKOFF, CREATING, RUNNING, TERMINATED, PodTable
from .world import BACKOFF_RESET, backoff_expired, backoff_after, backoff_delay, last_of

if TYPE_CHECKING:
    from .world import World

__all__ = ["Frames", "advance_block", "exit_versions", "width_groups"]


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
        self.totals_from = 0  # the counters (cpu/req/err totals, restarts) are running totals from this row on
        self.exit_ticks = np.zeros(0, dtype=np.int64)  # one entry per container exit: its tick …
        self.exit_rows = np.zeros(0, dtype=np.int64)  # … and row
        self.lt0 = np.zeros(n, dtype=np.int8)  # each row's last terminated reason at the block's start
        self.step: float | None = None  # seconds per tick when every tick is a whole, evenly spaced second
        # the error ratio and latency of each row at the block's start (what its frames' cells hold
        # until written), and whether any cell of the error frame was written with another value
        self.err0 = self.lat0 = np.zeros(n)
        self.err_changed = False

    def no_errors(self) -> bool:
        """Is every cell of the error-ratio frame +0.0 (no request fails all block)?"""
        return not self.err_changed and not self.err0.view(np.uint64).any()


def advance_block(world: "World", T: np.ndarray, *, totals_from: int = 0) -> Frames:
    """Advance ``world`` through ticks ``T`` (ascending, after ``world._t``); ``world.can_block()``
    must hold. Leaves the table as the per-tick code would after ``T[-1]``. The counters' frames
    are running totals from row ``totals_from`` on (the rows a reader needs: the scrapes the ring
    buffer keeps); the rows before are summed into it, not kept (``_running_total_from``)."""
    tbl = world.table
    n = tbl.size
    B = len(T)
    Tprev = np.concatenate([[world._t], T[:-1]])
    f = Frames(T, Tprev, n)
    d = T - Tprev
    whole = bool(np.all(d == d[0]) and d[0] > 0 and np.all(T == np.floor(T)) and abs(T[-1]) < 2.0**40)
    f.step = float(d[0]) if whole else None  # whole seconds, evenly spaced: incarnations may be moved by ticks
    f.mem = np.repeat(tbl.mem[None, :n], B, axis=0)
    f.err0, f.lat0 = tbl.err[:n].copy(), tbl.lat[:n].copy()
    f.err = np.repeat(f.err0[None, :], B, axis=0)
    f.lat = np.repeat(f.lat0[None, :], B, axis=0)
    f.ready = np.repeat(tbl.ready[None, :n], B, axis=0)
    f.cstate = np.repeat(tbl.cstate[None, :n], B, axis=0)
    f.lt_reason = np.repeat(tbl.lt_reason[None, :n], B, axis=0)
    f.lt0 = tbl.lt_reason[:n].copy()
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
    reach = CHAIN_REACH if chaining(world, f) else window_for(n)
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
        world.block_stats["passes"] += 1
        ended, again = _simulate(world, f, rows, first, lo, hi, acc, fresh)
        survived = ~ended & (hi < B)
        q_rows = np.concatenate([q_rows, rows[survived], again[0]])
        q_first = np.concatenate([q_first, np.full(int(survived.sum()), hi, dtype=np.int64), again[1]])
        q_fresh = np.concatenate([q_fresh, np.zeros(int(survived.sum()), dtype=bool),
                                  np.ones(len(again[0]), dtype=bool)])
        q_win = np.concatenate([q_win, np.full(int(survived.sum()), min(2 * win, B), dtype=np.int64),
                                np.full(len(again[0]), reach, dtype=np.int64)])

    exit_ticks, exit_rows, oom_at = acc.exit_ticks, acc.exit_rows, acc.oom_at
    if exit_ticks:
        f.exit_ticks = np.concatenate(exit_ticks)
        f.exit_rows = np.concatenate(exit_rows)
    _fill_forward(f)
    _count_requests(world, f, acc)
    # counters: the value before the block plus the increments, added tick by tick (in place)
    head = f.totals_from = min(max(int(totals_from), 0), B - 1) if n >= 2 else 0
    for name, inc in (("cpu_total", acc.cpu), ("req_total", acc.req), ("err_total", acc.req_err)):
        inc[0] += getattr(tbl, name)[:n]
        setattr(f, name, _running_total_from(inc, head))
    acc.restarts[0] += restarts0
    f.restarts = _running_total_from(acc.restarts, head)
    tbl.cpu_total[:n] = f.cpu_total[-1]
    tbl.req_total[:n] = f.req_total[-1]
    tbl.err_total[:n] = f.err_total[-1]
    if oom_at:  # the per-tick code appends OOM kills tick by tick, rows ascending
        ticks = np.concatenate([t for t, _ in oom_at])
        rows_ = np.concatenate([r for _, r in oom_at])
        order = np.lexsort((rows_, ticks))
        added = world.stats.oom_times[oom_times_before:]
        world.stats.oom_times[oom_times_before:] = [added[i] for i in order]
    world._changed.clear()
    world._t = float(T[-1])
    return f


def _running_total_from(inc: np.ndarray, head: int) -> np.ndarray:
    """``running_total(inc)`` in place, where only rows ``head`` … must be totals: the rows before
    are folded into row ``head`` by one reduction along axis 0, and left as they were.

    Why: a 100-pod block is 4,000 ticks, and the ring buffer keeps the last 121 scrapes; nothing
    else reads the counters per tick (the table takes the last row). The same bits: numpy reduces
    axis 0 of a C-ordered matrix of two or more columns row by row, every column at once — the
    additions of the running total, in its order (``advance_block`` folds only then; one column
    is reduced pairwise). ``tests/simulator/test_blocks.py`` holds numpy to that."""
    if head > 0:
        np.add(np.add.reduce(inc[:head], axis=0, dtype=inc.dtype), inc[head], out=inc[head])
    tail = inc[head:]
    running_total(tail, out=tail)
    return inc


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
    if f.no_errors() and np.isfinite(rps):
        acc.req_err = np.zeros((B, n))  # every error ratio +0.0 all block: req × 0.0 is +0.0 (req finite, ≥ 0)
    else:
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
        held = frame[et, er]
        if name in ("err", "lat") and _unchanged(held, f.err0[er] if name == "err" else f.lat0[er]):
            continue  # the cells hold these values already (``_unchanged``)
        np.put(frame, dst, np.repeat(held, lengths))
        f.err_changed |= name == "err"


def _unchanged(values: np.ndarray, initial: np.ndarray) -> bool:
    """Are ``values``, to be written into cells of some rows of the error or latency frame, the
    same bits as those rows' values at the block's start (``Frames.err0``/``lat0``)? Then the
    write is skipped: the frames start as those values, and every (tick, row) cell is written
    once at most in a block (an incarnation's ticks, its exit tick, the ticks until its restart;
    incarnations of a row do not overlap), so the cells still hold them. Most models never set
    errors or latency (they stay as a start leaves them), so most such writes are skipped."""
    return values.view(np.uint64).tobytes() == initial.view(np.uint64).tobytes()


def _fill_forward(f: Frames) -> None:
    """The last terminated reason changes at exits only: from an exit tick on, a row holds that
    exit's (through the next incarnation), before its first exit the block's initial value.
    Only rows with an exit whose reason differs from the row's initial one change: in the others
    every cell holds the initial reason already (exit ticks hold their exit's, the same)."""
    B, n = len(f.T), f.n
    et, er = f.exit_ticks, f.exit_rows
    changes = np.zeros(n, dtype=bool)
    changes[er[f.lt_reason[et, er] != f.lt0[er]]] = True
    stale = np.flatnonzero(changes)  # rows whose reason changes in the block (not np.unique: its
    # first call imports numpy.ma, ~17 ms)
    if not len(stale):
        return
    at = np.minimum(np.searchsorted(stale, er), len(stale) - 1)
    mine = stale[at] == er  # the exits of those rows, each at its row's place in ``stale``
    exited = np.zeros((B, len(stale)), dtype=bool)
    exited[et[mine], at[mine]] = True
    ks = np.arange(B)[:, None]
    source = np.maximum.accumulate(np.where(exited, ks, 0), axis=0)
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


class _Pass:
    """The models' answers for the columns of one pass over ticks [lo, hi), and each column's
    exit: ``last`` its exit tick (``hi``: none in the pass), ``fin`` its time, ``code``; ``x`` the
    model's own exit time (NaN: none on the grid); ``by_oom``: the exit is the kubelet's OOM kill
    at a tick memory is at the limit, before any exit the model asked for (the model itself ran
    on to ``hi``); ``ready_tick`` when it becomes ready. The
    matrices are (ticks × columns); row k of column c is tick ``base[c] + k``."""

    __slots__ = ("lo", "hi", "base", "first", "mem", "cpu", "err", "lat", "cores", "x", "last", "fin", "code",
                 "by_oom", "ready_tick")


def _trajectories(world: "World", mt: PodTable, cols: np.ndarray, first: np.ndarray, f: Frames, lo: int,
                  hi: int, *, ahead: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> _Pass:
    """Containers ``cols`` of table ``mt``, running from tick ``first`` (≥ lo), through ticks
    [lo, hi): one model call per model for all of them.

    ``ahead`` = (grid, base, seconds): the columns are incarnations laid out ahead in a scratch
    table, each simulated on ``grid`` (whole ticks from ``T[lo]``) with its times moved back by
    ``seconds`` (= its start tick − lo, in seconds: its start in ``mt`` is already moved), so each
    takes the ticks it runs rather than the whole pass; row k is tick ``base + k``. Exact when
    every time is a whole number of seconds (``_Chain``)."""
    B = len(f.T)
    r = len(cols)
    if ahead is None:
        T, Tprev = f.T[lo:hi], f.Tprev[lo:hi]
        base = np.full(r, lo, dtype=np.int64)
        moved = 0.0
    else:
        T, base, moved = ahead
        Tprev = T - (T[1] - T[0] if len(T) > 1 else f.T[lo] - f.Tprev[lo])
    W = len(T)
    mem = np.empty((W, r))
    cpu = np.empty((W, r))
    err = mt.err[cols][None, :]  # (1, r): constant unless a model sets it per tick (then (W, r))
    lat = mt.lat[cols][None, :]
    cores = np.empty(r)
    x = np.empty(r)
    code = np.empty(r, dtype=np.int16)
    models = mt.model[cols]
    for k in np.flatnonzero(np.bincount(models, minlength=len(world.model_list))):
        sel = np.flatnonzero(models == k)
        traj = world.model_list[int(k)].run(mt, cols[sel], T, Tprev)
        if sel[-1] - sel[0] + 1 == len(sel):  # adjacent columns (a Deployment's rows): copy a block, not columns
            sel = slice(int(sel[0]), int(sel[-1]) + 1)
        mem[:, sel] = traj.mem
        cpu[:, sel] = traj.cpu_inc
        # error ratio and latency: kept (1, r) while every model answers constants (steady pods
        # do), so the frames' cells are written per column or not at all (``_unchanged``)
        if traj.err is not None:
            err = err if len(err) == W or len(traj.err) == 1 else np.repeat(err, W, axis=0)
            err[:, sel] = traj.err
        if traj.lat is not None:
            lat = lat if len(lat) == W or len(traj.lat) == 1 else np.repeat(lat, W, axis=0)
            lat[:, sel] = traj.lat
        cores[sel] = traj.cores
        x[sel] = traj.exit_at
        code[sel] = traj.exit_code
    x = x + moved
    # the exit: the model's (at the first tick at or after its time), or the kubelet's OOM kill at
    # the first tick memory is at the limit, whichever tick comes first (the model's on a tie: it
    # is processed before the OOM check); ``hi``: none in this pass
    model_exit = np.where(np.isnan(x), hi, np.maximum(np.searchsorted(f.T, x, side="left"), first))
    limit = mt.mem_limit[cols]
    oom_exit = np.full(r, hi, dtype=np.int64)
    near = np.flatnonzero((limit > 0) & (mem.max(axis=0) >= limit))  # only these can reach the limit
    if len(near):
        over = (np.arange(W)[:, None] >= (first - base)[near]) & (mem[:, near] >= limit[near])  # from its start
        oom_exit[near] = np.where(over.any(axis=0), base[near] + over.argmax(axis=0), hi)
    by_oom = oom_exit < model_exit
    p = _Pass()
    p.lo, p.hi, p.base, p.first = lo, hi, base, first
    p.mem, p.cpu, p.err, p.lat, p.cores, p.x = mem, cpu, err, lat, cores, x
    p.last = np.minimum(np.where(by_oom, oom_exit, model_exit), hi)
    p.fin = np.where(by_oom, f.T[np.minimum(oom_exit, B - 1)], x)
    p.code = np.where(by_oom, 137, code).astype(np.int16)
    p.by_oom = by_oom
    # readiness: at the first tick its time has come (the start tick at the earliest)
    p.ready_tick = np.where(mt.ready[cols], first,
                            np.maximum(np.searchsorted(f.T, mt.ready_at[cols] + moved, side="left"), first))
    return p


def _first_exits(world: "World", mt: PodTable, cols: np.ndarray, T: np.ndarray, step: float) -> np.ndarray:
    """The exit each of containers ``cols`` of table ``mt`` asks for by ``T[-1]`` (NaN: none), on
    a one-tick grid ``T`` (ticks ``step`` apart): the ``x`` of ``_trajectories`` over that grid,
    without the trajectories (``WorkloadModel.first_exit``; a probe needs nothing else)."""
    Tprev = T - step
    x = np.empty(len(cols))
    models = mt.model[cols]
    for k in np.flatnonzero(np.bincount(models, minlength=len(world.model_list))):
        sel = np.flatnonzero(models == k)
        x[sel] = world.model_list[int(k)].first_exit(mt, cols[sel], T, Tprev)
    return x


def _simulate(world: "World", f: Frames, rows: np.ndarray, first: np.ndarray, lo: int, hi: int,
              acc: _Accumulators, fresh: np.ndarray | None = None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Containers ``rows``, running from tick ``first`` (≥ lo; ``fresh``: started there, in this
    pass), over ticks [lo, hi): frames, counters and exits — of their current incarnations and,
    where predicted, of the ones after (``_Chain``). Answers which of them ended the pass
    exited, and (rows, tick) of the restarts within the block."""
    tbl = world.table
    every = np.arange(len(rows))
    if chaining(world, f):
        chain = _Chain(world, f, rows, first, lo, hi, np.zeros(len(rows), dtype=bool) if fresh is None else fresh)
        if chain.laid_out:
            return chain.run(world, f, acc)
        # nothing laid out (e.g. a block's first pass): the current incarnations in stages
        pc = _Current(world, f, rows, first, lo, hi)
        pc.write(f, acc, rows, tbl.started[rows])
        ended = pc.last < hi
        pc.settle(world, every[~ended], rows[~ended])
        at_exit = pc.at_exit
    else:
        p = _trajectories(world, tbl, rows, first, f, lo, hi)
        _write(f, acc, p, every, rows, tbl.started[rows], distinct=True)
        ended = p.last < hi
        _settle(world, p, every[~ended], rows[~ended])
        at_exit = partial(_at_exit, p)
    ends = np.flatnonzero(ended)
    if not len(ends):
        return ended, (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    et, er, restart, _ = _exit(world, f, acc, rows[ends], *at_exit(ends))
    _hold(f, et, er, restart)
    keep = restart < len(f.T)
    return ended, (er[keep], restart[keep])


def _write(f: Frames, acc: _Accumulators, p: _Pass, cols: np.ndarray, rows: np.ndarray, started: np.ndarray,
           *, distinct: bool = False) -> None:
    """The frames and CPU increments of columns ``cols`` of pass ``p``, incarnations of
    containers ``rows`` started at ``started`` (``distinct``: one column per row): only the
    cells each ran (a row's incarnations do not overlap)."""
    lo, hi = p.lo, p.hi
    first, last, ready_tick, base = p.first[cols], p.last[cols], p.ready_tick[cols], p.base[cols]
    W, m = p.mem.shape
    k = np.arange(W)[:, None]  # row k of column c is tick base[c] + k
    begin, end = np.maximum(first - base, 0), np.minimum(last - base, W)  # each ran rows [begin, end)
    whole = (begin == 0) & (end == W) if distinct and W == hi - lo else np.zeros(len(cols), dtype=bool)
    if whole.all() and len(cols) == m:  # the common case: every row runs through the whole pass
        sub = (slice(lo, hi), rows)
        f.mem[sub] = p.mem
        _write_columns(f, sub, p.err, p.lat, rows)
        f.cstate[sub] = RUNNING
        f.ready[sub] = k >= ready_tick - base
        acc.cpu[sub] = p.cpu  # no exit in the pass: every cell counts; no other pass writes them
    elif whole.any():  # rows that run through the pass: whole columns of the frames
        w = np.flatnonzero(whole)
        sub, pc = (slice(lo, hi), rows[w]), cols[w]
        f.mem[sub] = p.mem[:, pc]
        _write_columns(f, sub, p.err[:, pc], p.lat[:, pc], rows[w])
        f.cstate[sub] = RUNNING
        f.ready[sub] = k >= (ready_tick - base)[w]
        acc.cpu[sub] = p.cpu[:, pc]
    part = np.flatnonzero(~whole)
    if len(part):  # only the cells the containers ran (the others hold another incarnation's values)
        lengths = np.maximum(end[part] - begin[part], 0)
        c = np.repeat(part, lengths)  # column by column (the cells are distinct: order is free)
        kk = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths - begin[part], lengths)
        tick = kk + base[c]
        dst = tick * f.n + rows[c]  # flat indices into the (B, n) frames, computed once
        src = kk * m + cols[c]  # … and into this pass's (W, m) matrices
        np.put(f.mem, dst, p.mem.take(src))
        for frame, values, initial in ((f.err, p.err, f.err0), (f.lat, p.lat, f.lat0)):
            if len(values) == 1 and _unchanged(values[0, cols[part]], initial[rows[part]]):
                continue  # constant per column and as the block started (``_unchanged``)
            np.put(frame, dst, values.take(src if len(values) > 1 else cols[c]))
            f.err_changed |= frame is f.err
        np.put(f.cstate, dst, RUNNING)
        np.put(f.ready, dst, tick >= ready_tick[c])
        np.put(acc.cpu, dst, p.cpu.take(src))
        gone = part[last[part] < hi]  # the exit tick's CPU counts too
        acc.cpu[last[gone], rows[gone]] = p.cpu[last[gone] - base[gone], cols[gone]]
    acc.segments.append((first, rows, started))  # for request counting (``_count_requests``)


def _write_columns(f: Frames, sub: tuple, err: np.ndarray, lat: np.ndarray, rows: np.ndarray) -> None:
    """The error and latency frames' cells ``sub`` (ticks × ``rows``), from (ticks × rows)
    values or (1 × rows) constants — skipped where constants are what the cells hold."""
    for frame, values, initial in ((f.err, err, f.err0), (f.lat, lat, f.lat0)):
        if len(values) == 1 and _unchanged(values[0], initial[rows]):
            continue
        frame[sub] = values
        f.err_changed |= frame is f.err


def _settle(world: "World", p: _Pass, cols: np.ndarray, rows: np.ndarray) -> None:
    """The table as of the pass's last tick for containers still running there (columns
    ``cols`` of a pass over the world's table)."""
    tbl = world.table
    tbl.mem[rows] = p.mem[-1, cols]
    tbl.err[rows] = p.err[-1, cols]
    tbl.lat[rows] = p.lat[-1, cols]
    tbl.cpu[rows] = p.cores[cols]
    settled = p.ready_tick[cols] < p.hi
    tbl.ready[rows] = settled
    tbl.ready_at[rows[settled]] = np.nan


def _at_exit(p: _Pass, cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """(exit tick, time, code, memory, latency) of columns ``cols`` of ``p``, which end in it."""
    et = p.last[cols]
    k = et - p.base[cols]
    return et, p.fin[cols], p.code[cols], p.mem[k, cols], p.lat[k if len(p.lat) > 1 else 0, cols]


def _exit(world: "World", f: Frames, acc: _Accumulators, rows: np.ndarray, et: np.ndarray, fin: np.ndarray,
          code: np.ndarray, mem: np.ndarray, lat: np.ndarray, *, started: np.ndarray | None = None,
          update: np.ndarray | None = None, rv: np.ndarray | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Containers ``rows`` exit at ticks ``et`` (times ``fin``, codes ``code``, with memory and
    latency as the exit tick left them) through the kubelet code (``World.exit_rows``; rows
    repeat, in order, with ``started``, ``update`` and ``rv``: successive incarnations), and the
    exit ticks' values. Answers per exit (exit tick, row, restart tick or ``len(f.T)``), for
    ``_hold``, and the next start time the kubelet gave it."""
    tbl = world.table
    B = len(f.T)
    er = rows
    oom, reason, cstate, due = world.exit_rows(er, fin, code, mem=mem, started=started, update=update, rv=rv)
    if started is None:
        tbl.lat[er] = lat  # an exit leaves the latency gauge as it was
    else:
        last, i, _ = last_of(er)
        tbl.lat[last] = lat[i]
    if oom.any():
        acc.oom_at.append((et[oom], er[oom]))
    acc.restarts[et, er] += 1
    acc.exit_ticks.append(et)
    acc.exit_rows.append(er)
    # the exit tick's values, which hold until the restart (``_hold``)
    f.mem[et, er] = 0.0
    f.err[et, er] = 0.0
    f.lat[et, er] = lat
    f.cstate[et, er] = cstate
    f.ready[et, er] = False
    f.lt_reason[et, er] = reason
    restart = np.minimum(np.maximum(np.searchsorted(f.T, due, side="left"), et + 1), B)
    return et, er, restart, due


def exit_versions(rv: int, gen: np.ndarray) -> np.ndarray:
    """Resource versions of a pass's kept exits of generations ``gen`` (ascending, consecutive;
    only generation 0 may be missing), after version ``rv``: as the kubelet code takes them one
    generation after another — generation 0's exits the next version, then each later
    generation its starts one (the exit's − 1) and its exits the next."""
    return rv + 2 * gen + int(gen[0] == 0)


CHAIN_GENERATIONS = 512
"""The most incarnations of one container a pass lays out ahead (1: none — one incarnation per
pass, as before prediction)."""
CHAIN_MAX_ROWS = 2_000
"""Laying out ahead is used for tables up to this many rows. Beyond, blocks are short
(``runner.BLOCK_CELLS``) and passes full of rows anyway, so it would mostly add probes."""
CHAIN_REACH = 8192
"""A pass's reach (``window_for``) when laying out ahead: in effect the whole block for tables of
≥ 75 rows (a block is ``runner.BLOCK_CELLS`` ÷ rows ticks, up to 1.5 × that when a short remainder
joins it; smaller tables' longer blocks take a few passes more), so one pass
takes every container and lays out its incarnations to the block's end, and the kubelet's starts
and exits are committed as one batch of each (not per pass, nor per generation)."""
PROBED = 64
"""The most restart counts one probe measures per row (``_ExitOffsets``); a probe measures as
many as the rest of the block may need, from the offsets measured before (8 the first time)."""
PROBED_FIRST = 8
"""Restart counts probed for a row seen for the first time."""
PROBE_TICKS = (48, 960)
"""How far a probe looks for an exit: first this many ticks, then, for the incarnations without
an exit by then, the second (few incarnations run long, and a long look costs work in
proportion: a leak's allocations). Incarnations that run longer are not laid out ahead."""
_WIDTHS = (4, 16, 64, 256)
"""Laid-out incarnations are simulated in groups by length (up to 4 ticks, 16, 64, 256, longer),
each on a grid as long as its longest: a crash loop's 3-tick incarnations do not pay for a leak's
40. Finer groups cost more model calls than they save cells at the benchmark's sizes (measured:
twelve groups with ratio 1.5 were no faster at 100 pods and 10–15 % slower at 1,000)."""

SMALL_GROUP_CELLS = 2_048
"""A group of laid-out incarnations whose columns, on the next wider group's grid, would take at
most this many cells is simulated with that group (``width_groups``)."""


def width_groups(width: np.ndarray) -> list[np.ndarray]:
    """Laid-out incarnations of ``width`` ticks each, in groups by ``_WIDTHS`` (positions,
    ascending), each to be simulated on a grid as long as its widest.

    A group of a few columns is joined to the next wider one when that adds at most
    ``SMALL_GROUP_CELLS`` cells: each group costs a model call per model in it (a chaos
    monkey's ≈ 0.5 ms, mostly whatever the size), and the later passes of a block lay out a few
    incarnations in each. Results do not depend on the grouping: a laid-out incarnation exits at
    its predicted tick at the latest, within its own width, so any grid that covers it gives
    the same values and exit."""
    edges = np.array([0, *_WIDTHS, PROBE_TICKS[-1] + 1])
    which = np.searchsorted(edges, width, side="left") - 1  # group k: edges[k] < width ≤ edges[k + 1]
    groups = [np.flatnonzero(which == k) for k in range(len(edges) - 1)]
    groups = [g for g in groups if len(g)]
    out: list[np.ndarray] = []
    carried = np.zeros(0, dtype=np.int64)
    for i, g in enumerate(groups):
        cols = np.concatenate([carried, g]) if len(carried) else g
        if i + 1 < len(groups) and len(cols) * int(width[groups[i + 1]].max()) <= SMALL_GROUP_CELLS:
            carried = cols  # few enough to ride along on the next group's grid
            continue
        out.append(np.sort(cols) if len(carried) else cols)
        carried = np.zeros(0, dtype=np.int64)
    return out


_SCRATCH_COLUMNS = ("dep", "rs", "model", "ordinal", "serial", "pkey", "node", "cpu_limit", "mem_limit",
                    "cpu_req", "mem_req", "rkey", "mkey", "mkey2", "s0", "s1", "s2", "s3", "n0", "n1", "n2")
"""What a model and ``World.begin_incarnation`` read of a row besides what a start sets: copied
into the scratch table where incarnations are laid out ahead."""


def chaining(world: "World", f: Frames) -> bool:
    """Are incarnations laid out ahead in this block? Only when ticks are whole, evenly spaced
    seconds (``f.step``: moving an incarnation by whole ticks is then exact) and the table small."""
    return CHAIN_GENERATIONS > 1 and f.step is not None and f.n <= CHAIN_MAX_ROWS


class _ExitOffsets:
    """Per table row: when incarnations ``rc0 … rc0 + PROBED − 1`` (by restart count) of its pod
    ask to exit, in seconds after their start (NaN: not within ``PROBE_TICKS``). Measured by
    probes — those incarnations started at a pass's first tick, asked on a one-tick grid — so
    later passes can lay out a container's next incarnations ahead. Predictions only: every
    laid-out start is checked against the one the kubelet code computes from the real exit
    before it."""

    def __init__(self) -> None:
        self.serial = np.full(0, -1, dtype=np.int64)
        self.rc0 = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int64)  # how many were measured
        self.off = np.zeros((0, PROBED))
        self.dep_ok = np.zeros(0, dtype=bool)  # per Deployment: ``WorkloadModel.shifts_exactly``

    def ensure(self, world: "World") -> None:
        n = world.table.capacity
        if n > len(self.serial) or self.off.shape[1] != PROBED:
            self.serial = np.full(n, -1, dtype=np.int64)
            self.rc0 = np.zeros(n, dtype=np.int64)
            self.count = np.zeros(n, dtype=np.int64)
            self.off = np.full((n, PROBED), np.nan)
        if len(self.dep_ok) != len(world.deployments):
            ok = np.zeros(len(world.deployments), dtype=bool)
            for i, dep in enumerate(world.deployments):
                ok[i] = bool(world.models[dep.spec.model].shifts_exactly(np.array([i]))[0])
            self.dep_ok = ok


def _predict(world: "World", offs: _ExitOffsets, T: np.ndarray, hb: int, rows: np.ndarray, first: np.ndarray,
             rc: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, ...]:
    """The incarnations of containers ``rows`` (from their current one, which started at the
    table's ``started`` and tick ``first``) predicted to start and exit before tick ``hb``, from
    the measured exit offsets of rows ``known``: per incarnation, generation-major (0: the
    current ones), positions ascending within one — (generation, position, restart count,
    start, start tick, exit tick).

    The kubelet's recurrence — exit at start + offset; back-off from the failure count
    (``backoff_after``: forgotten after ``BACKOFF_RESET``); next start ``World.restart_time`` —
    for every generation at once: the failure counts from where the entry is forgotten (an
    incarnation that ran longer than the reset, from its offset), the times as one cumulative
    sum (the same additions in the same order as one generation after another), the ticks as a
    running maximum. Where a time is not exact (the offset says reset, the times do not; or the
    sum differs from ``restart_time``), the prediction stops there: predictions are checked
    against the real run (``_Chain.run``), so a shorter one only costs passes."""
    tbl = world.table
    a = np.flatnonzero(known)
    r = rows[a]
    j0 = rc[a] - offs.rc0[r]
    G = int(min(CHAIN_GENERATIONS, max(0, int((offs.count[r] - j0).max(initial=0)))))
    if not len(a) or G == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0), empty, empty
    g = np.arange(G)[:, None]
    j = j0[None, :] + g
    off = offs.off[r[None, :], np.clip(j, 0, PROBED - 1)]  # (G, a): NaN where not measured
    st0, fails0, bu0 = tbl.started[r], tbl.fails[r], tbl.backoff_update[r]
    # forgotten at generation g's exit? The current one from its real entry; a later one from its
    # offset (its entry was updated at its own start), checked against the times below
    x0 = st0 + off[0]
    forgot = off > BACKOFF_RESET
    forgot[0] = backoff_expired(bu0, x0)
    reset = np.maximum.accumulate(np.where(forgot, g, -1), axis=0)
    fails = np.where(reset >= 0, g - reset + 1, fails0[None, :] + g + 1).astype(np.int32)
    delay = backoff_delay(fails)
    # start, offset, delay, container start, offset, … summed in order: exits and starts
    steps = np.empty((1 + 3 * G, len(a)))
    steps[0] = st0
    steps[1::3] = off
    steps[2::3] = delay
    steps[3::3] = world.scenario.cluster.container_start
    sums = np.cumsum(steps, axis=0)
    x = sums[1::3]  # (G, a) exits
    due = sums[3::3]  # (G, a) the start after each exit
    st = np.vstack([st0[None, :], due[:-1]])
    exact = due == world.restart_time(x, delay)
    exact[1:] &= backoff_expired(st[1:], x[1:]) == forgot[1:]
    # ticks: exit at the first tick at or after x (not before the start tick), the next start at
    # the first tick at or after due and after the exit tick — a running maximum of (start tick − g)
    tx = np.searchsorted(T, x.ravel(), side="left").reshape(x.shape)
    td = np.searchsorted(T, due.ravel(), side="left").reshape(due.shape)
    lead = np.maximum.accumulate(np.vstack([first[a][None, :], np.maximum(td - g - 1, tx - g)]), axis=0)
    fs = lead[:-1] + g
    et = np.maximum(tx, fs)
    nf = lead[1:] + g + 1
    ok = (j < offs.count[r][None, :]) & (et < hb) & (et - fs < PROBE_TICKS[-1])  # NaN: et is len(T)
    nxt = (nf < hb) & (due == np.floor(due)) & exact
    goes_on = np.logical_and.accumulate(ok & nxt, axis=0)
    laid = ok.copy()
    laid[1:] &= goes_on[:-1]
    gi, ai = np.nonzero(laid)
    return gi, a[ai], rc[a][ai] + gi, st[gi, ai], fs[gi, ai], et[gi, ai]


class _Chain:
    """The incarnations of a pass's containers laid out ahead, where their exits are predicted
    within the pass (``_ExitOffsets``): simulated together, each on a grid only as long as it
    runs (times moved back by whole ticks, ``_trajectories``), in a scratch table.

    A container that starts in the pass is laid out from its (real) start; the incarnation after
    one predicted to exit at x is laid out at the start the kubelet would give it (``_predict``:
    the kubelet's own back-off functions and ``World.restart_time``). In ``run``, a laid-out incarnation
    is kept only if it exits within its grid and, for a restart, the real incarnation before it
    (simulated: its exit time, not the prediction) restarts at exactly that time and tick;
    otherwise it and the ones after are dropped. A current incarnation not kept is simulated
    over the pass as without prediction, and a container whose chain stops comes back at its
    real restart in a later pass. Results do not depend on what was predicted."""

    def __init__(self, world: "World", f: Frames, rows: np.ndarray, first: np.ndarray, lo: int, hi: int,
                 fresh: np.ndarray) -> None:
        tbl = world.table
        T = f.T
        self.rows, self.first, self.lo, self.hi = rows, first, lo, hi
        self.hb = hb = min(len(T), max(hi, lo + CHAIN_REACH))  # where laid-out incarnations may run to
        self.laid_out = False
        offs = world.exit_offsets
        if offs is None:
            offs = world.exit_offsets = _ExitOffsets()
        offs.ensure(world)
        rc = tbl.restarts[rows].astype(np.int64)
        serial = tbl.serial[rows]
        shiftable = offs.dep_ok[tbl.dep[rows]]
        # probes first: rows that have restarted and whose offsets do not cover half of what the
        # rest of the block may hold (estimated from the offsets measured so far and the back-off)
        known = offs.serial[rows] == serial
        measured = np.where(known[:, None], offs.off[rows], np.nan)
        finite = np.isfinite(measured)
        typical = np.where(finite, measured, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
        ticks = (typical + tbl.backoff[rows]) / f.step + 1  # run time and the last back-off
        need = np.where(~known, PROBED_FIRST,
                        np.clip(np.ceil((len(T) - lo) / np.maximum(ticks, 1.0)) + 1, 2, PROBED)).astype(np.int64)
        probe = np.flatnonzero(shiftable & (rc > 0) & (~known | (rc + need // 2 >= offs.rc0[rows] + offs.count[rows])))
        if len(probe):
            self._probe(world, f, offs, rows[probe], rc[probe], serial[probe], need[probe])
        known = (offs.serial[rows] == serial) & shiftable
        # predicted exits, back-off and starts (generation 0: the current incarnations)
        gen_of, pos, restarts, starts, start_tick, exit_tick = _predict(world, offs, T, hb, rows, first, rc, known)
        # generation 0 is laid out only where it starts in the pass (a running one has its state)
        keep = (gen_of > 0) | fresh[pos]
        gen_of, pos, restarts, starts, start_tick, exit_tick = (
            v[keep] for v in (gen_of, pos, restarts, starts, start_tick, exit_tick))
        if not len(gen_of):
            return
        width = exit_tick - start_tick + 1
        moved = (start_tick - lo) * f.step  # whole ticks, in seconds
        mt = self._lay_out(world, rows[pos], restarts, starts - moved)
        # one model call per group of lengths, each on its own grid
        self.groups: list[tuple[np.ndarray, _Pass]] = []
        for cols in width_groups(width):
            grid = T[lo] + f.step * np.arange(int(width[cols].max()))
            self.groups.append((cols, _trajectories(world, mt, cols, start_tick[cols], f, lo, hb,
                                                    ahead=(grid, start_tick[cols], moved[cols]))))
        self.gen_of, self.pos = gen_of, pos
        self.starts = starts
        self.firsts = start_tick
        self.laid_out = True

    @staticmethod
    def _lay_out(world: "World", src: np.ndarray, restarts: np.ndarray, at: np.ndarray) -> PodTable:
        """Fresh incarnations of rows ``src`` with restart counts ``restarts`` starting at ``at``,
        in the scratch table (rows 0 … len − 1), as an exit and a start would leave them."""
        tbl = world.table
        m = len(src)
        mt = world.block_scratch
        if mt is None or mt.capacity < m:
            mt = world.block_scratch = PodTable(max(m, 2 * (mt.capacity if mt is not None else 0)))
        for name in _SCRATCH_COLUMNS:
            getattr(mt, name)[:m] = getattr(tbl, name)[src]
        mt.restarts[:m] = restarts
        for name in ("mem", "cpu", "err", "lat"):
            getattr(mt, name)[:m] = 0.0
        world.begin_incarnation(mt, np.arange(m), at, np.ones(m, dtype=bool))
        return mt

    def _probe(self, world: "World", f: Frames, offs: _ExitOffsets, rows: np.ndarray, rc: np.ndarray,
               serial: np.ndarray, need: np.ndarray) -> None:
        """Exit offsets of incarnations rc … rc + need − 1 of ``rows``: each started at the
        pass's first tick and asked on a one-tick grid (``PROBE_TICKS`` − 1 ticks later) for its
        first exit, and for nothing else (``_first_exits``)."""
        lo = self.lo
        t0 = float(f.T[lo])
        src = np.repeat(rows, need)
        j = np.arange(len(src)) - np.repeat(np.cumsum(need) - need, need)  # 0 … need − 1 per row
        counts = np.repeat(rc, need) + j
        off = np.full(len(counts), np.nan)
        todo = np.arange(len(counts))
        for ticks in PROBE_TICKS:
            m = len(todo)
            if not m:
                break
            mt = self._lay_out(world, src[todo], counts[todo], np.full(m, t0))
            x = _first_exits(world, mt, np.arange(m), np.array([t0 + (ticks - 1) * f.step]), f.T[lo] - f.Tprev[lo])
            off[todo] = x - t0
            todo = todo[np.isnan(x)]
        world.block_stats["probed"] += len(src)
        offs.serial[rows] = serial
        offs.rc0[rows] = rc
        offs.count[rows] = need
        offs.off[rows] = np.nan
        offs.off[src, j] = off

    def _checked(self, world: "World", f: Frames, cols: np.ndarray, last: np.ndarray, fin: np.ndarray,
                 exits: np.ndarray, cur_last: np.ndarray, cur_fin: np.ndarray) -> np.ndarray:
        """Which laid-out incarnations ``cols`` (generations ≥ 1, generation-major) are kept: each
        exits within its grid, the kubelet's back-off after the simulated exit before it (the
        current incarnation's ``cur_last``/``cur_fin`` for generation 1) gives exactly its laid-out
        start time and tick, and so it went for every one of its row before it.

        All generations at once: the exits before them are known (simulated), so the back-off's
        failure count before each is ``World._fails_before``'s count over a row's successive exits,
        and ``backoff_after`` runs once on all of them."""
        T = f.T
        B = len(T)
        pos = self.pos[cols]
        rows = self.rows[pos]
        order = np.argsort(pos, kind="stable")  # per row, its generations in order
        k = np.arange(len(cols))
        head = np.ones(len(cols), dtype=bool)  # generation 1: follows the current incarnation
        head[1:] = pos[order][1:] != pos[order][:-1]
        prev = np.empty(len(cols), dtype=np.int64)  # the column one generation before (not for heads)
        prev[order[1:]] = cols[order[:-1]]
        first = np.empty(len(cols), dtype=bool)
        first[order] = head
        before = prev[~first]
        prev_fin, prev_last = cur_fin[pos], cur_last[pos]
        update = world.table.backoff_update[rows]  # the back-off entry's last update before that exit
        prev_fin[~first], prev_last[~first], update[~first] = fin[before], last[before], self.starts[before]
        _, delay = backoff_after(world._fails_before(rows, first, update, prev_fin), update, prev_fin)
        due = world.restart_time(prev_fin, delay)
        again = np.maximum(np.searchsorted(T, due, side="left"), prev_last + 1)
        ok = (prev_last < B) & (due == self.starts[cols]) & (again == self.firsts[cols]) & exits[cols]
        # kept: no failed check at or before it in its row
        failed = np.cumsum(~ok[order])
        start = np.maximum.accumulate(np.where(head, k, 0))
        kept = np.empty(len(cols), dtype=bool)
        kept[order] = failed - (failed[start] - ~ok[order][start]) == 0
        return kept

    def run(self, world: "World", f: Frames, acc: _Accumulators) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Simulate what was not laid out, keep what is real, and commit it all in order."""
        tbl = world.table
        T, rows, lo, hi, hb = f.T, self.rows, self.lo, self.hi, self.hb
        B = len(T)
        r = len(rows)
        m = len(self.pos)
        # per laid-out column: its exit, from its group's pass
        last = np.empty(m, dtype=np.int64)
        fin = np.full(m, np.nan)
        code = np.empty(m, dtype=np.int16)
        mem_x = np.empty(m)
        lat_x = np.empty(m)
        for cols, p in self.groups:
            local = np.arange(len(cols))
            last[cols] = p.last
            ends = np.flatnonzero(p.last < hb)
            _, fin[cols[ends]], code[cols[ends]], mem_x[cols[ends]], lat_x[cols[ends]] = _at_exit(p, local[ends])
        exits = last < hb
        # generation 0: laid out where it starts here and exits within its grid; else over the pass
        g0 = np.flatnonzero(self.gen_of == 0)
        g0 = g0[exits[g0]]
        in_a = np.ones(r, dtype=bool)
        in_a[self.pos[g0]] = False
        a_pos = np.flatnonzero(in_a)
        cur_last = np.full(r, B, dtype=np.int64)  # each row's latest kept incarnation: exit tick (B: none), time
        cur_fin = np.full(r, np.nan)
        cur_last[self.pos[g0]], cur_fin[self.pos[g0]] = last[g0], fin[g0]
        pa = None
        if len(a_pos):
            pa = _Current(world, f, rows[a_pos], self.first[a_pos], lo, hi)
            cur_last[a_pos], cur_fin[a_pos] = np.where(pa.last < hi, pa.last, B), pa.fin
        # later generations: kept where the real previous exit restarts exactly as laid out
        kept = np.zeros(m, dtype=bool)
        kept[g0] = True
        later = np.flatnonzero(self.gen_of > 0)  # generation-major, positions ascending within one
        if len(later):
            kept[later] = self._checked(world, f, later, last, fin, exits, cur_last, cur_fin)
        world.block_stats["laid_out"] += m
        world.block_stats["kept"] += int(kept.sum())
        # commit: every kept incarnation's cells; the kubelet's exits and starts in order
        starts = self.starts
        for cols, p in self.groups:
            sel = np.flatnonzero(kept[cols])
            if len(sel):
                _write(f, acc, p, sel, rows[self.pos[cols[sel]]], starts[cols[sel]])
        # the kubelet's exits and starts, in the order they happen: the exits of what ran over the
        # pass, then generation by generation (the first was started already) its starts and exits,
        # committed as one batch of each (``World.start_rows``, ``World.exit_rows``: rows repeat)
        ex: list[tuple[np.ndarray, ...]] = []  # rows, tick, time, code, memory, latency, start, back-off, rv
        rv = world._rv
        survived = np.zeros(r, dtype=bool)
        if pa is not None:
            pa.write(f, acc, rows[a_pos], tbl.started[rows[a_pos]])
            up = pa.last >= hi
            survived[a_pos[up]] = True
            pa.settle(world, np.flatnonzero(up), rows[a_pos[up]])
            ends = np.flatnonzero(~up)
            if len(ends):
                rw = rows[a_pos[ends]]
                rv += 1
                ex.append((rw, *pa.at_exit(ends), tbl.started[rw], tbl.backoff_update[rw],
                           np.full(len(rw), rv)))
        cols = np.flatnonzero(kept)  # generation-major: the order things happen
        st = None
        if len(cols):
            g = self.gen_of[cols]
            rw = rows[self.pos[cols]]
            erv = exit_versions(rv, g)
            restart = g > 0
            st = (rw[restart], starts[cols[restart]], tbl.restarts[rw[restart]] + g[restart], erv[restart] - 1)
            ex.append((rw, last[cols], fin[cols], code[cols], mem_x[cols], lat_x[cols],
                       np.where(restart, starts[cols], tbl.started[rw]),
                       np.where(restart, starts[cols], tbl.backoff_update[rw]), erv))
            rv = int(erv[-1])
        world._rv = rv
        if st is not None and len(st[0]):
            sr, sat, src, srv = st
            world.start_rows(sr, sat, restarts=src, rv=srv)
        else:
            st = None
        ended = ~survived
        if not ex:
            return ended, (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        er, eet, efin, ecode, emem, elat, estart, eupd, erv = (np.concatenate(x) for x in zip(*ex))
        et, er, restart, due = _exit(world, f, acc, er, eet, efin, ecode, emem, elat,
                                     started=estart, update=eupd, rv=erv)
        if st is not None:  # each start is at the time the kubelet gave after its row's exit before it
            order = np.argsort(er, kind="stable")
            followed = np.zeros(len(er), dtype=bool)
            followed[:-1] = er[order][:-1] == er[order][1:]
            if not np.array_equal(due[order][followed], sat[np.argsort(sr, kind="stable")]):
                raise RuntimeError("a laid-out restart differs from the kubelet's: block.py and "
                                   "World.exit_rows disagree on back-off")
        _hold(f, et, er, restart)
        # each row's last exit (in generation order) is the one its restart follows
        last_rows, at, _ = last_of(er)
        again = restart[at]
        keep = again < B
        return ended, (last_rows[keep], again[keep])


CURRENT_STAGE = 64
"""Ticks of the first stage in which a pass that lays out ahead simulates the current
incarnations it did not lay out (``_Current``); the ones still running go on to the pass's end."""


class _Current:
    """The current incarnations of a pass that lays out ahead, where they were not laid out
    (every container running at the block's start; a few that started in the pass), simulated
    over [lo, hi) — the whole rest of the block — in two stages: the first ``CURRENT_STAGE``
    ticks, then, for those still running, the rest.

    Why: at a block's start every running container is such an incarnation, and most of those
    of a crash loop, a leak or a chaos monkey exit within a few dozen ticks; over the whole
    block (4,000 ticks at 100 pods) their models would answer thousands of ticks nobody reads.
    The same results: a model continued from where a grid left it gives what one call over
    both grids gives (the per-tick code is that continuation, tick by tick), and an exit the
    model asks for leaves its scratch state as of the exit, whatever the grid's end. Only the
    kubelet's OOM check ends an incarnation without the model knowing — over the whole pass the
    model ran on to its end — so those incarnations' models run on too (their answers unused),
    and the scratch state is the same as well."""

    def __init__(self, world: "World", f: Frames, rows: np.ndarray, first: np.ndarray, lo: int, hi: int) -> None:
        tbl = world.table
        r = len(rows)
        self.hi = hi
        self.last = np.full(r, hi, dtype=np.int64)  # each incarnation's exit tick (``hi``: none), time
        self.fin = np.full(r, np.nan)
        self.writes: list[tuple[np.ndarray, np.ndarray, _Pass]] = []  # (positions, columns of the pass, pass)
        self.results: list[tuple[np.ndarray, np.ndarray, _Pass]] = []  # … whose exit or end state it holds
        rest, start = np.arange(r), lo
        mid = lo + CURRENT_STAGE
        early = np.flatnonzero(first < mid) if mid < hi else rest[:0]
        if len(early):
            p1 = _trajectories(world, tbl, rows[early], first[early], f, lo, mid)
            every = np.arange(len(early))
            self.writes.append((early, every, p1))
            gone = p1.last < mid
            self.results.append((early[gone], every[gone], p1))
            on = ~gone | p1.by_oom  # still running, or killed by the OOM check (its model runs on)
            rest, start = np.concatenate([early[on], np.flatnonzero(first >= mid)]), mid
            rest.sort()  # a Deployment's rows stay adjacent (``_trajectories`` copies blocks)
            ended_first = np.zeros(r, dtype=bool)
            ended_first[early[gone]] = True
            answered = ~ended_first[rest]  # an OOM kill's answers are the first stage's
        else:
            answered = np.ones(r, dtype=bool)
        if len(rest):
            p2 = _trajectories(world, tbl, rows[rest], np.maximum(first[rest], start), f, start, hi)
            cols = np.flatnonzero(answered)
            self.writes.append((rest[cols], cols, p2))
            self.results.append((rest[cols], cols, p2))
        self.part = np.zeros(r, dtype=np.int64)  # per position: which of ``results`` answers it, and its column
        self.col = np.zeros(r, dtype=np.int64)
        for i, (pos, cols, p) in enumerate(self.results):
            self.part[pos], self.col[pos] = i, cols
            self.last[pos], self.fin[pos] = p.last[cols], p.fin[cols]

    def write(self, f: Frames, acc: _Accumulators, rows: np.ndarray, started: np.ndarray) -> None:
        """The frames and CPU increments of every stage (``_write``: only the cells each ran)."""
        for pos, cols, p in self.writes:
            _write(f, acc, p, cols, rows[pos], started[pos], distinct=True)

    def settle(self, world: "World", at: np.ndarray, rows: np.ndarray) -> None:
        """``_settle`` for positions ``at`` (still running at the pass's end: the last stage's)."""
        if len(at):
            _settle(world, self.results[-1][2], self.col[at], rows)

    def at_exit(self, at: np.ndarray) -> tuple[np.ndarray, ...]:
        """``_at_exit`` for positions ``at`` (which exit in the pass), from the stage each ended in."""
        out = (np.empty(len(at), dtype=np.int64), np.empty(len(at)), np.empty(len(at), dtype=np.int16),
               np.empty(len(at)), np.empty(len(at)))
        for i, (_, _, p) in enumerate(self.results):
            sel = np.flatnonzero(self.part[at] == i)
            if len(sel):
                for o, v in zip(out, _at_exit(p, self.col[at[sel]])):
                    o[sel] = v
        return out
