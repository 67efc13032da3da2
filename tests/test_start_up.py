"""kubeskippy.start_up: a function's modules load with the cyclic collector paused, then frozen."""

from __future__ import annotations

import gc

import pytest

from kubeskippy.start_up import loading_modules


class _Node:
    pass


@pytest.fixture(autouse=True)
def collector_as_before():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_off_inside_the_block_and_back_on_after_it():
    gc.enable()
    with loading_modules():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with loading_modules():
        pass
    assert not gc.isenabled()


def test_what_the_block_made_is_frozen_and_what_comes_after_is_collected_again():
    gc.enable()
    with loading_modules():
        loaded = _Node()
    frozen_then = gc.get_freeze_count()
    assert frozen_then > 0
    assert not any(obj is loaded for obj in gc.get_objects())  # in the permanent generation

    later = _Node()
    later.cycle = later
    assert any(obj is later for obj in gc.get_objects())  # tracked, so a collection can free it
    del later
    assert gc.collect() >= 1


def test_the_collector_is_restored_when_loading_fails():
    gc.enable()
    with pytest.raises(ImportError):
        with loading_modules():
            raise ImportError("no module named function")
    assert gc.isenabled()
