"""The functions' own metrics write what prometheus_client would write for the same increments
(checked against prometheus_client itself, which stays a dev dependency) and parse as Prometheus
text format."""

from __future__ import annotations

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kubeskippy.serving.metrics import CONTENT_TYPE_LATEST, FunctionMetrics

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def reference() -> tuple[prometheus_client.CollectorRegistry, dict]:
    registry = prometheus_client.CollectorRegistry()
    families = {
        "events": prometheus_client.Counter("kubeskippy_events", "CloudEvents handled, by type and HTTP status",
                                            ["function", "type", "status"], registry=registry),
        "decision_seconds": prometheus_client.Histogram(
            "kubeskippy_decision_seconds", "Time spent in the core deciding on one event", ["function"],
            registry=registry, buckets=BUCKETS),
        "actions": prometheus_client.Counter("kubeskippy_actions", "Remediation outcomes by action type and result",
                                             ["function", "action_type", "result"], registry=registry),
    }
    return registry, families


def samples(text: str) -> set[tuple[str, tuple, float]]:
    return {(s.name, tuple(sorted(s.labels.items())), s.value)
            for family in text_string_to_metric_families(text) for s in family.samples
            if not s.name.endswith("_created")}


def test_counters_and_the_histogram_expose_the_same_samples_as_prometheus_client():
    ours = FunctionMetrics("detect")
    registry, theirs = reference()
    for m in (ours, theirs):
        events = m.events if isinstance(m, FunctionMetrics) else m["events"]
        decisions = m.decision_seconds if isinstance(m, FunctionMetrics) else m["decision_seconds"]
        actions = m.actions if isinstance(m, FunctionMetrics) else m["actions"]
        events.labels("detect", "io.kubeskippy.finding", "200").inc()
        events.labels("detect", "io.kubeskippy.finding", "200").inc()
        events.labels("detect", 'odd "type"\nwith\\escapes', "400").inc()
        for seconds in (0.0004, 0.003, 0.003, 0.7, 99.0):
            decisions.labels("detect").observe(seconds)
        actions.labels("detect", "restart", "blocked").inc(2)
    text = ours.exposition().decode()
    assert samples(text) == samples(prometheus_client.generate_latest(registry).decode())
    assert 'kubeskippy_events_total{function="detect",status="200",type="io.kubeskippy.finding"} 2.0' in text
    assert 'kubeskippy_decision_seconds_bucket{function="detect",le="+Inf"} 5.0' in text
    assert CONTENT_TYPE_LATEST == "text/plain; version=0.0.4; charset=utf-8"  # the classic text format


def test_nothing_is_seeded_a_series_appears_with_its_first_event():
    metrics = FunctionMetrics("audit")
    assert samples(metrics.exposition().decode()) == set()
    metrics.emitted.labels("audit", "io.kubeskippy.plan").inc()
    assert samples(metrics.exposition().decode()) == {
        ("kubeskippy_emitted_events_total", (("function", "audit"), ("type", "io.kubeskippy.plan")), 1.0)}


def test_wrong_label_counts_and_decrements_are_refused():
    metrics = FunctionMetrics("x")
    with pytest.raises(ValueError):
        metrics.events.labels("x", "only-two")
    with pytest.raises(ValueError):
        metrics.events.labels("x", "t", "200").inc(-1)
