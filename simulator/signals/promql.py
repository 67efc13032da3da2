"""A small PromQL over the simulated series: the language (lexer, parser, AST) and the
range functions on one window; :mod:`.evaluation` evaluates the tree.

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

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from kubeskippy.errors import InvalidInput

__all__ = ["PromQLError", "parse", "Labels", "InstantVector", "RangeVector", "Selector", "Matcher", "Number",
           "Call", "Aggregate", "Binary", "Unary"]


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
_MATH = {"abs", "ceil", "floor", "sqrt", "exp", "ln"}
_FUNCTIONS = _RANGE_FUNCS | _MATH | {"round", "clamp", "clamp_min", "clamp_max", "time", "vector", "scalar", "absent"}
