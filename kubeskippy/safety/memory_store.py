"""An in-memory VersionedStore with the compare-and-swap rules of ConfigMaps.

Tests and the simulator use it in place of the Kubernetes API, so it must refuse exactly what the
API server refuses: a stale version (409), creating a name that exists (409), a key a ConfigMap
would reject and a record over 1 MiB (422). Fault injection lets a test start a conflict storm
and check that the ledger still converges.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from ..errors import APIConflict, APIError
from ..ports import Versioned
from .configmap_limits import CONFIGMAP_MAX_BYTES, record_size

__all__ = ["MemoryStore", "StoreStats", "CONFIGMAP_KEY", "CONFIGMAP_MAX_BYTES", "record_size"]

CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


@dataclass
class StoreStats:
    """Operation counts, for benchmarks and for asserting that retries happened."""

    reads: int = 0
    creates: int = 0
    replaces: int = 0
    conflicts: int = 0
    injected_conflicts: int = 0


class MemoryStore:
    """Thread-safe versioned records.

    ``conflict_rate`` (0..1) makes that share of writes fail with an injected 409 even though the
    version matched; ``inject_conflicts(n)`` fails the next ``n`` writes. Both model another
    writer winning the race.
    """

    def __init__(self, *, conflict_rate: float = 0.0, seed: int | None = None,
                 max_bytes: int = CONFIGMAP_MAX_BYTES) -> None:
        if not 0.0 <= conflict_rate < 1.0:
            raise ValueError("conflict_rate must be in [0, 1)")
        self._lock = threading.Lock()
        self._records: dict[str, Versioned] = {}
        self._counter = 0
        self._conflict_rate = conflict_rate
        self._forced_conflicts = 0
        self._rng = random.Random(seed)
        self._max_bytes = max_bytes
        self.stats = StoreStats()

    # -- VersionedStore -------------------------------------------------------------------------

    def read(self, name: str) -> Versioned | None:
        with self._lock:
            self.stats.reads += 1
            return self._records.get(name)

    def create(self, name: str, data: Mapping[str, str]) -> Versioned:
        with self._lock:
            self._check(name, data)
            if name in self._records:
                self.stats.conflicts += 1
                raise APIConflict(409, f'configmaps "{name}" already exists')
            self._maybe_inject(name)
            self.stats.creates += 1
            return self._put(name, data)

    def replace(self, name: str, data: Mapping[str, str], version: str) -> Versioned:
        with self._lock:
            self._check(name, data)
            current = self._records.get(name)
            if current is None:
                raise APIError(404, f'configmaps "{name}" not found')
            if current.version != version:
                self.stats.conflicts += 1
                raise APIConflict(409, f'Operation cannot be fulfilled on configmaps "{name}": '
                                       "the object has been modified; please apply your changes "
                                       "to the latest version and try again")
            self._maybe_inject(name)
            self.stats.replaces += 1
            return self._put(name, data)

    # -- fault injection and inspection ---------------------------------------------------------

    def inject_conflicts(self, count: int) -> None:
        """Fail the next ``count`` writes with 409 as if another writer had just won."""
        with self._lock:
            self._forced_conflicts += count

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._records)

    # -- internals ------------------------------------------------------------------------------

    def _check(self, name: str, data: Mapping[str, str]) -> None:
        bad = [k for k in data if not CONFIGMAP_KEY.match(k)]
        if bad:
            raise APIError(422, f"configmaps {name!r} is invalid: data keys {bad!r} must consist of "
                                "alphanumeric characters, '-', '_' or '.'")
        size = record_size(data)
        if size > self._max_bytes:
            raise APIError(422, f"configmaps {name!r} is invalid: data: Too long: must have at most "
                                f"{self._max_bytes} bytes (got {size})")

    def _maybe_inject(self, name: str) -> None:
        if self._forced_conflicts > 0:
            self._forced_conflicts -= 1
        elif not (self._conflict_rate and self._rng.random() < self._conflict_rate):
            return
        self.stats.conflicts += 1
        self.stats.injected_conflicts += 1
        raise APIConflict(409, f'injected conflict on configmaps "{name}"')

    def _put(self, name: str, data: Mapping[str, str]) -> Versioned:
        self._counter += 1
        record = Versioned(name=name, data=MappingProxyType(dict(data)), version=str(self._counter))
        self._records[name] = record
        return record
