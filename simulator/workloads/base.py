"""What a workload model is: vectorised behaviour for every pod running one kind of demo app.

A model is called once per tick with the rows of *all* running containers of its kind (across
Deployments); per-Deployment parameters are looked up by row. It writes the signals (memory,
CPU, error ratio, latency) and may ask for an exit (``exit_at``/``exit_code``) at an exact time
inside the tick; the kubelet does the rest (OOM kill, back-off, events).

Randomness comes only from :mod:`..randomness` keyed by the container's ``rkey``, so the same
container incarnation behaves the same in every arm of a what-if run.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from kubeskippy.errors import FieldError, InvalidInput

from .. import randomness
from ..world.table import PodTable

__all__ = ["WorkloadModel", "RowParams", "Schedule", "MIB", "draw_between", "draw_between_premixed"]

MIB = float(2**20)


class WorkloadModel:
    """Base class: parameters, their per-Deployment table, and the hooks the world calls."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, float]] = {}

    def __init__(self) -> None:
        self._names = list(self.defaults)
        self._index = {n: i for i, n in enumerate(self._names)}
        self._params = np.zeros((0, len(self._names)))

    # -- parameters -----------------------------------------------------------------------

    def check_params(self, params: dict[str, Any], *, path: str) -> dict[str, float]:
        """Defaults merged with ``params``; unknown or non-numeric ones raise InvalidInput."""
        errors: list[FieldError] = []
        merged = dict(self.defaults)
        for key, value in params.items():
            if key not in merged:
                errors.append(FieldError(f"{path}.{key}", f"unknown parameter of model {self.name!r} "
                                                          f"(known: {', '.join(self._names) or 'none'})"))
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(FieldError(f"{path}.{key}", "must be a number"))
                continue
            merged[key] = float(value)
        if errors:
            raise InvalidInput(errors)
        return merged

    def add_deployment(self, dep: int, params: dict[str, Any], *, path: str = "params") -> None:
        merged = self.check_params(params, path=path)
        if dep >= len(self._params):
            grown = np.zeros((max(dep + 1, 2 * len(self._params)), len(self._names)))
            grown[: len(self._params)] = self._params
            self._params = grown
        self._params[dep] = [merged[n] for n in self._names]
        self.configure(dep, params)

    def configure(self, dep: int, params: dict[str, Any]) -> None:
        """Hook for models that need non-numeric setup per Deployment (e.g. a trace file)."""

    def p(self, tbl: PodTable, rows: np.ndarray, name: str) -> np.ndarray:
        """Parameter ``name`` for each row."""
        return self._params[tbl.dep[rows], self._index[name]]

    def params(self, tbl: PodTable, rows: np.ndarray) -> "RowParams":
        """Every parameter for each row, gathered once (a tick reads many)."""
        return RowParams(self._params[tbl.dep[rows]], self._index)

    # -- behaviour ------------------------------------------------------------------------

    def on_start(self, tbl: PodTable, rows: np.ndarray, at: np.ndarray) -> None:
        """A container (re)started at times ``at``: reset its scratch state."""

    def advance(self, tbl: PodTable, rows: np.ndarray, t0: float, t1: float) -> None:
        """Bring the signals of running containers ``rows`` from t0 to t1."""
        raise NotImplementedError


class RowParams:
    """A model's parameters for a set of rows: ``P["name"]`` is a column (a view, no copy)."""

    __slots__ = ("values", "_index")

    def __init__(self, values: np.ndarray, index: dict[str, int]) -> None:
        self.values = values
        self._index = index

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[:, self._index[name]]

    def subset(self, which: np.ndarray) -> "RowParams":
        """The parameters of some of the rows (a mask or positions)."""
        return RowParams(self.values[which], self._index)


class Schedule:
    """A repeating piecewise-constant function of container age (e.g. CPU cores per phase),
    with its exact integral, so counters such as CPU seconds stay exact at any tick size."""

    def __init__(self, durations: list[float], values: list[float], *, repeat: bool = True) -> None:
        if len(durations) != len(values) or not durations:
            raise ValueError("a schedule needs one value per duration")
        self.starts = np.concatenate([[0.0], np.cumsum(durations)[:-1]])
        self.values = np.asarray(values, dtype=float)
        self.period = float(np.sum(durations))
        self.cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(durations) * self.values)])
        self.repeat = repeat

    def value(self, age: np.ndarray) -> np.ndarray:
        a = np.mod(age, self.period) if self.repeat else np.minimum(age, self.period - 1e-9)
        idx = np.searchsorted(self.starts, a, side="right") - 1
        return self.values[idx]

    def integral(self, age: np.ndarray) -> np.ndarray:
        """∫₀^age value(τ) dτ."""
        age = np.maximum(age, 0.0)
        whole, a = (np.floor_divide(age, self.period), np.mod(age, self.period)) if self.repeat else (0.0, age)
        idx = np.clip(np.searchsorted(self.starts, a, side="right") - 1, 0, len(self.values) - 1)
        return whole * self.cumulative[-1] + self.cumulative[idx] + (a - self.starts[idx]) * self.values[idx]


def draw_between(keys: np.ndarray, purpose: int, counter: np.ndarray | int, lo: np.ndarray | float,
                 hi: np.ndarray | float) -> np.ndarray:
    """Per row, an integer in [lo, hi] like ``random.randint`` (as floats, for times)."""
    return draw_between_premixed(randomness.premix(keys, purpose), counter, lo, hi)


def draw_between_premixed(premixed: np.ndarray, counter: np.ndarray | int, lo: np.ndarray | float,
                          hi: np.ndarray | float) -> np.ndarray:
    """:func:`draw_between` given ``randomness.premix(keys, purpose)`` (kept per container)."""
    u = randomness.uniform_premixed(premixed, counter)
    return lo + np.floor(u * (np.asarray(hi) - lo + 1))
