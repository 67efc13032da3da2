"""Kubernetes Events for what remediation did, so ``kubectl describe <target>`` shows it.

The Event's name derives from the step id: a re-driven step re-creates the same name and the API
answers 409, which means "already recorded". Writing the Event is best effort — the action has
already happened, and failing it now would only make a retry repeat the action's bookkeeping.
"""

from __future__ import annotations

import logging

from ..clock import to_rfc3339
from ..errors import APIConflict, KubeSkippyError
from ..ports import Cluster
from .naming import event_name
from .objects import meta

__all__ = ["COMPONENT", "event_reason", "record_event", "build_event"]

COMPONENT = "kubeskippy"
_log = logging.getLogger(__name__)
_MAX_MESSAGE = 1024


def event_reason(action_type: str) -> str:
    """``restart`` → ``KubeSkippyRestart``, ``raise_limit`` → ``KubeSkippyRaiseLimit``."""
    return "KubeSkippy" + "".join(p.capitalize() for p in action_type.replace("-", "_").split("_"))


def build_event(target: dict, *, reason: str, message: str, event_type: str, step_id: str,
                now: float, holder: str) -> dict:
    """A core/v1 Event about ``target``. Cluster-scoped targets (Nodes) get their Event in
    ``default``, as the kubelet does."""
    m = meta(target)
    ns = m.get("namespace") or "default"
    stamp = to_rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": event_name(m.get("name", "object"), step_id, reason), "namespace": ns},
        "involvedObject": {k: v for k, v in {
            "apiVersion": target.get("apiVersion"), "kind": target.get("kind"), "name": m.get("name"),
            "namespace": m.get("namespace"), "uid": m.get("uid")}.items() if v},
        "reason": reason,
        "message": message[:_MAX_MESSAGE],
        "type": event_type,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": holder,
        "action": reason.removeprefix("KubeSkippy") or reason,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def record_event(cluster: Cluster, target: dict, *, reason: str, message: str, step_id: str, now: float,
                 holder: str, event_type: str = "Normal") -> bool:
    """Create the Event; True when written now, False when it already existed or could not be
    written (logged: the action stands, only its note in ``kubectl describe`` is missing)."""
    event = build_event(target, reason=reason, message=message, event_type=event_type, step_id=step_id,
                        now=now, holder=holder)
    try:
        cluster.create(event)
        return True
    except APIConflict:
        return False
    except KubeSkippyError as e:
        _log.warning("could not record Event %s for %s/%s; the action itself stands: %s",
                     reason, meta(target).get("namespace"), meta(target).get("name"), e)
        return False
