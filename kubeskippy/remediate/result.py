"""What one remediation call produced: outcomes to publish, notifications, and the
HealingActions now waiting for a health check."""

from __future__ import annotations

from ..events.model import Notification, Outcome, Verification
from ..slot_record import SlotRecord

__all__ = ["RemediationResult"]


class RemediationResult(SlotRecord):
    """Outcomes, notifications, verifications and the HealingActions now awaiting a health check;
    :meth:`merge` gathers several steps'."""

    __slots__ = ("outcomes", "notifications", "verifications", "verifications_scheduled")

    def __init__(self, outcomes: list[Outcome] | None = None, notifications: list[Notification] | None = None,
                 verifications: list[Verification] | None = None,
                 verifications_scheduled: list[str] | None = None) -> None:
        self.outcomes: list[Outcome] = outcomes if outcomes is not None else []
        self.notifications: list[Notification] = notifications if notifications is not None else []
        self.verifications: list[Verification] = verifications if verifications is not None else []
        self.verifications_scheduled: list[str] = \
            verifications_scheduled if verifications_scheduled is not None else []  # namespace/name of HealingActions

    def merge(self, other: "RemediationResult") -> "RemediationResult":
        self.outcomes.extend(other.outcomes)
        self.notifications.extend(other.notifications)
        self.verifications.extend(other.verifications)
        self.verifications_scheduled.extend(other.verifications_scheduled)
        return self

    @property
    def empty(self) -> bool:
        return not (self.outcomes or self.notifications or self.verifications or self.verifications_scheduled)
