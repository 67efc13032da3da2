"""Shared safety rules: the ledger every remediate replica reserves actions in, and the pure
protection and blast-radius checks run against live objects before acting.

The names below load their module on first use: analyze needs only ``safety.cas`` (its
learning record uses the same compare-and-swap loop), and importing the whole package would cost
every analyze cold start the ledger, protection and blast-radius modules too."""

from __future__ import annotations

import importlib
from typing import Any

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
    "LeaseView": "ledger",
    "MemoryStore": "memory_store",
    "protection_reason": "protection",
    "protection_reason_of": "protection",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
