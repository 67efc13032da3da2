"""CloudEvent type names, sources and the payload model of each type."""

from __future__ import annotations

from .model import Alert, EventModel, Finding, Notification, Outcome, Plan, Verification

__all__ = [
    "ALERT_FIRING", "ALERT_RESOLVED", "FINDING", "PLAN", "OUTCOME", "VERIFICATION", "NOTIFICATION",
    "EVENT_MODELS", "SOURCE_PREFIX", "source_for", "dataschema_for",
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

EVENT_MODELS: dict[str, type[EventModel]] = {
    ALERT_FIRING: Alert,
    ALERT_RESOLVED: Alert,
    FINDING: Finding,
    PLAN: Plan,
    OUTCOME: Outcome,
    VERIFICATION: Verification,
    NOTIFICATION: Notification,
}

SOURCE_PREFIX = "/kubeskippy/"


def source_for(function: str) -> str:
    """CloudEvent source attribute of a function, e.g. ``/kubeskippy/detect``."""
    return SOURCE_PREFIX + function


def dataschema_for(event_type: str) -> str:
    """The dataschema attribute: the JSON Schema published in the repository under schemas/."""
    return f"https://kubeskippy.io/schemas/{event_type}.json"
