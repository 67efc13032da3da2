"""Trace replay and a steady baseline.

trace — a Prometheus ``query_range`` JSON export (``/api/v1/query_range`` answer, or just its
``data`` object) drives one signal of a Deployment: pod ordinal k follows series k mod n, sample
times are shifted so the first sample is simulated t=0, values hold until the next sample
(step interpolation, like a scrape), and the trace loops unless ``loop: 0``. A memory trace that
reaches the limit OOM-kills the pod like any other workload.

steady — constant memory and CPU: the healthy background for scale tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from kubeskippy.errors import FieldError, InvalidInput

from ..world.table import PodTable
from .base import MIB, Trajectory, WorkloadModel, spans

__all__ = ["TraceReplay", "Steady", "load_query_range", "TRACE_SIGNALS"]

TRACE_SIGNALS = ("memory", "cpu", "error_rate", "latency")


def load_query_range(data: Any, *, source: str = "trace") -> list[tuple[np.ndarray, np.ndarray]]:
    """(times, values) per series of a query_range answer, times relative to the first sample."""
    if isinstance(data, dict) and "data" in data and isinstance(data["data"], dict):
        data = data["data"]
    if not isinstance(data, dict) or data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise InvalidInput([FieldError("data.resultType", "must be a query_range answer (resultType: matrix)")],
                           source=source)
    out = []
    t_first = None
    for i, series in enumerate(data["result"]):
        try:
            pts = np.array([[float(t), float(v)] for t, v in series["values"]], dtype=float)
        except (KeyError, TypeError, ValueError):
            raise InvalidInput([FieldError(f"data.result[{i}].values", "must be [[time, \"value\"], …]")],
                               source=source) from None
        if len(pts) == 0:
            continue
        pts = pts[np.argsort(pts[:, 0])]
        t_first = pts[0, 0] if t_first is None else min(t_first, pts[0, 0])
        out.append(pts)
    if not out:
        raise InvalidInput([FieldError("data.result", "has no samples")], source=source)
    return [(p[:, 0] - t_first, p[:, 1]) for p in out]


class TraceReplay(WorkloadModel):
    name = "trace"
    description = "replays a Prometheus query_range export as memory, cpu, error_rate or latency"
    defaults = {"scale": 1.0, "loop": 1.0, "base_mib": 10.0, "cpu_cores": 0.01}
    shift_invariant = False  # follows the trace's wall time, not time since start

    def __init__(self) -> None:
        super().__init__()
        self._traces: dict[int, tuple[str, list[tuple[np.ndarray, np.ndarray]]]] = {}

    def check_params(self, params: dict[str, Any], *, path: str) -> dict[str, float]:
        numeric = {k: v for k, v in params.items() if k not in ("file", "signal", "base_dir")}
        errors = []
        if not isinstance(params.get("file"), str):
            errors.append(FieldError(f"{path}.file", "required: path of a query_range JSON file"))
        if params.get("signal", "memory") not in TRACE_SIGNALS:
            errors.append(FieldError(f"{path}.signal", f"must be one of {', '.join(TRACE_SIGNALS)}"))
        if errors:
            raise InvalidInput(errors)
        return super().check_params(numeric, path=path)

    def configure(self, dep: int, params: dict[str, Any]) -> None:
        path = Path(params["file"])
        if not path.is_absolute() and params.get("base_dir"):
            path = Path(params["base_dir"]) / path
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise InvalidInput([FieldError("params.file", f"cannot read {path}: {e}")]) from None
        self._traces[dep] = (params.get("signal", "memory"), load_query_range(data, source=str(path)))

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        B, r = len(T), len(rows)
        mem = np.broadcast_to(self.p(tbl, rows, "base_mib") * MIB, (B, r)).copy()
        cores = np.broadcast_to(self.p(tbl, rows, "cpu_cores"), (B, r)).copy()
        err = lat = None  # set only for rows whose trace drives them: the others keep theirs
        deps = tbl.dep[rows]
        for dep in np.unique(deps):
            sel = np.flatnonzero(deps == dep)
            r_ = rows[sel]
            signal, series = self._traces[int(dep)]
            scale = self.p(tbl, r_, "scale")
            loop = self.p(tbl, r_, "loop")[0] > 0
            values = np.empty((B, len(r_)))
            which = tbl.ordinal[r_] % len(series)
            for k in np.unique(which):
                times, vals = series[int(k)]
                span = times[-1] + (times[1] - times[0] if len(times) > 1 else 1.0)
                t = np.mod(T, span) if loop else T
                idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(vals) - 1)
                values[:, which == k] = vals[idx][:, None]
            values = values * scale
            if signal == "memory":  # reaching the limit is the kubelet's OOM kill at that tick
                mem[:, sel] = values
            elif signal == "cpu":
                cores[:, sel] = values
            elif signal == "error_rate":
                err = np.repeat(tbl.err[rows][None, :], B, axis=0) if err is None else err
                err[:, sel] = np.clip(values, 0.0, 1.0)
            else:
                lat = np.repeat(tbl.lat[rows][None, :], B, axis=0) if lat is None else lat
                lat[:, sel] = values
        return Trajectory(mem, cores * spans(tbl, rows, T, Tprev), cores[-1], err=err, lat=lat)


class Steady(WorkloadModel):
    name = "steady"
    description = "constant memory and CPU (healthy background)"
    defaults = {"memory_mib": 64.0, "cpu_cores": 0.05, "error_rate": 0.0, "latency": 0.01}

    def run(self, tbl: PodTable, rows: np.ndarray, T: np.ndarray, Tprev: np.ndarray) -> Trajectory:
        P = self.params(tbl, rows)
        cores = P["cpu_cores"]
        return Trajectory((P["memory_mib"] * MIB)[None, :], cores * spans(tbl, rows, T, Tprev), cores,
                          err=P["error_rate"][None, :], lat=P["latency"][None, :])
