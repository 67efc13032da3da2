"""What the API server allows in one ConfigMap, as the ledger and its in-memory double count it.

Its own module so that the compare-and-swap loop (``safety.cas``), which every remediate and every
learning write runs, does not load ``safety.memory_store``, the test and simulator double (a
dataclass, a regular expression and the store itself: ~4 M instructions of remediate's cold start).
"""

from __future__ import annotations

from typing import Mapping

__all__ = ["CONFIGMAP_MAX_BYTES", "record_size"]

CONFIGMAP_MAX_BYTES = 1024 * 1024


def record_size(data: Mapping[str, str]) -> int:
    """Bytes of keys plus values (UTF-8): what counts against a ConfigMap's 1 MiB.

    Runs on every write of a record that may hold thousands of entries, so the usual all-ASCII
    case is counted with C-level loops only; anything else is encoded to count exactly."""
    keys, values = data.keys(), data.values()
    if all(map(str.isascii, keys)) and all(map(str.isascii, values)):
        return sum(map(len, keys)) + sum(map(len, values))
    return sum(len(k.encode()) + len(v.encode()) for k, v in data.items())
