"""A small PromQL evaluator over the simulated series.

Not all of PromQL: the expressions KubeSkippy itself writes — the built-in metrics of
kubeskippy.detect.builtin_metrics and the alert rules compiled from policies — and what people
commonly put in a metricTrigger. Supported: selectors with = != =~ !~ matchers, range selectors
and ``offset``; numbers and durations; unary minus; arithmetic (+ - * / % ^), comparisons (with
``bool``), and/or/unless; vector matching with on/ignoring and group_left/group_right;
aggregations sum min max avg count group stddev stdvar topk bottomk (by/without, either
position); functions rate irate increase delta idelta deriv predict_linear resets changes
*_over_time abs ceil floor round sqrt exp ln clamp clamp_min clamp_max time vector scalar
absent. Anything else raises :class:`PromQLError` naming what is not supported, rather than
answering wrongly. ``rate``/``increase`` extrapolate exactly as Prometheus 2.x does, and range
selectors include both ends (2.x semantics), so rules fire at the same scrape as in Prometheus.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from kubeskippy.errors import InvalidInput

__all__ = ["PromQLError", "parse", "Evaluator", "Labels", "InstantVector", "RangeVector"]


class PromQLError(InvalidInput):
    """The expression is not valid, or uses PromQL the simulator does not evaluate."""


Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs, including __name__ when present
InstantVector = list[tuple[Labels, float]]
RangeVector = list[tuple[Labels, np.ndarray, np.ndarray]]

# ------------------------------------------------------------------ lexer

_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<duration>\d+(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*)(?![\w.])
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[Ii]nf\b|NaN\b)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>==|!=|=~|!~|>=|<=|[-+*/%^<>=(){}\[\],])
""", re.VERBOSE)

_AGGREGATORS = {"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk"}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"}


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise PromQLError(f"unexpected character {text[pos]!r} at position {pos}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    out.append(("eof", ""))
    return out


def _duration(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total = 0.0
    for num, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text):
        total += int(num) * units[unit]
    return total


# ------------------------------------------------------------------ AST

@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, v: str) -> bool:
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        ok = _regex(self.value).fullmatch(v) is not None
        return ok if self.op == "=~" else not ok


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[Matcher, ...]
    range: float | None = None
    offset: float = 0.0


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Aggregate:
    op: str
    expr: Any
    grouping: tuple[str, ...]
    without: bool
    param: Any = None


@dataclass(frozen=True)
class Binary:
    op: str
    lhs: Any
    rhs: Any
    bool_: bool = False
    on: bool = False
    labels: tuple[str, ...] = ()
    matching: bool = False  # on/ignoring given
    group: str = ""  # "", left, right
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unary:
    op: str
    expr: Any


# ------------------------------------------------------------------ parser

_PRECEDENCE = [("or",), ("and", "unless"), ("==", "!=", "<=", "<", ">=", ">"), ("+", "-"), ("*", "/", "%", "atan2"), ("^",)]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        t_kind, t_val = self.peek()
        if (value is not None and t_val != value) or (kind is not None and t_kind != kind):
            raise PromQLError(f"expected {value or kind} but found {t_val or 'end of input'!r} in {self.text!r}")
        self.i += 1
        return t_val

    def parse(self) -> Any:
        node = self.binary(0)
        if self.peek()[0] != "eof":
            raise PromQLError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
        return node

    def binary(self, level: int) -> Any:
        if level == len(_PRECEDENCE):
            return self.unary()
        ops = _PRECEDENCE[level]
        lhs = self.binary(level + 1)
        while self.peek()[1] in ops and self.peek()[0] in ("op", "ident"):
            op = self.take()
            bool_ = False
            if self.peek()[1] == "bool":
                self.take()
                bool_ = True
            on, labels, matching, group, include = False, (), False, "", ()
            if self.peek()[1] in ("on", "ignoring"):
                on = self.take() == "on"
                labels = self.label_list()
                matching = True
                if self.peek()[1] in ("group_left", "group_right"):
                    group = self.take()[6:]
                    if self.peek()[1] == "(":
                        include = self.label_list()
            rhs = self.binary(level + 1) if op != "^" else self.binary(level)  # ^ is right-associative
            lhs = Binary(op, lhs, rhs, bool_, on, labels, matching, group, include)
            if op == "^":
                break
        return lhs

    def unary(self) -> Any:
        if self.peek()[1] in ("-", "+"):
            op = self.take()
            expr = self.unary()
            if isinstance(expr, Number):
                return Number(-expr.value if op == "-" else expr.value)
            return Unary(op, expr)
        return self.postfix(self.primary())

    def postfix(self, node: Any) -> Any:
        if self.peek()[1] == "[":
            self.take("[")
            rng = _duration(self.take(kind="duration"))
            if self.peek()[1].startswith(":"):
                raise PromQLError("subqueries are not supported by the simulator")
            self.take("]")
            if not isinstance(node, Selector):
                raise PromQLError("a range can only follow a series selector (subqueries are not supported)")
            node = Selector(node.name, node.matchers, rng, node.offset)
        if self.peek()[1] == "offset":
            self.take()
            sign = -1 if self.peek()[1] == "-" and self.take() else 1
            off = _duration(self.take(kind="duration")) * sign
            if not isinstance(node, Selector):
                raise PromQLError("offset must follow a series selector")
            node = Selector(node.name, node.matchers, node.range, off)
        return node

    def label_list(self) -> tuple[str, ...]:
        self.take("(")
        names = []
        while self.peek()[1] != ")":
            names.append(self.take(kind="ident"))
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        return tuple(names)

    def primary(self) -> Any:
        kind, val = self.peek()
        if kind == "number":
            self.take()
            return Number(float(int(val, 16)) if val.startswith("0x") else float(val))
        if kind == "duration":
            self.take()
            return Number(_duration(val))
        if val == "(":
            self.take("(")
            node = self.binary(0)
            self.take(")")
            return node
        if val == "{":
            return Selector("", self.matchers())
        if kind == "string":
            raise PromQLError("string literals are only allowed as function arguments")
        if kind == "ident":
            self.take()
            if val in _AGGREGATORS and self.peek()[1] in ("(", "by", "without"):
                return self.aggregate(val)
            if self.peek()[1] == "(":
                return self.call(val)
            matchers = self.matchers() if self.peek()[1] == "{" else ()
            return Selector(val, matchers)
        raise PromQLError(f"unexpected {val or 'end of input'!r} in {self.text!r}")

    def matchers(self) -> tuple[Matcher, ...]:
        self.take("{")
        out = []
        while self.peek()[1] != "}":
            name = self.take(kind="ident")
            op = self.take()
            if op not in ("=", "!=", "=~", "!~"):
                raise PromQLError(f"bad matcher operator {op!r}")
            raw = self.take(kind="string")
            out.append(Matcher(name, op, _unquote(raw)))
            if self.peek()[1] == ",":
                self.take(",")
        self.take("}")
        return tuple(out)

    def aggregate(self, op: str) -> Aggregate:
        grouping, without = (), False
        if self.peek()[1] in ("by", "without"):
            without = self.take() == "without"
            grouping = self.label_list()
        self.take("(")
        param = None
        if op in ("topk", "bottomk"):
            param = self.binary(0)
            self.take(",")
        expr = self.binary(0)
        self.take(")")
        if self.peek()[1] in ("by", "without"):
            without = self.take() == "without"
            grouping = self.label_list()
        return Aggregate(op, expr, grouping, without, param)

    def call(self, func: str) -> Call:
        if func not in _FUNCTIONS:
            raise PromQLError(f"function {func}() is not supported by the simulator's evaluator")
        self.take("(")
        args = []
        while self.peek()[1] != ")":
            if self.peek()[0] == "string":
                args.append(_unquote(self.take()))
            else:
                args.append(self.binary(0))
            if self.peek()[1] == ",":
                self.take(",")
        self.take(")")
        return Call(func, tuple(args))


def _unquote(raw: str) -> str:
    if raw[0] == "`":
        return raw[1:-1]
    return bytes(raw[1:-1], "utf-8").decode("unicode_escape")


@lru_cache(maxsize=1024)
def parse(text: str) -> Any:
    """Parse once; expressions repeat every evaluation."""
    return _Parser(text).parse()


# ------------------------------------------------------------------ range functions

def _extrapolated(t: np.ndarray, v: np.ndarray, start: float, end: float, counter: bool, rate: bool) -> float | None:
    """Prometheus 2.x ``extrapolatedRate`` (promql/functions.go)."""
    if len(t) < 2:
        return None
    result = v[-1] - v[0]
    if counter:
        drops = v[1:] < v[:-1]
        result += float(np.sum(v[:-1][drops]))
    to_start, to_end = t[0] - start, end - t[-1]
    sampled = t[-1] - t[0]
    avg = sampled / (len(t) - 1)
    if counter and result > 0 and v[0] >= 0:
        to_zero = sampled * (v[0] / result)
        to_start = min(to_start, to_zero)
    threshold = avg * 1.1
    interval = sampled + (to_start if to_start < threshold else avg / 2) + (to_end if to_end < threshold else avg / 2)
    result *= interval / sampled
    if rate:
        result /= end - start
    return float(result)


def _range_fn(name: str, t: np.ndarray, v: np.ndarray, start: float, end: float, extra: float | None) -> float | None:
    n = len(t)
    if n == 0:
        return None
    if name in ("rate", "increase", "delta"):
        return _extrapolated(t, v, start, end, name != "delta", name == "rate")
    if name in ("irate", "idelta"):
        if n < 2:
            return None
        d = v[-1] - v[-2]
        if name == "irate":
            if v[-1] < v[-2]:
                d = v[-1]
            return float(d / (t[-1] - t[-2]))
        return float(d)
    if name in ("deriv", "predict_linear"):
        if n < 2:
            return None
        x = t - (end if name == "predict_linear" else t[0])
        slope, intercept = np.polyfit(x, v, 1) if np.ptp(x) > 0 else (0.0, float(v[-1]))
        if name == "deriv":
            return float(slope)
        return float(intercept + slope * (extra or 0.0))
    if name == "resets":
        return float(np.sum(v[1:] < v[:-1]))
    if name == "changes":
        return float(np.sum(v[1:] != v[:-1]))
    fn = {"avg_over_time": np.mean, "max_over_time": np.max, "min_over_time": np.min, "sum_over_time": np.sum,
          "count_over_time": len, "last_over_time": lambda a: a[-1], "stddev_over_time": np.std,
          "stdvar_over_time": np.var}[name]
    return float(fn(v))


_RANGE_FUNCS = {"rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "resets", "changes",
                "avg_over_time", "max_over_time", "min_over_time", "sum_over_time", "count_over_time",
                "last_over_time", "stddev_over_time", "stdvar_over_time"}
_MATH: dict[str, Callable[[float], float]] = {
    "abs": abs, "ceil": math.ceil, "floor": math.floor, "sqrt": lambda x: math.sqrt(x) if x >= 0 else math.nan,
    "exp": math.exp, "ln": lambda x: math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan),
}
_FUNCTIONS = _RANGE_FUNCS | set(_MATH) | {"round", "clamp", "clamp_min", "clamp_max", "time", "vector", "scalar",
                                          "absent"}


# ------------------------------------------------------------------ evaluator

def _drop_name(labels: Labels) -> Labels:
    return tuple(p for p in labels if p[0] != "__name__")


def _compare(op: str, a: float, b: float) -> bool:
    return {"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]


def _arith(op: str, a: float, b: float) -> float:
    """IEEE 754 semantics, as Go's float64 (x/0 is ±Inf, 0/0 is NaN)."""
    x, y = np.float64(a), np.float64(b)
    with np.errstate(all="ignore"):
        if op == "+":
            return float(x + y)
        if op == "-":
            return float(x - y)
        if op == "*":
            return float(x * y)
        if op == "/":
            return float(x / y)
        if op == "%":
            return float(np.fmod(x, y))
        if op == "^":
            return float(np.power(x, y))
        if op == "atan2":
            return float(np.arctan2(x, y))
    raise PromQLError(f"unknown operator {op}")


_COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
_SET_OPS = {"and", "or", "unless"}


class Evaluator:
    """Evaluates a parsed expression at simulated time ``t`` against a series source.

    ``select(selector, t) -> InstantVector`` and ``select_range(selector, t) -> RangeVector``
    come from the store adapter (:mod:`.metrics`)."""

    def __init__(self, select: Callable[[Selector, float], InstantVector],
                 select_range: Callable[[Selector, float], RangeVector], *, epoch: float = 0.0) -> None:
        self._select = select
        self._select_range = select_range
        self._epoch = epoch

    def evaluate(self, node: Any, t: float) -> float | InstantVector:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Selector):
            if node.range is not None:
                raise PromQLError("a range vector cannot be the result of an expression; wrap it in a function")
            return self._select(node, t)
        if isinstance(node, Unary):
            v = self.evaluate(node.expr, t)
            if isinstance(v, float):
                return -v if node.op == "-" else v
            return [(_drop_name(lb), -x if node.op == "-" else x) for lb, x in v]
        if isinstance(node, Call):
            return self._call(node, t)
        if isinstance(node, Aggregate):
            return self._aggregate(node, t)
        if isinstance(node, Binary):
            return self._binary(node, t)
        raise PromQLError(f"cannot evaluate {node!r}")

    # -- functions

    def _call(self, node: Call, t: float) -> float | InstantVector:
        f, args = node.func, node.args
        if f in _RANGE_FUNCS:
            sel = args[0] if args else None
            if not isinstance(sel, Selector) or sel.range is None:
                raise PromQLError(f"{f}() needs a range vector argument, e.g. {f}(metric[5m])")
            extra = None
            if f == "predict_linear":
                extra = self._scalar(args[1], t)
            end = t - sel.offset
            start = end - sel.range
            out: InstantVector = []
            for labels, times, values in self._select_range(sel, t):
                r = _range_fn(f, times, values, start, end, extra)
                if r is not None:
                    out.append((labels if f == "last_over_time" else _drop_name(labels), r))
            return out
        if f == "time":
            return self._epoch + t
        if f == "vector":
            return [((), self._scalar(args[0], t))]
        if f == "scalar":
            v = self.evaluate(args[0], t)
            return v[0][1] if isinstance(v, list) and len(v) == 1 else (v if isinstance(v, float) else math.nan)
        if f == "absent":
            v = self.evaluate(args[0], t)
            if v:
                return []
            sel = args[0]
            labels = tuple(sorted((m.name, m.value) for m in getattr(sel, "matchers", ()) if m.op == "="))
            return [(labels, 1.0)]
        v = self.evaluate(args[0], t)
        if not isinstance(v, list):
            raise PromQLError(f"{f}() needs an instant vector")
        if f in _MATH:
            return [(_drop_name(lb), float(_MATH[f](x))) for lb, x in v]
        if f == "round":
            to = self._scalar(args[1], t) if len(args) > 1 else 1.0
            return [(_drop_name(lb), math.floor(x / to + 0.5) * to) for lb, x in v]
        if f == "clamp_min":
            lo = self._scalar(args[1], t)
            return [(_drop_name(lb), max(x, lo)) for lb, x in v]
        if f == "clamp_max":
            hi = self._scalar(args[1], t)
            return [(_drop_name(lb), min(x, hi)) for lb, x in v]
        lo, hi = self._scalar(args[1], t), self._scalar(args[2], t)
        return [(_drop_name(lb), min(max(x, lo), hi)) for lb, x in v] if lo <= hi else []

    def _scalar(self, node: Any, t: float) -> float:
        v = self.evaluate(node, t)
        if isinstance(v, list):
            raise PromQLError("expected a scalar")
        return float(v)

    # -- aggregation

    def _aggregate(self, node: Aggregate, t: float) -> InstantVector:
        v = self.evaluate(node.expr, t)
        if not isinstance(v, list):
            raise PromQLError(f"{node.op}() needs an instant vector")
        groups: dict[Labels, list[tuple[Labels, float]]] = {}
        for labels, x in v:
            if node.without:
                key = tuple(p for p in labels if p[0] not in node.grouping and p[0] != "__name__")
            else:
                key = tuple(p for p in labels if p[0] in node.grouping)
            groups.setdefault(key, []).append((labels, x))
        out: InstantVector = []
        if node.op in ("topk", "bottomk"):
            k = int(self._scalar(node.param, t))
            for members in groups.values():
                ranked = sorted(members, key=lambda m: m[1], reverse=node.op == "topk")
                out.extend(ranked[:k])
            return out
        for key, members in groups.items():
            xs = np.array([m[1] for m in members])
            value = {"sum": np.sum, "min": np.min, "max": np.max, "avg": np.mean, "count": len,
                     "group": lambda a: 1.0, "stddev": np.std, "stdvar": np.var}[node.op](xs)
            out.append((key, float(value)))
        return out

    # -- binary operators

    def _binary(self, node: Binary, t: float) -> float | InstantVector:
        lhs = self.evaluate(node.lhs, t)
        rhs = self.evaluate(node.rhs, t)
        op = node.op
        if op in _SET_OPS:
            if not isinstance(lhs, list) or not isinstance(rhs, list):
                raise PromQLError(f"{op} needs instant vectors on both sides")
            sig = self._signature(node)
            right = {sig(lb) for lb, _ in rhs}
            if op == "and":
                return [(lb, x) for lb, x in lhs if sig(lb) in right]
            if op == "unless":
                return [(lb, x) for lb, x in lhs if sig(lb) not in right]
            left = {sig(lb) for lb, _ in lhs}
            return list(lhs) + [(lb, x) for lb, x in rhs if sig(lb) not in left]
        if isinstance(lhs, float) and isinstance(rhs, float):
            if op in _COMPARISONS:
                if not node.bool_:
                    raise PromQLError("comparisons between scalars must use the bool modifier")
                return 1.0 if _compare(op, lhs, rhs) else 0.0
            return _arith(op, lhs, rhs)
        if isinstance(lhs, list) and isinstance(rhs, float):
            return self._vector_scalar(op, lhs, rhs, node.bool_, scalar_right=True)
        if isinstance(lhs, float) and isinstance(rhs, list):
            return self._vector_scalar(op, rhs, lhs, node.bool_, scalar_right=False)
        return self._vector_vector(node, lhs, rhs)

    @staticmethod
    def _vector_scalar(op: str, vec: InstantVector, s: float, bool_: bool, *, scalar_right: bool) -> InstantVector:
        out: InstantVector = []
        for labels, x in vec:
            a, b = (x, s) if scalar_right else (s, x)
            if op in _COMPARISONS:
                ok = _compare(op, a, b)
                if bool_:
                    out.append((_drop_name(labels), 1.0 if ok else 0.0))
                elif ok:
                    out.append((labels, x))
            else:
                out.append((_drop_name(labels), _arith(op, a, b)))
        return out

    @staticmethod
    def _signature(node: Binary) -> Callable[[Labels], Labels]:
        names = set(node.labels)
        if node.on:
            return lambda lb: tuple(p for p in lb if p[0] in names)
        return lambda lb: tuple(p for p in lb if p[0] not in names and p[0] != "__name__")

    def _vector_vector(self, node: Binary, lhs: InstantVector, rhs: InstantVector) -> InstantVector:
        sig = self._signature(node)
        op = node.op
        one, many, many_is_left = (rhs, lhs, True) if node.group != "right" else (lhs, rhs, False)
        index: dict[Labels, tuple[Labels, float]] = {}
        for labels, x in one:
            key = sig(labels)
            if key in index:
                side = "right" if many_is_left else "left"
                raise PromQLError(f"found duplicate series for the match group {dict(key)} on the {side} hand-side "
                                  "of the operation (many-to-many matching is not allowed)")
            index[key] = (labels, x)
        out: InstantVector = []
        seen: set[Labels] = set()
        for labels, x in many:
            key = sig(labels)
            match = index.get(key)
            if match is None:
                continue
            a, b = (x, match[1]) if many_is_left else (match[1], x)
            if op in _COMPARISONS:
                ok = _compare(op, a, b)
                if not node.bool_ and not ok:
                    continue
                value = (1.0 if ok else 0.0) if node.bool_ else a
            else:
                value = _arith(op, a, b)
            result = dict(labels)
            if op not in _COMPARISONS or node.bool_:
                result.pop("__name__", None)
            if not node.group:
                if node.on:
                    result = {k: v for k, v in result.items() if k in node.labels}
                elif node.matching:
                    result = {k: v for k, v in result.items() if k not in node.labels}
            else:
                other = dict(match[0])
                for name in node.include:
                    if name in other:
                        result[name] = other[name]
                    else:
                        result.pop(name, None)
            out_labels = tuple(sorted(result.items()))
            if not node.group and out_labels in seen:
                raise PromQLError("multiple matches for labels: many-to-one matching must be explicit "
                                  "(group_left/group_right)")
            seen.add(out_labels)
            out.append((out_labels, value))
        return out
