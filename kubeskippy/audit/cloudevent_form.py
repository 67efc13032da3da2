"""Any CloudEvent we are handed, as the CloudEvents JSON structured form (a plain dict).

The audit function receives SDK events (``cloudevents`` 2.x core or v1 classes, whatever
func-python hands over); tests and the CLI hand over dicts. Records must not depend on which: the
stored form is the spec's structured JSON, with binary data as ``data_base64``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any, Mapping

from ..clock import from_rfc3339
from ..errors import FieldError, InvalidInput
from ..types import to_timestamp_text

__all__ = ["REQUIRED_ATTRIBUTES", "structured_event", "event_time"]

REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")


def _attribute_text(value: Any) -> Any:
    """Attribute values as JSON: timestamps as RFC 3339, everything else as given."""
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return to_timestamp_text(when.timestamp())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _split(event: Any) -> tuple[dict[str, Any], Any, bool]:
    """(attributes, data, data_is_base64) of a dict or an SDK event."""
    if isinstance(event, Mapping):
        attrs = {k: v for k, v in event.items() if k not in ("data", "data_base64")}
        if "data_base64" in event:
            return attrs, event["data_base64"], True
        return attrs, event.get("data"), False
    get_attributes = getattr(event, "get_attributes", None)
    get_data = getattr(event, "get_data", None)
    if callable(get_attributes) and callable(get_data):
        return dict(get_attributes()), get_data(), False
    raise InvalidInput(f"expected a CloudEvent (a dict in structured form or an SDK event), got {type(event).__name__}",
                       source="event")


def structured_event(event: Any) -> dict[str, Any]:
    """The CloudEvents JSON structured form of ``event``; InvalidInput names missing attributes."""
    attrs, data, is_base64 = _split(event)
    errors = [FieldError(name, "required CloudEvent attribute is missing or empty")
              for name in REQUIRED_ATTRIBUTES
              if not isinstance(attrs.get(name), str) or not attrs.get(name)]
    if errors:
        raise InvalidInput(errors, source="event")
    out: dict[str, Any] = {name: _attribute_text(value) for name, value in attrs.items() if value is not None}
    if is_base64:
        if not isinstance(data, str):
            raise InvalidInput([FieldError("data_base64", "must be a base64 string")], source="event")
        out["data_base64"] = data
    elif _is_json(out.get("datacontenttype")) and (
            isinstance(data, (bytes, bytearray, memoryview))
            or (isinstance(data, str) and not isinstance(event, Mapping))):
        # Bytes, or the text an SDK kept from a binary-mode body. A str in a structured dict is
        # already a JSON value (the string itself) and stays as it is.
        out.update(_json_data(data))
    elif isinstance(data, (bytes, bytearray, memoryview)):
        out["data_base64"] = base64.b64encode(bytes(data)).decode("ascii")
    elif data is not None:
        out["data"] = data
    return out


def _is_json(content_type: Any) -> bool:
    if not isinstance(content_type, str):
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def _json_data(data: bytes | bytearray | memoryview | str) -> dict[str, Any]:
    """JSON text as the JSON value it encodes (the structured format's rule for JSON content
    types), so a binary-mode delivery records the same as a structured one; bytes that are not
    JSON are kept verbatim as data_base64 rather than refused."""
    try:
        return {"data": json.loads(bytes(data).decode("utf-8") if not isinstance(data, str) else data)}
    except (UnicodeDecodeError, ValueError):
        if isinstance(data, str):
            return {"data": data}
        return {"data_base64": base64.b64encode(bytes(data)).decode("ascii")}


def event_time(structured: Mapping[str, Any]) -> float | None:
    """The event's ``time`` attribute in epoch seconds, or None when absent or unreadable."""
    value = structured.get("time")
    if not isinstance(value, str) or not value:
        return None
    try:
        return from_rfc3339(value)
    except ValueError:
        return None
