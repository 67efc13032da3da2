"""Time as a port: the wall clock in production, SimPy's ``env.now`` in the simulator, a manual
clock in tests. Decision code never calls ``time.time()`` itself."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Protocol, runtime_checkable

__all__ = ["Clock", "WallClock", "ManualClock", "OffsetClock", "to_rfc3339", "from_rfc3339"]


@runtime_checkable
class Clock(Protocol):
    """Seconds since the Unix epoch (float)."""

    def now(self) -> float: ...


class WallClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to; for tests and exact-time assertions."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = float(when)


class OffsetClock:
    """The wall clock plus an offset a test sets: ``with clock.shifted(-120)`` stamps what is
    written meanwhile as two minutes old (a pod crash-looping for a while), while everything else
    still compares against the real time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    @contextmanager
    def shifted(self, seconds: float) -> Iterator[None]:
        self.offset = seconds
        try:
            yield
        finally:
            self.offset = 0.0


def to_rfc3339(ts: float) -> str:
    """Kubernetes-style timestamp (second precision, Z suffix)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_rfc3339(text: str) -> float:
    """Parse an RFC 3339 timestamp (with Z or an offset, optional fraction) into epoch seconds."""
    s = text.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    # Python < 3.11 cannot parse more than 6 fraction digits; Alertmanager sends nanoseconds.
    if "." in s:
        head, rest = s.split(".", 1)
        frac = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            frac += rest[i]
            i += 1
        s = f"{head}.{frac[:6] or '0'}{rest[i:]}"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()
