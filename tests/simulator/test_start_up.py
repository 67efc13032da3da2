"""Process settings at the first run: start-up objects frozen once (later runs' garbage is still
collected), glibc's allocator keeping large blocks on its heap."""

from __future__ import annotations

import ctypes
import gc
import resource
import weakref

import numpy as np
import pytest

from kubeskippy.simulator import start_up
from kubeskippy.simulator.runner import Arm, Run

from .helpers import LEAK, scenario_with


class _Marker:
    """A container object (tracked by the collector) that a weak reference can watch."""

    def __init__(self) -> None:
        self.cycle = self


@pytest.fixture
def first_run_of_the_process(monkeypatch):
    """As if no run had happened yet in this process; what was frozen is unfrozen afterwards."""
    monkeypatch.setattr(start_up, "_applied", False)
    yield
    gc.unfreeze()


def test_the_first_run_freezes_the_objects_that_exist_before_it(first_run_of_the_process):
    before = _Marker()
    frozen = gc.get_freeze_count()
    Run(scenario_with(LEAK), Arm("no-healing"), 1, duration=60.0)
    assert gc.get_freeze_count() > frozen
    assert all(obj is not before for obj in gc.get_objects())  # the permanent generation is not listed


def test_later_runs_freeze_nothing_and_their_garbage_is_collected(first_run_of_the_process):
    scenario = scenario_with(LEAK)
    assert start_up.apply_first_run_settings() is True
    frozen = gc.get_freeze_count()
    run = Run(scenario, Arm("no-healing"), 1, duration=60.0)
    run.execute()
    left_behind = _Marker()
    gone, run_gone = weakref.ref(left_behind), weakref.ref(run)
    del left_behind, run
    Run(scenario, Arm("no-healing"), 2, duration=60.0).execute()
    assert gc.get_freeze_count() == frozen
    assert start_up.apply_first_run_settings() is False
    gc.collect()
    assert gone() is None and run_gone() is None


class _FakeLibC:
    """Records ``mallopt`` calls; ``has`` False: a C library without it."""

    def __init__(self, calls: list, has: bool = True) -> None:
        if has:
            self.mallopt = self._Mallopt(calls)

    class _Mallopt:
        def __init__(self, calls: list) -> None:
            self.calls = calls

        def __call__(self, param: int, value: int) -> int:
            self.calls.append((param, value))
            return 1


def test_the_first_run_sets_the_allocators_thresholds_and_later_runs_do_not(first_run_of_the_process, monkeypatch):
    calls: list = []
    monkeypatch.setattr(ctypes, "CDLL", lambda name: _FakeLibC(calls))
    scenario = scenario_with(LEAK)
    Run(scenario, Arm("no-healing"), 1, duration=60.0)
    Run(scenario, Arm("no-healing"), 2, duration=60.0)
    assert calls == [(-3, 32 << 20), (-1, 64 << 20)]  # M_MMAP_THRESHOLD, then M_TRIM_THRESHOLD


def test_without_mallopt_in_the_c_library_nothing_is_set(monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", lambda name: _FakeLibC([], has=False))
    assert start_up.keep_large_blocks_on_the_heap() is False


def _faults_of_a_block(values: int) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(values)  # written: every page touched
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_after_it_a_freed_large_block_is_reused_without_faulting_its_pages_in_again():
    if not start_up.keep_large_blocks_on_the_heap():
        pytest.skip("this C library has no mallopt")
    values = (24 << 20) // 8  # 24 MiB: under the 32 MiB threshold
    first = _faults_of_a_block(values)
    again = _faults_of_a_block(values)
    assert again <= max(16, first // 4), (first, again)
