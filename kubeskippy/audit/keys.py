"""Where an audit record lives: ``YYYY/MM/DD/HH/<type>/<id>.json``.

The key is a pure function of the event (its ``time`` attribute, its type and its id), so an
at-least-once redelivery lands on the key the first delivery used. Date and hour come first so a
time range narrows to a handful of prefixes and a listing never has to walk the whole bucket.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = [
    "KEY_SUFFIX",
    "KeyParts",
    "audit_key",
    "parse_key",
    "safe_segment",
    "hour_prefixes",
    "MAX_HOUR_PREFIXES",
]

KEY_SUFFIX = ".json"
MAX_HOUR_PREFIXES = 24 * 7
"""Above this many hours a listing falls back to day prefixes (then to the whole store)."""

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,159}$")
_KEY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/([^/]+)/([^/]+)\.json$")


def safe_segment(text: str) -> str:
    """``text`` itself when it is a safe path segment, otherwise a stable digest of it.

    Event ids are free-form strings (a UUID, ``plan-1/step``, 300 characters of anything); a
    slash or ``..`` must never reach a key or a file name, and the same id must always map to
    the same segment.
    """
    if _SAFE.match(text) and ".." not in text:
        return text
    return "h-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class KeyParts:
    """A key split back into its parts; ``hour_start`` is the epoch second the hour began."""

    hour_start: float
    type: str
    id: str

    @property
    def hour_end(self) -> float:
        return self.hour_start + 3600.0


def audit_key(event_time: float, event_type: str, record_id: str) -> str:
    """The object key for an event of ``event_type`` with ``record_id`` that happened at ``event_time``."""
    when = datetime.fromtimestamp(event_time, tz=timezone.utc)
    return f"{when:%Y/%m/%d/%H}/{safe_segment(event_type)}/{safe_segment(record_id)}{KEY_SUFFIX}"


def parse_key(key: str) -> KeyParts | None:
    """The parts of a key this module wrote, or None for anything else in the store."""
    m = _KEY.match(key)
    if not m:
        return None
    year, month, day, hour = (int(g) for g in m.groups()[:4])
    try:
        start = datetime(year, month, day, hour, tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None
    return KeyParts(hour_start=start, type=m.group(5), id=m.group(6))


def hour_prefixes(start: float | None, end: float | None, *, limit: int = MAX_HOUR_PREFIXES) -> list[str]:
    """Key prefixes that cover ``[start, end]``: one per hour, one per day for long ranges, or
    ``[""]`` (everything) when the range is open or longer than ``limit`` days.

    Records can only sit under the hour of their event time, so these prefixes are complete;
    callers still filter exact times inside the first and last hour.
    """
    if start is None or end is None or end < start:
        return [""]
    first = datetime.fromtimestamp(start, tz=timezone.utc).replace(minute=0, second=0, microsecond=0)
    last = datetime.fromtimestamp(end, tz=timezone.utc)
    hours = int((last - first).total_seconds() // 3600) + 1
    if hours <= limit:
        return [f"{first + timedelta(hours=i):%Y/%m/%d/%H}/" for i in range(hours)]
    first_day = first.replace(hour=0)
    days = (last.date() - first_day.date()).days + 1
    if days <= limit:
        return [f"{first_day + timedelta(days=i):%Y/%m/%d}/" for i in range(days)]
    return [""]
