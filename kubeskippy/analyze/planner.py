"""The analyze step: Finding in, Plan out.

gather context → analyzer (the rules when it fails) → guard → learning order → Plan.

The remediation executor runs every step of a plan, so a plan holds at most ``max_changes``
mutating actions (default 1: one change at a time, verified before the next) plus the
non-mutating ones (diagnostics, notify). The alternatives held back are named in ``Plan.notes``;
if the change does not heal, the next finding gets the next plan, and learning demotes what
failed.

The plan id is derived from the finding id, so a redelivered finding produces the same plan id
and remediation recognises the repeat. Transient faults reading the cluster propagate as
:class:`TemporaryError` (the function answers 5xx, the Broker retries); an unknown policy is
:class:`InvalidInput` (400, never retried). Learning is an optimisation: if its store is down the
plan is made without it and says so in ``Plan.notes``.
"""

from __future__ import annotations

import logging
from typing import Callable, Mapping, Union

from ..clock import Clock
from ..errors import FieldError, InvalidInput, KubeSkippyError
from ..events.model import ROOT_CAUSES, Finding, Plan, RootCause, stable_id
from ..policy.action_kinds import is_mutating
from ..policy.model import HealingPolicy
from ..ports import Cluster, Fanout, Metrics
from .context import ContextConfig, ContextGatherer
from .diagnosis import Analyzer, Diagnosis
from .guard import GuardConfig, guard
from .learning import EffectivenessStore
from .rules import RulesAnalyzer

__all__ = ["Planner", "PolicyLookup", "plan_id_for", "may_wait_for_approval"]

log = logging.getLogger(__name__)

PolicyLookup = Union[Mapping[str, HealingPolicy], Callable[[str], "HealingPolicy | None"]]


def plan_id_for(finding: Finding) -> str:
    """Deterministic: the same finding always gets the same plan id."""
    return stable_id("plan", finding.id)


class Planner:
    """Explains findings and proposes guarded, ordered actions from each finding's policy."""

    def __init__(self, *, policies: PolicyLookup, cluster: Cluster, metrics: Metrics | None, clock: Clock,
                 analyzer: Analyzer | None = None, learning: EffectivenessStore | None = None,
                 guard_config: GuardConfig | None = None, context_config: ContextConfig | None = None,
                 max_changes: int = 1, fanout: Fanout | None = None) -> None:
        if max_changes < 0:
            raise ValueError("max_changes must not be negative")
        # With a fan-out the learning record is read beside the context (the service pairs the
        # fan-out with a request cache, which keeps it for note_finding, order and note_plan).
        self.read_ahead = fanout is not None
        self.max_changes = max_changes
        self._policies = policies
        self.clock = clock
        self.rules = RulesAnalyzer()
        self.analyzer: Analyzer = analyzer or self.rules
        self.learning = learning
        self.guard_config = guard_config or GuardConfig()
        self.gatherer = ContextGatherer(cluster=cluster, metrics=metrics, clock=clock, config=context_config,
                                        fanout=fanout)

    def policy_for(self, finding: Finding) -> HealingPolicy:
        name = finding.policy
        policy = self._policies(name) if callable(self._policies) else self._policies.get(name)
        if policy is None:
            raise InvalidInput([FieldError("policy", f"no HealingPolicy named {name!r} is known")], source="finding")
        return policy

    def _diagnose(self, context, policy: HealingPolicy) -> Diagnosis:
        try:
            diagnosis = self.analyzer.analyze(context, policy)
        except Exception as e:  # a broken backend must never stop healing: the rules still answer
            if self.analyzer is self.rules:
                raise
            log.exception("analyzer %s failed on finding %s; the rules analyzer answers instead",
                          getattr(self.analyzer, "name", "?"), context.finding.id)
            fallback = self.rules.analyze(context, policy)
            return Diagnosis(fallback.root_cause, fallback.suggestions, fallback.analyzer,
                             (*fallback.notes, f"fallback: analyzer {getattr(self.analyzer, 'name', '?')} raised {type(e).__name__}"))
        if diagnosis.root_cause.category not in ROOT_CAUSES:
            root = diagnosis.root_cause
            diagnosis = Diagnosis(RootCause(category="unknown", confidence=root.confidence,
                                            explanation=root.explanation, evidence=root.evidence),
                                  diagnosis.suggestions, diagnosis.analyzer,
                                  (*diagnosis.notes, f"unknown category {root.category!r} read as unknown"))
        return diagnosis

    def plan(self, finding: Finding) -> Plan:
        policy = self.policy_for(finding)
        learning = self.learning
        ahead = [lambda: learning.read_ahead(finding.workload.namespace)] if learning and self.read_ahead else []
        context = self.gatherer.gather(finding, alongside=ahead)
        diagnosis = self._diagnose(context, policy)
        cause = diagnosis.root_cause.category
        notes = list(diagnosis.notes)
        workload = finding.workload
        if self.learning is not None:
            try:
                if self.learning.note_finding(workload, cause):
                    notes.append(f"{cause} recurred after a recent heal; counted against the action that healed it")
            except KubeSkippyError as e:
                notes.append(f"learning unavailable: {e}")
        result = guard(diagnosis, context, policy, self.guard_config)
        actions = result.accepted
        if self.learning is not None:
            try:
                ordering = self.learning.order(actions, result.accepted_kinds, workload, cause)
                actions = ordering.actions
                notes.extend(ordering.notes)
            except KubeSkippyError as e:
                notes.append(f"learning unavailable: {e}")
        kind_of = {a.action: k for a, k in zip(result.accepted, result.accepted_kinds)}
        kept, held = [], []
        for a in actions:
            changes = sum(1 for k in kept if is_mutating(kind_of[k.action]))
            (held if is_mutating(kind_of[a.action]) and changes >= self.max_changes else kept).append(a)
        if held:
            notes.append(f"held back (at most {self.max_changes} change(s) per plan): " + ", ".join(f"{a.action} on {a.target}" for a in held))
        # Diagnostics first: a capture must see the state before anything changes it (after the pod
        # is deleted there is nothing left to capture). Stable: the rest keeps the preference and
        # learning order (an escalation puts its notification first).
        actions = sorted(kept, key=lambda a: kind_of[a.action] != "diagnostics")
        plan = Plan(id=plan_id_for(finding), finding=finding, root_cause=diagnosis.root_cause,
                    analyzer=diagnosis.analyzer, actions=actions, rejected=result.rejected,
                    created_at=self.clock.now(), notes=notes)
        if self.learning is not None and may_wait_for_approval(plan, policy, kind_of):
            try:
                self.learning.note_plan(plan, [kind_of[a.action] for a in plan.actions])
            except KubeSkippyError as e:
                log.warning("could not note plan %s for learning (%s); its outcome will not be scored", plan.id, e)
        log.info("plan %s for %s: %s (%.2f) by %s, %d action(s), %d rejected", plan.id, finding.target, cause,
                 diagnosis.root_cause.confidence, diagnosis.analyzer, len(plan.actions), len(plan.rejected))
        return plan


def may_wait_for_approval(plan: Plan, policy: HealingPolicy, kind_of: dict[str, str]) -> bool:
    """Whether a change of the plan may run later, from its HealingAction, after an approval.

    Outcomes that answer the plan carry its attribution (remediate's executor adds it), so
    learning needs no note of the plan for them, and writing one would be a round on the path.
    An approved step's Outcome is rebuilt from its HealingAction, which keeps the attribution
    since 2026-11-22; a HealingAction written before then does not, so for such plans the
    planner still notes the plan first."""
    if policy.spec.mode == "manual":
        return True
    for a in plan.actions:
        if not is_mutating(kind_of[a.action]):
            continue
        if a.requires_approval:
            return True
        try:
            if policy.action(a.action).requires_approval:
                return True
        except KeyError:
            continue
    return False
