import math

import pytest

from kubeskippy.detect.comparison import breaches
from kubeskippy.detect.metric_eval import RangeSettings, evaluate_metric, range_step

from .builders import T0
from .fakes import FakeMetrics

POD = {"namespace": "default", "pod": "web-1"}


@pytest.mark.parametrize("duration, step, intervals", [
    pytest.param(120, 12, 10, id="2m-ten-intervals"),
    pytest.param(3600, 60, 60, id="1h-capped-at-60s-steps"),
    pytest.param(5, 1, 5, id="5s-floored-at-1s-steps"),
    pytest.param(0.5, 0.5, 1, id="sub-second-two-samples"),
    pytest.param(605, 55, 11, id="step-divides-duration-exactly"),
])
def test_step_rule(duration, step, intervals):
    got_step, got_intervals = range_step(duration)
    assert got_intervals == intervals
    assert got_step == pytest.approx(step)
    assert got_step * got_intervals == pytest.approx(duration)


def test_step_bounds_are_settings():
    assert range_step(120, RangeSettings(steps_per_duration=4, min_step=1, max_step=60)) == (30.0, 4)


def every(seconds_from, seconds_to, value, interval=1.0):
    n = int(round((seconds_to - seconds_from) / interval))
    return [(T0 + seconds_from + i * interval, value) for i in range(n + 1)]


def run(metrics, op=">", threshold=85.0, duration=120.0):
    return evaluate_metric(metrics, "q", op, threshold, duration, T0)


def test_a_series_over_threshold_for_exactly_the_duration_breaches():
    m = FakeMetrics()
    m.add_series("q", POD, every(-120, 0, 90.0))
    [breach] = run(m)
    assert breach.labels == POD and breach.value == 90.0 and breach.since == T0 - 120
    assert breach.samples == 11


def test_a_series_that_started_just_short_of_the_duration_does_not_breach():
    m = FakeMetrics()
    m.add_series("q", POD, every(-119, 0, 90.0))
    assert run(m) == []


def test_one_dip_below_threshold_inside_the_window_prevents_a_breach():
    m = FakeMetrics()
    points = every(-120, 0, 90.0, interval=12.0)
    points[5] = (points[5][0], 80.0)
    m.add_series("q", POD, points)
    assert run(m) == []


def test_a_gap_longer_than_the_lookback_prevents_a_breach():
    m = FakeMetrics(lookback=5.0)
    m.add_series("q", POD, every(-120, -60, 90.0) + every(-30, 0, 90.0))
    assert run(m) == []


def test_only_breaching_series_are_returned():
    m = FakeMetrics()
    m.add_series("q", {"namespace": "default", "pod": "hot"}, every(-120, 0, 99.0))
    m.add_series("q", {"namespace": "default", "pod": "cool"}, every(-120, 0, 10.0))
    assert [b.labels["pod"] for b in run(m)] == ["hot"]


def test_the_range_query_covers_now_minus_duration_to_now_at_the_rule_step():
    m = FakeMetrics()
    run(m, duration=300)
    assert m.calls == [("query_range", "q", T0 - 300, T0, 30.0)]


def test_zero_duration_is_an_instant_query_at_now():
    m = FakeMetrics()
    m.add_series("q", POD, [(T0 - 10, 90.0)])
    [breach] = run(m, duration=0)
    assert m.calls == [("query", "q", T0)]
    assert breach.value == 90.0 and breach.samples == 1


def test_a_single_sample_never_covers_a_duration():
    m = FakeMetrics(lookback=0.0)
    m.add_series("q", POD, [(T0, 99.0)])
    assert run(m) == []


def test_range_points_off_the_step_grid_are_ignored():
    class Padding(FakeMetrics):
        def query_range(self, promql, start, end, step):
            [series] = super().query_range(promql, start, end, step)
            return [type(series)(series.labels, ((start - 100, 1.0), *series.points, (end + 100, 1.0)))]

    m = Padding()
    m.add_series("q", POD, every(-120, 0, 90.0))
    assert len(run(m)) == 1


@pytest.mark.parametrize("value, op, threshold, expected", [
    (86, ">", 85, True), (85, ">", 85, False), (85, ">=", 85, True), (84, "<", 85, True), (85, "<", 85, False),
    (85, "<=", 85, True), (85, "==", 85, True), (84, "==", 85, False), (84, "!=", 85, True), (85, "!=", 85, False),
])
def test_operators(value, op, threshold, expected):
    assert breaches(value, op, threshold) is expected


@pytest.mark.parametrize("op", [">", "<", ">=", "<=", "==", "!="])
def test_nan_never_breaches(op):
    assert breaches(math.nan, op, 1.0) is False
