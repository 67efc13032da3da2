"""The Metrics adapter against a real Prometheus scraping a loopback exporter."""

from __future__ import annotations

import time

import pytest

from kubeskippy.adapters.prometheus import PrometheusMetrics
from kubeskippy.errors import InvalidInput
from tests.harness.prom import MetricsExporter, Prometheus, require_prometheus, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scraped():
    binary = require_prometheus()
    with MetricsExporter() as exporter:
        exporter.set("kubeskippy_test_gauge", {"namespace": "shop", "pod": "a"}, 42.5)
        exporter.set("kubeskippy_test_gauge", {"namespace": "shop", "pod": "b"}, 7.0)
        with Prometheus(binary, targets=[exporter.target]) as prometheus:
            metrics = PrometheusMetrics(prometheus.url)
            wait_for(lambda: len(metrics.query("kubeskippy_test_gauge")) == 2, timeout=30, what="first scrape")
            yield exporter, prometheus, metrics
            metrics.close()


def test_an_instant_query_returns_one_sample_per_series_with_its_labels(scraped):
    _, _, metrics = scraped
    samples = {s.labels["pod"]: s for s in metrics.query('kubeskippy_test_gauge{namespace="shop"}')}
    assert {pod: s.value for pod, s in samples.items()} == {"a": 42.5, "b": 7.0}
    assert samples["a"].labels["job"] == "exporter"


def test_a_scalar_expression_is_one_unlabelled_sample(scraped):
    _, _, metrics = scraped
    [sample] = metrics.query("scalar(sum(kubeskippy_test_gauge))")
    assert sample.labels == {} and sample.value == 49.5


def test_a_range_query_returns_points_in_time_order(scraped):
    exporter, _, metrics = scraped
    exporter.set("kubeskippy_test_gauge", {"namespace": "shop", "pod": "a"}, 50.0)
    end = wait_for(lambda: time.time() if any(s.value == 50.0 for s in metrics.query(
        'kubeskippy_test_gauge{pod="a"}')) else None, timeout=20, what="the new value")
    [series] = metrics.query_range('kubeskippy_test_gauge{pod="a"}', start=end - 30, end=end, step=1)
    times = [t for t, _ in series.points]
    assert times == sorted(times) and len(times) >= 2
    assert series.points[-1][1] == 50.0
    assert {v for _, v in series.points} <= {42.5, 50.0}


def test_a_query_prometheus_cannot_parse_is_invalid_input(scraped):
    _, _, metrics = scraped
    with pytest.raises(InvalidInput) as info:
        metrics.query("sum(kubeskippy_test_gauge")
    assert info.value.errors[0].path == "query"
    assert "bad_data" in info.value.errors[0].message
