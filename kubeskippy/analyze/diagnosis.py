"""What an analyzer returns: a root cause and the actions it suggests, before the guard.

Suggestions are deliberately untrusted: an LLM may invent action names, targets or parameters,
and the rules analyzer goes through the very same guard. Only the guard turns suggestions into
:class:`~kubeskippy.events.model.PlannedAction` s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Protocol, runtime_checkable

from ..events.model import ObjectRef, RootCause
from ..policy.model import HealingPolicy
from .context import AnalysisContext

__all__ = ["Suggestion", "Diagnosis", "Analyzer"]


@dataclass(frozen=True)
class Suggestion:
    """One proposed step: a policy action by name, on a target, with optional overrides.

    ``target`` None means the finding's target. ``params`` are overrides of the policy action's
    own parameters; the guard accepts only a few keys (see guard.ALLOWED_OVERRIDES).
    ``type`` is what the analyzer believes the action does; a mismatch with the policy is
    rejected as suspicious.
    """

    action: str
    target: ObjectRef | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # anything else the analyzer sent

    def as_record(self) -> dict[str, Any]:
        """JSON-able form for RejectedSuggestion.suggestion and the audit trail."""
        out: dict[str, Any] = {"action": self.action}
        if self.type is not None:
            out["type"] = self.type
        if self.target is not None:
            out["target"] = self.target.model_dump(mode="json", exclude_none=True)
        if self.params:
            out["params"] = dict(self.params)
        if self.reason:
            out["reason"] = self.reason
        if self.extra:
            out["extra"] = dict(self.extra)
        return out


class Diagnosis(NamedTuple):
    """Root cause plus ordered, unguarded suggestions; ``analyzer`` names who answered
    (e.g. ``rules``, ``openai``, or ``rules`` after a fallback with the reason in ``notes``)."""

    root_cause: RootCause
    suggestions: tuple[Suggestion, ...]
    analyzer: str
    notes: tuple[str, ...] = ()
    source_target: ObjectRef | None = None  # the finding's target when this was computed (cache reuse)


@runtime_checkable
class Analyzer(Protocol):
    """Explains a finding. Must not act; may be slow or wrong; the guard checks its output."""

    name: str

    def analyze(self, context: AnalysisContext, policy: HealingPolicy) -> Diagnosis: ...
