"""The terminal table: one row per scenario × arm, means with their 95 % intervals."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

__all__ = ["render_table", "format_ci"]


def format_ci(entry: dict[str, Any], *, unit: str = "", scale: float = 1.0, digits: int = 1) -> str:
    mean = entry.get("mean")
    if mean is None:
        return "—"
    text = f"{mean * scale:.{digits}f}{unit}"
    ci = entry.get("ci95")
    if ci:
        text += f" ±{(ci[1] - ci[0]) / 2 * scale:.{digits}f}"
    return text


def _counts(d: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3g}" for k, v in d.items()) or "—"


def render_table(summary: Sequence[dict[str, Any]], console: Console | None = None) -> Table:
    table = Table(title="KubeSkippy what-if (mean ±95% CI over seeds)", show_lines=False)
    for col in ("scenario", "arm", "incidents", "detect s", "MTTR s", "OOM kills", "availability",
                "actions", "by type", "blocked (why)", "flapping", "replica-h"):
        table.add_column(col, overflow="fold")
    for e in summary:
        table.add_row(
            e["scenario"], e["arm"], format_ci(e["incidents"]), format_ci(e["time_to_detect_mean"], digits=0),
            format_ci(e["mttr_mean"], digits=0), format_ci(e["oom_kills"]),
            format_ci(e["availability"], unit="%", scale=100.0, digits=2), format_ci(e["actions"]),
            _counts(e["actions_by_type"]), _counts(e["blocked_by_reason"]), format_ci(e["flapping"]),
            format_ci(e["replica_hours"]),
        )
    if console is not None:
        console.print(table)
    return table
