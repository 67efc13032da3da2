"""Alert rules evaluated like Prometheus, notifications grouped like Alertmanager.

Prometheus side (rules/alerting.go): at every evaluation the expression's result set is the set
of active alerts; a new one is *pending* from that evaluation, becomes *firing* once it has been
active for ``for`` (checked at evaluations, so firing happens at the first evaluation at least
``for`` after it became active), and is *resolved* at the first evaluation where it is missing.

Alertmanager side (dispatch.go): alerts are grouped by ``group_by`` labels; a new group notifies
after ``group_wait``, then at most every ``group_interval`` when something changed (a new firing
alert or a resolution), and re-sends unchanged firing groups every ``repeat_interval``. A
notification carries every alert of the group (webhook ``send_resolved`` is on by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import simpy

from kubeskippy.events.model import Alert, stable_id

from ..scenario import AlertingSpec, AlertRule
from .metrics import SimulatedMetrics

__all__ = ["RuleEvaluator", "Alertmanager", "ActiveAlert", "rules_from_rule_file"]


@dataclass
class ActiveAlert:
    rule: str
    labels: dict[str, str]
    annotations: dict[str, str]
    active_at: float  # simulated seconds
    fired_at: float | None = None
    resolved_at: float | None = None

    @property
    def fingerprint(self) -> str:
        return stable_id("alert-labels", sorted(self.labels.items()), length=16)


def rules_from_rule_file(rule_file: dict) -> list[AlertRule]:
    """AlertRule models from a Prometheus rule file (``groups[].rules[]``), alerting rules only."""
    out = []
    for group in rule_file.get("groups") or []:
        for rule in group.get("rules") or []:
            if "alert" in rule:
                out.append(AlertRule.model_validate(rule))
    return out


class RuleEvaluator:
    """Evaluates alerting rules at each call of ``evaluate(t)``; reports state changes."""

    def __init__(self, rules: Sequence[AlertRule], metrics: SimulatedMetrics) -> None:
        self.rules = list(rules)
        self.metrics = metrics
        self.active: dict[tuple[str, str], ActiveAlert] = {}
        self.history: list[tuple[float, str, str, dict[str, str]]] = []  # (t, state, alertname, labels)

    def evaluate(self, t: float) -> list[ActiveAlert]:
        """Evaluate every rule at simulated time ``t``; return the alerts that are firing or were
        resolved in this evaluation (what Prometheus sends to Alertmanager)."""
        at = self.metrics.epoch + t
        outgoing: list[ActiveAlert] = []
        for rule in self.rules:
            seen: set[str] = set()
            for sample in self.metrics.query(rule.expr, at=at):
                labels = {k: v for k, v in sample.labels.items() if k != "__name__"}
                labels.update(rule.labels)
                labels["alertname"] = rule.alert
                alert = ActiveAlert(rule.alert, labels, dict(rule.annotations), t)
                key = (rule.alert, alert.fingerprint)
                seen.add(key[1])
                current = self.active.get(key)
                if current is None or current.resolved_at is not None:
                    self.active[key] = current = alert
                    self.history.append((t, "pending", rule.alert, labels))
                if current.fired_at is None and t - current.active_at >= rule.for_ - 1e-9:
                    current.fired_at = t
                    self.history.append((t, "firing", rule.alert, labels))
                if current.fired_at is not None:
                    outgoing.append(current)
            for key, alert in list(self.active.items()):
                if key[0] != rule.alert or key[1] in seen or alert.resolved_at is not None:
                    continue
                if alert.fired_at is None:
                    del self.active[key]
                    continue
                alert.resolved_at = t
                self.history.append((t, "resolved", rule.alert, alert.labels))
                outgoing.append(alert)
        return outgoing

    def firing_times(self, alertname: str | None = None) -> list[tuple[float, dict[str, str]]]:
        return [(t, labels) for t, state, name, labels in self.history
                if state == "firing" and alertname in (None, name)]


@dataclass
class _Group:
    key: str
    labels: dict[str, str]
    alerts: dict[str, ActiveAlert] = field(default_factory=dict)
    changed: bool = True
    last_flush: float | None = None
    sent_resolved: set[str] = field(default_factory=set)


class Alertmanager:
    """Groups alerts and delivers :class:`Alert` models to ``deliver`` on SimPy time."""

    def __init__(self, env: simpy.Environment, spec: AlertingSpec, *, epoch: float,
                 deliver: Callable[[list[Alert]], None], receiver: str = "kubeskippy-detect") -> None:
        self.env = env
        self.spec = spec
        self.epoch = epoch
        self.deliver = deliver
        self.receiver = receiver
        self.groups: dict[str, _Group] = {}
        self.notifications = 0

    def receive(self, alerts: Sequence[ActiveAlert]) -> None:
        for alert in alerts:
            labels = {k: alert.labels.get(k, "") for k in self.spec.group_by}
            key = "{}:" + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group(key, labels)
                self.env.process(self._run(group))
            old = group.alerts.get(alert.fingerprint)
            if old is None or (old.resolved_at is None) != (alert.resolved_at is None):
                group.changed = True
            group.alerts[alert.fingerprint] = alert

    def _run(self, group: _Group):
        yield self.env.timeout(self.spec.group_wait)
        while True:
            now = float(self.env.now)
            due_repeat = group.last_flush is not None and now - group.last_flush >= self.spec.repeat_interval - 1e-9
            if group.changed or due_repeat:
                self._flush(group, now)
            if all(a.resolved_at is not None for a in group.alerts.values()) and not group.changed:
                del self.groups[group.key]
                return
            yield self.env.timeout(self.spec.group_interval)

    def _flush(self, group: _Group, now: float) -> None:
        payload = []
        for fp, a in sorted(group.alerts.items()):
            resolved = a.resolved_at is not None
            payload.append(Alert(status="resolved" if resolved else "firing", alertname=a.rule, labels=a.labels,
                                 annotations=a.annotations, starts_at=self.epoch + a.active_at,
                                 ends_at=self.epoch + a.resolved_at if resolved else None, fingerprint=fp,
                                 receiver=self.receiver, group_key=group.key))
        for fp in [fp for fp, a in group.alerts.items() if a.resolved_at is not None]:
            del group.alerts[fp]
        group.changed = False
        group.last_flush = now
        self.notifications += 1
        if payload:
            self.deliver(payload)
