"""Settings of the safety ledger and the protection / blast-radius checks.

Grouped in one frozen dataclass so a Knative function, the simulator and a test build the same
rules from one place; every field says what it guards against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import FieldError, InvalidInput

__all__ = ["SafetyConfig", "DEFAULT_PROTECTED_NAMESPACES"]

DEFAULT_PROTECTED_NAMESPACES: frozenset[str] = frozenset({"kube-system", "kube-public", "kube-node-lease"})


@dataclass(frozen=True)
class SafetyConfig:
    """Shared safety rules. Times are seconds."""

    record_prefix: str = "kubeskippy-safety"
    """Prefix of every record (ConfigMap) name the ledger writes."""

    rate_window: float = 3600.0
    """Length of the sliding window behind maxActionsPerHour and the global cap."""

    default_max_actions_per_hour: int = 10
    """Used when a request says 0: the published Go type treated 0 as "unset", so do we."""

    global_max_actions_per_hour: int | None = 100
    """Cluster-wide cap over all policies; None switches the global record off entirely."""

    idempotency_ttl: float = 86400.0
    """How long an executed step id is remembered; a replay after this is not recognised."""

    chain_threshold: int = 3
    """Actions on one workload that did not heal before further automatic ones are refused."""

    chain_window: float = 3600.0
    """An unhealed action stops counting towards the chain this long after it completed."""

    workload_shards: int = 4
    """Records per namespace for leases, idempotency, cooldowns and chains (split by workload):
    replicas acting on different workloads of one namespace then rarely write the same record,
    and each record, read by every decision there, stays a quarter of the size. Created only
    when a workload of that shard is first acted on."""

    max_record_bytes: int = 900 * 1024
    """Refuse to write a record larger than this (a ConfigMap's hard limit is 1 MiB)."""

    max_attempts: int = 12
    """Compare-and-swap attempts per change before giving up with TemporaryError."""

    backoff_base: float = 0.005
    """First retry waits up to this long; the bound doubles per attempt (full jitter)."""

    backoff_cap: float = 0.5
    """Upper bound of a single retry wait."""

    protected_namespaces: frozenset[str] = field(default_factory=lambda: DEFAULT_PROTECTED_NAMESPACES)
    """Namespaces never acted in, whatever a policy says."""

    max_unavailable_fraction: float = 0.34
    """At most this fraction of a workload's replicas may be unavailable after an action
    (rounded down, but at least one pod when the workload has two replicas or more)."""

    max_owner_depth: int = 8
    """How far up ownerReferences protection looks (guards against reference cycles)."""

    def __post_init__(self) -> None:
        errors: list[FieldError] = []

        def need(ok: bool, path: str, message: str) -> None:
            if not ok:
                errors.append(FieldError(path, message))

        need(self.rate_window > 0, "rate_window", "must be positive")
        need(self.default_max_actions_per_hour >= 0, "default_max_actions_per_hour", "must not be negative")
        need(self.global_max_actions_per_hour is None or self.global_max_actions_per_hour >= 0,
             "global_max_actions_per_hour", "must not be negative")
        need(self.idempotency_ttl > 0, "idempotency_ttl", "must be positive")
        need(self.chain_threshold >= 1, "chain_threshold", "must be at least 1")
        need(self.chain_window > 0, "chain_window", "must be positive")
        need(self.workload_shards >= 1, "workload_shards", "must be at least 1")
        need(1024 <= self.max_record_bytes <= 1024 * 1024, "max_record_bytes", "must be between 1 KiB and 1 MiB")
        need(self.max_attempts >= 1, "max_attempts", "must be at least 1")
        need(self.backoff_base >= 0 and self.backoff_cap >= 0, "backoff_base", "must not be negative")
        need(0 < self.max_unavailable_fraction <= 1, "max_unavailable_fraction", "must be in (0, 1]")
        need(self.max_owner_depth >= 1, "max_owner_depth", "must be at least 1")
        need(bool(self.record_prefix) and len(self.record_prefix) <= 200, "record_prefix", "must be 1-200 characters")
        if errors:
            raise InvalidInput(errors, source="SafetyConfig")
