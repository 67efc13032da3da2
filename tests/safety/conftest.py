"""Fixtures of the safety tests: a manual clock, an in-memory store, ledgers that never sleep."""

from __future__ import annotations

import random

import pytest

from kubeskippy.clock import ManualClock
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore

from .builders import T0, SleepRecorder


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def config() -> SafetyConfig:
    return SafetyConfig()


@pytest.fixture
def make_ledger(store, clock, config):
    def make(holder: str = "replica-a", *, cfg: SafetyConfig | None = None, on: MemoryStore | None = None) -> Ledger:
        return Ledger(on or store, clock, cfg or config, holder, sleep=SleepRecorder(), rng=random.Random(7))
    return make


@pytest.fixture
def ledger(make_ledger) -> Ledger:
    return make_ledger()
