"""Finding records again: filter by time, type, kind, policy and target from keys and metadata
alone, then fetch bodies only for what matched.

A time range becomes a few hour (or day) prefixes, so ``--since 2h`` lists two or three
directories, not the whole bucket. Exact times come from the ``time`` metadata (the key's time,
which is the event's own ``time`` attribute).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from ..clock import from_rfc3339
from ..errors import InvalidInput, KubeSkippyError
from ..ports import AuditObject, AuditSink
from .correlation import read_metadata_value
from .digest import DigestCheck, check_digest
from .keys import hour_prefixes, parse_key
from .record import decode_body

__all__ = ["AuditQuery", "StoredRecord", "record_time", "matches", "find_objects", "load_record", "load_records"]


@dataclass(frozen=True)
class AuditQuery:
    """Which records to look at; every field left None matches everything.

    ``policy`` matches ``namespace/name`` or just ``name``; ``target`` matches ``Kind/ns/name``,
    ``ns/name`` or ``name``; ``type`` matches the CloudEvent type exactly (a dead letter keeps the
    type of the event it carries); ``kind`` is event, dead_letter or healing_action.
    """

    start: float | None = None
    end: float | None = None
    type: str | None = None
    kind: str | None = None
    policy: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class StoredRecord:
    key: str
    metadata: Mapping[str, str]
    body: bytes
    record: dict[str, Any] | None
    """The decoded record, or None when the body is not a record of ours (see ``error``)."""
    error: str = ""

    @property
    def digest(self) -> DigestCheck:
        return check_digest(self.key, self.body, self.metadata)

    @property
    def event(self) -> dict[str, Any]:
        return (self.record or {}).get("event") or {}


def record_time(obj: AuditObject) -> float | None:
    """When the record's event happened: the ``time`` metadata, else the hour in its key."""
    text = obj.metadata.get("time")
    if text:
        try:
            return from_rfc3339(text)
        except ValueError:
            pass
    parts = parse_key(obj.key)
    return parts.hour_start if parts else None


def _suffix_match(value: str, wanted: str) -> bool:
    return value == wanted or value.endswith("/" + wanted)


def matches(obj: AuditObject, query: AuditQuery) -> bool:
    meta = obj.metadata
    if query.start is not None or query.end is not None:
        when = record_time(obj)
        if when is None:
            return False
        if query.start is not None and when < query.start:
            return False
        if query.end is not None and when > query.end:
            return False
    if query.type and read_metadata_value(meta.get("event-type", "")) != query.type:
        return False
    if query.kind and meta.get("kind", "") != query.kind:
        return False
    if query.policy and not _suffix_match(read_metadata_value(meta.get("policy", "")), query.policy):
        return False
    if query.target and not _suffix_match(read_metadata_value(meta.get("target", "")), query.target):
        return False
    return True


def find_objects(sink: AuditSink, query: AuditQuery) -> list[AuditObject]:
    """Objects matching ``query``, oldest first (by event time, then key)."""
    if query.start is not None and query.end is not None and query.end < query.start:
        raise InvalidInput("the end of the time range is before its start", source="audit query")
    prefixes = hour_prefixes(query.start, query.end)
    seen: dict[str, AuditObject] = {}
    for prefix in prefixes:
        for obj in sink.list(prefix):
            if obj.key not in seen and matches(obj, query):
                seen[obj.key] = obj
    return sorted(seen.values(), key=lambda o: (record_time(o) or 0.0, o.key))


def load_record(sink: AuditSink, key: str) -> StoredRecord:
    """One record with its body; a body that is not ours is returned with ``error`` set, not
    raised, so ``verify`` can report it alongside the rest. Sink faults are raised."""
    body, metadata = sink.get(key)
    metadata = {k.lower(): v for k, v in metadata.items()}
    try:
        return StoredRecord(key, metadata, body, decode_body(body))
    except KubeSkippyError as e:
        return StoredRecord(key, metadata, body, None, error=str(e))


def load_records(sink: AuditSink, objects: Iterable[AuditObject]) -> Iterator[StoredRecord]:
    for obj in objects:
        yield load_record(sink, obj.key)
