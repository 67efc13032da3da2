"""Shared safety rules: the ledger every remediate replica reserves actions in, and the pure
protection and blast-radius checks run against live objects before acting."""

from .blast_radius import (Availability, allowed_unavailable, blast_radius_reason, disrupted_pods,
                           workload_availability)
from .config import DEFAULT_PROTECTED_NAMESPACES, SafetyConfig
from .contract import REFUSAL_REASONS, ActionRequest, Reservation, SafetyLedger
from .ledger import Ledger, LeaseView
from .memory_store import MemoryStore
from .protection import protection_reason, protection_reason_of

__all__ = [
    "ActionRequest",
    "Availability",
    "DEFAULT_PROTECTED_NAMESPACES",
    "Ledger",
    "LeaseView",
    "MemoryStore",
    "REFUSAL_REASONS",
    "Reservation",
    "SafetyConfig",
    "SafetyLedger",
    "allowed_unavailable",
    "blast_radius_reason",
    "disrupted_pods",
    "protection_reason",
    "protection_reason_of",
    "workload_availability",
]
