"""Fault injection for the development cluster: make chosen requests fail, stall or drop, so
retry logic can be tested against API-server-shaped failures.

One :class:`Faults` plan serves the HTTP server and :class:`MemoryCluster` alike. A fault matches
by Kubernetes verb (``get list watch create update patch delete``) and a regular expression on the
request path (``/api/v1/namespaces/ns/pods/web/eviction``); it fires ``count`` times (``None`` =
until cleared) and then retires. Faults are checked in the order they were injected.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Iterable

__all__ = ["Fault", "Faults"]


@dataclass
class Fault:
    """What to do to a matching request.

    :param status: answer with this HTTP status and an API-server Status body (None: answer normally
        after ``delay``).
    :param delay: seconds of added latency before answering (or failing).
    :param drop: close the connection without an answer (a client sees a connection error/timeout).
    :param retry_after: seconds for a ``Retry-After`` header / ``details.retryAfterSeconds``.
    """

    status: int | None = None
    count: int | None = 1
    verbs: frozenset[str] | None = None
    path: str | None = None
    delay: float = 0.0
    drop: bool = False
    reason: str | None = None
    message: str | None = None
    retry_after: int | None = None
    hits: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, verb: str, path: str) -> bool:
        if self.verbs is not None and verb not in self.verbs:
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count


class Faults:
    """A thread-safe, ordered list of :class:`Fault` rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, *, status: int | None = None, count: int | None = 1, verbs: Iterable[str] | None = None,
               path: str | None = None, delay: float = 0.0, drop: bool = False, reason: str | None = None,
               message: str | None = None, retry_after: int | None = None) -> Fault:
        """Add a rule; returns it so a test can read ``fault.hits`` afterwards."""
        if status is None and not delay and not drop:
            raise ValueError("a fault needs a status, a delay or drop=True")
        fault = Fault(status=status, count=count, verbs=frozenset(verbs) if verbs is not None else None, path=path,
                      delay=delay, drop=drop, reason=reason, message=message, retry_after=retry_after)
        with self._lock:
            self._faults.append(fault)
        return fault

    def conflict_storm(self, count: int, *, path: str | None = None,
                       verbs: Iterable[str] = ("update", "patch")) -> Fault:
        """``count`` consecutive 409 Conflicts on writes, as racing writers would cause."""
        return self.inject(status=409, count=count, verbs=verbs, path=path, reason="Conflict",
                           message="the object has been modified; please apply your changes to the latest "
                                   "version and try again")

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, verb: str, path: str) -> Fault | None:
        """The first live rule matching this request, counted as fired; None when none does."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(verb, path):
                    fault.hits += 1
                    return fault
        return None

    @property
    def active(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if not f.exhausted]
