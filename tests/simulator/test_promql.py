"""The PromQL subset evaluates as Prometheus 2.x does."""

from __future__ import annotations

import numpy as np
import pytest

from kubeskippy.simulator.signals.evaluation import Evaluator, Matrix
from kubeskippy.simulator.signals.promql import PromQLError, Selector, _extrapolated, parse


def test_rate_extrapolates_like_prometheus():
    # Counter 0,15,30,45 at 15 s spacing in a [0, 60] window: 45 over 45 s sampled, extrapolated to
    # the window end (15 s < 1.1 × 15 s) and towards zero at the start (duration to zero is 0).
    t = np.array([15.0, 30.0, 45.0, 60.0])
    v = np.array([15.0, 30.0, 45.0, 60.0])
    assert _extrapolated(t, v, 0.0, 60.0, True, True) == pytest.approx(1.0)
    assert _extrapolated(t, v, 0.0, 60.0, True, False) == pytest.approx(60.0)


def test_a_counter_reset_is_added_back():
    t = np.array([0.0, 15.0, 30.0])
    v = np.array([10.0, 20.0, 5.0])
    assert _extrapolated(t, v, 0.0, 30.0, True, False) == pytest.approx(15.0)  # 10 before the reset, 5 after


def fixed(samples):
    """An evaluator over series that hold the same value at every step."""
    def select(sel: Selector, times: np.ndarray) -> Matrix:
        found = samples.get(sel.name, [])
        return Matrix([tuple(sorted({**labels, "__name__": sel.name}.items())) for labels, _ in found],
                      np.array([[value] * len(times) for _, value in found]).reshape(len(found), len(times)),
                      np.ones((len(found), len(times)), dtype=bool))
    return Evaluator(select, lambda sel, times: [])


def test_vector_matching_with_on_and_or_fallback():
    ev = fixed({
        "used": [({"pod": "a", "c": "x"}, 50.0), ({"pod": "b", "c": "x"}, 10.0)],
        "limit": [({"pod": "a", "c": "x"}, 100.0)],
        "request": [({"pod": "b", "c": "x"}, 20.0), ({"pod": "a", "c": "x"}, 1.0)],
    })
    out = dict(ev.evaluate(parse('100 * used / on (pod, c) (limit or request)'), 0.0))
    assert out == {(("c", "x"), ("pod", "a")): 50.0, (("c", "x"), ("pod", "b")): 50.0}


def test_comparisons_filter_and_aggregations_group():
    ev = fixed({"m": [({"ns": "a", "pod": "1"}, 3.0), ({"ns": "a", "pod": "2"}, 7.0), ({"ns": "b", "pod": "3"}, 1.0)]})
    assert dict(ev.evaluate(parse("max by (ns) (m) > 2"), 0.0)) == {(("ns", "a"),): 7.0}
    assert dict(ev.evaluate(parse("count without (pod) (m)"), 0.0)) == {(("ns", "a"),): 2.0, (("ns", "b"),): 1.0}


def test_unsupported_promql_is_refused_rather_than_answered_wrongly():
    with pytest.raises(PromQLError, match="not supported"):
        parse("histogram_quantile(0.9, rate(x[5m]))")
    with pytest.raises(PromQLError, match="subqueries"):
        parse("max_over_time(rate(x[1m])[5m:1m])")
