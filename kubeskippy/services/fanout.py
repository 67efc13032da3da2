"""Run independent API reads at once, in a small thread pool.

Why: a crash loop's analysis and remediation start with reads that do not depend on each other
(the pod, its owners, their Events, the log, the namespace). One after the other they cost a
round trip each; issued together they cost about one. The core stays synchronous: it is handed a
``fanout`` callable and decides itself which reads are independent; this module only runs them.

Each call runs in a copy of the caller's context (``contextvars``), so a read made through
:class:`~kubeskippy.services.request_cache.RequestCachedCluster` lands in the caller's request
cache. Results come back in the order of the calls; if any call raised, the first such error (in
call order) is raised after all have finished, so nothing is left running behind the caller.

Two levels: a fan-out made from inside a fanned-out call (diagnostics reading Events and logs at
once while the executor runs it beside other reads) goes to a second pool, so a wait never holds
a worker of the pool it waits on (no deadlock however busy); a third level runs its calls one
after the other in its own thread.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

from ..ports import run_in_order

__all__ = ["ThreadFanout", "run_in_order"]

_inside = threading.local()


class ThreadFanout:
    """``fanout(calls) -> results``; at most ``workers`` reads in flight per level and process."""

    def __init__(self, workers: int = 8) -> None:
        self._pools = [ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"kubeskippy-read{level}",
                                          initializer=_mark_pool_thread, initargs=(level + 1,))
                       for level in range(2)]

    def __call__(self, calls: Sequence[Callable[[], Any]]) -> list[Any]:
        level = getattr(_inside, "level", 0)
        if len(calls) <= 1 or level >= len(self._pools):
            return run_in_order(calls)
        pool = self._pools[level]
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
        results: list[Any] = []
        error: BaseException | None = None
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as e:  # noqa: BLE001 - re-raised below, after every call ended
                error = error or e
                results.append(None)
        if error is not None:
            raise error
        return results

    def shutdown(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True)


def _mark_pool_thread(level: int) -> None:
    _inside.level = level
