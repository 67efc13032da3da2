"""Event triggers: how many times did a matching Kubernetes Event occur within the window?

One Event object can stand for many occurrences. The API server's correlator folds repeats into
one object: core ``v1`` keeps ``count``, ``firstTimestamp`` and ``lastTimestamp``; the newer
``events.k8s.io/v1`` (and v1 objects written by new-style recorders) keep ``eventTime`` for the
first occurrence and ``series.count`` / ``series.lastObservedTime`` for the repeats. Both shapes
are read here (the two APIs are views of the same objects).

Counting within ``[now - window, now]`` (both edges inclusive):

* last occurrence before the window start → 0;
* first occurrence at or after the window start → all of them;
* a run straddling the window start → the occurrences are taken as evenly spaced between first
  and last, and those at or after the start are counted (at least the last one).

Occurrences stamped after ``now`` (clock skew between nodes and us) still count.
"""

from __future__ import annotations

import math
import re
from typing import Callable, Iterable, NamedTuple

from .objects import meta_of, parse_time

__all__ = ["EventRecord", "read_event", "occurrences_in_window", "count_in_window", "compile_reason",
           "REGEX_METACHARACTERS"]

REGEX_METACHARACTERS = frozenset(".^$*+?{}[]\\|()")
"""A reason containing any of these is a regular expression (full match); otherwise exact."""


class EventRecord(NamedTuple):
    namespace: str
    name: str
    reason: str
    type: str
    message: str
    involved_api_version: str
    involved_kind: str
    involved_namespace: str | None
    involved_name: str
    involved_uid: str | None
    first: float
    last: float
    count: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def _int(value: object, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value)


def read_event(obj: dict) -> EventRecord | None:
    """Normalise a ``v1`` or ``events.k8s.io/v1`` Event; ``None`` when it names no object or time."""
    meta = meta_of(obj)
    new_api = obj.get("apiVersion", "").startswith("events.k8s.io/")
    involved = obj.get("regarding" if new_api else "involvedObject") or obj.get("involvedObject") or {}
    if not isinstance(involved, dict) or not involved.get("kind") or not involved.get("name"):
        return None
    series = obj.get("series") if isinstance(obj.get("series"), dict) else None
    if new_api:
        first_raw, last_raw, count_raw = (obj.get("deprecatedFirstTimestamp"), obj.get("deprecatedLastTimestamp"),
                                          obj.get("deprecatedCount"))
        message = obj.get("note") or ""
    else:
        first_raw, last_raw, count_raw = obj.get("firstTimestamp"), obj.get("lastTimestamp"), obj.get("count")
        message = obj.get("message") or ""
    event_time = parse_time(obj.get("eventTime"))
    created = parse_time(meta.get("creationTimestamp"))
    first = parse_time(first_raw) or event_time or created
    last = parse_time(series.get("lastObservedTime")) if series else None
    last = last or parse_time(last_raw) or event_time or first
    if first is None or last is None:
        return None
    first = min(first, last)
    if series is not None:
        count = _int(series.get("count"), 1)
    else:
        count = _int(count_raw, 1)
    kind = involved["kind"]
    namespace = involved.get("namespace") or (None if kind in ("Node", "Namespace") else meta.get("namespace"))
    return EventRecord(
        namespace=meta.get("namespace") or "", name=meta.get("name", ""), reason=str(obj.get("reason") or ""),
        type=str(obj.get("type") or ""), message=str(message), involved_api_version=involved.get("apiVersion") or "v1",
        involved_kind=kind, involved_namespace=namespace, involved_name=involved["name"],
        involved_uid=involved.get("uid"), first=first, last=last, count=max(count, 1),
    )


def occurrences_in_window(record: EventRecord, start: float) -> tuple[int, float | None]:
    """(occurrences at or after ``start``, estimated time of the earliest of them)."""
    if record.last < start:
        return 0, None
    if record.first >= start:
        return record.count, record.first
    if record.count == 1:
        return 1, record.last
    spacing = (record.last - record.first) / (record.count - 1)
    if spacing <= 0:
        return record.count, record.first
    first_inside = math.ceil((start - record.first) / spacing - 1e-9)
    first_inside = min(max(first_inside, 0), record.count - 1)
    return record.count - first_inside, record.first + first_inside * spacing


def count_in_window(records: Iterable[EventRecord], start: float) -> tuple[int, float | None, list[EventRecord]]:
    """Sum over several Event objects: (occurrences, earliest, the records that contributed)."""
    total, earliest, used = 0, None, []
    for record in records:
        n, since = occurrences_in_window(record, start)
        if n:
            total += n
            used.append(record)
            if since is not None and (earliest is None or since < earliest):
                earliest = since
    return total, earliest, used


def compile_reason(reason: str) -> Callable[[str], bool]:
    """A predicate for an Event reason: empty matches all; metacharacters make it a full-match regex.

    Raises ``re.error`` for an invalid expression (reported by the caller with the field path).
    """
    if not reason:
        return lambda _reason: True
    if REGEX_METACHARACTERS.isdisjoint(reason):
        return reason.__eq__
    pattern = re.compile(reason)
    return lambda candidate: pattern.fullmatch(candidate) is not None
