"""ThreadFanout: independent reads at once, results in call order, errors after all have ended."""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar

import pytest

from kubeskippy.services.fanout import ThreadFanout, run_in_order

REQUEST: ContextVar[str] = ContextVar("request", default="none")


@pytest.fixture
def fanout():
    pool = ThreadFanout(workers=4)
    yield pool
    pool.shutdown()


def test_results_come_back_in_the_order_of_the_calls(fanout):
    def slow(value, delay):
        return lambda: (time.sleep(delay), value)[1]

    assert fanout([slow("a", 0.03), slow("b", 0.0), slow("c", 0.01)]) == ["a", "b", "c"]


def test_the_calls_run_at_the_same_time(fanout):
    both_started = threading.Barrier(2, timeout=2)  # would time out if they ran one after the other
    assert fanout([lambda: both_started.wait() >= 0, lambda: both_started.wait() >= 0]) == [True, True]


def test_each_call_sees_the_callers_context(fanout):
    token = REQUEST.set("request-7")
    try:
        assert fanout([REQUEST.get, REQUEST.get]) == ["request-7", "request-7"]
    finally:
        REQUEST.reset(token)


def test_the_first_error_in_call_order_is_raised_after_every_call_ended(fanout):
    finished = []

    def fail(message, delay):
        def run():
            time.sleep(delay)
            finished.append(message)
            raise ValueError(message)
        return run

    with pytest.raises(ValueError, match="first"):
        fanout([lambda: finished.append("ok"), fail("first", 0.03), fail("second", 0.0)])
    assert sorted(finished) == ["first", "ok", "second"]


def test_a_fan_out_inside_a_fanned_out_call_never_waits_on_its_own_pool():
    pool = ThreadFanout(workers=1)  # one worker a level: a nested wait on the same pool would deadlock
    try:
        assert pool([lambda: pool([lambda: 1, lambda: 2]), lambda: pool([lambda: 3, lambda: 4])]) == [[1, 2], [3, 4]]
        assert pool([lambda: pool([lambda: pool([lambda: 5, lambda: 6]), lambda: 7]), lambda: 8]) == [[[5, 6], 7], 8]
    finally:
        pool.shutdown()


def test_a_nested_fan_out_still_runs_its_calls_at_the_same_time(fanout):
    both_started = threading.Barrier(2, timeout=2)
    inner = [lambda: both_started.wait() >= 0, lambda: both_started.wait() >= 0]
    assert fanout([lambda: fanout(inner), lambda: "other"]) == [[True, True], "other"]


def test_the_sequential_fan_out_is_a_plain_loop():
    assert run_in_order([lambda: 1, lambda: 2]) == [1, 2]
