"""Straight-line trends over metric series: is a value climbing toward its limit, and when
will it get there?

A least-squares line is crude but robust enough for the question the rules ask ("steady growth
or flat?"), needs no dependencies and is deterministic. ``r2`` says how well the line explains
the points, so a noisy series with a lucky slope does not read as a leak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

__all__ = ["Line", "fit_line", "Trend", "trend_of"]


class Line(NamedTuple):
    """``value ≈ intercept + slope * t`` with the goodness of fit ``r2`` in [0, 1]."""

    slope: float
    intercept: float
    r2: float

    def at(self, t: float) -> float:
        return self.intercept + self.slope * t


def fit_line(points: Sequence[tuple[float, float]]) -> Line | None:
    """Ordinary least squares; None when fewer than 3 points or no spread in time."""
    n = len(points)
    if n < 3:
        return None
    t0 = points[0][0]  # centre time to keep the sums well conditioned for epoch seconds
    sx = sy = sxx = sxy = syy = 0.0
    for t, v in points:
        x = t - t0
        sx += x
        sy += v
        sxx += x * x
        sxy += x * v
        syy += v * v
    var_x = sxx - sx * sx / n
    if var_x <= 0:
        return None
    cov = sxy - sx * sy / n
    slope = cov / var_x
    intercept_local = (sy - slope * sx) / n
    var_y = syy - sy * sy / n
    if var_y <= 1e-12 * max(1.0, abs(sy / n)) ** 2:
        r2 = 1.0 if abs(slope) < 1e-12 else 0.0
    else:
        r2 = max(0.0, min(1.0, cov * cov / (var_x * var_y)))
    return Line(slope=slope, intercept=intercept_local - slope * t0, r2=r2)


@dataclass(frozen=True)
class Trend:
    """One signal of one container (or pod) over the analysis window."""

    signal: str  # "memory", "cpu", "cpu_throttling", "error_rate"
    points: tuple[tuple[float, float], ...]
    limit: float | None = None  # the container's limit in the same unit, when known
    line: Line | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None

    @property
    def first(self) -> float | None:
        return self.points[0][1] if self.points else None

    @property
    def peak(self) -> float | None:
        return max(v for _, v in self.points) if self.points else None

    @property
    def span(self) -> float:
        return self.points[-1][0] - self.points[0][0] if len(self.points) > 1 else 0.0

    @property
    def last_fraction_of_limit(self) -> float | None:
        if self.limit and self.last is not None:
            return self.last / self.limit
        return None

    def growth_fraction_of_limit(self) -> float | None:
        """How much of the limit the fitted line climbed over the window (0.25 = a quarter)."""
        if self.line is None or not self.limit or self.span <= 0:
            return None
        return self.line.slope * self.span / self.limit

    def seconds_to_limit(self, now: float) -> float | None:
        """When the fitted line reaches the limit, counted from ``now``; None if it never does
        (flat or falling) or no limit is known. 0 when already there."""
        if self.line is None or not self.limit:
            return None
        current = self.line.at(now)
        if current >= self.limit:
            return 0.0
        if self.line.slope <= 0:
            return None
        return (self.limit - current) / self.line.slope


def trend_of(signal: str, points: Sequence[tuple[float, float]], limit: float | None = None,
             labels: dict[str, str] | None = None) -> Trend:
    """Build a Trend, dropping NaN/inf samples (Prometheus returns NaN for 0/0 ratios)."""
    isfinite = math.isfinite
    clean = tuple(p if type(p) is tuple else (float(p[0]), float(p[1]))
                  for p in points if isfinite(p[1]) and isfinite(p[0]))
    return Trend(signal=signal, points=clean, limit=limit, line=fit_line(clean), labels=dict(labels or {}))
