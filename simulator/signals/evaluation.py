"""PromQL evaluation over a grid of times at once: every value is a (series × steps) matrix.

Why matrices: the decision code asks ``query_range`` a lot (the Planner's trends: 60 steps per
query; the Detector's sweeps: a ``for`` window per built-in metric), and evaluating the tree
once per step in Python cost more than the whole simulated world. Here a selector is gathered
for all steps in one pass over the scrape ring buffer, ``rate`` & co. are computed for all
windows of a series with searchsorted, and operators work on whole matrices. An instant query
is the one-step case of the same code, so there is one implementation of the semantics.

A result is a :class:`Matrix` — labels per series, ``values[i, j]`` and ``present[i, j]``
(a series may exist at some steps only; NaN is a legitimate sample value, so presence is kept
apart) — or, for scalars, a float array with one value per step.

Exactness: every per-step value is computed with the same float64 operations, in the same
order, as the former step-by-step evaluator did (a group's sum is sequential, as
``numpy.add.reduce`` is for up to seven values; longer or rarer cases call numpy on the very
same slice), so alert firing times do not move — checked by ``tests/simulator/test_evaluation.py``
(a range query equals its steps asked one by one) and by comparing whole what-if runs with the
former evaluator. Two deliberate differences: ``exp``/``ln`` use numpy's (Python's ``math``
may differ in the last bit), and ``ceil``/``floor``/``exp`` of ±Inf or NaN answer as Prometheus
does instead of raising; ``topk``/``bottomk`` list their series in series order, not by rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .promql import (Aggregate, Binary, Call, Labels, Number, PromQLError, Selector, Unary, _FUNCTIONS,
                     _RANGE_FUNCS, _range_fn)

__all__ = ["Matrix", "Evaluator", "SelectMatrix", "SelectSeries"]


@dataclass
class Matrix:
    """An instant vector at every step: ``values``/``present`` are (len(labels), steps)."""

    labels: list[Labels]
    values: np.ndarray
    present: np.ndarray

    @staticmethod
    def empty(steps: int) -> "Matrix":
        return Matrix([], np.zeros((0, steps)), np.zeros((0, steps), dtype=bool))

    def rows(self, keep: np.ndarray) -> "Matrix":
        return Matrix([self.labels[i] for i in np.flatnonzero(keep)], self.values[keep], self.present[keep])

    def at_step(self, j: int) -> list[tuple[Labels, float]]:
        return [(self.labels[i], float(self.values[i, j])) for i in np.flatnonzero(self.present[:, j])]


SelectMatrix = Callable[[Selector, np.ndarray], Matrix]
"""``select(selector, times)``: the instant selector at each of ``times`` (simulated seconds)."""
SelectSeries = Callable[[Selector, np.ndarray], list[tuple[Labels, np.ndarray, np.ndarray]]]
"""``select_range(selector, times)``: every series with a sample in any step's window, as
(labels, sample times, sample values) sorted by time."""

_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "==": np.equal, "!=": np.not_equal, ">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal}
_ARITH: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "%": np.fmod, "^": np.power,
    "atan2": np.arctan2}
_SET_OPS = {"and", "or", "unless"}
_PAIRWISE_FROM = 8  # numpy sums 8+ values pairwise (8 accumulators): reproduce with numpy itself


def _drop_name(labels: Labels) -> Labels:
    return tuple(p for p in labels if p[0] != "__name__")


def _arith(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IEEE 754 semantics, as Go's float64 (x/0 is ±Inf, 0/0 is NaN)."""
    fn = _ARITH.get(op)
    if fn is None:
        raise PromQLError(f"unknown operator {op}")
    with np.errstate(all="ignore"):
        return fn(a, b)


class Evaluator:
    """Evaluates a parsed expression at simulated times against a series source."""

    def __init__(self, select: SelectMatrix, select_range: SelectSeries, *, epoch: float = 0.0) -> None:
        self._select = select
        self._select_range = select_range
        self._epoch = epoch

    # -- entry points

    def evaluate(self, node: Any, t: float) -> float | list[tuple[Labels, float]]:
        """At one time: a float (scalar) or an instant vector [(labels, value)]."""
        result = self.evaluate_range(node, np.array([float(t)]))
        if isinstance(result, Matrix):
            return result.at_step(0)
        return float(result[0])

    def evaluate_range(self, node: Any, times: np.ndarray) -> np.ndarray | Matrix:
        """At every one of ``times``: a float array (scalar) or a :class:`Matrix`."""
        return self._eval(node, np.asarray(times, dtype=float))

    def _eval(self, node: Any, times: np.ndarray) -> np.ndarray | Matrix:
        if isinstance(node, Number):
            return np.full(len(times), node.value)
        if isinstance(node, Selector):
            if node.range is not None:
                raise PromQLError("a range vector cannot be the result of an expression; wrap it in a function")
            return self._select(node, times)
        if isinstance(node, Unary):
            v = self._eval(node.expr, times)
            if not isinstance(v, Matrix):
                return -v if node.op == "-" else v
            return Matrix([_drop_name(lb) for lb in v.labels], -v.values if node.op == "-" else v.values, v.present)
        if isinstance(node, Call):
            return self._call(node, times)
        if isinstance(node, Aggregate):
            return self._aggregate(node, times)
        if isinstance(node, Binary):
            return self._binary(node, times)
        raise PromQLError(f"cannot evaluate {node!r}")

    def _scalar(self, node: Any, times: np.ndarray) -> np.ndarray:
        v = self._eval(node, times)
        if isinstance(v, Matrix):
            raise PromQLError("expected a scalar")
        return v

    # -- functions

    def _call(self, node: Call, times: np.ndarray) -> np.ndarray | Matrix:
        f, args = node.func, node.args
        steps = len(times)
        if f not in _FUNCTIONS:
            raise PromQLError(f"function {f}() is not supported by the simulator's evaluator")
        if f in _RANGE_FUNCS:
            sel = args[0] if args else None
            if not isinstance(sel, Selector) or sel.range is None:
                raise PromQLError(f"{f}() needs a range vector argument, e.g. {f}(metric[5m])")
            extra = self._scalar(args[1], times) if f == "predict_linear" else None
            ends = times - sel.offset
            starts = ends - sel.range
            series = self._select_range(sel, times)
            if not series:
                return Matrix.empty(steps)
            values, present = _range_fn_matrix(f, series, starts, ends, sel.range, extra)
            labels = [lb if f == "last_over_time" else _drop_name(lb) for lb, _, _ in series]
            return Matrix(labels, values, present).rows(present.any(axis=1))
        if f == "time":
            return self._epoch + times
        if f == "vector":
            return Matrix([()], self._scalar(args[0], times)[None, :].copy(), np.ones((1, steps), dtype=bool))
        if f == "scalar":
            v = self._eval(args[0], times)
            if not isinstance(v, Matrix):
                return v
            single = v.present.sum(axis=0) == 1
            first = np.argmax(v.present, axis=0)
            return np.where(single, v.values[first, np.arange(steps)], math.nan) if len(v.labels) else \
                np.full(steps, math.nan)
        if f == "absent":
            v = self._eval(args[0], times)
            anything = v.present.any(axis=0) if isinstance(v, Matrix) else (v != 0)  # a scalar: as a truth value
            labels = tuple(sorted((m.name, m.value) for m in getattr(args[0], "matchers", ()) if m.op == "="))
            return Matrix([labels], np.ones((1, steps)), ~anything[None, :])
        v = self._eval(args[0], times)
        if not isinstance(v, Matrix):
            raise PromQLError(f"{f}() needs an instant vector")
        x = v.values
        labels = [_drop_name(lb) for lb in v.labels]
        with np.errstate(all="ignore"):
            if f == "abs":
                out = np.abs(x)
            elif f == "ceil":
                out = np.ceil(x)
            elif f == "floor":
                out = np.floor(x)
            elif f == "sqrt":
                out = np.where(x >= 0, np.sqrt(x), math.nan)
            elif f == "exp":
                out = np.exp(x)
            elif f == "ln":
                out = np.where(x > 0, np.log(x), np.where(x == 0, -math.inf, math.nan))
            elif f == "round":
                to = self._scalar(args[1], times) if len(args) > 1 else np.ones(steps)
                out = np.floor(x / to + 0.5) * to
            elif f == "clamp_min":
                lo = self._scalar(args[1], times)
                out = np.where(lo > x, lo, x)  # Python's max(x, lo)
            elif f == "clamp_max":
                hi = self._scalar(args[1], times)
                out = np.where(hi < x, hi, x)  # Python's min(x, hi)
            else:  # clamp
                lo, hi = self._scalar(args[1], times), self._scalar(args[2], times)
                low = np.where(lo > x, lo, x)
                out = np.where(hi < low, hi, low)
                return Matrix(labels, out, v.present & (lo <= hi)[None, :])
        return Matrix(labels, out, v.present)

    # -- aggregation

    def _aggregate(self, node: Aggregate, times: np.ndarray) -> Matrix:
        v = self._eval(node.expr, times)
        if not isinstance(v, Matrix):
            raise PromQLError(f"{node.op}() needs an instant vector")
        steps = len(times)
        groups: dict[Labels, int] = {}
        group_of = np.empty(len(v.labels), dtype=np.int64)
        for i, labels in enumerate(v.labels):
            if node.without:
                key = tuple(p for p in labels if p[0] not in node.grouping and p[0] != "__name__")
            else:
                key = tuple(p for p in labels if p[0] in node.grouping)
            group_of[i] = groups.setdefault(key, len(groups))
        if node.op in ("topk", "bottomk"):
            members: dict[Labels, list[int]] = {}
            for key, g in groups.items():
                members[key] = np.flatnonzero(group_of == g).tolist()
            return self._rank(node, v, members, times)
        if not groups:
            return Matrix.empty(steps)
        count = np.zeros((len(groups), steps), dtype=np.int64)
        np.add.at(count, group_of, v.present)
        if node.op in ("sum", "avg"):
            result = _group_sum(v.values, v.present, group_of, count)
            if node.op == "avg":
                result = result / np.maximum(count, 1)
        elif node.op == "count":
            result = count.astype(float)
        elif node.op == "group":
            result = np.ones((len(groups), steps))
        elif node.op in ("min", "max"):
            fill = math.inf if node.op == "min" else -math.inf
            result = np.full((len(groups), steps), fill)
            (np.minimum if node.op == "min" else np.maximum).at(result, group_of, np.where(v.present, v.values, fill))
        else:  # stddev, stdvar: rare, numpy on each step's members
            fn = np.std if node.op == "stddev" else np.var
            result = np.full((len(groups), steps), math.nan)
            for g, j in zip(*np.nonzero(count)):
                result[g, j] = float(fn(v.values[(group_of == g) & v.present[:, j], j]))
        return Matrix(list(groups), result, count > 0)

    def _rank(self, node: Aggregate, v: Matrix, groups: dict[Labels, list[int]], times: np.ndarray) -> Matrix:
        k = self._scalar(node.param, times)
        keep = np.zeros_like(v.present)
        for members in groups.values():
            for j in range(len(times)):
                here = [i for i in members if v.present[i, j]]
                ranked = sorted(here, key=lambda i: v.values[i, j], reverse=node.op == "topk")
                keep[ranked[: int(k[j])], j] = True
        return Matrix(v.labels, v.values, keep).rows(keep.any(axis=1))

    # -- binary operators

    def _binary(self, node: Binary, times: np.ndarray) -> np.ndarray | Matrix:
        lhs = self._eval(node.lhs, times)
        rhs = self._eval(node.rhs, times)
        op = node.op
        if op in _SET_OPS:
            if not isinstance(lhs, Matrix) or not isinstance(rhs, Matrix):
                raise PromQLError(f"{op} needs instant vectors on both sides")
            return self._set_op(node, lhs, rhs)
        if not isinstance(lhs, Matrix) and not isinstance(rhs, Matrix):
            if op in _COMPARE:
                if not node.bool_:
                    raise PromQLError("comparisons between scalars must use the bool modifier")
                return _COMPARE[op](lhs, rhs).astype(float)
            return _arith(op, lhs, rhs)
        if isinstance(lhs, Matrix) and not isinstance(rhs, Matrix):
            return self._vector_scalar(op, lhs, rhs, node.bool_, scalar_right=True)
        if not isinstance(lhs, Matrix) and isinstance(rhs, Matrix):
            return self._vector_scalar(op, rhs, lhs, node.bool_, scalar_right=False)
        return self._vector_vector(node, lhs, rhs)

    @staticmethod
    def _vector_scalar(op: str, vec: Matrix, s: np.ndarray, bool_: bool, *, scalar_right: bool) -> Matrix:
        a, b = (vec.values, s[None, :]) if scalar_right else (s[None, :], vec.values)
        if op in _COMPARE:
            with np.errstate(invalid="ignore"):
                ok = _COMPARE[op](a, b)
            if bool_:
                return Matrix([_drop_name(lb) for lb in vec.labels], ok.astype(float), vec.present)
            return Matrix(vec.labels, vec.values, vec.present & ok).rows((vec.present & ok).any(axis=1))
        values = _arith(op, np.broadcast_to(a, vec.values.shape), np.broadcast_to(b, vec.values.shape))
        return Matrix([_drop_name(lb) for lb in vec.labels], values, vec.present)

    @staticmethod
    def _signature(node: Binary) -> Callable[[Labels], Labels]:
        names = set(node.labels)
        if node.on:
            return lambda lb: tuple(p for p in lb if p[0] in names)
        return lambda lb: tuple(p for p in lb if p[0] not in names and p[0] != "__name__")

    def _set_op(self, node: Binary, lhs: Matrix, rhs: Matrix) -> Matrix:
        sig = self._signature(node)
        steps = lhs.present.shape[1]

        def presence(side: Matrix) -> dict[Labels, np.ndarray]:
            out: dict[Labels, np.ndarray] = {}
            for i, lb in enumerate(side.labels):
                key = sig(lb)
                out[key] = out[key] | side.present[i] if key in out else side.present[i].copy()
            return out

        none = np.zeros(steps, dtype=bool)
        right = presence(rhs)
        if node.op in ("and", "unless"):
            other = np.array([right.get(sig(lb), none) for lb in lhs.labels], dtype=bool).reshape(len(lhs.labels), steps)
            keep = lhs.present & (other if node.op == "and" else ~other)
            return Matrix(lhs.labels, lhs.values, keep).rows(keep.any(axis=1))
        left = presence(lhs)
        other = np.array([left.get(sig(lb), none) for lb in rhs.labels], dtype=bool).reshape(len(rhs.labels), steps)
        extra = rhs.present & ~other
        return Matrix(lhs.labels + rhs.labels, np.concatenate([lhs.values, rhs.values]),
                      np.concatenate([lhs.present, extra])).rows(
            np.concatenate([lhs.present.any(axis=1), extra.any(axis=1)]))

    def _vector_vector(self, node: Binary, lhs: Matrix, rhs: Matrix) -> Matrix:
        sig = self._signature(node)
        op = node.op
        steps = lhs.present.shape[1]
        one, many, many_is_left = (rhs, lhs, True) if node.group != "right" else (lhs, rhs, False)
        index: dict[Labels, list[int]] = {}
        for i, labels in enumerate(one.labels):
            index.setdefault(sig(labels), []).append(i)
        for key, rows in index.items():
            if len(rows) > 1 and (one.present[rows].sum(axis=0) > 1).any():
                side = "right" if many_is_left else "left"
                raise PromQLError(f"found duplicate series for the match group {dict(key)} on the {side} hand-side "
                                  "of the operation (many-to-many matching is not allowed)")
        pairs_many: list[int] = []
        pairs_one: list[int] = []
        for i, labels in enumerate(many.labels):
            for c in index.get(sig(labels), ()):
                pairs_many.append(i)
                pairs_one.append(c)
        if not pairs_many:
            return Matrix.empty(steps)
        x, y = many.values[pairs_many], one.values[pairs_one]
        a, b = (x, y) if many_is_left else (y, x)
        both = many.present[pairs_many] & one.present[pairs_one]
        if op in _COMPARE:
            with np.errstate(invalid="ignore"):
                ok = _COMPARE[op](a, b)
            if not node.bool_:
                both &= ok
            value = ok.astype(float) if node.bool_ else a
        else:
            value = _arith(op, a, b)
        out: dict[Labels, int] = {}
        out_labels: list[Labels] = []
        out_rows: list[list[int]] = []
        for p in np.flatnonzero(both.any(axis=1)):
            result = dict(many.labels[pairs_many[p]])
            if op not in _COMPARE or node.bool_:
                result.pop("__name__", None)
            if not node.group:
                if node.on:
                    result = {k: v for k, v in result.items() if k in node.labels}
                elif node.matching:
                    result = {k: v for k, v in result.items() if k not in node.labels}
            else:
                other = dict(one.labels[pairs_one[p]])
                for name in node.include:
                    if name in other:
                        result[name] = other[name]
                    else:
                        result.pop(name, None)
            out_key = tuple(sorted(result.items()))
            at = out.get(out_key) if not node.group else None
            if at is None:
                if not node.group:
                    out[out_key] = len(out_labels)
                out_labels.append(out_key)
                out_rows.append([p])
            else:
                out_rows[at].append(p)
        if not out_labels:
            return Matrix.empty(steps)
        first = [rows[0] for rows in out_rows]
        values, present = np.where(both[first], value[first], 0.0), both[first]
        for at, rows in enumerate(out_rows):
            for p in rows[1:]:  # one output series from several pairs: at different steps only
                if (present[at] & both[p]).any():
                    raise PromQLError("multiple matches for labels: many-to-one matching must be explicit "
                                      "(group_left/group_right)")
                values[at] = np.where(both[p], value[p], values[at])
                present[at] |= both[p]
        return Matrix(out_labels, values, present)


def _group_sum(values: np.ndarray, present: np.ndarray, group_of: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per group and step, the sum of the present members, bit for bit as ``numpy.add.reduce``
    of that step's present values in member order: sequential for up to seven values (one
    vector operation per member rank, all groups at once), numpy itself on the same slice for
    more (it then sums pairwise with eight accumulators)."""
    groups, steps = count.shape
    result = np.zeros((groups, steps))
    seen = np.zeros((groups, steps), dtype=bool)
    order = np.argsort(group_of, kind="stable")
    sorted_groups = group_of[order]
    starts = np.searchsorted(sorted_groups, np.arange(groups))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - starts[sorted_groups]
    for k in range(int(rank.max()) + 1 if len(rank) else 0):
        rows = np.flatnonzero(rank == k)
        g, row, here = group_of[rows], values[rows], present[rows]
        result[g] = np.where(here, np.where(seen[g], result[g] + row, row), result[g])
        seen[g] |= here
    for g, j in zip(*np.nonzero(count >= _PAIRWISE_FROM)):
        result[g, j] = np.add.reduce(values[(group_of == g) & present[:, j], j])
    return result


def _range_fn_matrix(name: str, series: list[tuple[Labels, np.ndarray, np.ndarray]], starts: np.ndarray,
                     ends: np.ndarray, width: float, extra: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """A range function of every series at every step: (values, present), (series × steps).
    The window of step j is the samples with ``ends[j] - width - 1e-9 < t <= ends[j] + 1e-9``
    (Prometheus 2.x: both ends). All series' samples are laid end to end, so the common
    functions are a handful of vector operations however many series there are."""
    ts = np.concatenate([s[1] for s in series])
    vs = np.concatenate([s[2] for s in series])
    lo = np.empty((len(series), len(ends)), dtype=np.int64)
    hi = np.empty_like(lo)
    offset = 0
    for k, (_, t, _) in enumerate(series):
        lo[k] = offset + np.searchsorted(t, ends - width - 1e-9, side="right")
        hi[k] = offset + np.searchsorted(t, ends + 1e-9, side="right")
        offset += len(t)
    n = hi - lo
    if name in ("rate", "increase", "delta", "irate", "idelta"):
        ok = n >= 2
        if not ok.any():
            return np.zeros(lo.shape), ok
        i0, i1 = np.where(ok, lo, 0), np.where(ok, hi - 1, 1)
        with np.errstate(all="ignore"):
            if name in ("irate", "idelta"):
                d = vs[i1] - vs[i1 - 1]
                if name == "irate":
                    d = np.where(vs[i1] < vs[i1 - 1], vs[i1], d)
                    d = d / (ts[i1] - ts[i1 - 1])
                return np.where(ok, d, 0.0), ok
            return np.where(ok, _extrapolated_steps(ts, vs, lo, hi, i0, i1, ok, starts[None, :], ends[None, :],
                                                    counter=name != "delta", rate=name == "rate"), 0.0), ok
    values = np.zeros(lo.shape)
    present = np.zeros(lo.shape, dtype=bool)
    for k, j in zip(*np.nonzero(n > 0)):
        r = _range_fn(name, ts[lo[k, j]:hi[k, j]], vs[lo[k, j]:hi[k, j]], float(starts[j]), float(ends[j]),
                      None if extra is None else float(extra[j]))
        if r is not None:
            values[k, j], present[k, j] = r, True
    return values, present


def _extrapolated_steps(ts, vs, lo, hi, i0, i1, ok, starts, ends, *, counter: bool, rate: bool) -> np.ndarray:
    """Prometheus 2.x ``extrapolatedRate`` for every window at once (the scalar version is
    :func:`.promql._extrapolated`; the operations and their order are the same)."""
    result = vs[i1] - vs[i0]
    if counter:
        drops = vs[1:] < vs[:-1]
        if drops.any():
            before = np.concatenate([[0], np.cumsum(drops)])  # drops among the first k pairs
            for k, j in zip(*np.nonzero(ok & (before[np.maximum(hi - 1, 0)] - before[lo] > 0))):
                window = vs[lo[k, j]:hi[k, j]]
                result[k, j] += float(np.sum(window[:-1][window[1:] < window[:-1]]))
    to_start, to_end = ts[i0] - starts, ends - ts[i1]
    sampled = ts[i1] - ts[i0]
    avg = sampled / np.maximum(hi - lo - 1, 1)
    if counter:
        towards_zero = ok & (result > 0) & (vs[i0] >= 0)
        to_zero = sampled * (vs[i0] / np.where(towards_zero, result, 1.0))
        to_start = np.where(towards_zero & (to_zero < to_start), to_zero, to_start)
    threshold = avg * 1.1
    interval = sampled + np.where(to_start < threshold, to_start, avg / 2) + np.where(to_end < threshold, to_end, avg / 2)
    result = result * (interval / sampled)
    if rate:
        result = result / (ends - starts)
    return result
