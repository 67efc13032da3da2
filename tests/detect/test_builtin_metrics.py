"""The built-in metric names: their PromQL shape (fast) and their meaning, checked by
Prometheus' own engine through ``promtool test rules`` on hand-made cAdvisor and
kube-state-metrics series (no server needed)."""

import pytest

from kubeskippy.detect.builtin_metrics import BUILTIN_METRICS, expand_query, identify_builtin, namespace_matcher

from .promtool import needs_promtool, test_rules


@pytest.mark.parametrize("name", sorted(BUILTIN_METRICS))
def test_every_builtin_keeps_the_namespace_and_pod_labels(name):
    promql = BUILTIN_METRICS[name].promql()
    assert "by (namespace, pod)" in promql


@pytest.mark.parametrize("name", sorted(BUILTIN_METRICS))
def test_every_builtin_is_recognised_from_its_expansion(name):
    metric = BUILTIN_METRICS[name]
    assert identify_builtin(metric.promql()) == (metric, ())
    assert identify_builtin(metric.promql(["b", "a"])) == (metric, ("a", "b"))
    assert identify_builtin(metric.promql(["solo"])) == (metric, ("solo",))


def test_anything_else_is_not_a_builtin_and_expands_to_itself():
    assert identify_builtin("up") is None
    assert expand_query(" rate(x[1m]) > 0 ") == "rate(x[1m]) > 0"
    assert expand_query("memory_usage_percent") == BUILTIN_METRICS["memory_usage_percent"].promql()


def test_namespace_matcher_quotes_only_valid_namespace_names():
    assert namespace_matcher([]) == ""
    assert namespace_matcher(["a"]) == 'namespace="a"'
    assert namespace_matcher(["b", "a", "a"]) == 'namespace=~"a|b"'
    with pytest.raises(ValueError):
        namespace_matcher(['a"}) or vector(1) #'])


def expr_test(name, samples, *, namespaces=None, eval_time="10m"):
    return {"expr": BUILTIN_METRICS[name].promql(namespaces), "eval_time": eval_time,
            "exp_samples": [{"labels": "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}", "value": v}
                            for labels, v in samples]}


def series(name, labels, values):
    return {"series": name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}", "values": values}


def c(pod, container, ns="default", **extra):
    return {"namespace": ns, "pod": pod, "container": container, **extra}


MEMORY_SERIES = [
    # limited: 900 of a 1000 limit (a request of 500 is ignored when a limit exists) → 90 %
    series("container_memory_working_set_bytes", c("limited", "app"), "900x10"),
    series("kube_pod_container_resource_limits", c("limited", "app", resource="memory", unit="byte"), "1000x10"),
    series("kube_pod_container_resource_requests", c("limited", "app", resource="memory", unit="byte"), "500x10"),
    # the pod cgroup and the pause container are not containers of the app
    series("container_memory_working_set_bytes", c("limited", ""), "5000x10"),
    series("container_memory_working_set_bytes", c("limited", "POD"), "5000x10"),
    # requested: no limit, a request of 1000, uses 500 → 50 %
    series("container_memory_working_set_bytes", c("requested", "app"), "500x10"),
    series("kube_pod_container_resource_requests", c("requested", "app", resource="memory", unit="byte"), "1000x10"),
    # unbounded: neither → no series at all
    series("container_memory_working_set_bytes", c("unbounded", "app"), "800x10"),
    # two containers against their own limits (10 % and 75 %) and one unbounded sidecar → 75 %
    series("container_memory_working_set_bytes", c("multi", "a"), "100x10"),
    series("kube_pod_container_resource_limits", c("multi", "a", resource="memory", unit="byte"), "1000x10"),
    series("container_memory_working_set_bytes", c("multi", "b"), "150x10"),
    series("kube_pod_container_resource_limits", c("multi", "b", resource="memory", unit="byte"), "200x10"),
    series("container_memory_working_set_bytes", c("multi", "sidecar"), "99999x10"),
    # another namespace
    series("container_memory_working_set_bytes", c("elsewhere", "app", ns="other"), "100x10"),
    series("kube_pod_container_resource_limits", c("elsewhere", "app", ns="other", resource="memory", unit="byte"),
           "1000x10"),
]


@needs_promtool
def test_memory_percent_uses_each_containers_own_limit_then_request_and_skips_pods_with_neither(tmp_path):
    pod = lambda name, ns="default": {"namespace": ns, "pod": name}  # noqa: E731
    test_rules(tmp_path, {"groups": []}, [{
        "interval": "1m",
        "input_series": MEMORY_SERIES,
        "promql_expr_test": [
            expr_test("memory_usage_percent", [(pod("limited"), 90), (pod("requested"), 50), (pod("multi"), 75),
                                               (pod("elsewhere", "other"), 10)]),
            expr_test("memory_usage_percent", [(pod("elsewhere", "other"), 10)], namespaces=["other"]),
            expr_test("memory_usage_bytes", [(pod("limited"), 900), (pod("requested"), 500),
                                             (pod("unbounded"), 800), (pod("multi"), 100249),
                                             (pod("elsewhere", "other"), 100)]),
        ],
    }])


@needs_promtool
def test_cpu_percent_and_cores_are_rates_against_the_containers_limit_or_request(tmp_path):
    pod = lambda name: {"namespace": "default", "pod": name}  # noqa: E731
    test_rules(tmp_path, {"groups": []}, [{
        "interval": "1m",
        "input_series": [
            # 30 CPU-seconds a minute = 0.5 cores
            series("container_cpu_usage_seconds_total", c("limited", "app"), "0+30x10"),
            series("kube_pod_container_resource_limits", c("limited", "app", resource="cpu", unit="core"), "2x10"),
            series("container_cpu_usage_seconds_total", c("requested", "app"), "0+30x10"),
            series("kube_pod_container_resource_requests", c("requested", "app", resource="cpu", unit="core"),
                   "0.5x10"),
            series("container_cpu_usage_seconds_total", c("unbounded", "app"), "0+30x10"),
        ],
        "promql_expr_test": [
            expr_test("cpu_usage_percent", [(pod("limited"), 25), (pod("requested"), 100)]),
            expr_test("cpu_usage_cores", [(pod("limited"), 0.5), (pod("requested"), 0.5), (pod("unbounded"), 0.5)]),
        ],
    }])


@needs_promtool
def test_error_rates_are_zero_for_pods_with_traffic_but_no_5xx(tmp_path):
    pod = lambda name: {"namespace": "default", "pod": name}  # noqa: E731
    http = lambda name, code: {"namespace": "default", "pod": name, "code": code}  # noqa: E731
    test_rules(tmp_path, {"groups": []}, [{
        "interval": "1m",
        "input_series": [
            series("http_requests_total", http("flaky", "200"), "0+54x10"),
            series("http_requests_total", http("flaky", "503"), "0+6x10"),
            series("http_requests_total", http("fine", "200"), "0+60x10"),
        ],
        "promql_expr_test": [
            expr_test("error_rate", [(pod("flaky"), 0.1), (pod("fine"), 0)]),
            expr_test("error_rate_percent", [(pod("flaky"), 10), (pod("fine"), 0)]),
        ],
    }])


@needs_promtool
def test_restarts_oom_and_availability(tmp_path):
    pod = lambda name: {"namespace": "default", "pod": name}  # noqa: E731
    test_rules(tmp_path, {"groups": []}, [{
        "interval": "1m",
        "input_series": [
            series("kube_pod_container_status_restarts_total", c("crashy", "a"), "0+1x20"),
            series("kube_pod_container_status_restarts_total", c("crashy", "b"), "2x20"),
            series("kube_pod_container_status_last_terminated_reason", c("crashy", "a", reason="OOMKilled"), "1x20"),
            series("kube_pod_container_status_last_terminated_reason", c("crashy", "b", reason="Error"), "1x20"),
            series("kube_pod_status_ready", {"namespace": "default", "pod": "crashy", "condition": "true"},
                   " ".join(["1"] * 8 + ["0"] * 13)),
            series("kube_pod_status_ready", {"namespace": "default", "pod": "crashy", "condition": "false"},
                   " ".join(["0"] * 8 + ["1"] * 13)),
        ],
        "promql_expr_test": [
            expr_test("restart_count", [(pod("crashy"), 22)], eval_time="20m"),
            expr_test("recent_restarts", [(pod("crashy"), 15)], eval_time="20m"),
            expr_test("oom_killed", [(pod("crashy"), 1)], eval_time="20m"),
            # ready at 5m, 6m, 7m, not at 8m, 9m, 10m: 3 of the 6 samples in [5m, 10m]
            expr_test("availability_percent", [(pod("crashy"), 50)], eval_time="10m"),
        ],
    }])


def test_docs_show_the_exact_promql_of_every_builtin():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "detection.md").read_text()
    for metric in BUILTIN_METRICS.values():
        assert f"### `{metric.name}`" in docs and metric.promql() in docs, metric.name
