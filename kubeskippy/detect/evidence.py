"""Evidence records: what a finding shows the analyzer and the people reading the audit trail.

Each piece names the object it was observed on (``details.target``), because a finding about a
Deployment carries the evidence of every breaching Pod.
"""

from __future__ import annotations

from ..durations import format_duration
from ..events.model import Evidence
from ..kinds import object_ref
from .compiled import ConditionCheck, EventCheck, MetricCheck
from .conditions import ConditionHit
from .event_counting import EventRecord
from .metric_eval import MetricBreach

__all__ = ["metric_evidence", "event_evidence", "condition_evidence", "alert_evidence"]


def metric_evidence(obj: dict, check: MetricCheck, breach: MetricBreach) -> Evidence:
    held = f" for {format_duration(check.duration)}" if check.duration > 0 else ""
    return Evidence(
        kind="metric",
        description=f"{check.query} {check.operator} {check.threshold:g}{held} (now {breach.value:g})",
        value=breach.value,
        threshold=check.threshold,
        since=breach.since,
        details={"target": object_ref(obj), "query": check.query, "promql": check.promql,
                 "operator": check.operator, "duration": check.duration, "samples": breach.samples,
                 "min": breach.low, "max": breach.high, "labels": dict(breach.labels)},
    )


def event_evidence(obj: dict, check: EventCheck, occurrences: int, since: float | None,
                   records: list[EventRecord]) -> Evidence:
    reasons = sorted({r.reason for r in records})
    latest = max(records, key=lambda r: r.last)
    return Evidence(
        kind="event",
        description=f"{occurrences} {'/'.join(reasons)} event(s) within {format_duration(check.window)} "
                    f"(needed {check.needed})",
        value=float(occurrences),
        threshold=float(check.needed),
        since=since,
        details={"target": object_ref(obj), "reasons": reasons, "type": latest.type,
                 "message": latest.message, "last_seen": latest.last,
                 "events": [f"{r.namespace}/{r.name}" for r in records], "window": check.window},
    )


def condition_evidence(obj: dict, check: ConditionCheck, hit: ConditionHit, now: float) -> Evidence:
    held = max(now - hit.since, 0.0) if hit.since is not None else None  # a clock ahead of ours: 0
    if hit.state == "condition":
        description = f"condition {check.type}={check.status}"
    else:
        description = f"{hit.where} {hit.state} {check.type}"
    if held is not None:
        description += f" for {format_duration(held)}"
    return Evidence(
        kind="condition" if hit.state == "condition" else "state",
        description=description,
        value=held,
        threshold=check.duration,
        since=hit.since,
        details={"target": object_ref(obj), "type": check.type, "status": check.status, "where": hit.where,
                 "state": hit.state, "reason": hit.reason, "message": hit.message},
    )


def alert_evidence(obj: dict, check: MetricCheck, alertname: str, value: float | None, since: float,
                   details: dict) -> Evidence:
    shown = f" (value {value:g})" if value is not None else ""
    return Evidence(
        kind="alert",
        description=f"alert {alertname}: {check.query} {check.operator} {check.threshold:g}{shown}",
        value=value,
        threshold=check.threshold,
        since=since,
        details={"target": object_ref(obj), "query": check.query, "promql": check.promql,
                 "operator": check.operator, "duration": check.duration, **details},
    )
