"""Building, encoding and decoding KubeSkippy's CloudEvents (cloudevents SDK 2.x).

The SDK's 1.x API lives at ``cloudevents.v1.http`` in 2.x; its ``CloudEvent`` is a mapping
(``event["id"]``), which is what our code uses, in the form of :mod:`.lean_event` (the same
behaviour without loading the SDK, which only the rare encodings below need). func-python 0.8.1
hands handlers the newer ``cloudevents.core`` event class instead; every function here accepts
any of them and returns the mapping kind, so code never depends on which middleware decoded
the request.

Why the extra checks over the SDK: a malformed request must become a 400 with a message that
names what is wrong (the Broker sends 400s to the dead-letter sink instead of retrying), never
an SDK exception that turns into a 500 and a retry storm.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from typing import Any, Literal, Mapping

from pydantic import ValidationError

from ..clock import from_rfc3339
from ..errors import FieldError, InvalidInput
from ..policy.validation import field_errors_from
from ..types import to_timestamp_text
from .lean_event import CloudEvent
from .model import EventModel
from .types import ALERT_FIRING, ALERT_RESOLVED, EVENT_TYPES, dataschema_for, event_model, source_for

__all__ = [
    "CloudEvent",
    "EXT_FINGERPRINT",
    "EXT_PLAN_ID",
    "EXT_POLICY",
    "make_event",
    "correlation_extensions",
    "decode_payload",
    "encode",
    "parse_http",
    "as_cloudevent",
    "event_time",
    "event_data_object",
    "check_extension_name",
]

EXT_FINGERPRINT = "kubeskippyfp"
"""Finding fingerprint (policy × trigger × workload): follows a problem through plan, outcome and
verification. (``kubeskippyfingerprint`` would be 21 characters; the spec asks for at most 20.)"""
EXT_PLAN_ID = "kubeskippyplanid"
EXT_POLICY = "kubeskippypolicy"

_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_RESERVED = {"id", "source", "type", "specversion", "datacontenttype", "dataschema", "subject", "time", "data",
             "data_base64"}
_TIME_FIELDS = ("observed_at", "created_at", "at", "checked_at", "starts_at")


def check_extension_name(name: str) -> None:
    """CloudEvents extension names are 1-20 lowercase letters or digits (spec 1.0)."""
    if name in _RESERVED:
        raise InvalidInput([FieldError(f"extensions.{name}", "is a reserved CloudEvents attribute")])
    if not _EXTENSION_NAME.match(name):
        raise InvalidInput([FieldError(f"extensions.{name}",
                                       "extension names must be 1-20 lowercase letters or digits")])


def _is_instance(payload: object, module: str, name: str) -> bool:
    """``isinstance`` against a payload model that is loaded on first use: when its module was never
    imported, nothing can be an instance of it (and checking must not build it)."""
    loaded = sys.modules.get(f"{__package__}.{module}")
    return loaded is not None and isinstance(payload, getattr(loaded, name))


def correlation_extensions(payload: EventModel) -> dict[str, str]:
    """Ids that let a Trigger filter, or a person grep, everything about one problem."""
    out: dict[str, str] = {}
    if _is_instance(payload, "alert", "Alert"):  # an Alertmanager fingerprint is not a finding fingerprint
        return out
    finding = getattr(payload, "finding", None)
    fingerprint = (getattr(payload, "finding_fingerprint", None) or getattr(payload, "fingerprint", None)
                   or getattr(finding, "fingerprint", None))
    if fingerprint:
        out[EXT_FINGERPRINT] = fingerprint
    plan_id = payload.id if _is_instance(payload, "plan", "Plan") else getattr(payload, "plan_id", None)
    if plan_id:
        out[EXT_PLAN_ID] = plan_id
    policy = getattr(payload, "policy", None) or getattr(finding, "policy", None)
    if isinstance(policy, str) and policy:
        out[EXT_POLICY] = policy
    return out


def make_event(
    event_type: str,
    payload: EventModel,
    *,
    function: str,
    id: str | None = None,
    subject: str | None = None,
    extensions: Mapping[str, Any] | None = None,
    time: float | None = None,
) -> CloudEvent:
    """A CloudEvent carrying ``payload`` as JSON, with source ``/kubeskippy/<function>``.

    ``id`` defaults to the payload's own (content-derived) id, so a redelivered input yields the
    same event and downstream idempotency holds. ``time`` defaults to the payload's own
    timestamp for the same reason. Correlation ids become extensions (explicit ones win).
    """
    model = event_model(event_type)
    if model is None:
        raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")
    if not isinstance(payload, model):
        raise TypeError(f"{event_type} carries a {model.__name__}, not a {type(payload).__name__}")
    status = getattr(payload, "status", None) if event_type in (ALERT_FIRING, ALERT_RESOLVED) else None
    if status is not None and event_type.rsplit(".", 1)[1] != status:
        raise ValueError(f"a {status} alert cannot be sent as {event_type}")
    event_id = id or getattr(payload, "id", None)
    if not event_id:
        raise ValueError(f"{event_type}: an id is required (the payload has none)")
    if time is None:
        time = next((getattr(payload, f) for f in _TIME_FIELDS if getattr(payload, f, None) is not None), None)
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": source_for(function),
        "type": event_type,
        "datacontenttype": "application/json",
        "dataschema": dataschema_for(event_type),
    }
    if time is not None:
        attributes["time"] = to_timestamp_text(time)
    if subject:
        attributes["subject"] = subject
    for name, value in {**correlation_extensions(payload), **(extensions or {})}.items():
        check_extension_name(name)
        attributes[name] = value if isinstance(value, (bool, int)) else str(value)
    return CloudEvent(attributes, payload.model_dump(mode="json"))


def as_cloudevent(event: Any) -> CloudEvent:
    """The mapping-style event for either SDK class (func-python passes ``cloudevents.core`` ones)."""
    if isinstance(event, CloudEvent):
        return event
    get_attributes = getattr(event, "get_attributes", None)
    if get_attributes is None:
        raise InvalidInput(f"not a CloudEvent: {type(event).__name__}")
    attributes = {}
    for name, value in dict(get_attributes()).items():
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat().replace("+00:00", "Z")
        attributes[name] = value
    return CloudEvent(attributes, event.get_data())


def event_data_object(event: Any) -> Any:
    """The event's data as parsed JSON (binary-mode bodies may arrive as text or bytes)."""
    data = as_cloudevent(event).get_data()
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput([FieldError("data", "must be UTF-8 JSON")]) from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise InvalidInput([FieldError("data", f"must be JSON: {e.msg} at line {e.lineno}, "
                                                   f"column {e.colno}")]) from None
    return data


def decode_payload(event: Any) -> EventModel:
    """The payload model of one of our events; bad data raises InvalidInput naming ``data.…`` paths."""
    ce = as_cloudevent(event)
    event_type = ce.get("type")
    model = event_model(event_type or "")
    if model is None:
        raise InvalidInput([FieldError("type", f"unknown event type {event_type!r}; expected one of "
                                               + " ".join(EVENT_TYPES))], source=ce.get("id"))
    data = event_data_object(ce)
    if data is None:
        raise InvalidInput([FieldError("data", "required")], source=ce.get("id"))
    if not isinstance(data, dict):
        raise InvalidInput([FieldError("data", "must be a JSON object")], source=ce.get("id"))
    try:
        payload = model.model_validate(data)
    except ValidationError as e:
        raise InvalidInput(field_errors_from(e, prefix="data"), source=ce.get("id")) from None
    if event_type in (ALERT_FIRING, ALERT_RESOLVED):
        expected = event_type.rsplit(".", 1)[1]
        if payload.status != expected:  # type: ignore[attr-defined]
            raise InvalidInput([FieldError("data.status", f"must be {expected} for type {event_type}")],
                               source=ce.get("id"))
    return payload


def encode(event: Any, mode: Literal["binary", "structured"] = "binary") -> tuple[dict[str, str], bytes]:
    """HTTP headers and body for an event, in the CloudEvents HTTP binding's binary or structured mode."""
    ce = as_cloudevent(event)
    if mode == "binary":
        lean = _binary_json(ce)
        if lean is not None:
            return lean
        from cloudevents.v1.conversion import to_binary  # the SDK: only for what _binary_json leaves

        headers, body = to_binary(ce)
    elif mode == "structured":
        from cloudevents.v1.conversion import to_structured

        headers, body = to_structured(ce)
    else:
        raise ValueError(f"mode must be binary or structured, not {mode!r}")
    if body is None:  # binary mode without data (the SDK answers None): an empty body, not b"None"
        body = b""
    return {str(k): str(v) for k, v in headers.items()}, body if isinstance(body, bytes) else str(body).encode()


def parse_http(headers: Mapping[str, str], body: bytes | str | None) -> CloudEvent:
    """A CloudEvent from an HTTP request, in either mode; anything else raises InvalidInput."""
    try:
        event = _from_binary_json(headers, body) or _sdk_from_http(headers, body)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"not a CloudEvent: malformed request ({type(e).__name__}: {_first_line(e)})") from None
    problems = [FieldError(name, "must be a non-empty string") for name in ("id", "source", "type")
                if not isinstance(event.get(name), str) or not event.get(name)]
    if problems:
        raise InvalidInput(problems)
    event_time(event)  # a malformed time is a malformed event
    return event


def _sdk_from_http(headers: Mapping[str, str], body: bytes | str | None) -> CloudEvent:
    """The SDK's decoding (structured mode, specversion 0.3, a body that is not JSON), loaded on
    first use: no KubeSkippy hop sends these (see :mod:`kubeskippy.events.lean_event`)."""
    from cloudevents.v1 import exceptions
    from cloudevents.v1.conversion import from_http

    try:
        return from_http(CloudEvent, dict(headers), body)
    except exceptions.GenericException as e:
        raise InvalidInput(f"not a CloudEvent: {_first_line(e)}") from None


# The HTTP binding's binary mode with a JSON body, the one every KubeSkippy hop and the Broker
# use, written out: the SDK's marshaller objects cost ~90 µs to decode a Pod update and ~65 µs to
# encode one (docs/functions.md, "Session 5"), a tenth of a function's whole request on this machine.
# The results are the SDK's own (tests/events/test_binary_json.py compares them on generated
# events); anything else (structured mode, specversion 0.3, no time, a body that is not JSON,
# attribute names the SDK treats specially) takes the SDK's path.
_SDK_SPECIAL = frozenset({"ce-data", "ce-extensions", "ce-data_base64", "ce-datacontenttype"})
_ENCODE_SKIP = frozenset({"data", "extensions", "datacontenttype"})
_V1_PROPERTIES = frozenset({"specversion", "id", "source", "type", "dataschema", "subject", "time"})
"""The 1.0 context attributes the SDK leaves out of the headers when None (extensions it keeps)."""


def _from_binary_json(headers: Mapping[str, str], body: bytes | str | None) -> CloudEvent | None:
    """``from_http``'s event for a binary-mode 1.0 request with a JSON body and a time, or None."""
    if not body:
        return None
    attributes: dict[str, Any] = {}
    content_type = None
    for name, value in headers.items():
        key = name.lower()
        if key.startswith("ce-"):
            if key in _SDK_SPECIAL:
                return None
            attributes[key[3:]] = value
        elif key == "content-type":
            content_type = value
    if attributes.get("specversion") != "1.0" or "time" not in attributes or \
            not ("id" in attributes and "source" in attributes and "type" in attributes):
        return None
    try:
        data = json.loads(body)
    except (ValueError, TypeError):  # the SDK keeps a body that is not JSON as it is
        return None
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    return CloudEvent(attributes, None if data == "" else data)  # the SDK's rule: empty data is none


def _binary_json(ce: CloudEvent) -> tuple[dict[str, str], bytes] | None:
    """``to_binary``'s headers and body for a 1.0 event whose data ``json.dumps`` takes, or None."""
    attributes = ce.get_attributes()
    if attributes.get("specversion") != "1.0":
        return None
    data = ce.get_data()
    try:
        body = b"" if data is None else json.dumps(data).encode("utf-8")  # no data: no body
    except (TypeError, ValueError):
        return None
    headers: dict[str, str] = {}
    content_type = attributes.get("datacontenttype")
    if content_type:
        headers["content-type"] = str(content_type)
    for key, value in attributes.items():
        if key not in _ENCODE_SKIP and (value is not None or key not in _V1_PROPERTIES):
            headers[f"ce-{key}"] = str(value)
    return headers, body


def event_time(event: Any) -> float | None:
    """The ``time`` attribute as epoch seconds, or None when absent."""
    value = as_cloudevent(event).get("time")
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    try:
        return from_rfc3339(str(value))
    except ValueError:
        raise InvalidInput([FieldError("time", f"must be an RFC 3339 timestamp, got {value!r}")]) from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    line = text[0] if text else type(e).__name__
    return line if len(line) <= 200 else line[:197] + "..."
