"""The Clock port on SimPy time: wall time = the scenario's epoch + ``env.now``."""

from __future__ import annotations

import simpy

__all__ = ["SimClock"]


class SimClock:
    """``now()`` in epoch seconds, as every port expects; ``t`` in simulated seconds since start."""

    def __init__(self, env: simpy.Environment, epoch: float) -> None:
        self.env = env
        self.epoch = float(epoch)

    def now(self) -> float:
        return self.epoch + float(self.env.now)

    @property
    def t(self) -> float:
        return float(self.env.now)
