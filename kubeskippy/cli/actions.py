"""``kubeskippy actions list``, ``kubeskippy approve`` and ``kubeskippy reject``.

Approve and reject write ``status.approval`` of a Pending HealingAction by compare-and-swap — the
same write a ``kubectl patch --subresource=status`` makes — and the remediate function, seeing
the update, executes (or cancels) exactly once. The cluster is reached the way kubectl does
(in-cluster config or kubeconfig).

Exit codes: 0 done, 1 not possible now (not Pending, already decided), 2 bad input,
3 the API server could not be reached or answered an error.
"""

from __future__ import annotations

import getpass
import os
import time
from typing import Callable, Optional

import typer

from ..clock import WallClock
from ..errors import APINotFound, KubeSkippyError, Refused, TemporaryError
from ..policy.model import API_VERSION
from ..ports import Cluster
from ..remediate.approval import approval_decision, decide_approval
from ..remediate.healing_actions import KIND, metrics_of, parse_ts, phase_of
from ..remediate.naming import LABEL_MANAGED_BY, MANAGED_BY

__all__ = ["register", "cluster_factory", "format_rows"]


def _cluster_from_environment() -> Cluster:
    try:
        from ..adapters.kubernetes import KubernetesCluster
    except ImportError as e:  # pragma: no cover - the adapter ships with the package
        raise TemporaryError(f"the Kubernetes adapter is not available: {e}") from e
    return KubernetesCluster.from_environment()


cluster_factory: Callable[[], Cluster] = _cluster_from_environment
"""How the commands reach the cluster; tests swap in the API double."""


def _age(created: str | None, now: float) -> str:
    when = parse_ts(created) if created else None
    if when is None:
        return "?"
    s = max(0, int(now - when))
    return f"{s}s" if s < 120 else f"{s // 60}m" if s < 7200 else f"{s // 3600}h" if s < 172800 else f"{s // 86400}d"


def format_rows(items: list[dict], now: float) -> list[list[str]]:
    rows = []
    for ha in sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])):
        spec, meta = ha.get("spec") or {}, ha["metadata"]
        target = spec.get("targetResource") or {}
        decision = approval_decision(ha)
        rows.append([
            meta.get("namespace", ""), meta["name"], phase_of(ha),
            (meta.get("labels") or {}).get("kubeskippy.io/action-type", (spec.get("action") or {}).get("type", "")),
            f"{target.get('kind', '')}/{target.get('name', '')}", (spec.get("policyRef") or {}).get("name", ""),
            metrics_of(ha).get("kubeskippy.io/outcome", "") or ("dry-run" if spec.get("dryRun") else ""),
            "-" if decision == "not_required" else decision, _age(meta.get("creationTimestamp"), now),
        ])
    return rows


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _decide(name: str, namespace: str, approve: bool, reason: str, by: Optional[str]) -> None:
    who = by or os.environ.get("KUBESKIPPY_USER") or getpass.getuser()
    try:
        cluster = cluster_factory()
        obj = cluster.get(API_VERSION, KIND, name, namespace)
        decide_approval(cluster, WallClock(), obj, approve=approve, by=who, reason=reason)
    except APINotFound:
        _fail(f"HealingAction {namespace}/{name} not found", 1)
    except Refused as e:
        _fail(str(e), 1)
    except KubeSkippyError as e:
        _fail(str(e), 3)
    typer.echo(f"healingaction {namespace}/{name} {'approved' if approve else 'rejected'} by {who}")


def register(app: typer.Typer) -> None:
    actions = typer.Typer(help="HealingActions: what KubeSkippy did or proposes.", no_args_is_help=True)

    @actions.command("list")
    def list_actions(
        namespace: Optional[str] = typer.Option(None, "--namespace", "-n", help="Namespace (default: all)"),
        phase: Optional[str] = typer.Option(None, "--phase", help="Only this phase, e.g. Pending"),
    ) -> None:
        """List HealingActions with their phase, target, outcome and approval state."""
        try:
            items = cluster_factory().list(API_VERSION, KIND, namespace,
                                           label_selector=f"{LABEL_MANAGED_BY}={MANAGED_BY}")
        except KubeSkippyError as e:
            _fail(str(e), 3)
        if phase:
            items = [i for i in items if phase_of(i).lower() == phase.lower()]
        header = ["NAMESPACE", "NAME", "PHASE", "TYPE", "TARGET", "POLICY", "OUTCOME", "APPROVAL", "AGE"]
        rows = [header, *format_rows(items, time.time())]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for r in rows:
            typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())

    app.add_typer(actions, name="actions")

    @app.command("approve")
    def approve(name: str = typer.Argument(..., help="HealingAction name"),
                namespace: str = typer.Option("default", "--namespace", "-n"),
                reason: str = typer.Option("", "--reason", help="Why (recorded in status.approval.reason)"),
                by: Optional[str] = typer.Option(None, "--by", help="Who approves (default: $KUBESKIPPY_USER or login)")
                ) -> None:
        """Approve a Pending HealingAction; the remediate function then executes it once."""
        _decide(name, namespace, True, reason, by)

    @app.command("reject")
    def reject(name: str = typer.Argument(..., help="HealingAction name"),
               namespace: str = typer.Option("default", "--namespace", "-n"),
               reason: str = typer.Option(..., "--reason", help="Why (recorded in status.approval.reason)"),
               by: Optional[str] = typer.Option(None, "--by", help="Who rejects (default: $KUBESKIPPY_USER or login)")
               ) -> None:
        """Reject a Pending HealingAction; it becomes Cancelled and nothing is done."""
        _decide(name, namespace, False, reason, by)
