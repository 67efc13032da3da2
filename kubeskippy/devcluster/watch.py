"""Watches over the store's event log: what a watch selects, how it starts, resumes and waits.

The store appends every change to a bounded log as it commits (see ``ObjectStore._commit``); this
module is the reading side. It is apart from the CRUD code because its rules are the watch
protocol's own: a selector watch turns "started / stopped matching" into ADDED / DELETED, a watch
resumes from a resourceVersion or gets 410 Expired once that version has fallen out of the log,
and a waiting watch sleeps on its kind's condition so writes to other kinds do not wake it.

:class:`WatchLog` is a mixin of :class:`~kubeskippy.devcluster.store.ObjectStore` (see
:mod:`.store_part` for why mixins and what they may use of the store).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from ..kinds import KindInfo
from . import status as st
from .documents import clone_document
from .selectors import FieldRequirement, Requirement, fields_match, labels_match
from .store_part import StorePart

__all__ = ["WatchEvent", "WatchFilter", "WatchLog", "parse_resource_version", "as_filtered"]


@dataclass(frozen=True)
class WatchEvent:
    """One change as a watch reports it. ``previous`` is the object before the change (internal:
    it lets a filtered watch turn "stopped matching" into DELETED)."""

    type: str
    resource_version: int
    object: dict[str, Any]
    previous: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type, "object": self.object}


@dataclass(frozen=True)
class WatchFilter:
    """What a watch or list selects: one kind, optionally one namespace, selectors compiled."""

    info: KindInfo
    namespace: str | None
    labels: tuple[Requirement, ...] = ()
    fields: tuple[FieldRequirement, ...] = ()

    def selects(self, obj: Mapping[str, Any] | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        # The namespace first: a LIST scans the kind in every namespace, most of them elsewhere.
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        if obj.get("apiVersion") != self.info.api_version or obj.get("kind") != self.info.kind:
            return False
        return (not self.labels or labels_match(self.labels, meta.get("labels"))) and (
            not self.fields or fields_match(self.fields, obj))


def parse_resource_version(resource_version: str | None) -> int | None:
    """The version a watch resumes after; None (no version, ``""`` or ``"0"``) means "start from
    the current objects". 400 on anything that is not a non-negative integer."""
    if resource_version in (None, "", "0"):
        return None
    try:
        value = int(resource_version)  # type: ignore[arg-type]
    except ValueError:
        raise st.bad_request(f"invalid resource version {resource_version!r}") from None
    if value < 0:
        raise st.bad_request(f"invalid resource version {resource_version!r}")
    return value


def as_filtered(flt: WatchFilter, event: WatchEvent) -> WatchEvent | None:
    """The event as a filtered watch reports it: an object that starts matching is ADDED, one
    that stops matching is DELETED (the API server's rule for selector watches)."""
    if event.type == "DELETED":
        return event if flt.selects(event.previous) or flt.selects(event.object) else None
    now_selected = flt.selects(event.object)
    was_selected = event.type == "MODIFIED" and flt.selects(event.previous)
    if now_selected and was_selected:
        return event
    if now_selected:
        return WatchEvent("ADDED", event.resource_version, event.object, event.previous)
    if was_selected:
        return WatchEvent("DELETED", event.resource_version, event.object, event.previous)
    return None


class WatchLog(StorePart):
    """Mixin of ObjectStore: reading the event log. The log is the state below, which
    ``ObjectStore.__init__`` creates and ``_commit`` appends to."""

    _history: deque[WatchEvent]
    _forgotten_upto: int  # highest resourceVersion that fell out of the history
    _changed: dict[tuple[str, str], threading.Condition]  # one per kind, on the store's lock

    def events_after(self, flt: WatchFilter, after: int) -> tuple[list[WatchEvent], int]:
        """Changes after resourceVersion ``after`` that ``flt`` selects, and the version to resume
        from. 410 Expired when some of them have fallen out of the history."""
        with self._lock:
            if after < self._forgotten_upto:
                raise st.gone(f"too old resource version: {after} ({self._forgotten_upto + 1})")
            newer = []  # the history is in resourceVersion order: walk back only over what is new
            for event in reversed(self._history):
                if event.resource_version <= after:
                    break
                newer.append(event)
            out = []
            for event in reversed(newer):
                shown = as_filtered(flt, event)
                if shown is not None:
                    out.append(shown)
            return out, max(after, self._revision)

    def watch_start(self, flt: WatchFilter, resource_version: str | None) -> tuple[list[WatchEvent], int]:
        """Begin a watch: with no (or ``"0"``) resourceVersion, synthetic ADDED events for the
        current objects; otherwise the changes after that version (410 when too old)."""
        after = parse_resource_version(resource_version)
        with self._lock:
            if after is not None:
                return self.events_after(flt, after)
            bucket = self._bucket(flt.info)
            initial = [WatchEvent("ADDED", int(obj["metadata"]["resourceVersion"]), clone_document(obj))
                       for key, obj in sorted(bucket.items()) if flt.selects(obj)]
            return initial, self._revision

    def wait_for_events(self, flt: WatchFilter, after: int, timeout: float) -> tuple[list[WatchEvent], int]:
        """Block (real time, at most ``timeout`` s) until ``flt`` selects a change after ``after``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            changed = self._changed.setdefault((flt.info.api_version, flt.info.kind), threading.Condition(self._lock))
            while True:
                events, resume = self.events_after(flt, after)
                if events:
                    return events, resume
                after = resume
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return [], resume
                changed.wait(remaining)

    def watch(self, api_version: str, kind: str, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, timeout: float = 0.0) -> Iterator[WatchEvent]:
        """Iterate watch events; ``timeout=0`` returns what is there now without waiting."""
        flt = self.compile_filter(api_version, kind, namespace, label_selector, field_selector)
        events, after = self.watch_start(flt, resource_version)
        yield from events
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            events, after = (self.wait_for_events(flt, after, remaining) if remaining > 0
                             else self.events_after(flt, after))
            yield from events
            if remaining <= 0 and not events:
                return
