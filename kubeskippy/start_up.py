"""A function process's module loading, made without the cyclic garbage collector.

WHY: importing a function (pydantic, the events and policy models, the core) creates some
hundred thousand container objects, nearly all of which live as long as the process. The
collector, counting allocations, runs about a hundred young and ten middle-generation
collections over them while they load and finds almost nothing to free (~25 M instructions of
the import alone). Pausing it while the modules load, then ``gc.freeze()``-ing what they made,
skips that work and keeps later collections (the first event's) from scanning the start-up
objects again: 69–73 M instructions (~6 %) off each function's cold start, which Knative pays on
every scale from zero (docs/functions.md, "Session 6").

The cost: a reference cycle made and dropped while loading is never freed. Module loading
makes few (pydantic's schema building a handful), once per process, so memory stays bounded.
The collector is back on as it was once the block ends, for everything the process does next.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["loading_modules"]


@contextmanager
def loading_modules() -> Iterator[None]:
    """Pause the cyclic collector for the block, then freeze what exists and restore it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
