"""The pod table: one row per pod, one numpy column per field.

Why columns instead of pod objects: 10,000 pods ticking every 15 s is 40 million pod-updates a
simulated day. As columns, one tick is a few dozen vector operations whatever the pod count, and
Python runs per pod only when something discrete happens to it (created, killed, restarted).
Rows of deleted pods are reused; ``serial`` tells occupants apart (metric series are keyed by it).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PodTable", "SIGNAL_COLUMNS",
    "NONE", "CREATING", "RUNNING", "BACKOFF", "TERMINATED",
    "REASON_NONE", "REASON_OOM", "REASON_ERROR", "REASON_COMPLETED",
    "TERM_REASONS",
]

# Container state (one app container per pod).
NONE = 0  # not scheduled yet
CREATING = 1  # waiting: ContainerCreating (image pull / create), starts at ``due``
RUNNING = 2
BACKOFF = 3  # waiting: CrashLoopBackOff, restarts at ``due``
TERMINATED = 4  # terminated, restarting at ``due`` without back-off (first failure)

REASON_NONE, REASON_OOM, REASON_ERROR, REASON_COMPLETED = 0, 1, 2, 3
TERM_REASONS = {REASON_OOM: "OOMKilled", REASON_ERROR: "Error", REASON_COMPLETED: "Completed"}

_COLUMNS: dict[str, type] = {
    # identity
    "alive": np.bool_, "serial": np.int64, "dep": np.int32, "rs": np.int32, "ordinal": np.int64,
    "node": np.int32, "model": np.int16, "watched": np.bool_, "pkey": np.uint64, "rv": np.int64,
    # lifecycle
    "created": np.float64, "scheduled": np.float64, "cstate": np.int8, "due": np.float64,
    "started": np.float64, "ready": np.bool_, "ready_at": np.float64, "deleting": np.float64,
    "gone_at": np.float64, "restarts": np.int32, "fails": np.int32, "backoff_update": np.float64,
    "backoff": np.float64, "pulled": np.bool_,
    # last terminated state
    "lt_reason": np.int8, "lt_code": np.int16, "lt_started": np.float64, "lt_finished": np.float64,
    # probes: consecutive failures and the index of the next probe
    "rp_fail": np.int16, "lp_fail": np.int16, "rp_next": np.int64, "lp_next": np.int64,
    # resources (bytes, cores)
    "mem_limit": np.float64, "cpu_limit": np.float64, "mem_req": np.float64, "cpu_req": np.float64,
    # signals written by the workload models
    "mem": np.float64, "cpu": np.float64, "err": np.float64, "lat": np.float64,
    "cpu_total": np.float64, "req_total": np.float64, "err_total": np.float64,
    # exits requested by the model this tick (nan: none)
    "exit_at": np.float64, "exit_code": np.int16,
    # workload model scratch state and parameters
    # (rkey: the incarnation's random key; mkey, mkey2: a model's pre-mixed streams, see randomness.premix)
    "rkey": np.uint64, "mkey": np.uint64, "mkey2": np.uint64,
    "s0": np.float64, "s1": np.float64, "s2": np.float64, "s3": np.float64, "n0": np.int64, "n1": np.int64, "n2": np.int64,
}

_NAN_COLUMNS = ("scheduled", "due", "started", "ready_at", "deleting", "gone_at", "lt_started",
                "lt_finished", "exit_at", "backoff_update")

SIGNAL_COLUMNS = ("mem", "cpu_total", "mem_limit", "cpu_limit", "mem_req", "cpu_req", "req_total", "err_total",
                  "lat", "err")
"""The float columns a scrape copies: kept as the rows of one matrix, ``signals``, so a scrape
copies them with one operation (each name is a view of its row)."""

_PENDING_COLUMNS = ("due", "ready_at", "exit_at", "gone_at")  # cleared when a row is released


class PodTable:
    """Columns of pod state; ``rows()`` gives the indices of live pods."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = 0
        self.size = 0  # rows ever used (high-water mark)
        self._free: list[int] = []
        for name, dtype in _COLUMNS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))
        self._grow(max(capacity, 16))

    def _grow(self, capacity: int) -> None:
        signals = np.zeros((len(SIGNAL_COLUMNS), capacity))
        for name, dtype in _COLUMNS.items():
            old = getattr(self, name)
            new = signals[SIGNAL_COLUMNS.index(name)] if name in SIGNAL_COLUMNS else np.zeros(capacity, dtype=dtype)
            if name in _NAN_COLUMNS:
                new[:] = np.nan
            new[: len(old)] = old
            setattr(self, name, new)
        self.signals = signals
        self.capacity = capacity

    def allocate(self) -> int:
        """A free row, reset to defaults."""
        if not self._free:
            if self.size == self.capacity:
                self._grow(self.capacity * 2)
            self.size += 1
            return self.size - 1  # never used: already at defaults
        row = self._free.pop()
        for name in _COLUMNS:
            getattr(self, name)[row] = np.nan if name in _NAN_COLUMNS else 0
        return row

    def release(self, row: int) -> None:
        self.alive[row] = False
        for name in _PENDING_COLUMNS:  # so "is anything due?" checks need not mask dead rows
            getattr(self, name)[row] = np.nan
        self._free.append(row)

    def live(self) -> np.ndarray:
        """Indices of live rows."""
        return np.flatnonzero(self.alive[: self.size])

    def view(self, name: str) -> np.ndarray:
        """A column limited to the used rows (no copy)."""
        return getattr(self, name)[: self.size]

    @staticmethod
    def column_names() -> tuple[str, ...]:
        return tuple(_COLUMNS)
