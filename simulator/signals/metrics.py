"""The Metrics port over the simulated series: PromQL in, samples out.

Times at the port are epoch seconds (the Clock port's unit); the store keeps simulated seconds.
An instant query takes each series' latest scrape within the lookback delta (5 min), the way
Prometheus does; a range selector takes the scrapes inside ``[t - range, t]``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from kubeskippy.ports import Sample, Series

from .promql import Evaluator, InstantVector, Labels, PromQLError, RangeVector, Selector, parse
from .store import FAMILIES, SeriesStore

__all__ = ["SimulatedMetrics"]


class SimulatedMetrics:
    """Implements :class:`kubeskippy.ports.Metrics`."""

    def __init__(self, store: SeriesStore, *, epoch: float, now: Callable[[], float], lookback: float = 300.0) -> None:
        self.store = store
        self.epoch = epoch
        self._now = now  # simulated seconds
        self.lookback = lookback
        self.evaluator = Evaluator(self._select, self._select_range, epoch=epoch)
        self.queries = 0

    # -- the port

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        self.queries += 1
        t = self._now() if at is None else at - self.epoch
        result = self.evaluator.evaluate(parse(promql), t)
        if isinstance(result, float):
            return [Sample({}, result)]
        return [Sample(dict(labels), value) for labels, value in result]

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        self.queries += 1
        if step <= 0:
            raise PromQLError("step must be positive")
        node = parse(promql)
        points: dict[Labels, list[tuple[float, float]]] = {}
        t = start
        while t <= end + 1e-9:
            result = self.evaluator.evaluate(node, t - self.epoch)
            if isinstance(result, float):
                result = [((), result)]
            for labels, value in result:
                points.setdefault(labels, []).append((t, value))
            t += step
        return [Series(dict(labels), tuple(pts)) for labels, pts in sorted(points.items())]

    # -- selectors

    def _match(self, selector: Selector, labels: dict[str, str]) -> bool:
        return all(m.matches(labels.get(m.name, "")) for m in selector.matchers)

    def _variants(self, selector: Selector):
        name = selector.name
        if not name:
            for m in selector.matchers:
                if m.name == "__name__" and m.op == "=":
                    name = m.value
        family = FAMILIES.get(name)
        if family is None:
            return None, ()
        return family, family.variants

    def _labels_for(self, family, variant, serial: int) -> dict[str, str]:
        base = dict(self.store.labels(serial))
        if not family.per_container:
            base.pop("container", None)
        base.update(variant.labels)
        base["__name__"] = family.name
        return base

    def _candidate_rows(self, selector: Selector, serials: np.ndarray) -> np.ndarray:
        """Rows with a serial whose base labels pass the namespace/pod matchers (cheap pre-filter)."""
        rows = np.flatnonzero(serials > 0)
        quick = [m for m in selector.matchers if m.name in ("namespace", "pod", "container", "node")]
        if not quick:
            return rows
        keep = [r for r in rows if all(m.matches(self.store.labels(int(serials[r])).get(m.name, "")) for m in quick)]
        return np.array(keep, dtype=np.int64)

    def _select(self, selector: Selector, t: float) -> InstantVector:
        family, variants = self._variants(selector)
        slot = self.store.latest_slot(t - selector.offset, self.lookback)
        if family is None or slot is None:
            return []
        cols = self.store.columns_at(slot)
        serials = self.store.serial[slot]
        rows = self._candidate_rows(selector, serials)
        out: InstantVector = []
        for variant in variants:
            values = variant.value(cols)
            for r in rows:
                v = values[r]
                if np.isnan(v):
                    continue
                labels = self._labels_for(family, variant, int(serials[r]))
                if self._match(selector, labels):
                    out.append((tuple(sorted(labels.items())), float(v)))
        return out

    def _select_range(self, selector: Selector, t: float) -> RangeVector:
        family, variants = self._variants(selector)
        if family is None:
            return []
        end = t - selector.offset
        slots = self.store.slots_between(end - selector.range - 1e-9, end)  # both ends included (Prometheus 2.x)
        if not len(slots):
            return []
        times = self.store.times[slots]  # simulated seconds, like the evaluator's t
        serial_m = self.store.serial[slots]  # (S, width)
        cols = {name: col[slots] for name, col in self.store.cols.items()}
        rows = np.flatnonzero((serial_m > 0).any(axis=0))
        out: RangeVector = []
        for variant in variants:
            values_m = variant.value(cols)
            for r in rows:
                col_serials = serial_m[:, r]
                for serial in np.unique(col_serials[col_serials > 0]):
                    mask = (col_serials == serial) & ~np.isnan(values_m[:, r])
                    if not mask.any():
                        continue
                    labels = self._labels_for(family, variant, int(serial))
                    if not self._match(selector, labels):
                        continue
                    out.append((tuple(sorted(labels.items())), times[mask], values_m[:, r][mask].astype(float)))
        return out
