"""The remediation actions, one module per family, looked up by type name.

A family's module is imported the first time one of its actions is looked up: a remediate
process loads only the actions its plans use (a crash loop's plan: diagnostics and delete), not
all eleven with their parameter readers.
"""

from __future__ import annotations

from importlib import import_module
from typing import Iterator, Mapping

from .base import Action

__all__ = ["Action", "ACTIONS", "action_for"]

# type name -> (module in this package, class). tests/remediate check each class's type_name.
_WHERE: dict[str, tuple[str, str]] = {
    "restart": ("restart", "RestartAction"),
    "scale": ("scale", "ScaleAction"),
    "patch": ("patch", "PatchAction"),
    "delete": ("delete", "DeleteAction"),
    "rollback": ("rollback", "RollbackAction"),
    "raise_limit": ("resources", "RaiseLimitAction"),
    "cordon": ("node", "CordonAction"),
    "cordon_drain": ("node", "CordonDrainAction"),
    "quarantine": ("quarantine", "QuarantineAction"),
    "diagnostics": ("diagnostics", "DiagnosticsAction"),
    "notify": ("notify", "NotifyAction"),
}


class _Actions(Mapping[str, Action]):
    """Read-only ``type name -> Action``; each action is built on first lookup, once."""

    def __init__(self) -> None:
        self._built: dict[str, Action] = {}

    def __getitem__(self, type_name: str) -> Action:
        action = self._built.get(type_name)
        if action is None:
            module, cls = _WHERE[type_name]  # KeyError for an unknown type, as a dict
            built = getattr(import_module(f".{module}", __name__), cls)()
            action = self._built.setdefault(type_name, built)  # one instance even when threads race
        return action

    def __iter__(self) -> Iterator[str]:
        return iter(_WHERE)

    def __len__(self) -> int:
        return len(_WHERE)

    def __repr__(self) -> str:
        return f"ACTIONS({sorted(_WHERE)})"


ACTIONS: Mapping[str, Action] = _Actions()


def action_for(type_name: str) -> Action:
    """The action implementing ``type_name`` (KeyError when there is none)."""
    return ACTIONS[type_name]
