"""A live lease as the ledger stores it, for inspection (CLI, tests).

Its own module because nothing on remediate's path to an action reads it: the ledger imports it in
``Ledger.active_leases``, so a function's cold start does not define it (~4 M instructions).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LeaseView"]


@dataclass(frozen=True)
class LeaseView:
    """A live lease as stored, for inspection (CLI, tests)."""

    workload: str
    holder: str
    step_id: str
    acquired: float
    expires: float
