"""The contract between remediation and the safety ledger.

Remediation asks the ledger to *reserve* every action before acting. A reservation counts
against the rate limit at once (so concurrent replicas cannot over-run it), takes the target's
lease and is tied to an idempotency key (the plan step id). After acting, remediation
*completes* the reservation (executed: cooldown starts, step recorded as done, lease released)
or *aborts* it (nothing happened: lease released, rate slot given back, so a retry can run).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from ..events.model import ObjectRef

__all__ = ["ActionRequest", "Reservation", "SafetyLedger", "REFUSAL_REASONS"]

REFUSAL_REASONS = (
    "duplicate",  # this step id was already executed
    "rate_limited",  # policy maxActionsPerHour reached within the sliding hour
    "global_rate_limited",  # the cluster-wide cap reached
    "cooldown",  # policy × trigger × workload still cooling down
    "leased",  # another holder's live lease on the workload
    "ineffective_chain",  # N recent actions on this workload did not heal it
)


class ActionRequest(NamedTuple):
    step_id: str  # plan id + ":" + action name: the idempotency key
    policy: str  # namespace/name of the HealingPolicy
    trigger: str
    target: ObjectRef  # the object acted on
    workload: ObjectRef  # top of the owner chain: the key for leases, cooldowns, chains
    action_type: str
    max_actions_per_hour: int
    cooldown: float  # seconds
    lease_duration: float  # seconds; a crashed holder's lease expires after this
    observe_only: bool = False
    """The action reads state or notifies but changes nothing (diagnostics, notify): it takes no
    rate slot, is not refused by (and does not extend) an ineffective chain, and cools down on its
    own key, so it neither blocks nor is blocked by the changes of the same trigger."""


class Reservation(NamedTuple):
    request: ActionRequest
    holder: str
    reserved_at: float
    lease_expires: float


class SafetyLedger(Protocol):
    def reserve(self, request: ActionRequest) -> Reservation:
        """Raises :class:`kubeskippy.errors.Refused` with ``reason`` in REFUSAL_REASONS."""
        ...

    def complete(self, reservation: Reservation) -> None:
        """The action was executed: record the step, start the cooldown, release the lease."""
        ...

    def record_observed(self, request: ActionRequest) -> None:
        """An observe-only action (``request.observe_only``) already ran: the refusals of
        :meth:`reserve`, then the record of :meth:`complete`, in one atomic write."""
        ...

    def abort(self, reservation: Reservation) -> None:
        """Nothing was done: release the lease and give the rate-limit slot back."""
        ...

    def record_verification(self, workload: ObjectRef, policy: str, healthy: bool) -> None:
        """Feed the ineffective-chain rule: unhealthy results after actions accumulate."""
        ...
