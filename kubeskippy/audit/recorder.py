"""The recorder: one event in, one object out, however often the event is delivered.

Delivery is at least once. The key is a pure function of the event, and the first write wins: a
redelivery finds its key taken and writes nothing. That keeps the first ``received_at``, adds no
extra object version in a versioned (object-lock) bucket, and never tries to overwrite an object
under COMPLIANCE retention. Two replicas racing on the same event both write the same key; one
object remains either way.

Sink faults propagate unchanged: a TemporaryError makes the audit function answer 5xx, the
Broker redelivers, and nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from ..errors import APINotFound
from ..ports import AuditSink
from .record import build_record

__all__ = ["Recorder", "Recorded"]


@dataclass(frozen=True)
class Recorded:
    key: str
    written: bool
    """False when the key already held this event (a redelivery)."""


class Recorder:
    """Turns CloudEvents (dicts in structured form, or SDK events) into audit objects."""

    def __init__(self, sink: AuditSink, clock: Clock, *, function: str = "audit") -> None:
        self.sink = sink
        self.clock = clock
        self.function = function

    def record(self, event: Any) -> str:
        """Store ``event`` and return its key. Raises InvalidInput for a non-event, and whatever
        the sink raises (TemporaryError for transient faults) otherwise."""
        return self.write(event).key

    def write(self, event: Any) -> Recorded:
        """Like :meth:`record`, also saying whether this call wrote the object."""
        record = build_record(event, received_at=self.clock.now(), function=self.function)
        if self._already_recorded(record.key):
            return Recorded(record.key, written=False)
        self.sink.put(record.key, record.body, record.metadata)
        return Recorded(record.key, written=True)

    def _already_recorded(self, key: str) -> bool:
        """Sinks may offer a cheap ``exists(key)``; any sink can answer through ``get``."""
        exists = getattr(self.sink, "exists", None)
        if callable(exists):
            return bool(exists(key))
        try:
            self.sink.get(key)
        except APINotFound:
            return False
        return True
