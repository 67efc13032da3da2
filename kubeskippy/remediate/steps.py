"""A plan step with everything needed to carry it out, built either from a Plan (first delivery)
or from its HealingAction (approval, recovery) — the two must agree, so both go through here."""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

from ..errors import InvalidInput, Refused
from ..events.model import ObjectRef, PlannedAction
from ..events.remediation import OutcomeAttribution
from ..policy.model import HealingActionTemplate, HealingPolicy
from .actions import Action, action_for
from .healing_actions import annotation, attribution_of, planned_action_of
from .model import ActionReport
from .naming import ANN_FINDING_FINGERPRINT, ANN_PLAN_ID, ANN_STEP_ID, ANN_TRIGGER
from .params import resolve_action

__all__ = ["Step", "EarlyRun", "PolicyLookup", "lookup_policy", "build_step", "step_from_record"]

PolicyLookup = Mapping[str, HealingPolicy] | Callable[[str], "HealingPolicy | None"]
_DEFAULT_COOLDOWN = 300.0


class Step(NamedTuple):
    step_id: str
    plan_id: str
    fingerprint: str
    trigger: str
    policy: HealingPolicy
    template: HealingActionTemplate
    planned: PlannedAction
    action_type: str
    action: Action
    params: Any
    early: "EarlyRun | None" = None
    """An observe-only step already applied before the plan's changes (see EarlyRun)."""
    attribution: "OutcomeAttribution | None" = None
    """What learning needs to score the step's outcomes; kept on its HealingAction."""

    @property
    def policy_key(self) -> str:
        return f"{self.policy.namespace}/{self.policy.name}"

    @property
    def cooldown(self) -> float:
        try:
            return self.policy.trigger(self.trigger).cooldown_period
        except KeyError:
            return _DEFAULT_COOLDOWN

    @property
    def target(self) -> ObjectRef:
        return self.planned.target


class EarlyRun(NamedTuple):
    """What an observe-only step (diagnostics, notify) saw when it was applied ahead of the plan's
    changes: the intent it was applied with and its report. Recording the step later uses this
    report instead of applying again, so a capture shows the state from before the change."""

    intent: dict
    report: ActionReport
    at: float
    target: dict  # the object as resolved and checked (not protected) then
    workload: ObjectRef  # its top owner: the ledger's key


def lookup_policy(policies: PolicyLookup, key: str) -> HealingPolicy | None:
    """``key`` is ``namespace/name``; a bare name is looked up as given."""
    if callable(policies) and not isinstance(policies, Mapping):
        return policies(key)
    return policies.get(key)


def build_step(*, step_id: str, plan_id: str, fingerprint: str, trigger: str, policy: HealingPolicy,
               planned: PlannedAction, template: HealingActionTemplate | None = None) -> Step:
    """Raises Refused("not_in_policy") or InvalidInput (bad type or parameters, named by path)."""
    if template is None:
        try:
            template = policy.action(planned.action)
        except KeyError:
            raise Refused("not_in_policy", f"policy {policy.namespace}/{policy.name} has no action "
                          f"{planned.action!r}") from None
    action_type, raw = resolve_action(policy, template, planned)
    try:
        action = action_for(action_type)
    except KeyError:  # pragma: no cover - resolve_action only returns known types
        raise InvalidInput(f"type: no implementation of {action_type!r}") from None
    params = action.parse(raw)
    return Step(step_id=step_id, plan_id=plan_id, fingerprint=fingerprint, trigger=trigger, policy=policy,
                template=template, planned=planned, action_type=action_type, action=action, params=params)


def step_from_record(obj: dict, policies: PolicyLookup) -> Step:
    """The step a HealingAction stands for, with the template it was proposed with (what the
    approver saw) and the policy's current safety rules. Refused("policy_not_found") when the
    policy is gone."""
    ref = (obj.get("spec") or {}).get("policyRef") or {}
    key = f"{ref.get('namespace', '')}/{ref.get('name', '')}"
    policy = lookup_policy(policies, key)
    if policy is None:
        raise Refused("policy_not_found", f"HealingPolicy {key} no longer exists")
    template = HealingActionTemplate.model_validate((obj.get("spec") or {}).get("action") or {})
    step = build_step(step_id=annotation(obj, ANN_STEP_ID), plan_id=annotation(obj, ANN_PLAN_ID),
                      fingerprint=annotation(obj, ANN_FINDING_FINGERPRINT), trigger=annotation(obj, ANN_TRIGGER),
                      policy=policy, planned=planned_action_of(obj), template=template)
    return step._replace(attribution=attribution_of(obj))
