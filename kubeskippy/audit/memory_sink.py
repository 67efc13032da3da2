"""An in-memory AuditSink for tests and the simulator: the port's rules, no storage."""

from __future__ import annotations

from typing import Mapping

from ..clock import Clock, WallClock
from ..errors import APINotFound
from ..ports import AuditObject

__all__ = ["MemorySink"]


class MemorySink:
    """Objects in a dict. ``puts`` counts writes so tests can tell a skipped redelivery from an
    overwrite; ``tamper`` rewrites a body behind the recorder's back, as an attacker would."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or WallClock()
        self._objects: dict[str, tuple[bytes, dict[str, str], float]] = {}
        self.puts = 0

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        self.puts += 1
        self._objects[key] = (bytes(body), {k.lower(): v for k, v in metadata.items()}, self._clock.now())

    def get(self, key: str) -> tuple[bytes, Mapping[str, str]]:
        try:
            body, metadata, _ = self._objects[key]
        except KeyError:
            raise APINotFound(404, f"no audit object {key!r}") from None
        return body, dict(metadata)

    def exists(self, key: str) -> bool:
        return key in self._objects

    def list(self, prefix: str = "") -> list[AuditObject]:
        return [AuditObject(key=k, size=len(body), metadata=dict(meta), last_modified=at)
                for k, (body, meta, at) in sorted(self._objects.items()) if k.startswith(prefix)]

    def tamper(self, key: str, body: bytes) -> None:
        _, metadata, at = self._objects[key]
        self._objects[key] = (bytes(body), metadata, at)
