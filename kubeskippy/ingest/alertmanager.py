"""Alertmanager webhook payloads (version "4") → :class:`Alert` models and CloudEvents.

Why this is strict about shape but lenient about extra fields: a wrong shape means a
misconfigured sender and must be a 400 naming the field, while Alertmanager adds fields over
time (``truncatedAlerts`` arrived in 0.22) and an upgrade must not break intake.

Each alert's id is derived from fingerprint, start and status, so Alertmanager's re-sends of
the same state (every ``repeat_interval``, or on retry) are recognised downstream.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import FieldError, InvalidInput, PayloadTooLarge
from ..events.cloudevents import CloudEvent, make_event
from ..events.types import ALERT_FIRING, ALERT_RESOLVED
from ..policy.validation import field_errors_from
from ..clock import from_rfc3339
from ..types import Timestamp, new_dict, to_timestamp_text

if TYPE_CHECKING:
    from ..events.alert import Alert

__all__ = ["MAX_WEBHOOK_BYTES", "decode_alertmanager_webhook", "alert_event", "wire_precision", "ZERO_TIME"]

MAX_WEBHOOK_BYTES = 1 << 20
ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero time: what Alertmanager sends as endsAt while it does not know an end."""


# Both wire models are built on the first webhook (defer_build), not when detect starts: its cold
# start answers an ApiServerSource event, and an Alertmanager webhook may never come.
class _WireAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=new_dict)
    startsAt: Timestamp
    endsAt: Timestamp | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1)

    @field_validator("endsAt", mode="before")
    @classmethod
    def _zero_time_means_unknown(cls, value: object) -> object:
        if isinstance(value, str) and value.startswith("0001-01-01"):
            return None
        return value

    @field_validator("labels")
    @classmethod
    def _has_alertname(cls, value: dict[str, str]) -> dict[str, str]:
        if not value.get("alertname"):
            raise ValueError("alertname: required (every Prometheus alert has one)")
        return value


class _WirePayload(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    version: Literal["4"]
    receiver: str = ""
    status: Literal["firing", "resolved"] | None = None
    groupKey: str = ""
    truncatedAlerts: int = 0
    alerts: list[_WireAlert]


def decode_alertmanager_webhook(body: bytes, *, max_bytes: int = MAX_WEBHOOK_BYTES) -> list[Alert]:
    """Every alert of one webhook request, in payload order.

    Raises :class:`PayloadTooLarge` over ``max_bytes`` and :class:`InvalidInput` naming every
    bad field otherwise (``alerts[2].startsAt: must be an RFC 3339 timestamp``).
    """
    if len(body) > max_bytes:
        raise PayloadTooLarge(len(body), max_bytes, "Alertmanager webhook body")
    try:
        raw = json.loads(body)
    except UnicodeDecodeError:
        raise InvalidInput("body: must be UTF-8 JSON", source="alertmanager webhook") from None
    except json.JSONDecodeError as e:
        raise InvalidInput(f"body: must be JSON ({e.msg} at line {e.lineno}, column {e.colno})",
                           source="alertmanager webhook") from None
    if not isinstance(raw, dict):
        raise InvalidInput("body: must be a JSON object", source="alertmanager webhook")
    if "version" in raw and raw["version"] != "4":
        raise InvalidInput([FieldError("version", f'must be "4" (Alertmanager webhook format), '
                                                  f'got {raw["version"]!r}')], source="alertmanager webhook")
    from ..events.model import Alert

    try:
        payload = _WirePayload.model_validate(raw)
    except ValidationError as e:
        raise InvalidInput(field_errors_from(e), source="alertmanager webhook") from None
    return [
        Alert(status=a.status, alertname=a.labels["alertname"], labels=a.labels, annotations=a.annotations,
              starts_at=wire_precision(a.startsAt),
              ends_at=wire_precision(a.endsAt) if a.endsAt is not None else None,
              fingerprint=a.fingerprint, generator_url=a.generatorURL,
              receiver=payload.receiver, group_key=payload.groupKey)
        for a in payload.alerts
    ]


def wire_precision(ts: float) -> float:
    """``ts`` as it will read after one trip through JSON (milliseconds).

    Alertmanager sends nanoseconds; our events carry milliseconds. An alert's id is derived from
    its start, so the start is cut to what survives the wire here, once, and every later hop
    computes the same id from the payload.
    """
    return from_rfc3339(to_timestamp_text(ts))


def alert_event(alert: Alert, *, function: str = "detect") -> CloudEvent:
    """``io.kubeskippy.alert.firing`` / ``.resolved`` with ``id = alert.id`` and the alert name as subject."""
    event_type = ALERT_FIRING if alert.status == "firing" else ALERT_RESOLVED
    return make_event(event_type, alert, function=function, id=alert.id, subject=alert.alertname)
