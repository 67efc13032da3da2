"""In-memory Cluster (reads only) and Metrics doubles for detection tests.

FakeMetrics answers like Prometheus does for stored raw points: a query at time t sees the last
point at or before t within the lookback (5 minutes), and a range query evaluates that at
start, start + step, … ≤ end. It does not evaluate PromQL: series are stored per expression text.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from kubeskippy.errors import APINotFound
from kubeskippy.ports import Sample, Series

__all__ = ["FakeCluster", "FakeMetrics"]


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _path(obj: dict, dotted: str) -> object:
    cur: object = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


class FakeCluster:
    """Objects by (group, kind, namespace, name); get/list with label and field selectors (equality)."""

    def __init__(self, objects: Iterable[dict] = ()) -> None:
        self._by_scope: dict[tuple[str, str, str], dict[str, dict]] = {}
        self.calls: list[tuple] = []
        for obj in objects:
            self.add(obj)

    def add(self, obj: dict) -> dict:
        meta = obj["metadata"]
        scope = (_group(obj["apiVersion"]), obj["kind"], meta.get("namespace") or "")
        self._by_scope.setdefault(scope, {})[meta["name"]] = obj
        return obj

    def remove(self, kind: str, name: str, namespace: str | None = None, api_version: str = "v1") -> None:
        self._by_scope.get((_group(api_version), kind, namespace or ""), {}).pop(name, None)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        self.calls.append(("get", kind, namespace, name))
        obj = self._by_scope.get((_group(api_version), kind, namespace or ""), {}).get(name)
        if obj is None:
            raise APINotFound(404, f"{kind} {namespace}/{name} not found")
        return obj

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        self.calls.append(("list", kind, namespace, field_selector))
        group = _group(api_version)
        if namespace is None:
            pools = [objs for (g, k, _ns), objs in self._by_scope.items() if g == group and k == kind]
        else:
            pools = [self._by_scope.get((group, kind, namespace), {})]
        wanted_fields = [tuple(term.split("=", 1)) for term in field_selector.split(",")] if field_selector else []
        wanted_labels = [tuple(term.split("=", 1)) for term in label_selector.split(",")] if label_selector else []
        out = []
        for pool in pools:
            for obj in pool.values():
                if any(str(_path(obj, path)) != value for path, value in wanted_fields):
                    continue
                labels = obj["metadata"].get("labels") or {}
                if any(labels.get(k) != v for k, v in wanted_labels):
                    continue
                out.append(obj)
        return out

    def _read_only(self, *args: object, **kwargs: object) -> None:
        raise NotImplementedError("detection only reads the cluster")

    create = replace = patch = delete = evict = logs = _read_only  # type: ignore[assignment]


class FakeMetrics:
    """Raw points per expression; Prometheus-like lookback for instant and range queries."""

    def __init__(self, lookback: float = 300.0) -> None:
        self.lookback = lookback
        self._series: dict[str, list[tuple[dict, list[tuple[float, float]]]]] = {}
        self.calls: list[tuple] = []

    def add_series(self, promql: str, labels: Mapping[str, str], points: Iterable[tuple[float, float]]) -> None:
        self._series.setdefault(promql, []).append((dict(labels), sorted(points)))

    def _value_at(self, points: list[tuple[float, float]], t: float) -> float | None:
        found = None
        for ts, value in points:
            if ts > t + 1e-9:
                break
            found = (ts, value)
        if found is None or t - found[0] > self.lookback:
            return None
        return found[1]

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        self.calls.append(("query", promql, at))
        assert at is not None, "detection always passes the Clock's time"
        out = []
        for labels, points in self._series.get(promql, []):
            value = self._value_at(points, at)
            if value is not None:
                out.append(Sample(labels, value))
        return out

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        self.calls.append(("query_range", promql, start, end, step))
        out = []
        for labels, points in self._series.get(promql, []):
            sampled = []
            k = 0
            while start + k * step <= end + 1e-9:
                t = start + k * step
                value = self._value_at(points, t)
                if value is not None:
                    sampled.append((t, value))
                k += 1
            if sampled:
                out.append(Series(labels, tuple(sampled)))
        return out
