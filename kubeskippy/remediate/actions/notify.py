"""notify: change nothing, tell people. Emits an io.kubeskippy.notification (and a Kubernetes
Event on the target). The right answer when acting would not help, e.g. an image that cannot be
pulled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..model import ActionContext, ActionReport, Intent
from ..params import ParamReader
from .base import Action, load_ref, ref_dict

__all__ = ["NotifyParams", "NotifyAction"]


@dataclass(frozen=True)
class NotifyParams:
    severity: str = "warning"
    title: str | None = None
    message: str | None = None


class NotifyAction(Action):
    type_name = "notify"
    changes_cluster = False

    def parse(self, params: Mapping[str, Any]) -> NotifyParams:
        r = ParamReader(params)
        p = NotifyParams(severity=r.choice("severity", ("info", "warning", "critical"), "warning") or "warning",
                         title=r.text("title", None), message=r.text("message", None))
        r.finish()
        return p

    def resolve_target(self, cluster: Any, live: dict) -> dict:
        return live  # any object can be the subject of a notification

    def prepare(self, ctx: ActionContext, target: dict, params: NotifyParams) -> Intent:
        ref = ref_dict(target)
        return {"target": ref, "severity": params.severity,
                "title": params.title or f"KubeSkippy: attention needed on {target.get('kind')}/{ref['name']}",
                "message": params.message or ctx.reason or "a healing policy asked to notify"}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        note = None if ctx.dry_run else {"severity": intent["severity"], "title": intent["title"],
                                         "message": intent["message"]}
        return ActionReport(message=f"notified about {ref}: {intent['title']}", notification=note)
