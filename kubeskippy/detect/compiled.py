"""Policies prepared for fast, repeated evaluation.

Everything that can be decided once per policy is decided here, when policies are loaded:
selectors become predicate tuples, reasons become compiled regular expressions, built-in metric
names become PromQL. A bad regular expression or namespace is reported here, with its field
path, instead of surfacing later as a crash on some unlucky event.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple, Sequence

from ..errors import FieldError, InvalidInput
from ..policy.model import HealingPolicy, HealingTrigger
from .builtin_metrics import BUILTIN_METRICS, expand_query, namespace_matcher
from .event_counting import compile_reason
from .selection import CompiledSelector, compile_selector

__all__ = [
    "CompiledTrigger",
    "MetricCheck",
    "EventCheck",
    "ConditionCheck",
    "CompiledPolicy",
    "compile_policy",
    "compile_policies",
    "policy_key",
]


def policy_key(policy: HealingPolicy) -> str:
    """``namespace/name``: how findings, alerts and the safety ledger name a policy."""
    return f"{policy.namespace}/{policy.name}"


class MetricCheck(NamedTuple):
    query: str
    """As written in the policy (a built-in name or PromQL)."""
    promql: str
    """The expression evaluated: the built-in's expansion, restricted to the policy's namespaces."""
    builtin: bool
    operator: str
    threshold: float
    duration: float


class EventCheck(NamedTuple):
    reason: str
    matches_reason: Callable[[str], bool]
    type: str
    """Lower-cased; empty matches any type."""
    needed: int
    """Occurrences needed within the window (count 0 or 1 both mean one)."""
    window: float

    def matches(self, reason: str, type_: str) -> bool:
        return (not self.type or self.type == type_.lower()) and self.matches_reason(reason)


class ConditionCheck(NamedTuple):
    type: str
    status: str
    duration: float


class CompiledTrigger(NamedTuple):
    name: str
    type: str
    spec: HealingTrigger
    metric: MetricCheck | None = None
    event: EventCheck | None = None
    condition: ConditionCheck | None = None


class CompiledPolicy(NamedTuple):
    key: str
    policy: HealingPolicy
    selector: CompiledSelector
    metric_triggers: tuple[CompiledTrigger, ...]
    event_triggers: tuple[CompiledTrigger, ...]
    condition_triggers: tuple[CompiledTrigger, ...]

    def trigger(self, name: str) -> CompiledTrigger | None:
        for group in (self.metric_triggers, self.event_triggers, self.condition_triggers):
            for trigger in group:
                if trigger.name == name:
                    return trigger
        return None


def _compile_trigger(trigger: HealingTrigger, path: str, namespaces: Sequence[str], errors: list[FieldError],
                     interned: dict | None = None) -> CompiledTrigger | None:
    if trigger.type == "metric" and trigger.metric_trigger is not None:
        m = trigger.metric_trigger
        query = m.query.strip()
        check = MetricCheck(query, expand_query(query, namespaces), query in BUILTIN_METRICS, m.operator,
                            float(m.threshold), float(m.duration))
        return CompiledTrigger(trigger.name, "metric", trigger, metric=check)
    if trigger.type == "event" and trigger.event_trigger is not None:
        e = trigger.event_trigger
        try:
            matcher = compile_reason(e.reason)
        except re.error as err:
            errors.append(FieldError(f"{path}.eventTrigger.reason", f"invalid regular expression: {err}"))
            return None
        check = EventCheck(e.reason, matcher, e.type.strip().lower(), max(e.count, 1), float(e.window))
        return CompiledTrigger(trigger.name, "event", trigger, event=check)
    if trigger.type == "condition" and trigger.condition_trigger is not None:
        c = trigger.condition_trigger
        check = ConditionCheck(c.type, c.status, float(c.duration))
        if interned is not None:  # equal checks of different policies become one object: evaluated once
            check = interned.setdefault(check, check)
        return CompiledTrigger(trigger.name, "condition", trigger, condition=check)
    return None


def compile_policy(policy: HealingPolicy, *, interned: dict | None = None) -> CompiledPolicy:
    """Prepare one policy; raises :class:`InvalidInput` naming every field that cannot work.

    ``interned`` (shared by :func:`compile_policies`) makes equal condition checks one object.
    """
    errors: list[FieldError] = []
    namespaces = list(policy.spec.selector.namespaces)
    for i, ns in enumerate(namespaces):
        try:
            namespace_matcher([ns])
        except ValueError as err:
            errors.append(FieldError(f"spec.selector.namespaces[{i}]", str(err)))
    triggers: list[CompiledTrigger] = []
    if not errors:
        for i, trigger in enumerate(policy.spec.triggers):
            compiled = _compile_trigger(trigger, f"spec.triggers[{i}]", namespaces, errors, interned)
            if compiled is not None:
                triggers.append(compiled)
    if errors:
        raise InvalidInput(errors, source=policy_key(policy))
    return CompiledPolicy(
        key=policy_key(policy),
        policy=policy,
        selector=compile_selector(policy.spec.selector),
        metric_triggers=tuple(t for t in triggers if t.type == "metric"),
        event_triggers=tuple(t for t in triggers if t.type == "event"),
        condition_triggers=tuple(t for t in triggers if t.type == "condition"),
    )


def compile_policies(policies: Sequence[HealingPolicy]) -> tuple[CompiledPolicy, ...]:
    """All policies, sorted by ``namespace/name`` (the deterministic evaluation order).

    Errors of every bad policy are collected into one :class:`InvalidInput`; two policies with
    the same ``namespace/name`` are refused, as alerts and findings could not tell them apart.
    """
    compiled: list[CompiledPolicy] = []
    errors: list[FieldError] = []
    seen: set[str] = set()
    interned: dict = {}
    for index, policy in enumerate(policies):
        key = policy_key(policy)
        if key in seen:
            errors.append(FieldError(f"policies[{index}].metadata.name", f"duplicate policy {key}"))
            continue
        seen.add(key)
        try:
            compiled.append(compile_policy(policy, interned=interned))
        except InvalidInput as err:
            errors.extend(FieldError(f"{key}: {e.path}" if e.path else key, e.message) for e in err.errors)
    if errors:
        raise InvalidInput(errors, source="policies")
    return tuple(sorted(compiled, key=lambda p: p.key))
