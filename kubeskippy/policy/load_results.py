"""What loading policy documents returns beyond one document's report: warnings that did not
stop loading, and the objects of every document together.

Its own module so that the functions, which check one listed object at a time
(:func:`~kubeskippy.policy.loading.check_object`) and rarely meet a warning, do not define these
dataclasses on a cold start (~6 M instructions; docs/functions.md, "Session 5").
:mod:`kubeskippy.policy.loading` still exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ..errors import FieldError

if TYPE_CHECKING:
    from .healing_action import HealingAction
    from .model import HealingPolicy

__all__ = ["LoadWarning", "LoadResult"]


class LoadWarning(NamedTuple):
    """A problem that did not stop loading: a :class:`FieldError`'s path and message, and the
    document it came from."""

    path: str
    message: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return where + str(FieldError(self.path, self.message))


@dataclass
class LoadResult:
    policies: list[HealingPolicy] = field(default_factory=list)
    actions: list[HealingAction] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)

    def extend(self, other: "LoadResult") -> None:
        self.policies.extend(other.policies)
        self.actions.extend(other.actions)
        self.warnings.extend(other.warnings)
