"""Annotated field types shared by the policy language and our event models."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from .clock import from_rfc3339
from .durations import format_duration, parse_duration

__all__ = ["Duration", "Timestamp", "ChangeType", "to_timestamp_text", "new_list", "new_dict", "camel_alias"]

ChangeType = Literal["create", "update", "delete", "patch", "scale"]
"""What an action did to one field of one object: the HealingAction's ResourceChange and the
Outcome's Change record the same thing, so they share the vocabulary."""


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


# Model-building helpers. Why not ``default_factory=list`` and pydantic's ``to_camel``: pydantic
# inspects every default factory's signature when it builds a model, and a builtin type has only a
# text signature, which inspect tokenizes (the first time it also compiles tokenize's regular
# expressions, ~4 ms); ``to_camel`` runs three regular expressions per field. Every function
# builds its models on a cold start, so these cheaper equivalents are on that path.


def new_list() -> list:
    """``default_factory`` for an empty list (a new one for every instance)."""
    return []


def new_dict() -> dict:
    """``default_factory`` for an empty dict (a new one for every instance)."""
    return {}


def camel_alias(name: str) -> str:
    """``max_actions_per_hour`` → ``maxActionsPerHour``: pydantic's ``to_camel`` for the lowercase
    snake_case field names our models use (a test checks every field against it)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
