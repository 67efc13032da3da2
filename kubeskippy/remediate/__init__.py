"""Remediation: the actions, the plan executor (Remediator), the HealingAction lifecycle,
approvals and post-action verification."""

from .approval import approval_decision, decide_approval
from .executor import Remediator
from .guard import SafetyGuard, TargetGuard
from .result import RemediationResult
from .steps import PolicyLookup

__all__ = ["Remediator", "RemediationResult", "PolicyLookup", "TargetGuard", "SafetyGuard", "approval_decision",
           "decide_approval"]
