"""The ports: the only ways decision code touches the world.

All ports are synchronous. The core is plain sequential code that the SimPy simulator calls
directly (in virtual time) and that the async Knative functions call through
``asyncio.to_thread`` so the event loop never blocks on the synchronous ``kubernetes`` client.

Kubernetes objects travel as plain JSON dicts (what the API returns), never client model classes,
so the production adapter, the API test double and the simulated cluster are interchangeable.

| port          | production                     | simulator / tests                    |
|---------------|--------------------------------|--------------------------------------|
| Clock         | WallClock                      | SimPy env.now, ManualClock           |
| Cluster       | adapters.kubernetes            | simulator cluster, tests' API double |
| VersionedStore| adapters.configmap_store       | safety.memory_store                  |
| Metrics       | adapters.prometheus            | simulator series, fixed samples      |
| Analyzer      | rules / Ollama / OpenAI        | rules, scripted LLM server           |
| AuditSink     | adapters.s3_audit (minio)      | audit.local_sink, audit.memory_sink  |
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Mapping, NamedTuple, Protocol, Sequence, runtime_checkable

from .clock import Clock

__all__ = [
    "Clock",
    "Cluster",
    "Fanout",
    "fan_out",
    "run_in_order",
    "PatchType",
    "Versioned",
    "VersionedStore",
    "Sample",
    "Series",
    "Metrics",
    "AuditSink",
    "AuditObject",
]

PatchType = Literal["strategic", "merge", "json"]

Fanout = Callable[[Sequence[Callable[[], Any]]], list]
"""Runs independent calls (at once, if it can) and returns their results in order; the first
error, in call order, is raised once all have ended (kubeskippy.services.fanout.ThreadFanout).
Detection, analysis, the executor and the ledger take one to make independent reads or writes
in one round instead of several."""


def run_in_order(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """The sequential :data:`Fanout`: what the core does when it is given none."""
    return [call() for call in calls]


def fan_out(fanout: Fanout | None, calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """``calls`` through ``fanout`` when there is one, else one after the other in order."""
    return fanout(calls) if fanout is not None else run_in_order(calls)


@runtime_checkable
class Cluster(Protocol):
    """Generic access to Kubernetes objects as dicts.

    Errors: :class:`~kubeskippy.errors.APINotFound` (404), :class:`~kubeskippy.errors.APIConflict`
    (409), :class:`~kubeskippy.errors.APITooManyRequests` (429, e.g. a PDB blocking an eviction),
    other :class:`~kubeskippy.errors.APIError` / :class:`~kubeskippy.errors.TemporaryError` for
    transient faults. ``dry_run=True`` is server-side dry run: validated, nothing persisted,
    the would-be object returned.
    """

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict: ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict]: ...

    def create(self, obj: dict, *, dry_run: bool = False) -> dict: ...

    def replace(self, obj: dict, *, dry_run: bool = False, subresource: str | None = None) -> dict:
        """PUT; ``obj.metadata.resourceVersion`` must match the stored one or 409."""
        ...

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        patch: dict | list,
        *,
        patch_type: PatchType = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict: ...

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        dry_run: bool = False,
    ) -> None: ...

    def evict(self, name: str, namespace: str, *, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> None:
        """POST pods/eviction (policy/v1 Eviction); 429 when a PDB forbids it."""
        ...

    def logs(self, name: str, namespace: str, *, container: str | None = None, tail_lines: int = 50) -> str: ...


class Versioned(NamedTuple):
    """A named record of string data and the version it was read at (a ConfigMap's data and
    metadata.resourceVersion)."""

    name: str
    data: Mapping[str, str]
    version: str


@runtime_checkable
class VersionedStore(Protocol):
    """Compare-and-swap storage. A stale ``version`` on replace, or an existing name on create,
    raises :class:`~kubeskippy.errors.APIConflict`; the caller re-reads, re-decides, retries."""

    def read(self, name: str) -> Versioned | None: ...

    def create(self, name: str, data: Mapping[str, str]) -> Versioned: ...

    def replace(self, name: str, data: Mapping[str, str], version: str) -> Versioned: ...


class Sample(NamedTuple):
    """One element of an instant vector."""

    labels: Mapping[str, str]
    value: float


class Series(NamedTuple):
    """One element of a range vector: (timestamp, value) points in time order."""

    labels: Mapping[str, str]
    points: Sequence[tuple[float, float]] = ()


@runtime_checkable
class Metrics(Protocol):
    """PromQL evaluation. ``at``/``start``/``end`` are epoch seconds from the Clock port."""

    def query(self, promql: str, at: float | None = None) -> list[Sample]: ...

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]: ...


class AuditObject(NamedTuple):
    key: str
    size: int
    metadata: Mapping[str, str]
    last_modified: float


@runtime_checkable
class AuditSink(Protocol):
    """Object storage for the audit trail, one object per key. Keys are derived from the event,
    so a redelivery maps to the same key; the recorder writes a key only once (first write wins)."""

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None: ...

    def get(self, key: str) -> tuple[bytes, Mapping[str, str]]: ...

    def list(self, prefix: str = "") -> list[AuditObject]: ...
