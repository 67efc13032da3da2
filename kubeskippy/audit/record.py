"""The audit record: one event in structured JSON plus a small envelope, its key and metadata.

Body (compact JSON, sorted keys, UTF-8)::

    {"format": "kubeskippy.audit/v1", "kind": "event", "received_at": "...Z",
     "function": "audit", "event": {<the CloudEvent in structured JSON form>},
     "dead_letter": {"code": "500", "dest": "...", "data": "..."}   # dead letters only
     "key_time_from": "event" | "clock"}

Metadata (``x-amz-meta-*`` on S3): ``sha256`` of the body, ``kind``, ``event-type``,
``event-id``, ``time`` (the key's time), ``function`` and the correlation fields ``policy``,
``target``, ``fingerprint``, ``plan-id``, ``status`` when the event carries them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import FieldError, InvalidInput
from ..types import to_timestamp_text
from .cloudevent_form import event_time, structured_event
from .correlation import Correlation, RecordKind, classify, correlate, dead_letter_details, metadata_value
from .digest import DIGEST_KEY, sha256_hex
from .keys import audit_key

__all__ = ["RECORD_FORMAT", "AuditRecord", "build_record", "record_id", "encode_body", "decode_body"]

RECORD_FORMAT = "kubeskippy.audit/v1"


@dataclass(frozen=True)
class AuditRecord:
    key: str
    body: bytes
    metadata: Mapping[str, str]
    kind: RecordKind
    correlation: Correlation


def record_id(structured: Mapping[str, Any], kind: RecordKind) -> str:
    """The id a record is stored under.

    Events and dead letters use the CloudEvent id (the Broker keeps it across redeliveries).
    A HealingAction change in resource mode uses ``namespace_name_resourceVersion`` instead: one
    object per transition even when two ApiServerSource adapters report the same change under
    different event ids.
    """
    if kind == "healing_action":
        data = structured.get("data")
        meta = data.get("metadata") if isinstance(data, Mapping) else None
        if isinstance(meta, Mapping) and meta.get("name") and meta.get("resourceVersion"):
            return f"{meta.get('namespace') or '-'}_{meta['name']}_{meta['resourceVersion']}"
    return str(structured["id"])


def encode_body(record: Mapping[str, Any]) -> bytes:
    try:
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidInput([FieldError("data", f"is not JSON serializable: {e}")], source="event") from e
    return text.encode("utf-8")


def decode_body(body: bytes) -> dict[str, Any]:
    """A stored record as a dict; InvalidInput when the bytes are not a record of ours."""
    try:
        record = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidInput(f"not a JSON audit record: {e}", source="record") from e
    if not isinstance(record, dict) or not isinstance(record.get("event"), dict):
        raise InvalidInput([FieldError("event", "missing: not an audit record")], source="record")
    return record


def build_record(event: Any, *, received_at: float, function: str) -> AuditRecord:
    """The record for ``event`` received at ``received_at`` by ``function``.

    The key's time is the event's own ``time`` attribute, so a redelivery an hour later still
    maps to the same key; only events without a readable ``time`` fall back to the receipt time.
    """
    structured = structured_event(event)
    kind = classify(structured)
    when = event_time(structured)
    time_source = "event"
    if when is None:
        when, time_source = received_at, "clock"
    key_type = ("dead-letter." if kind == "dead_letter" else "") + str(structured["type"])
    key = audit_key(when, key_type, record_id(structured, kind))
    envelope: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "kind": kind,
        "received_at": to_timestamp_text(received_at),
        "function": function,
        "key_time_from": time_source,
        "event": structured,
    }
    if kind == "dead_letter":
        envelope["dead_letter"] = dead_letter_details(structured)
    body = encode_body(envelope)
    correlation = correlate(structured, kind)
    metadata = {
        DIGEST_KEY: sha256_hex(body),
        "kind": kind,
        "event-type": metadata_value(structured["type"]),
        "event-id": metadata_value(structured["id"]),
        "time": to_timestamp_text(when),
        "function": metadata_value(function),
        **correlation.as_metadata(),
    }
    return AuditRecord(key=key, body=body, metadata=metadata, kind=kind, correlation=correlation)
