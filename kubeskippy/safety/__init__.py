"""Shared safety rules: the ledger every remediate replica reserves actions in, and the pure
protection and blast-radius checks run against live objects before acting.

The names below load their module on first use: analyze needs only ``safety.cas`` (its
learning record uses the same compare-and-swap loop), and importing the whole package would cost
every analyze cold start the ledger, protection and blast-radius modules too."""

from __future__ import annotations

from ..lazy import lazy_attributes

_HOME = {
    "Availability": "blast_radius",
    "allowed_unavailable": "blast_radius",
    "blast_radius_reason": "blast_radius",
    "disrupted_pods": "blast_radius",
    "workload_availability": "blast_radius",
    "DEFAULT_PROTECTED_NAMESPACES": "config",
    "SafetyConfig": "config",
    "REFUSAL_REASONS": "contract",
    "ActionRequest": "contract",
    "Reservation": "contract",
    "SafetyLedger": "contract",
    "Ledger": "ledger",
    "LeaseView": "lease_view",
    "MemoryStore": "memory_store",
    "protection_reason": "protection",
    "protection_reason_of": "protection",
}

__all__ = sorted(_HOME)


__getattr__, __dir__ = lazy_attributes(__name__, _HOME)
