"""PromQL over a grid of times: a range query equals its steps asked one by one, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from kubeskippy.detect.builtin_metrics import BUILTIN_METRICS, expand_query
from kubeskippy.simulator.runner import Arm, Run
from kubeskippy.simulator.signals.evaluation import _group_sum

from .helpers import LEAK, scenario_with

CRASHER = {"name": "crasher", "model": "crash_loop", "replicas": 2,
           "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}}
FLAKY = {"name": "flaky", "model": "flaky_web", "replicas": 2,
         "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
         "readiness_probe": {"initial_delay": "5s", "period": "10s", "failure_threshold": 3}}

HAND_WRITTEN = [
    'container_memory_working_set_bytes{namespace="demo-apps"}',
    'rate(container_cpu_usage_seconds_total[2m])',
    'increase(kube_pod_container_status_restarts_total[10m]) > 0',
    'irate(http_requests_total{code="500"}[1m])',
    'delta(container_memory_working_set_bytes[3m] offset 1m)',
    'deriv(container_memory_working_set_bytes[5m])',
    'predict_linear(container_memory_working_set_bytes[5m], 600) > 400 * 1024 * 1024',
    'max_over_time(container_memory_working_set_bytes[5m]) / on (namespace, pod, container) '
    'kube_pod_container_resource_limits{resource="memory"}',
    'avg by (namespace) (rate(http_requests_total[5m]))',
    'count without (pod, container, node) (kube_pod_container_status_ready == 1)',
    'stddev by (namespace) (container_memory_working_set_bytes)',
    'topk(2, container_memory_working_set_bytes)',
    'sum(kube_pod_container_status_restarts_total) or vector(0)',
    'kube_pod_container_status_running unless on (pod) kube_pod_container_status_terminated == 1',
    'clamp(app_error_ratio * 10, 0.5, 1)',
    'scalar(sum(kube_pod_container_status_ready)) * 2',
    'absent(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"})',
    'sum by (pod) (kube_pod_container_status_last_terminated_reason) * on (pod) group_left '
    'sum by (pod) (kube_pod_container_status_restarts_total)',
    'round(resets(container_cpu_usage_seconds_total[15m]) + changes(kube_pod_container_status_ready[15m]), 1)',
]


@pytest.fixture(scope="module")
def run():
    scenario = scenario_with(LEAK, CRASHER, FLAKY, duration="40m", signals={"retention": "30m"})
    r = Run(scenario, Arm("no-healing"), 3)
    r.execute()
    return r


def expressions() -> list[str]:
    return [expand_query(name, ["demo-apps"]) for name in sorted(BUILTIN_METRICS)] + HAND_WRITTEN


@pytest.mark.parametrize("promql", expressions())
def test_a_range_query_equals_its_steps_asked_one_by_one(run, promql):
    metrics = run.metrics
    end = metrics.epoch + 2400.0
    start, step = end - 1500.0, 37.5  # steps between scrapes, windows across pod restarts
    series = metrics.query_range(promql, start, end, step)
    stepwise: dict[tuple, list[tuple[float, float]]] = {}
    t = start
    while t <= end + 1e-9:
        for sample in metrics.query(promql, at=t):
            stepwise.setdefault(tuple(sorted(sample.labels.items())), []).append((t, sample.value))
        t += step
    ranged = {tuple(sorted(s.labels.items())): list(s.points) for s in series}
    assert ranged.keys() == stepwise.keys()
    for labels, points in ranged.items():
        assert np.array_equal(np.array(points), np.array(stepwise[labels]), equal_nan=True), labels


def test_the_scenario_behind_the_range_checks_has_restarts_and_missing_series(run):
    # Otherwise the equality above would not exercise counter resets, gaps and new series.
    assert run.world.stats.exits.sum() > 10 and run.world.stats.oom_kills.sum() > 0
    assert len(run.metrics.query_range('kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}',
                                       run.metrics.epoch + 900, run.metrics.epoch + 2400, 15)) > 0


def test_a_group_sum_is_bit_for_bit_numpys_sum_of_each_steps_present_members():
    rng = np.random.default_rng(7)
    for _ in range(300):
        n, steps = int(rng.integers(1, 30)), int(rng.integers(1, 6))
        values = rng.normal(size=(n, steps)) * 10.0 ** rng.integers(-6, 12, size=(n, steps))
        present = rng.random((n, steps)) < 0.7
        group_of = rng.integers(0, 3, size=n)
        count = np.zeros((3, steps), dtype=np.int64)
        np.add.at(count, group_of, present)
        got = _group_sum(values, present, group_of, count)
        for g in range(3):
            for j in range(steps):
                members = (group_of == g) & present[:, j]
                if members.any():
                    assert got[g, j] == np.add.reduce(values[members, j])
