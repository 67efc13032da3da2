"""Each function's own Prometheus metrics, served at GET /metrics on the function's port.

Why a scrape endpoint survives scale to zero: Knative keeps a pod for at least the
scale-to-zero retention period plus grace period after its last request (60 s+ with our
defaults), longer than two scrape intervals, so every increment is scraped at least once before
the pod goes; a new pod starts its counters at zero and Prometheus' rate()/increase() treat
that as a counter reset. Nothing is seeded: a series appears when its first event happens.

Why not prometheus_client: importing it costs every cold start ~35 ms (its package loads the
exposition module, and with it http.server, urllib.request, gzip and wsgiref), for six labelled
counters and one histogram. Those, and the text format 0.0.4 (the same lines prometheus_client
writes, ``_created`` series included), are below.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Sequence

__all__ = ["FunctionMetrics", "Counter", "Histogram", "Registry", "CONTENT_TYPE_LATEST"]

CONTENT_TYPE_LATEST = "text/plain; version=0.0.4; charset=utf-8"


def _value(v: float) -> str:
    if v == math.inf:
        return "+Inf"
    return repr(float(v))


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _labels(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(pairs)) + "}"


class _Family:
    """A metric with label names; ``labels(*values)`` returns the child for those values."""

    kind = ""
    suffix = ""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], registry: "Registry") -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], object] = {}
        self._lock = threading.Lock()
        registry.register(self)

    def labels(self, *values: str):  # noqa: ANN201 - the child type depends on the family
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected {len(self.labelnames)} label values, got {len(values)}")
        key = tuple(str(v) for v in values)
        with self._lock:
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self._new_child()
            return child

    def _new_child(self) -> object:
        raise NotImplementedError

    def _items(self) -> list[tuple[list[tuple[str, str]], object]]:
        with self._lock:
            return [(list(zip(self.labelnames, key)), child) for key, child in self._children.items()]

    def _header(self, name: str, kind: str) -> list[str]:
        return [f"# HELP {name} {self.documentation}", f"# TYPE {name} {kind}"]

    def exposition(self) -> list[str]:
        raise NotImplementedError


class _CounterChild:
    def __init__(self) -> None:
        self.value = 0.0
        self.created = time.time()
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        with self._lock:
            self.value += amount


class Counter(_Family):
    """``<name>_total`` and ``<name>_created``, as prometheus_client writes a counter."""

    def _new_child(self) -> _CounterChild:
        return _CounterChild()

    def exposition(self) -> list[str]:
        items = self._items()
        lines = self._header(f"{self.name}_total", "counter")
        lines += [f"{self.name}_total{_labels(pairs)} {_value(c.value)}"  # type: ignore[attr-defined]
                  for pairs, c in items]
        if items:
            lines += self._header(f"{self.name}_created", "gauge")
            lines += [f"{self.name}_created{_labels(pairs)} {_value(c.created)}"  # type: ignore[attr-defined]
                      for pairs, c in items]
        return lines


class _HistogramChild:
    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = buckets
        self.counts = [0.0] * len(buckets)
        self.sum = 0.0
        self.created = time.time()
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        with self._lock:
            self.sum += value
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    self.counts[i] += 1


class Histogram(_Family):
    """Cumulative ``_bucket`` series (``le`` up to ``+Inf``), ``_count``, ``_sum`` and ``_created``."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], registry: "Registry", *,
                 buckets: Sequence[float]) -> None:
        bounds = sorted(float(b) for b in buckets)
        self.buckets = tuple(bounds if bounds and bounds[-1] == math.inf else [*bounds, math.inf])
        super().__init__(name, documentation, labelnames, registry)

    def _new_child(self) -> _HistogramChild:
        return _HistogramChild(self.buckets)

    def exposition(self) -> list[str]:
        items = self._items()
        lines = self._header(self.name, "histogram")
        for pairs, h in items:
            for bound, count in zip(h.buckets, h.counts):  # type: ignore[attr-defined]
                lines.append(f"{self.name}_bucket{_labels([*pairs, ('le', _value(bound))])} {_value(count)}")
            lines.append(f"{self.name}_count{_labels(pairs)} {_value(h.counts[-1])}")  # type: ignore[attr-defined]
            lines.append(f"{self.name}_sum{_labels(pairs)} {_value(h.sum)}")  # type: ignore[attr-defined]
        if items:
            lines += self._header(f"{self.name}_created", "gauge")
            lines += [f"{self.name}_created{_labels(pairs)} {_value(h.created)}"  # type: ignore[attr-defined]
                      for pairs, h in items]
        return lines


class Registry:
    """The metric families of one function, in registration order."""

    def __init__(self) -> None:
        self._families: list[_Family] = []

    def register(self, family: _Family) -> None:
        if any(f.name == family.name for f in self._families):
            raise ValueError(f"duplicate metric {family.name}")
        self._families.append(family)

    def collect(self) -> list[_Family]:
        return list(self._families)

    def exposition(self) -> bytes:
        lines = [line for family in self._families for line in family.exposition()]
        return ("\n".join(lines) + "\n").encode()


class FunctionMetrics:
    def __init__(self, function: str) -> None:
        self.function = function
        self.registry = Registry()
        self.events = Counter("kubeskippy_events", "CloudEvents handled, by type and HTTP status",
                              ["function", "type", "status"], self.registry)
        self.decision_seconds = Histogram(
            "kubeskippy_decision_seconds", "Time spent in the core deciding on one event",
            ["function"], self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.actions = Counter("kubeskippy_actions", "Remediation outcomes by action type and result",
                               ["function", "action_type", "result"], self.registry)
        self.safety_blocks = Counter("kubeskippy_safety_blocks", "Actions refused by a safety rule",
                                     ["function", "reason"], self.registry)
        self.llm_calls = Counter("kubeskippy_llm_calls", "Analyses by analyzer, and fallbacks to rules",
                                 ["function", "analyzer", "result"], self.registry)
        self.emitted = Counter("kubeskippy_emitted_events", "CloudEvents this function produced",
                               ["function", "type"], self.registry)

    def exposition(self) -> bytes:
        return self.registry.exposition()
