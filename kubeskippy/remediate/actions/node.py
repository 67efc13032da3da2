"""cordon / cordon_drain: mark a Node unschedulable and (for drain) evict its pods.

Like ``kubectl drain``: DaemonSet pods and mirror (static) pods stay, finished pods are skipped,
every other pod is evicted through the Eviction API so PodDisruptionBudgets hold — a 429 leaves
that pod in place and is reported ("retry later"); the node stays cordoned. Unlike kubectl, pods
that the protection rules protect (e.g. in kube-system) are skipped and reported too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..model import ActionContext, ActionReport, Intent, change
from ..objects import is_daemonset_pod, is_mirror_pod, meta
from ..params import ParamReader
from .base import Action, evict_pod, load_ref, ref_dict

__all__ = ["NodeParams", "CordonAction", "CordonDrainAction"]


@dataclass(frozen=True)
class NodeParams:
    grace_period_seconds: int | None = None


class CordonAction(Action):
    type_name = "cordon"
    kinds = frozenset({"Node"})
    drain = False

    def parse(self, params: Mapping[str, Any]) -> NodeParams:
        r = ParamReader(params)
        p = NodeParams(grace_period_seconds=r.integer("gracePeriodSeconds", None, minimum=0))
        r.finish()
        return p

    def prepare(self, ctx: ActionContext, target: dict, params: NodeParams) -> Intent:
        return {"target": ref_dict(target), "drain": self.drain, "grace": params.grace_period_seconds}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        live = ctx.cluster.get("v1", "Node", ref.name)
        report = ActionReport(message="")
        was = bool((live.get("spec") or {}).get("unschedulable", False))
        if not was:
            result = ctx.cluster.patch("v1", "Node", ref.name, None, {"spec": {"unschedulable": True}},
                                       patch_type="merge", dry_run=ctx.dry_run)
            report.changes.append(change(live, "patch", "spec.unschedulable", False,
                                         bool((result.get("spec") or {}).get("unschedulable", True))))
        parts = [f"cordoned {ref}" if not was else f"{ref} was already cordoned"]
        if intent["drain"]:
            parts.append(self._drain(ctx, ref.name, intent["grace"], report))
        report.message = "; ".join(parts)
        return report

    @staticmethod
    def _drain(ctx: ActionContext, node: str, grace: int | None, report: ActionReport) -> str:
        pods = ctx.cluster.list("v1", "Pod", None, field_selector=f"spec.nodeName={node}")
        evicted, kept, blocked = [], [], []
        for pod in sorted(pods, key=lambda p: (meta(p).get("namespace", ""), meta(p).get("name", ""))):
            name = f"{meta(pod).get('namespace')}/{meta(pod).get('name')}"
            if is_daemonset_pod(pod) or is_mirror_pod(pod):
                kept.append(f"{name} (daemonset/mirror)")
                continue
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            why = ctx.is_protected(pod) if ctx.is_protected else None
            if why:
                kept.append(f"{name} (protected: {why})")
                continue
            result, detail = evict_pod(ctx, ref_dict(pod), grace)
            if result == "evicted":
                evicted.append(name)
                report.changes.append(detail)
            elif result == "blocked":
                blocked.append(detail)
        report.details.update({"evicted": evicted, "kept": kept, "blocked": blocked})
        text = f"evicted {len(evicted)} pod(s)"
        if kept:
            text += f", kept {len(kept)}"
        if blocked:
            text += f", {len(blocked)} blocked by PodDisruptionBudgets (retry later)"
        return text


class CordonDrainAction(CordonAction):
    type_name = "cordon_drain"
    drain = True
