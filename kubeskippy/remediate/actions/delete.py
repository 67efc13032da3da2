"""delete: remove an object (a controller recreates it), with gracePeriodSeconds,
propagationPolicy, and ``force`` meaning grace 0.

Only kinds a controller brings back or that are safe to lose are handled; Namespaces, Nodes,
volumes and KubeSkippy's own objects are refused as unsupported targets whatever the plan says.
The intent pins the object's uid: a re-drive never deletes the replacement.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from ...errors import APINotFound
from ..model import ActionContext, ActionReport, Intent, change
from ..objects import meta
from ..params import ParamReader
from .base import Action, load_ref, ref_dict

__all__ = ["DeleteParams", "DeleteAction"]


class DeleteParams(NamedTuple):  # not a frozen dataclass: ~3.9 M fewer instructions per cold start (docs/functions.md, "Session 7")
    grace_period_seconds: int = 30
    force: bool = False
    propagation_policy: str | None = None

    @property
    def grace(self) -> int:
        return 0 if self.force else self.grace_period_seconds


class DeleteAction(Action):
    type_name = "delete"
    kinds = frozenset({"Pod", "ReplicaSet", "Job", "Deployment", "StatefulSet", "DaemonSet"})

    def parse(self, params: Mapping[str, Any]) -> DeleteParams:
        r = ParamReader(params)
        p = DeleteParams(
            grace_period_seconds=r.integer("gracePeriodSeconds", 30, minimum=0) or 0,
            force=r.boolean("force", False),
            propagation_policy=r.choice("propagationPolicy", ("Orphan", "Background", "Foreground"), None),
        )
        r.finish()
        return p

    def prepare(self, ctx: ActionContext, target: dict, params: DeleteParams) -> Intent:
        return {"target": ref_dict(target), "grace": params.grace, "propagation": params.propagation_policy,
                "force": params.force}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        try:
            live = ctx.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        except APINotFound:
            return ActionReport(message=f"{ref} is already gone")
        if ref.uid and meta(live).get("uid") != ref.uid:
            return ActionReport(message=f"{ref} was already deleted and replaced (uid {meta(live).get('uid')})")
        try:
            ctx.cluster.delete(ref.api_version, ref.kind, ref.name, ref.namespace,
                               grace_period_seconds=intent["grace"], propagation_policy=intent["propagation"],
                               dry_run=ctx.dry_run)
        except APINotFound:
            return ActionReport(message=f"{ref} is already gone")
        opts = f"gracePeriodSeconds={intent['grace']}" + (" (force)" if intent["force"] else "")
        if intent["propagation"]:
            opts += f", propagationPolicy={intent['propagation']}"
        return ActionReport(message=f"deleted {ref} ({opts})",
                            changes=[change(live, "delete", "object", meta(live).get("uid", ""), "deleted")])
