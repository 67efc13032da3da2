"""Compile metric triggers into Prometheus alerting rules.

With the rules loaded, Prometheus does the continuous evaluation (``expr`` with the trigger's
comparison applied, held ``for`` the trigger's duration) and Alertmanager wakes the detect
function only when something fires. Each rule's labels name the policy and trigger
(``kubeskippy_policy``, ``kubeskippy_trigger``), and the expression keeps the ``namespace``/``pod``
labels of its series, so :meth:`~kubeskippy.detect.Detector.on_alert` can map an alert back to
its target and re-apply the selector.

The same compiled triggers feed the Detector's sweep, so the rule and the sweep evaluate the very
same PromQL.
"""

from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

from ..policy.model import HealingPolicy
from .compiled import CompiledPolicy, CompiledTrigger, compile_policies

__all__ = [
    "compile_rules",
    "to_prometheus_rule",
    "rule_for",
    "alert_name",
    "prometheus_duration",
    "promql_number",
    "POLICY_LABEL",
    "TRIGGER_LABEL",
    "VALUE_ANNOTATION",
]

POLICY_LABEL = "kubeskippy_policy"
TRIGGER_LABEL = "kubeskippy_trigger"
VALUE_ANNOTATION = "kubeskippy_value"
"""Annotation carrying ``{{ $value }}``: the evidence value of the finding an alert becomes."""

_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]+")


def prometheus_duration(seconds: float) -> str:
    """A Prometheus duration (``1h30m``, ``90s`` → ``1m30s``, ``500ms``); 0 → ``0s``.

    Prometheus accepts only whole units, so a fraction of a millisecond is rounded up: a rule
    must never fire sooner than the policy asked.
    """
    millis = math.ceil(round(seconds * 1000, 6))
    if millis <= 0:
        return "0s"
    out = ""
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        amount, millis = divmod(millis, size)
        if amount:
            out += f"{amount}{unit}"
    return out


def promql_number(value: float) -> str:
    """A float as a PromQL literal: ``85``, ``0.5``, ``1e+20``, ``+Inf``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def alert_name(policy_key: str, trigger: str) -> str:
    """``kubeskippy_<namespace>_<policy>_<trigger>``, reduced to metric-name characters."""
    return "kubeskippy_" + _NOT_NAME.sub("_", f"{policy_key.replace('/', '_')}_{trigger}").strip("_")


def rule_for(policy: CompiledPolicy, trigger: CompiledTrigger, *, severity: str = "warning") -> dict:
    """One alerting rule for one metric trigger."""
    check = trigger.metric
    if check is None:
        raise ValueError(f"trigger {trigger.name} of {policy.key} is not a metric trigger")
    threshold = promql_number(check.threshold)
    rule: dict = {
        "alert": alert_name(policy.key, trigger.name),
        "expr": f"({check.promql}) {check.operator} {threshold}",
    }
    if check.duration > 0:
        rule["for"] = prometheus_duration(check.duration)
    held = f" for {prometheus_duration(check.duration)}" if check.duration > 0 else ""
    shown = check.query if check.builtin else "its PromQL"
    where = " on pod {{ $labels.namespace }}/{{ $labels.pod }}" if check.builtin else ""
    rule["labels"] = {POLICY_LABEL: policy.key, TRIGGER_LABEL: trigger.name, "severity": severity}
    rule["annotations"] = {
        "summary": f"{policy.key}: trigger {trigger.name} ({shown} {check.operator} {threshold}{held})",
        "description": (f"HealingPolicy {policy.key}, trigger {trigger.name}: {check.query} "
                        f"{check.operator} {threshold}{held}. Value {{{{ $value }}}}{where}."),
        VALUE_ANNOTATION: "{{ $value }}",
        "kubeskippy_query": check.query,
    }
    return rule


def compile_rules(policies: Sequence[HealingPolicy], *, severity: str = "warning") -> dict:
    """A Prometheus rule file (``groups`` → ``rules``): one group per policy with metric triggers.

    Policies are validated and compiled as the Detector does (InvalidInput names bad fields).
    """
    groups = []
    for policy in compile_policies(policies):
        rules = [rule_for(policy, t, severity=severity) for t in policy.metric_triggers]
        if rules:
            groups.append({"name": f"kubeskippy.{policy.key.replace('/', '.')}", "rules": rules})
    return {"groups": groups}


def to_prometheus_rule(rule_file: Mapping, *, name: str = "kubeskippy-healing", namespace: str = "kubeskippy",
                       labels: Mapping[str, str] | None = None) -> dict:
    """Wrap a rule file as a prometheus-operator ``PrometheusRule`` (monitoring.coreos.com/v1).

    ``labels`` must include whatever the Prometheus resource's ``ruleSelector`` asks for
    (kube-prometheus-stack's default is ``release: <helm release>``).
    """
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "kubeskippy", **(labels or {})},
        },
        "spec": {"groups": list(rule_file.get("groups", []))},
    }
