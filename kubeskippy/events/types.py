"""CloudEvent type names, sources and the payload model of each type."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ALERT_FIRING", "ALERT_RESOLVED", "FINDING", "PLAN", "OUTCOME", "VERIFICATION", "NOTIFICATION",
    "EVENT_MODELS", "EVENT_TYPES", "event_model", "SOURCE_PREFIX", "source_for", "dataschema_for",
    "APISERVER_RESOURCE_PREFIX", "APISERVER_REF_PREFIX", "PING_TYPE",
]

ALERT_FIRING = "io.kubeskippy.alert.firing"
ALERT_RESOLVED = "io.kubeskippy.alert.resolved"
FINDING = "io.kubeskippy.finding"
PLAN = "io.kubeskippy.plan"
OUTCOME = "io.kubeskippy.outcome"
VERIFICATION = "io.kubeskippy.verification"
NOTIFICATION = "io.kubeskippy.notification"

APISERVER_RESOURCE_PREFIX = "dev.knative.apiserver.resource."
APISERVER_REF_PREFIX = "dev.knative.apiserver.ref."
PING_TYPE = "dev.knative.sources.ping"
"""A PingSource tick: detect sweeps, remediate checks verifications and approvals."""

_MODEL_NAMES = {
    ALERT_FIRING: "Alert",
    ALERT_RESOLVED: "Alert",
    FINDING: "Finding",
    PLAN: "Plan",
    OUTCOME: "Outcome",
    VERIFICATION: "Verification",
    NOTIFICATION: "Notification",
}
EVENT_TYPES: tuple[str, ...] = tuple(_MODEL_NAMES)
"""Our event types, in the order of EVENT_MODELS."""


def event_model(event_type: str) -> Any:
    """The payload model of one of our event types (None for any other type). Only that model is
    built: ``EVENT_MODELS`` (type → model, loaded on first use) would build all of them."""
    name = _MODEL_NAMES.get(event_type)
    return None if name is None else getattr(importlib.import_module(".model", __package__), name)


def __getattr__(name: str) -> Any:
    if name == "EVENT_MODELS":  # dict[str, type[EventModel]]
        models = {event_type: event_model(event_type) for event_type in EVENT_TYPES}
        globals()[name] = models
        return models
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SOURCE_PREFIX = "/kubeskippy/"


def source_for(function: str) -> str:
    """CloudEvent source attribute of a function, e.g. ``/kubeskippy/detect``."""
    return SOURCE_PREFIX + function


def dataschema_for(event_type: str) -> str:
    """The dataschema attribute: the JSON Schema published in the repository under schemas/."""
    return f"https://kubeskippy.io/schemas/{event_type}.json"
