"""What one remediation call produced: outcomes to publish, notifications, and the
HealingActions now waiting for a health check."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..events.model import Notification, Outcome, Verification

__all__ = ["RemediationResult"]


@dataclass
class RemediationResult:
    outcomes: list[Outcome] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    verifications: list[Verification] = field(default_factory=list)
    verifications_scheduled: list[str] = field(default_factory=list)  # namespace/name of HealingActions

    def merge(self, other: "RemediationResult") -> "RemediationResult":
        self.outcomes.extend(other.outcomes)
        self.notifications.extend(other.notifications)
        self.verifications.extend(other.verifications)
        self.verifications_scheduled.extend(other.verifications_scheduled)
        return self

    @property
    def empty(self) -> bool:
        return not (self.outcomes or self.notifications or self.verifications or self.verifications_scheduled)
