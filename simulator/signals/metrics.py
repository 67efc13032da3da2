"""The Metrics port over the simulated series: PromQL in, samples out.

Times at the port are epoch seconds (the Clock port's unit); the store keeps simulated seconds.
An instant query takes each series' latest scrape within the lookback delta (5 min), the way
Prometheus does; a range selector takes the scrapes inside ``[t - range, t]``. A ``query_range``
is evaluated once on its whole grid of step times (:mod:`.evaluation`), not step by step.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from kubeskippy.ports import Sample, Series

from .evaluation import Evaluator, Matrix
from .promql import Labels, PromQLError, Selector, parse
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
        self._cache: dict[tuple[str, float], object] = {}
        self._series_cache: dict[tuple, dict] = {}  # selector matchers → {(family, variant, serial): labels}
        self.cache_hits = 0

    def _evaluate(self, promql: str, t: float):
        """An instant query at simulated ``t``, memoised once every scrape up to ``t`` is in:
        results for such a time can no longer change."""
        final = self.store.count > 0 and t <= self.store.last_time
        key = (promql, round(t, 6))
        if final and key in self._cache:
            self.cache_hits += 1
            return self._cache[key]
        result = self.evaluator.evaluate(parse(promql), t)
        if final:
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[key] = result
        return result

    # -- the port

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        self.queries += 1
        t = self._now() if at is None else at - self.epoch
        result = self._evaluate(promql, t)
        if isinstance(result, float):
            return [Sample({}, result)]
        return [Sample(dict(labels), value) for labels, value in result]

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        self.queries += 1
        if step <= 0:
            raise PromQLError("step must be positive")
        node = parse(promql)  # syntax errors surface before any step is evaluated
        stamps: list[float] = []
        t = start
        while t <= end + 1e-9:
            stamps.append(t)
            t += step
        if not stamps:
            return []
        result = self.evaluator.evaluate_range(node, np.array([s - self.epoch for s in stamps]))
        points: dict[Labels, list[tuple[float, float]]] = {}
        if isinstance(result, Matrix):
            present = result.present
            for j, stamp in enumerate(stamps):
                for i in np.flatnonzero(present[:, j]):
                    points.setdefault(result.labels[i], []).append((stamp, float(result.values[i, j])))
        else:
            points[()] = [(stamp, float(v)) for stamp, v in zip(stamps, result)]
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

    def _series_memo(self, selector: Selector) -> dict:
        """Per selector, (family, variant, serial) → label tuple or None (hashing the matchers once
        per selection, not once per series)."""
        memo = self._series_cache.get(selector.matchers)
        if memo is None or len(memo) > 200_000:
            memo = self._series_cache[selector.matchers] = {}
        return memo

    def _series(self, selector: Selector, family, index: int, variant, serial: int, memo: dict) -> tuple | None:
        """The label tuple of one series if ``selector`` matches it (memoised: series repeat)."""
        key = (family.name, index, serial)
        found = memo.get(key, False)
        if found is not False:
            return found
        labels = dict(self.store.labels(serial))
        if not family.per_container:
            labels.pop("container", None)
        labels.update(variant.labels)
        labels["__name__"] = family.name
        found = tuple(sorted(labels.items())) if self._match(selector, labels) else None
        memo[key] = found
        return found

    def _select(self, selector: Selector, times: np.ndarray) -> Matrix:
        """The instant selector at each of ``times``: each series' latest scrape within the
        lookback delta. Series are ordered by metric variant, then row, then serial."""
        steps = len(times)
        family, variants = self._variants(selector)
        if family is None:
            return Matrix.empty(steps)
        slots = self.store.latest_slots(times - selector.offset, self.lookback)
        at = np.flatnonzero(slots >= 0)
        if not len(at):
            return Matrix.empty(steps)
        slots = slots[at]
        cols = _SlotColumns(self.store.cols, slots)
        serial_m = self.store.serial[slots]  # (steps with a scrape, width)
        memo = self._series_memo(selector)
        labels_out: list = []
        blocks_v, blocks_p = [], []
        for index, variant in enumerate(variants):
            values_m = variant.value(cols)
            step_i, rows = np.nonzero(~np.isnan(values_m) & (serial_m > 0))
            if not len(rows):
                continue
            serials = serial_m[step_i, rows]
            keys = (rows.astype(np.int64) << 40) | serials
            if len(at) == 1:  # one scrape: one serial per row, rows ascending — already unique and sorted
                inverse = np.arange(len(keys))
            else:
                keys, inverse = np.unique(keys, return_inverse=True)
            values = np.zeros((len(keys), steps))
            present = np.zeros((len(keys), steps), dtype=bool)
            values[inverse, at[step_i]] = values_m[step_i, rows]
            present[inverse, at[step_i]] = True
            keep = []
            for k, key in enumerate(keys.tolist()):
                labels = self._series(selector, family, index, variant, key & ((1 << 40) - 1), memo)
                if labels is not None:
                    labels_out.append(labels)
                    keep.append(k)
            blocks_v.append(values[keep])
            blocks_p.append(present[keep])
        if not labels_out:
            return Matrix.empty(steps)
        return Matrix(labels_out, np.concatenate(blocks_v), np.concatenate(blocks_p))

    def _select_range(self, selector: Selector, times: np.ndarray) -> list[tuple]:
        """Every series with a scrape inside some step's window ``[t - range, t]`` (both ends
        included, Prometheus 2.x), as (labels, times, values) in time order."""
        family, variants = self._variants(selector)
        if family is None:
            return []
        ends = times - selector.offset
        slots = self.store.slots_between(float(ends.min()) - selector.range - 1e-9, float(ends.max()))
        if not len(slots):
            return []
        stamps = self.store.times[slots]  # simulated seconds, like the evaluator's times
        serial_m = self.store.serial[slots]  # (S, width)
        cols = _SlotColumns(self.store.cols, slots)
        memo = self._series_memo(selector)
        out: list[tuple] = []
        for index, variant in enumerate(variants):
            values_m = variant.value(cols)
            # Samples as (row, slot) pairs, grouped by series (row, serial), in time order: one
            # sort for all series instead of a pass per row.
            rows, at = np.nonzero((~np.isnan(values_m) & (serial_m > 0)).T)
            if not len(rows):
                continue
            keys = (rows.astype(np.int64) << 40) | serial_m[at, rows]
            order = np.argsort(keys, kind="stable")  # within a series, slots stay in time order
            keys, rows, at = keys[order], rows[order], at[order]
            sample_t = stamps[at]
            sample_v = values_m[at, rows].astype(float)
            starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
            ends = np.append(starts[1:], len(keys))
            for a, b, key in zip(starts.tolist(), ends.tolist(), keys[starts].tolist()):
                labels = self._series(selector, family, index, variant, key & ((1 << 40) - 1), memo)
                if labels is not None:
                    out.append((labels, sample_t[a:b], sample_v[a:b]))
        return out

class _SlotColumns(dict):
    """The stored columns at some slots, sliced only when a metric family asks for them (a
    family reads one or two of the fifteen columns)."""

    def __init__(self, cols: dict[str, np.ndarray], slots: np.ndarray) -> None:
        super().__init__()
        self._cols = cols
        self._slots = slots

    def __missing__(self, name: str) -> np.ndarray:
        value = self[name] = self._cols[name][self._slots]
        return value
