"""A Cluster that refuses every read, so a synchronous decision can be tried on the event loop.

Why: most of the events detect receives are dismissed without reading anything (a healthy Pod's
update, a Normal Event nobody's policy counts). Handing each of them to a worker thread and back
cost detect ~20 % of its own instructions per request (docs/functions.md, "Round 6"). Run against
:data:`NO_READS`, the decision either finishes (no read was needed: it ran on the loop without
blocking it) or stops at its first read with :class:`ReadNeeded`, and the caller decides again
in a worker thread with the real Cluster. The decision must have no effect before its reads
(detect's has none: it only reads and returns findings).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ReadNeeded", "NoReads", "NO_READS"]


class ReadNeeded(Exception):
    """The decision wants to read the cluster (not an error: decide it where reading may block)."""


class NoReads:
    """The Cluster port's reads, each raising :class:`ReadNeeded`; nothing else is offered."""

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        raise ReadNeeded(f"get {api_version} {kind} {namespace}/{name}")

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        raise ReadNeeded(f"list {api_version} {kind} in {namespace or 'all namespaces'}")

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"NoReads offers get and list only, not {name!r}")


NO_READS = NoReads()
