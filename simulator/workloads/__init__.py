"""The workload library: vectorised models of the KubeSkippy demo apps, plus trace replay."""

from __future__ import annotations

from .base import MIB, Schedule, WorkloadModel, draw_between
from .chaos import ChaosMonkey
from .cpu import CpuOscillation, CpuSpike
from .crash import CrashLoop, RandomCrasher
from .memory import MemoryDegradation, MemoryLeak
from .network import FlakyWeb, NetworkDegradation
from .trace import Steady, TraceReplay, load_query_range

__all__ = [
    "WorkloadModel", "Schedule", "MIB", "draw_between", "MODELS", "model_names", "new_models",
    "MemoryLeak", "MemoryDegradation", "CpuOscillation", "CpuSpike", "CrashLoop", "RandomCrasher",
    "NetworkDegradation", "FlakyWeb", "ChaosMonkey", "TraceReplay", "Steady", "load_query_range",
]

MODELS: tuple[type[WorkloadModel], ...] = (
    MemoryLeak, MemoryDegradation, CpuOscillation, CpuSpike, CrashLoop, RandomCrasher,
    NetworkDegradation, FlakyWeb, ChaosMonkey, TraceReplay, Steady,
)


def model_names() -> list[str]:
    return [m.name for m in MODELS]


def new_models() -> dict[str, WorkloadModel]:
    """Fresh instances (models hold per-run parameter tables), by name."""
    return {m.name: m() for m in MODELS}
