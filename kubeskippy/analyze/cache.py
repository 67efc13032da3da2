"""A short-lived, process-local cache of diagnoses, so a storm of identical findings costs one
model call.

Process-local on purpose: each function replica keeps its own, and a replica that scales to zero
forgets it. That is enough for a storm (findings of one incident arrive within seconds at the
replicas the Broker spreads them over, so at most one call per replica) and avoids writing model
answers into shared state. Concurrent callers asking for the same key wait for the first one
(single flight) instead of calling the model in parallel. Expiry is measured on the Clock port.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

from ..clock import Clock
from ..events.model import Finding

__all__ = ["TTLCache", "analysis_key"]

T = TypeVar("T")


def analysis_key(finding: Finding, policy: str, analyzer: str) -> str:
    """Fingerprint + a digest of the evidence (timestamps left out: a repeat of the same
    observation is the same question)."""
    evidence = [e.model_dump(mode="json", exclude={"since"}) for e in finding.evidence]
    digest = hashlib.sha256(json.dumps([finding.fingerprint, finding.trigger, evidence, policy, analyzer],
                                       sort_keys=True, default=str).encode()).hexdigest()
    return digest[:32]


class TTLCache(Generic[T]):
    """Thread-safe, bounded (LRU), time-limited; ``get_or_compute`` is single-flight per key."""

    def __init__(self, clock: Clock, *, ttl: float = 300.0, max_entries: int = 1024) -> None:
        self.clock = clock
        self.ttl = ttl
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[str, threading.Event] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> T | None:
        with self._lock:
            return self._get_locked(key)

    def _get_locked(self, key: str) -> T | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if self.clock.now() >= expires:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: str, value: T, ttl: float | None = None) -> None:
        with self._lock:
            self._items[key] = (self.clock.now() + (self.ttl if ttl is None else ttl), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get_or_compute(self, key: str, compute: Callable[[], tuple[T, float | None]]) -> tuple[T, bool]:
        """Return (value, hit). ``compute`` returns the value and its TTL (None: the default;
        0: do not cache). One caller computes; others with the same key wait for it."""
        while True:
            with self._lock:
                value = self._get_locked(key)
                if value is not None:
                    self.hits += 1
                    return value, True
                waiter = self._inflight.get(key)
                if waiter is None:
                    self._inflight[key] = threading.Event()
                    self.misses += 1
                    break
            waiter.wait()
        try:
            value, ttl = compute()
            if ttl != 0:
                self.put(key, value, ttl)
            return value, False
        finally:
            with self._lock:
                self._inflight.pop(key).set()
