"""What an audit record is about, lifted into object metadata so listings can filter without
downloading bodies: its kind, the event type and id, policy, target, fingerprint, plan id and a
status.

Three kinds of record reach the audit function:

- ``event``: an ``io.kubeskippy.*`` CloudEvent (finding, plan, outcome, verification, ...);
- ``dead_letter``: an event the Broker gave up on, carrying ``knativeerrorcode`` /
  ``knativeerrordest`` / ``knativeerrordata`` extensions (its type and data are the original's);
- ``healing_action``: an ApiServerSource event about a HealingAction (one per transition).
"""

from __future__ import annotations

import base64
import binascii
import string
from dataclasses import dataclass
from typing import Any, Literal, Mapping
from urllib.parse import quote, unquote

from ..events import types as event_types
from ..events.types import APISERVER_REF_PREFIX, APISERVER_RESOURCE_PREFIX

__all__ = [
    "RecordKind",
    "RECORD_KINDS",
    "DEAD_LETTER_EXTENSIONS",
    "Correlation",
    "classify",
    "correlate",
    "dead_letter_details",
    "metadata_value",
    "read_metadata_value",
]

RecordKind = Literal["event", "dead_letter", "healing_action"]
RECORD_KINDS: tuple[str, ...] = ("event", "dead_letter", "healing_action")
DEAD_LETTER_EXTENSIONS = ("knativeerrorcode", "knativeerrordest", "knativeerrordata")

_MAX_VALUE = 256
_HEADER_SAFE = string.ascii_letters + string.digits + string.punctuation.replace("%", "") + " "


def metadata_value(value: object) -> str:
    """A value fit for an HTTP header (S3 user metadata is ASCII): percent-encoded beyond
    printable ASCII, and bounded so all fields stay far below S3's 2 KB metadata limit."""
    return quote(str(value), safe=_HEADER_SAFE)[:_MAX_VALUE]


def read_metadata_value(value: str) -> str:
    return unquote(value)


def classify(structured: Mapping[str, Any]) -> RecordKind:
    if any(name in structured for name in DEAD_LETTER_EXTENSIONS):
        return "dead_letter"
    etype = str(structured.get("type", ""))
    if etype.startswith((APISERVER_RESOURCE_PREFIX, APISERVER_REF_PREFIX)):
        data = structured.get("data")
        kind = structured.get("kind") or (data.get("kind") if isinstance(data, Mapping) else None)
        if kind == "HealingAction":
            return "healing_action"
    return "event"


@dataclass(frozen=True)
class Correlation:
    """The fields a record is filtered by; empty strings when the event does not carry one."""

    policy: str = ""
    target: str = ""
    fingerprint: str = ""
    plan_id: str = ""
    status: str = ""

    def as_metadata(self) -> dict[str, str]:
        fields = {"policy": self.policy, "target": self.target, "fingerprint": self.fingerprint,
                  "plan-id": self.plan_id, "status": self.status}
        return {k: metadata_value(v) for k, v in fields.items() if v}


def _ref_text(ref: Any) -> str:
    """``Kind/namespace/name`` (as ObjectRef prints it) from a ref dict in either spelling."""
    if not isinstance(ref, Mapping):
        return ""
    kind, name = ref.get("kind") or "", ref.get("name") or ""
    if not name:
        return ""
    namespace = ref.get("namespace") or ""
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "healthy" if value else "unhealthy"
    return value if isinstance(value, str) else ""


def _of_finding(d: Mapping[str, Any]) -> Correlation:
    return Correlation(policy=_text(d.get("policy")), target=_ref_text(d.get("target")),
                       fingerprint=_text(d.get("fingerprint")))


def _of_plan(d: Mapping[str, Any]) -> Correlation:
    finding = d.get("finding") if isinstance(d.get("finding"), Mapping) else {}
    of_finding = _of_finding(finding)
    return Correlation(policy=of_finding.policy, target=of_finding.target, fingerprint=of_finding.fingerprint,
                       plan_id=_text(d.get("id")), status=_text((d.get("root_cause") or {}).get("category")
                                                                if isinstance(d.get("root_cause"), Mapping) else ""))


def _of_outcome(d: Mapping[str, Any]) -> Correlation:
    return Correlation(policy=_text(d.get("policy")), target=_ref_text(d.get("target")),
                       fingerprint=_text(d.get("finding_fingerprint")), plan_id=_text(d.get("plan_id")),
                       status=_text(d.get("status")))


def _of_verification(d: Mapping[str, Any]) -> Correlation:
    return Correlation(target=_ref_text(d.get("target")), fingerprint=_text(d.get("finding_fingerprint")),
                       plan_id=_text(d.get("plan_id")), status=_text(d.get("healthy")))


def _of_notification(d: Mapping[str, Any]) -> Correlation:
    return Correlation(target=_ref_text(d.get("target")), fingerprint=_text(d.get("finding_fingerprint")),
                       plan_id=_text(d.get("plan_id")), status=_text(d.get("severity")))


def _of_alert(d: Mapping[str, Any]) -> Correlation:
    labels = d.get("labels") if isinstance(d.get("labels"), Mapping) else {}
    namespace = labels.get("namespace", "")
    target = ""
    for label, kind in (("pod", "Pod"), ("deployment", "Deployment"), ("statefulset", "StatefulSet")):
        if labels.get(label):
            target = _ref_text({"kind": kind, "namespace": namespace, "name": labels[label]})
            break
    return Correlation(target=target, fingerprint=_text(d.get("fingerprint")), status=_text(d.get("status")))


def _of_healing_action(d: Mapping[str, Any]) -> Correlation:
    meta = d.get("metadata") if isinstance(d.get("metadata"), Mapping) else {}
    spec = d.get("spec") if isinstance(d.get("spec"), Mapping) else {}
    status = d.get("status") if isinstance(d.get("status"), Mapping) else {}
    labels = meta.get("labels") if isinstance(meta.get("labels"), Mapping) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), Mapping) else {}
    policy_ref = spec.get("policyRef") if isinstance(spec.get("policyRef"), Mapping) else {}
    policy = "/".join(p for p in (policy_ref.get("namespace"), policy_ref.get("name")) if p)

    def marker(name: str) -> str:
        return _text(labels.get(f"kubeskippy.io/{name}") or annotations.get(f"kubeskippy.io/{name}"))

    if not d.get("spec") and d.get("kind") == "HealingAction":  # ref mode: identity only
        return Correlation(target=_ref_text(d))
    return Correlation(policy=policy, target=_ref_text(spec.get("targetResource")),
                       fingerprint=marker("fingerprint"), plan_id=marker("plan-id"),
                       status=_text(status.get("phase")))


_BY_TYPE = {
    event_types.FINDING: _of_finding,
    event_types.PLAN: _of_plan,
    event_types.OUTCOME: _of_outcome,
    event_types.VERIFICATION: _of_verification,
    event_types.NOTIFICATION: _of_notification,
    event_types.ALERT_FIRING: _of_alert,
    event_types.ALERT_RESOLVED: _of_alert,
}


def correlate(structured: Mapping[str, Any], kind: RecordKind) -> Correlation:
    """Correlation fields of an event; unknown types and malformed payloads yield empty fields,
    never an error: the audit trail must keep what it cannot understand."""
    data = structured.get("data")
    if not isinstance(data, Mapping):
        return Correlation()
    if kind == "healing_action":
        return _of_healing_action(data)
    extract = _BY_TYPE.get(str(structured.get("type", "")))
    return extract(data) if extract else Correlation()


def dead_letter_details(structured: Mapping[str, Any]) -> dict[str, str]:
    """The Broker's reasons for giving up, with ``knativeerrordata`` (base64 of the last reply
    body) decoded when it is text."""
    details: dict[str, str] = {}
    for name in DEAD_LETTER_EXTENSIONS:
        value = structured.get(name)
        if value is None:
            continue
        text = str(value)
        if name == "knativeerrordata":
            try:
                text = base64.b64decode(text, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                pass
        details[name.removeprefix("knativeerror")] = text
    return details
