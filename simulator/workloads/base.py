"""What a workload model is: vectorised behaviour for every pod running one kind of demo app.

A model is called with the rows of *all* running containers of its kind (across Deployments)
and a grid of tick times — one tick when the healing arm may act between ticks, a block of many
when nothing can (see ``World.step_block``). Per-Deployment parameters are looked up by row. It
answers a :class:`Trajectory`: each signal (memory, CPU, error ratio, latency) as the per-tick
code would have left it at every tick of the grid, and the first exit it asks for (an exact
time); the kubelet does the rest (OOM kill, back-off, events). Every model is a renewal process
— its state changes at drawn times (an allocation, a phase end, a cycle end) — so a block is a
cumulative sum of drawn lengths, not a loop over ticks: the same arithmetic, in the same order,
whatever the block length, so a block and its ticks one by one agree bit for bit.

Randomness comes only from :mod:`..randomness` keyed by the container's ``rkey``, so the same
container incarnation behaves the same in every arm of a what-if run.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from kubeskippy.errors import FieldError, InvalidInput

from .. import randomness
from ..world.table import PodTable

__all__ = ["WorkloadModel", "RowParams", "Schedule", "Trajectory", "MIB", "between", "draw_between",
           "draw_between_premixed", "spans", "visible_counts", "renewal_times", "running_total", "WIDE_ROWS",
           "SPANS_SHARED_MIN", "LONG_RENEWAL"]

MIB = float(2**20)


class WorkloadModel:
    """Base class: parameters, their per-Deployment table, and the hooks the world calls."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, float]] = {}
    shift_invariant: ClassVar[bool] = True
    """Does an incarnation behave the same, relative to its start, whenever it starts? True for
    the renewal-process models (everything is a function of time since start and of draws);
    False for a trace replay (it follows wall time)."""
    time_params: ClassVar[tuple[str, ...]] = ()
    """The parameters that are durations: when they are whole seconds (and so are the ticks and
    starts), every time the model computes is a whole number of seconds, exact in float64, so
    a run shifted by whole ticks gives the same values bit for bit (``world.block``)."""

    def __init__(self) -> None:
        self._names = list(self.defaults)
        self._index = {n: i for i, n in enumerate(self._names)}
        self._params = np.zeros((0, len(self._names)))

    # -- parameters -----------------------------------------------------------------------

    def check_params(self, params: dict[str, Any], *, path: str) -> dict[str, float]:
        """Defaults merged with ``params``; unknown or non-numeric ones raise InvalidInput."""
        errors: list[FieldError] = []
        merged = dict(self.defaults)
        for key, value in params.items():
            if key not in merged:
                errors.append(FieldError(f"{path}.{key}", f"unknown parameter of model {self.name!r} "
                                                          f"(known: {', '.join(self._names) or 'none'})"))
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(FieldError(f"{path}.{key}", "must be a number"))
                continue
            merged[key] = float(value)
        if errors:
            raise InvalidInput(errors)
        return merged

    def add_deployment(self, dep: int, params: dict[str, Any], *, path: str = "params") -> None:
        merged = self.check_params(params, path=path)
        if dep >= len(self._params):
            grown = np.zeros((max(dep + 1, 2 * len(self._params)), len(self._names)))
            grown[: len(self._params)] = self._params
            self._params = grown
        self._params[dep] = [merged[n] for n in self._names]
        self.configure(dep, params)

    def configure(self, dep: int, params: dict[str, Any]) -> None:
        """Hook for models that need non-numeric setup per Deployment (e.g. a trace file)."""

    def shifts_exactly(self, deps: np.ndarray) -> np.ndarray:
        """Per Deployment index: may its incarnations be simulated shifted by whole ticks
        (``shift_invariant`` and every ``time_params`` value a whole number of seconds)?"""
        if not self.shift_invariant:
            return np.zeros(len(deps), dtype=bool)
        cols = [self._index[n] for n in self.time_params]
        values = self._params[deps][:, cols]
        return np.all((values == np.floor(values)) & (np.abs(values) < 2.0**40), axis=1)

    def p(self, tbl: PodTable, rows: np.ndarray, name: str) -> np.ndarray:
        """Parameter ``name`` for each row."""
        return self._params[tbl.dep[rows], self._index[name]]

    def params(self, tbl: PodTable, rows: np.ndarray) -> "RowParams":
        """Every parameter for each row, gathered once (a tick reads many)."""
        return RowParams(self._params[tbl.dep[rows]], self._index)

    # -- behaviour ------------------------------------------------------------------------

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        """A container (re)started at times ``at``: reset its scratch state."""

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> "Trajectory":
        """Running containers ``rows`` through ticks ``T`` (ascending; ``Tprev[k]`` is the tick
        before ``T[k]``), as if each tick were processed in turn and the container stayed up to
        its first exit. Leaves the model's scratch state as of ``T[-1]`` (or of the exit)."""
        raise NotImplementedError

    def first_exit(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> np.ndarray:
        """The ``exit_at`` that ``run(tbl, rows, T, Tprev)`` answers (NaN: no exit by ``T[-1]``),
        for callers that need nothing else (``world.block``'s probes, on a one-tick grid).
        Leaves the model's scratch state undefined. A model may answer it more cheaply than a
        whole trajectory (``ChaosMonkey``); the default runs the model."""
        return self.run(tbl, rows, T, Tprev).exit_at


class RowParams:
    """A model's parameters for a set of rows: ``P["name"]`` is a column (a view, no copy)."""

    __slots__ = ("values", "_index")

    def __init__(self, values: np.ndarray, index: dict[str, int]) -> None:
        self.values = values
        self._index = index

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[:, self._index[name]]

    def subset(self, which: np.ndarray) -> "RowParams":
        """The parameters of some of the rows (a mask or positions)."""
        return RowParams(self.values[which], self._index)


class Schedule:
    """A repeating piecewise-constant function of container age (e.g. CPU cores per phase),
    with its exact integral, so counters such as CPU seconds stay exact at any tick size."""

    def __init__(self, durations: list[float], values: list[float], *, repeat: bool = True) -> None:
        if len(durations) != len(values) or not durations:
            raise ValueError("a schedule needs one value per duration")
        self.starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
        self.values = np.asarray(values, dtype=float)
        self.period = float(np.sum(durations))
        self.cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(durations) * self.values)])
        self.repeat = repeat

    def value(self, age: np.ndarray) -> np.ndarray:
        a = np.mod(age, self.period) if self.repeat else np.minimum(age, self.period - 1e-9)
        idx = np.searchsorted(self.starts, a, side="right") - 1
        return self.values[idx]

    def integral(self, age: np.ndarray) -> np.ndarray:
        """∫₀^age value(τ) dτ."""
        age = np.maximum(age, 0.0)
        whole, a = (np.floor_divide(age, self.period), np.mod(age, self.period)) if self.repeat else (0.0, age)
        idx = np.clip(np.searchsorted(self.starts, a, side="right") - 1, 0, len(self.values) - 1)
        return whole * self.cumulative[-1] + self.cumulative[idx] + (a - self.starts[idx]) * self.values[idx]


def draw_between(keys: np.ndarray, purpose: int, counter: np.ndarray | int, lo: np.ndarray | float,
                 hi: np.ndarray | float) -> np.ndarray:
    """Per row, an integer in [lo, hi] like ``random.randint`` (as floats, for times)."""
    return draw_between_premixed(randomness.premix(keys, purpose), counter, lo, hi)


def draw_between_premixed(premixed: np.ndarray, counter: np.ndarray | int, lo: np.ndarray | float,
                          hi: np.ndarray | float) -> np.ndarray:
    """:func:`draw_between` given ``randomness.premix(keys, purpose)`` (kept per container)."""
    return between(randomness.uniform_premixed(premixed, counter), lo, hi)


def between(u: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
    """The integer in [lo, hi] (as a float) that :func:`draw_between` makes of a uniform draw ``u``."""
    return lo + np.floor(u * (np.asarray(hi) - lo + 1))


class Trajectory:
    """What a model answers for a grid of B ticks and r rows. Matrices are (B, r) or (1, r)
    (constant over the grid); ``err``/``lat`` None: the model does not set them.

    ``mem``: memory at each tick; ``cpu_inc``: CPU seconds the tick adds to the counter;
    ``cores``: CPU cores at the last tick; ``exit_at``: the first exit the model asks for (NaN:
    none by ``T[-1]``), with ``exit_code``."""

    __slots__ = ("mem", "cpu_inc", "cores", "err", "lat", "exit_at", "exit_code")

    def __init__(self, mem: np.ndarray, cpu_inc: np.ndarray, cores: np.ndarray, *, err: np.ndarray | None = None,
                 lat: np.ndarray | None = None, exit_at: np.ndarray | None = None,
                 exit_code: np.ndarray | None = None) -> None:
        r = cpu_inc.shape[1]
        self.mem = mem
        self.cpu_inc = cpu_inc
        self.cores = np.broadcast_to(np.asarray(cores, dtype=float), (r,))
        self.err = err
        self.lat = lat
        self.exit_at = np.full(r, np.nan) if exit_at is None else exit_at
        self.exit_code = np.zeros(r, dtype=np.int16) if exit_code is None else exit_code.astype(np.int16)


SPANS_SHARED_MIN = 2048
"""Cells from which ``spans`` computes the ticks after every start once per tick (below, the
few more numpy calls cost more than they save)."""


def spans(tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray,
          end: np.ndarray | None = None) -> np.ndarray:
    """(B, r): the part of each tick (Tprev, T] the container ran — max(T − max(Tprev, started), 0),
    with T capped at ``end`` when given (the per-tick code's CPU accounting).

    Ticks whose previous tick is at or after every start (all but the first few of a grid) are
    the same for every column, max(T − Tprev, 0): computed once per tick and broadcast."""
    started = tbl.started[rows]
    if end is not None or len(T) * len(started) < SPANS_SHARED_MIN:
        top = T[:, None] if end is None else np.minimum(T[:, None], end[None, :])
        return np.maximum(top - np.maximum(Tprev[:, None], started[None, :]), 0.0)
    k0 = int(np.searchsorted(Tprev, started.max(), side="left"))  # Tprev[k0:] ≥ every start (NaN: none)
    out = np.empty((len(T), len(started)))
    out[:k0] = np.maximum(T[:k0, None] - np.maximum(Tprev[:k0, None], started[None, :]), 0.0)
    out[k0:] = np.maximum(T[k0:] - Tprev[k0:], 0.0)[:, None]
    return out


WIDE_ROWS = 256
"""Rows at least this wide are accumulated row by row (``running_total``)."""


def running_total(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.cumsum(a, axis=0, out=out)`` for a 2-D array, in ``a``'s dtype (``out`` default: a
    new array): the same additions in the same order (row k is row k − 1 plus row k), so the
    same bits. Why: numpy accumulates along axis 0 of a C-ordered matrix by walking down each
    column a row's stride apart, which costs several times more than adding whole rows once
    rows hold a few hundred elements (a block's counters at 1,000 pods and more)."""
    if out is None:
        out = np.empty_like(a)
    if a.ndim != 2 or a.shape[1] < WIDE_ROWS or a.shape[0] < 2:
        return np.cumsum(a, axis=0, out=out)
    if out is not a:
        out[...] = a
    for k in range(1, len(out)):
        np.add(out[k - 1], out[k], out=out[k])
    return out


def visible_counts(times: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(B, r): per column, how many of ``times`` (m, r; ascending per column, inf/NaN padded)
    are ≤ T[k] — i.e. how many state changes the per-tick code has processed by tick k."""
    B = len(T)
    m, r = times.shape
    if m == 0 or r == 0:
        return np.zeros((B, r), dtype=np.int64)
    if B == 1:  # a one-tick grid (a probe's): the times at or before it, counted (NaN: never)
        return np.count_nonzero(times <= T[0], axis=0)[None, :].astype(np.int64, copy=False)
    flat = np.searchsorted(T, times.ravel(), side="left").reshape(m, r)  # first tick that sees it …
    flat *= r
    flat += np.arange(r)  # … as a flat index into (B + 1, r), in place
    hist = np.bincount(flat.ravel(), minlength=(B + 1) * r)[: B * r].reshape(B, r)
    return running_total(hist, out=hist)


LONG_RENEWAL = 256
"""Worst-case steps (the span over ``min_length``) from which :func:`renewal_times` without
``chunk`` draws this many steps first, then as many more as the slowest column's pace so far
says it needs (with a margin), instead of the worst case at once.

Why: the worst case assumes every length is the shortest, and a renewal's lengths average two
to three times that (a CPU spike's phases: 10–60 s against the 10 s bound; a flaky web's issues
and waits: ~70 s against 30 s). Over a short grid that is a few dozen extra steps; over a
100-pod run's block of 4,000 ticks it was up to 4,096 steps per column where ~1,850 were
needed, and every step drawn is also searched, summed and indexed by the model (a short block
of 1,760 ticks drew 2,642 where ~830 were needed: a fixed cost per block). The times are the
same whatever the chunking: draws are counter-based and the additions run in the same order."""
LONG_RENEWAL_MARGIN = 1.25


def _steps_left(E: np.ndarray, short: np.ndarray, until: float | np.ndarray, min_length: float) -> int:
    """Steps the next chunk of a sized renewal (``LONG_RENEWAL``) draws: the most any column
    still short of ``until`` needs at its own mean length so far, with a margin (a column that
    still falls short gets another chunk sized the same way)."""
    done = len(E) - 1
    pace = np.maximum((E[-1, short] - E[0, short]) / done, max(min_length, 1e-9))
    left = np.max((np.broadcast_to(until, E[-1].shape)[short] - E[-1, short]) / pace, initial=0.0)
    return int(min(4096, max(16, np.ceil(left * LONG_RENEWAL_MARGIN) + 8)))


def renewal_times(start: np.ndarray, lengths, until: float | np.ndarray, min_length: float, *,
                  chunk: int | None = None, ended=None, by_column: bool = False) -> np.ndarray:
    """Times of a renewal process per column: E[0] = start, E[j+1] = E[j] + lengths(j0, n)[j − j0]
    (sequential additions, as the per-tick code does them), generated until every column is past
    ``until``. ``lengths(j0, n)`` answers the (n, r) lengths of steps j0 … j0+n−1.

    ``ended(E)`` (optional) answers, per column, whether its process has already ended within the
    times generated so far (e.g. the incarnation exited): such columns need no more. With it,
    times are drawn ``chunk`` steps at a time (doubling), so a process that ends early does not
    pay for a whole window of draws. Without it, a long span is drawn in chunks sized from the
    pace of the steps drawn so far (``LONG_RENEWAL``). The times themselves do not depend on the
    chunking.

    ``by_column``: ``lengths(j0, n, cols)`` answers the (n, len(cols)) lengths of columns ``cols``
    only (None: every column), and the chunks after the first are drawn only for the columns
    still short of ``until`` and not ended; the other columns' later times are +inf (after
    ``until``). Why: a chunk drawn for every column because a few need it cost, in a probe of
    hundreds of chaos monkeys looking 12 minutes ahead, twice the first chunk's draws."""
    r = len(start)
    span = max(0.0, float(np.max(until - start, initial=0.0)))
    n = min(int(span / max(min_length, 1e-9)) + 2, 4096)  # enough when every length ≥ min_length
    sized = False  # later chunks sized from the steps drawn so far (``LONG_RENEWAL``)
    if chunk is not None and ended is not None:
        n = min(n, chunk)
    elif n > LONG_RENEWAL:
        n, sized = LONG_RENEWAL, True
    E = np.concatenate([start[None, :], lengths(0, n, None) if by_column else lengths(0, n)])
    E = running_total(E, out=E)  # wide: row by row (the same additions as np.cumsum along axis 0)
    while r:
        short = E[-1] <= until  # shorter lengths (or a long span): draw more
        if ended is not None and short.any():
            short &= ~ended(E)
        if not short.any():
            break
        if ended is not None:
            n = min(2 * n, 4096)
        elif sized:
            n = _steps_left(E, short, until, min_length)
        if by_column:
            cols = np.flatnonzero(short)
            part = np.concatenate([E[-1:, cols], lengths(len(E) - 1, n, cols)])
            more = np.full((n, r), np.inf)
            more[:, cols] = running_total(part, out=part)[1:]
        else:
            more = np.concatenate([E[-1:], lengths(len(E) - 1, n)])
            more = running_total(more, out=more)[1:]
        E = np.concatenate([E, more])
    return E
