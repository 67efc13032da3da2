"""Scraped series: a ring buffer of the pod table's signal columns at every scrape.

One scrape copies a handful of columns (float32) for every row, so its cost is a few vector
copies whatever the pod count; the metric families Prometheus would expose (cAdvisor,
kube-state-metrics, the app's ``http_requests_total``) are *views* over those columns, labelled
on read. A row's occupant is told apart by its serial, so a replaced pod is a new series, as in
Prometheus. Retention bounds memory: ``retention / scrape_interval`` scrapes are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..world.table import BACKOFF, CREATING, RUNNING, SIGNAL_COLUMNS, TERM_REASONS, TERMINATED

if TYPE_CHECKING:
    from ..world import World

__all__ = ["SeriesStore", "Family", "FAMILIES", "STORED_COLUMNS"]

_STATE_COLUMNS = ("restarts", "ready", "cstate", "lt_reason", "deleting")
STORED_COLUMNS = SIGNAL_COLUMNS + _STATE_COLUMNS
_WAITING = {CREATING: "ContainerCreating", BACKOFF: "CrashLoopBackOff"}


@dataclass(frozen=True)
class Variant:
    """One label combination of a family and how its value comes from the stored columns."""

    labels: dict[str, str]
    value: Callable[[dict[str, np.ndarray]], np.ndarray]  # columns → values (nan: no sample)


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    type: str  # gauge / counter
    variants: tuple[Variant, ...] = field(default_factory=tuple)
    per_container: bool = True


def _running(c: dict[str, np.ndarray], values: np.ndarray) -> np.ndarray:
    return np.where(c["cstate"] == RUNNING, values, np.nan)


def _flag(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 1.0, np.nan)


def _families() -> dict[str, Family]:
    fams = [
        Family("container_memory_working_set_bytes", "Current working set in bytes (cAdvisor).", "gauge",
               (Variant({}, lambda c: _running(c, c["mem"])),)),
        Family("container_cpu_usage_seconds_total", "Cumulative CPU time consumed in seconds (cAdvisor).", "counter",
               (Variant({}, lambda c: _running(c, c["cpu_total"])),)),
        Family("kube_pod_container_resource_limits", "Container resource limits (kube-state-metrics).", "gauge",
               (Variant({"resource": "memory", "unit": "byte"}, lambda c: np.where(c["mem_limit"] > 0, c["mem_limit"], np.nan)),
                Variant({"resource": "cpu", "unit": "core"}, lambda c: np.where(c["cpu_limit"] > 0, c["cpu_limit"], np.nan)))),
        Family("kube_pod_container_resource_requests", "Container resource requests (kube-state-metrics).", "gauge",
               (Variant({"resource": "memory", "unit": "byte"}, lambda c: np.where(c["mem_req"] > 0, c["mem_req"], np.nan)),
                Variant({"resource": "cpu", "unit": "core"}, lambda c: np.where(c["cpu_req"] > 0, c["cpu_req"], np.nan)))),
        Family("kube_pod_container_status_restarts_total", "Container restarts (kube-state-metrics).", "counter",
               (Variant({}, lambda c: c["restarts"].astype(float)),)),
        Family("kube_pod_container_status_ready", "Container readiness (kube-state-metrics).", "gauge",
               (Variant({}, lambda c: c["ready"].astype(float)),)),
        Family("kube_pod_container_status_running", "Container running (kube-state-metrics).", "gauge",
               (Variant({}, lambda c: (c["cstate"] == RUNNING).astype(float)),)),
        Family("kube_pod_status_ready", "Pod Ready condition (kube-state-metrics).", "gauge",
               (Variant({"condition": "true"}, lambda c: c["ready"].astype(float)),
                Variant({"condition": "false"}, lambda c: 1.0 - c["ready"].astype(float)),
                Variant({"condition": "unknown"}, lambda c: np.zeros_like(c["ready"], dtype=float))), per_container=False),
        Family("kube_pod_container_status_last_terminated_reason", "Last terminated reason (kube-state-metrics).",
               "gauge", tuple(Variant({"reason": name}, (lambda code: lambda c: _flag(c["lt_reason"] == code))(code))
                              for code, name in TERM_REASONS.items())),
        Family("kube_pod_container_status_waiting_reason", "Waiting reason (kube-state-metrics).", "gauge",
               tuple(Variant({"reason": name}, (lambda code: lambda c: _flag(c["cstate"] == code))(code))
                     for code, name in _WAITING.items())),
        Family("kube_pod_container_status_terminated", "Container terminated (kube-state-metrics).", "gauge",
               (Variant({}, lambda c: (c["cstate"] == TERMINATED).astype(float)),)),
        Family("http_requests_total", "HTTP requests served by the app, by status code.", "counter",
               (Variant({"code": "200"}, lambda c: c["req_total"] - c["err_total"]),
                Variant({"code": "500"}, lambda c: c["err_total"])), per_container=False),
        Family("app_request_latency_seconds", "Mean request latency the app reports.", "gauge",
               (Variant({}, lambda c: _running(c, c["lat"])),), per_container=False),
        Family("app_error_ratio", "Share of requests answered with 5xx, as the app reports it.", "gauge",
               (Variant({}, lambda c: _running(c, c["err"])),), per_container=False),
    ]
    return {f.name: f for f in fams}


FAMILIES = _families()


class SeriesStore:
    """Ring buffer of scrapes. ``times[k]`` is simulated seconds; rows beyond ``width`` are new."""

    def __init__(self, retention: float, interval: float, capacity: int = 256) -> None:
        self.slots = max(2, int(round(retention / interval)) + 1)
        self.interval = interval
        self.times = np.full(self.slots, np.nan)
        self.count = 0
        self.last_time = float("-inf")
        self._order: np.ndarray | None = None
        self._sorted_times = np.zeros(0)
        self.width = 0
        self.serial = np.zeros((self.slots, 0), dtype=np.int64)
        self.block = np.zeros((self.slots, len(STORED_COLUMNS), 0), dtype=np.float32)  # slot × column × row
        self.cols: dict[str, np.ndarray] = {}  # name → (slots × rows) view of the block
        self._labels: dict[int, dict[str, str]] = {}  # serial → namespace/pod/container/node, on first read
        self._world: "World | None" = None
        self._ensure(capacity)

    def _ensure(self, width: int) -> None:
        if width <= self.width:
            return
        width = max(width, 2 * self.width)
        serial = np.zeros((self.slots, width), dtype=np.int64)
        serial[:, : self.width] = self.serial
        self.serial = serial
        block = np.full((self.slots, len(STORED_COLUMNS), width), np.nan, dtype=np.float32)
        block[:, :, : self.width] = self.block
        self.block = block
        self.cols = {name: block[:, c, :] for c, name in enumerate(STORED_COLUMNS)}
        self.width = width

    def scrape(self, world: "World", t: float) -> None:
        tbl = world.table
        n = tbl.size
        self._ensure(n)
        slot = self.count % self.slots
        self.times[slot] = t
        self.last_time = t
        self._order = None
        # Rows at and beyond n were never used: NaN / serial 0 in every slot already.
        dst = self.block[slot, :, :n]
        k = len(SIGNAL_COLUMNS)
        dst[:k] = tbl.signals[:, :n]
        dst[k] = tbl.restarts[:n]
        dst[k + 1] = tbl.ready[:n]
        dst[k + 2] = tbl.cstate[:n]
        dst[k + 3] = tbl.lt_reason[:n]
        np.logical_not(np.isnan(tbl.deleting[:n]), out=dst[k + 4], casting="unsafe")
        self.serial[slot, :n] = tbl.serial[:n]
        dead = np.flatnonzero(~tbl.alive[:n])
        if len(dead):
            dst[:, dead] = np.nan
            self.serial[slot, dead] = 0
        if self._world is None:
            self._world = world
        self.count += 1

    def scrape_block(self, world: "World", frames, picks: np.ndarray) -> None:
        """The scrapes at ticks ``picks`` of a block (``world.block.Frames``): what ``scrape``
        would have copied at each, written at once (only the last ``slots`` are kept)."""
        if not len(picks):
            return
        tbl = world.table
        n = frames.n
        self._ensure(n)
        total = len(picks)
        picks = picks[-self.slots:]  # earlier ones would be overwritten within the block anyway
        if picks[0] < getattr(frames, "totals_from", 0):
            raise ValueError("the block's counters are running totals only from row "
                             f"{frames.totals_from}, the scrapes kept start at {picks[0]}")
        slots = (self.count + total - len(picks) + np.arange(len(picks))) % self.slots
        self.times[slots] = frames.T[picks]
        self.last_time = float(frames.T[picks[-1]])
        self._order = None
        per_tick = {"mem": frames.mem, "cpu_total": frames.cpu_total, "req_total": frames.req_total,
                    "err_total": frames.err_total, "lat": frames.lat, "err": frames.err,
                    "restarts": frames.restarts, "ready": frames.ready, "cstate": frames.cstate,
                    "lt_reason": frames.lt_reason}
        for c, name in enumerate(STORED_COLUMNS):
            if name in per_tick:
                self.block[slots, c, :n] = per_tick[name][picks]
            elif name == "deleting":
                self.block[slots, c, :n] = ~np.isnan(tbl.deleting[:n])
            else:  # limits and requests: constant while no pod changes
                self.block[slots, c, :n] = getattr(tbl, name)[:n]
        self.serial[slots, :n] = tbl.serial[:n]
        dead = np.flatnonzero(~tbl.alive[:n])
        if len(dead):
            self.block[np.ix_(slots, np.arange(len(STORED_COLUMNS)), dead)] = np.nan
            self.serial[np.ix_(slots, dead)] = 0
        if self._world is None:
            self._world = world
        self.count += total

    def labels(self, serial: int) -> dict[str, str]:
        """Base labels of a pod's series (identities outlive the pods, so old series resolve)."""
        found = self._labels.get(serial)
        if found is None and self._world is not None:
            ident = self._world.pods[serial]
            found = {"namespace": ident.namespace, "pod": ident.name, "container": ident.container}
            if ident.node:
                found["node"] = ident.node
            self._labels[serial] = found
        return found or {}

    def slots_between(self, start: float, end: float) -> np.ndarray:
        """Slot indices with start < time ≤ end, oldest first."""
        if self._order is None:
            idx = np.flatnonzero(~np.isnan(self.times))
            self._order = idx[np.argsort(self.times[idx])]
            self._sorted_times = self.times[self._order]
        lo = np.searchsorted(self._sorted_times, start, side="right")
        hi = np.searchsorted(self._sorted_times, end + 1e-9, side="right")
        return self._order[lo:hi]

    def latest_slots(self, ats: np.ndarray, lookback: float) -> np.ndarray:
        """For each time in ``ats``, the slot of the latest scrape in (at - lookback, at], or -1."""
        self.slots_between(0.0, -1.0)  # sorts the slots if a scrape came in since the last read
        lo = np.searchsorted(self._sorted_times, ats - lookback, side="right")
        hi = np.searchsorted(self._sorted_times, ats + 1e-9, side="right")
        return np.where(hi > lo, self._order[np.maximum(hi - 1, 0)] if len(self._order) else -1, -1)

    def latest_slot(self, at: float, lookback: float) -> int | None:
        idx = self.slots_between(at - lookback, at)
        return int(idx[-1]) if len(idx) else None

    def columns_at(self, slot: int) -> dict[str, np.ndarray]:
        return {name: col[slot] for name, col in self.cols.items()}

    def nbytes(self) -> int:
        return self.serial.nbytes + sum(c.nbytes for c in self.cols.values())
