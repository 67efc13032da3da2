"""Annotated field types shared by the policy language and our event models."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from .clock import from_rfc3339
from .durations import format_duration, parse_duration

__all__ = ["Duration", "Timestamp", "to_timestamp_text"]


def _duration(value: Any) -> float:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return parse_duration(value)
    raise ValueError("must be a duration such as '90s', '2m' or '1h30m'")


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$",
                    "description": "Go duration, e.g. 90s, 2m, 1h30m"}),
]
"""Seconds as a float in Python; a Go duration string ("1h30m0s") in JSON and YAML."""


def _timestamp(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be an RFC 3339 timestamp")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, str):
        try:
            return from_rfc3339(value)
        except ValueError as e:
            raise ValueError(f"must be an RFC 3339 timestamp: {e}") from None
    raise ValueError("must be an RFC 3339 timestamp")


def to_timestamp_text(ts: float) -> str:
    """RFC 3339 with millisecond precision and a Z suffix."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


Timestamp = Annotated[
    float,
    BeforeValidator(_timestamp),
    PlainSerializer(to_timestamp_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""Epoch seconds in Python (the Clock port's unit); RFC 3339 in JSON."""
