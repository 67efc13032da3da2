"""Process settings made once, at the first run: the start-up objects set aside from the cyclic
garbage collector, and glibc's allocator told to keep the run's large arrays on its heap.

WHY the collector: by the time a run starts, the interpreter holds tens of thousands of
container objects that live as long as the process — modules, classes, functions, numpy's,
SimPy's and pydantic's tables, the parsed scenario. CPython collects its oldest generation once
the objects promoted since the last full collection exceed a quarter of those it already holds,
and right after the imports nearly all of them are still "pending": the first full collection
then falls inside the first run and scans every start-up object (about 46,000: ~0.025 s of CPU,
nearly a tenth of a 100-pod × 24 h run) to find nothing. ``gc.freeze()`` moves them to the permanent
generation, which collections skip; the collector stays on for everything a run creates.

WHY the allocator: a run's matrices (ticks × pods) are mostly between 128 KiB and a few MiB.
glibc serves such blocks with ``mmap`` until its threshold has adapted to them, and every fresh
mapping is page-faulted in again (~18,000 faults, ~0.04 s of system time in a 100-pod run); with
the thresholds set (``mallopt``: blocks under 32 MiB from the heap, up to 64 MiB of free heap
kept) freed blocks are reused without new faults (~10,000 left: the heap growing to the run's
peak). Only where the C library has ``mallopt``.

Once per process: later runs (the grid of scenarios × arms × seeds) must not freeze the objects
earlier runs left behind, or their cycles would never be freed. Memory stays bounded: what is
frozen is what existed before the first run, once; the heap keeps at most 64 MiB free beyond
what is in use, and blocks of 32 MiB or more are still mapped and returned on their own.
"""

from __future__ import annotations

import ctypes
import gc

__all__ = ["apply_first_run_settings", "keep_large_blocks_on_the_heap", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h

_applied = False


def apply_first_run_settings() -> bool:
    """Freeze the objects tracked now and set the allocator's thresholds, the first time it is
    called in this process; True then."""
    global _applied
    if _applied:
        return False
    _applied = True
    gc.freeze()
    keep_large_blocks_on_the_heap()
    return True


def keep_large_blocks_on_the_heap() -> bool:
    """glibc's ``mallopt`` thresholds (see the module's docstring); False where there is none."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # no such library or function (TypeError: no CDLL(None))
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
