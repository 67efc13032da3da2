"""Metric triggers: "the value breached the threshold for the WHOLE duration".

A duration is checked with one range query over ``[now - duration, now]``; a series breaches
only when it has a sample at *every* step of that range and every sample breaches. One sample, or
a gap, is not enough: a pod that started 30 s ago cannot have been over its limit for 2 minutes.

Step rule (``range_step``): aim for ``steps_per_duration`` intervals (10 by default, so 11
samples), but no step shorter than ``min_step`` (1 s) and none longer than ``max_step`` (60 s);
the step always divides the duration exactly, so the last sample is taken at ``now``.
A duration of 0 is an instant query at ``now``.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple

from ..ports import Metrics
from .comparison import breaches

__all__ = ["MetricBreach", "RangeSettings", "range_step", "evaluate_metric"]


class RangeSettings(NamedTuple):
    steps_per_duration: int = 10
    """How many intervals a duration is cut into when the step bounds allow."""
    min_step: float = 1.0
    """Seconds; no point in sampling faster than the fastest scrape."""
    max_step: float = 60.0
    """Seconds; a long duration is sampled at least once a minute, so a dip cannot hide."""


class MetricBreach(NamedTuple):
    labels: Mapping[str, str]
    value: float
    """The latest sample."""
    since: float
    """Start of the checked range: the condition has held at least since then."""
    samples: int
    low: float
    high: float


def range_step(duration: float, settings: RangeSettings = RangeSettings()) -> tuple[float, int]:
    """(step, intervals) for checking a duration; ``intervals + 1`` samples are required."""
    intervals = settings.steps_per_duration
    if duration / intervals < settings.min_step:
        intervals = max(1, math.floor(duration / settings.min_step + 1e-9))
    if duration / intervals > settings.max_step:
        intervals = math.ceil(duration / settings.max_step - 1e-9)
    return duration / intervals, intervals


def evaluate_metric(metrics: Metrics, promql: str, op: str, threshold: float, duration: float, now: float,
                    settings: RangeSettings = RangeSettings()) -> list[MetricBreach]:
    """The series of ``promql`` that breached ``op threshold`` over the whole ``duration``."""
    if duration <= 0:
        return [MetricBreach(s.labels, s.value, now, 1, s.value, s.value)
                for s in metrics.query(promql, at=now) if breaches(s.value, op, threshold)]
    step, intervals = range_step(duration, settings)
    start = now - duration
    out: list[MetricBreach] = []
    for series in metrics.query_range(promql, start, now, step):
        seen: set[int] = set()
        ok = True
        values: list[float] = []
        for ts, value in series.points:
            index = round((ts - start) / step)
            if index < 0 or index > intervals or abs(ts - (start + index * step)) > step / 2:
                continue  # outside the range an adapter may have padded
            if not breaches(value, op, threshold):
                ok = False
                break
            seen.add(index)
            values.append(value)
        if ok and len(seen) == intervals + 1:
            out.append(MetricBreach(series.labels, values[-1], start, len(values), min(values), max(values)))
    return out
