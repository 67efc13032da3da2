"""What one remediation call produced: outcomes to publish, notifications, and the
HealingActions now waiting for a health check."""

from __future__ import annotations

from ..events.model import Notification, Outcome, Verification

__all__ = ["RemediationResult"]


class RemediationResult:
    """Outcomes, notifications, verifications and the HealingActions now awaiting a health check;
    :meth:`merge` gathers several steps'. (A plain class: a dataclass costs remediate's cold start
    ~3 M instructions to define.)"""

    __slots__ = ("outcomes", "notifications", "verifications", "verifications_scheduled")

    def __init__(self, outcomes: list[Outcome] | None = None, notifications: list[Notification] | None = None,
                 verifications: list[Verification] | None = None,
                 verifications_scheduled: list[str] | None = None) -> None:
        self.outcomes: list[Outcome] = outcomes if outcomes is not None else []
        self.notifications: list[Notification] = notifications if notifications is not None else []
        self.verifications: list[Verification] = verifications if verifications is not None else []
        self.verifications_scheduled: list[str] = \
            verifications_scheduled if verifications_scheduled is not None else []  # namespace/name of HealingActions

    def _fields(self) -> tuple:
        return (self.outcomes, self.notifications, self.verifications, self.verifications_scheduled)

    def __eq__(self, other: object) -> bool:
        return self._fields() == other._fields() if isinstance(other, RemediationResult) else NotImplemented

    def __repr__(self) -> str:
        return "RemediationResult(" + ", ".join(f"{k}={v!r}" for k, v in zip(self.__slots__, self._fields())) + ")"

    def merge(self, other: "RemediationResult") -> "RemediationResult":
        self.outcomes.extend(other.outcomes)
        self.notifications.extend(other.notifications)
        self.verifications.extend(other.verifications)
        self.verifications_scheduled.extend(other.verifications_scheduled)
        return self

    @property
    def empty(self) -> bool:
        return not (self.outcomes or self.notifications or self.verifications or self.verifications_scheduled)
