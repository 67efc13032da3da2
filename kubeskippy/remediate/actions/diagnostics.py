"""diagnostics: capture the target's status, recent Events and log tails into the outcome, and so
into the audit trail — evidence kept before a restart wipes the container's state.

Read-only: a dry run and a real run do the same. For a workload, up to ``maxPods`` of its pods
(unready and most-restarted first) are captured. Log text is kept to ``maxLogBytes`` per container.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from ...errors import KubeSkippyError
from ...types import to_timestamp_text
from ..model import ActionContext, ActionReport, Intent
from ..objects import meta, pod_ready, pods_of, restart_count
from ..params import ParamReader
from .base import Action, load_ref, ref_dict

__all__ = ["DiagnosticsParams", "DiagnosticsAction"]

_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


class DiagnosticsParams(NamedTuple):  # not a frozen dataclass: ~3.9 M fewer instructions per cold start (docs/functions.md, "Session 7")
    tail_lines: int = 50
    events: int = 20
    max_pods: int = 3
    max_log_bytes: int = 8192


def _event_summary(e: dict) -> dict:
    return {k: v for k, v in {
        "type": e.get("type"), "reason": e.get("reason"), "message": e.get("message"), "count": e.get("count"),
        "lastTimestamp": e.get("lastTimestamp") or e.get("eventTime") or meta(e).get("creationTimestamp"),
    }.items() if v is not None}


def _pod_summary(pod: dict) -> dict:
    status = pod.get("status") or {}
    return {
        "name": meta(pod).get("name"), "phase": status.get("phase"), "ready": pod_ready(pod),
        "restarts": restart_count(pod), "node": (pod.get("spec") or {}).get("nodeName"),
        "containers": [{k: v for k, v in {
            "name": c.get("name"), "ready": c.get("ready"), "restartCount": c.get("restartCount"),
            "state": c.get("state"), "lastState": c.get("lastState")}.items() if v is not None}
            for c in status.get("containerStatuses") or []],
    }


class DiagnosticsAction(Action):
    type_name = "diagnostics"
    kinds = frozenset({"Pod", "Node", "Service"}) | _WORKLOADS
    changes_cluster = False

    def parse(self, params: Mapping[str, Any]) -> DiagnosticsParams:
        r = ParamReader(params)
        p = DiagnosticsParams(
            tail_lines=r.integer("tailLines", 50, minimum=1, maximum=5000) or 50,
            events=r.integer("events", 20, minimum=0, maximum=200) or 0,
            max_pods=r.integer("maxPods", 3, minimum=0, maximum=20) or 0,
            max_log_bytes=r.integer("maxLogBytes", 8192, minimum=256, maximum=262144) or 8192,
        )
        r.finish()
        return p

    def prepare(self, ctx: ActionContext, target: dict, params: DiagnosticsParams) -> Intent:
        return {"target": ref_dict(target), "tailLines": params.tail_lines, "events": params.events,
                "maxPods": params.max_pods, "maxLogBytes": params.max_log_bytes}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        captured_at = ctx.clock.now()
        target = ctx.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        details: dict[str, Any] = {"target": str(ref), "capturedAt": to_timestamp_text(captured_at),
                                   "status": target.get("status") or {}}
        pods = []
        if ref.kind == "Pod":
            pods = [target]
        elif ref.kind in _WORKLOADS:
            pods = sorted(pods_of(ctx.cluster, target), key=lambda p: (pod_ready(p), -restart_count(p)))
        pods = pods[: intent["maxPods"]]
        events, logs = ctx.all_of([  # independent reads: at once when the executor can
            lambda: self._events(ctx, target, intent["events"]),
            lambda: self._logs(ctx, pods, intent["tailLines"], intent["maxLogBytes"])])
        details.update(events=events, pods=[_pod_summary(p) for p in pods], logs=logs)
        return ActionReport(message=f"captured diagnostics of {ref}: {len(details['events'])} event(s), "
                            f"{len(details['logs'])} log tail(s)", details={"diagnostics": details})

    @staticmethod
    def _events(ctx: ActionContext, target: dict, limit: int) -> list[dict]:
        if limit <= 0:
            return []
        m = meta(target)
        selector = f"involvedObject.name={m.get('name')},involvedObject.kind={target.get('kind')}"
        try:
            events = ctx.cluster.list("v1", "Event", m.get("namespace") or None, field_selector=selector)
        except KubeSkippyError as e:
            return [{"error": f"could not list events: {e}"}]
        events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""), reverse=True)
        return [_event_summary(e) for e in events[:limit]]

    @staticmethod
    def _logs(ctx: ActionContext, pods: list[dict], tail: int, max_bytes: int) -> list[dict]:
        out = []
        for pod in pods:
            for c in (pod.get("spec") or {}).get("containers") or []:
                entry = {"pod": meta(pod).get("name"), "container": c.get("name")}
                try:
                    text = ctx.cluster.logs(meta(pod).get("name", ""), meta(pod).get("namespace", ""),
                                            container=c.get("name"), tail_lines=tail)
                    if len(text.encode()) > max_bytes:
                        text = text.encode()[-max_bytes:].decode(errors="ignore")
                        entry["truncated"] = True
                    entry["log"] = text
                except KubeSkippyError as e:
                    entry["error"] = str(e)
                out.append(entry)
        return out
