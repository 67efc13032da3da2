"""Per-arm summaries over seeds: means with 95 % confidence intervals (Student's t).

Runs of different seeds are independent replications, so the interval of a metric's mean is
mean ± t(0.975, n−1)·s/√n. With one seed there is no spread to estimate and the interval is
reported as null rather than as zero width.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

from ..observe import RunRecord

__all__ = ["t_quantile_975", "mean_ci", "summarise", "SCALAR_METRICS", "report_json"]

# Two-sided 95 % Student t quantiles by degrees of freedom (1..30); beyond, the normal 1.96.
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]

SCALAR_METRICS = ("incidents", "time_to_detect_mean", "mttr_mean", "oom_kills", "container_exits", "availability",
                  "actions", "actions_per_hour", "blocked", "flapping", "replica_hours", "findings",
                  "incidents_open_at_end")


def t_quantile_975(df: int) -> float:
    if df < 1:
        return math.nan
    return _T975[df - 1] if df <= len(_T975) else 1.96


def mean_ci(values: Iterable[float | None]) -> dict[str, Any]:
    xs = [float(v) for v in values if v is not None]
    n = len(xs)
    if n == 0:
        return {"mean": None, "ci95": None, "n": 0}
    mean = sum(xs) / n
    if n == 1:
        return {"mean": mean, "ci95": None, "n": 1}
    var = sum((x - mean) ** 2 for x in xs) / (n - 1)
    half = t_quantile_975(n - 1) * math.sqrt(var / n)
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": n}


def _merge_counts(dicts: Iterable[dict[str, int]]) -> dict[str, float]:
    """Mean count per run of each key (e.g. actions by type)."""
    dicts = list(dicts)
    keys = sorted({k for d in dicts for k in d})
    return {k: sum(d.get(k, 0) for d in dicts) / len(dicts) for k in keys} if dicts else {}


def summarise(records: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """One entry per (scenario, arm), in first-seen order."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.scenario, r.arm), []).append(r)
    out = []
    for (scenario, arm), runs in groups.items():
        entry: dict[str, Any] = {"scenario": scenario, "arm": arm, "seeds": [r.seed for r in runs],
                                 "duration": runs[0].duration}
        for name in SCALAR_METRICS:
            entry[name] = mean_ci(r.metrics.get(name) for r in runs)
        entry["actions_by_type"] = _merge_counts(r.metrics["actions_by_type"] for r in runs)
        entry["blocked_by_reason"] = _merge_counts(r.metrics["blocked_by_reason"] for r in runs)
        entry["mttr_values"] = [v for r in runs for v in r.metrics["mttr_values"]]
        entry["ttd_values"] = [v for r in runs for v in r.metrics["ttd_values"]]
        entry["wall_seconds"] = sum(r.metrics.get("wall_seconds", 0.0) for r in runs)
        out.append(entry)
    return out


def report_json(records: Sequence[RunRecord], *, command: str = "") -> dict[str, Any]:
    """The whole what-if result: summaries plus every run (deterministic for fixed seeds, apart
    from the measured wall times)."""
    return {"command": command, "summary": summarise(records), "runs": [r.to_json() for r in records]}
