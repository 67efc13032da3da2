"""The remediation actions, one module per family, looked up by type name."""

from __future__ import annotations

from .base import Action
from .delete import DeleteAction
from .diagnostics import DiagnosticsAction
from .node import CordonAction, CordonDrainAction
from .notify import NotifyAction
from .patch import PatchAction
from .quarantine import QuarantineAction
from .resources import RaiseLimitAction
from .restart import RestartAction
from .rollback import RollbackAction
from .scale import ScaleAction

__all__ = ["Action", "ACTIONS", "action_for"]

ACTIONS: dict[str, Action] = {a.type_name: a for a in (
    RestartAction(), ScaleAction(), PatchAction(), DeleteAction(), RollbackAction(), RaiseLimitAction(),
    CordonAction(), CordonDrainAction(), QuarantineAction(), DiagnosticsAction(), NotifyAction(),
)}


def action_for(type_name: str) -> Action:
    """The action implementing ``type_name`` (KeyError when there is none)."""
    return ACTIONS[type_name]
