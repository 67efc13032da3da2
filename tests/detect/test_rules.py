import math

import pytest
import yaml
from typer.testing import CliRunner

from kubeskippy.cli.main import app
from kubeskippy.clock import ManualClock
from kubeskippy.detect import Detector, compile_rules, to_prometheus_rule
from kubeskippy.detect.builtin_metrics import BUILTIN_METRICS
from kubeskippy.detect.rules import alert_name, prometheus_duration, promql_number
from kubeskippy.errors import InvalidInput
from kubeskippy.events.model import Alert

from .builders import T0, condition_trigger, deployment_with_pods, event_trigger, make_policy, metric_trigger
from .fakes import FakeCluster
from .promtool import check_rules, needs_promtool, test_rules

MEMORY_POLICY = make_policy("memory", "apps", namespaces=["apps"],
                            triggers=[metric_trigger("mem-high", "memory_usage_percent", 85, ">", "2m"),
                                      condition_trigger()])
CUSTOM_POLICY = make_policy("custom", triggers=[
    metric_trigger("slow", 'histogram_quantile(0.99, sum by (namespace, pod, le) (rate(latency_bucket[5m])))',
                   0.5, ">=", "90s"),
    metric_trigger("now", "up", 0, "==", "0s"),
    event_trigger(),
])


def test_each_policy_with_metric_triggers_becomes_a_group_of_rules():
    rules = compile_rules([MEMORY_POLICY, CUSTOM_POLICY, make_policy("events-only", triggers=[event_trigger()])])
    assert [g["name"] for g in rules["groups"]] == ["kubeskippy.apps.memory", "kubeskippy.default.custom"]
    [mem] = rules["groups"][0]["rules"]
    assert mem["alert"] == "kubeskippy_apps_memory_mem_high"
    assert mem["expr"] == f"({BUILTIN_METRICS['memory_usage_percent'].promql(['apps'])}) > 85"
    assert mem["for"] == "2m"
    assert mem["labels"] == {"kubeskippy_policy": "apps/memory", "kubeskippy_trigger": "mem-high",
                             "severity": "warning"}
    assert mem["annotations"]["kubeskippy_value"] == "{{ $value }}"
    slow, now = rules["groups"][1]["rules"]
    assert slow["expr"].startswith("(histogram_quantile(0.99,") and slow["expr"].endswith(") >= 0.5")
    assert slow["for"] == "1m30s"
    assert now["expr"] == "(up) == 0" and "for" not in now


def test_severity_is_configurable():
    rules = compile_rules([MEMORY_POLICY], severity="critical")
    assert rules["groups"][0]["rules"][0]["labels"]["severity"] == "critical"


def test_invalid_policies_are_refused_like_the_detector_refuses_them():
    with pytest.raises(InvalidInput):
        compile_rules([make_policy(namespaces=["Bad Name"], triggers=[metric_trigger()])])


def test_prometheus_rule_wraps_the_groups():
    wrapped = to_prometheus_rule(compile_rules([MEMORY_POLICY]), name="x", namespace="monitoring",
                                 labels={"release": "prom"})
    assert wrapped["apiVersion"] == "monitoring.coreos.com/v1" and wrapped["kind"] == "PrometheusRule"
    assert wrapped["metadata"] == {"name": "x", "namespace": "monitoring",
                                   "labels": {"app.kubernetes.io/part-of": "kubeskippy", "release": "prom"}}
    assert wrapped["spec"]["groups"] == compile_rules([MEMORY_POLICY])["groups"]


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (90, "1m30s"), (120, "2m"), (5400, "1h30m"), (0.5, "500ms"), (0.0001, "1ms"), (3661.5, "1h1m1s500ms"),
])
def test_durations_use_whole_prometheus_units_never_shorter_than_asked(seconds, text):
    assert prometheus_duration(seconds) == text


@pytest.mark.parametrize("value, text", [(85.0, "85"), (0.5, "0.5"), (-3.0, "-3"), (1e20, "1e+20"),
                                         (math.inf, "+Inf"), (math.nan, "NaN")])
def test_thresholds_are_promql_literals(value, text):
    assert promql_number(value) == text


def test_alert_names_are_metric_name_safe():
    assert alert_name("team-a/web.api", "mem high!") == "kubeskippy_team_a_web_api_mem_high"


@needs_promtool
def test_promtool_accepts_the_compiled_rules_of_every_builtin(tmp_path):
    policy = make_policy("all", triggers=[metric_trigger(name.replace("_", "-"), name, 1, ">", "1m")
                                          for name in sorted(BUILTIN_METRICS)])
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(compile_rules([policy, MEMORY_POLICY, CUSTOM_POLICY]), width=1_000_000))
    result = check_rules(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(BUILTIN_METRICS) + 3} rules found" in result.stdout


@needs_promtool
def test_the_compiled_rule_fires_only_after_its_duration_and_maps_back_to_the_pod(tmp_path):
    rules = compile_rules([MEMORY_POLICY])
    [rule] = rules["groups"][0]["rules"]
    labels = {"kubeskippy_policy": "apps/memory", "kubeskippy_trigger": "mem-high", "severity": "warning",
              "namespace": "apps", "pod": "web-abc-0"}
    annotations = {k: v.replace("{{ $value }}", "90").replace("{{ $labels.namespace }}/{{ $labels.pod }}",
                                                                  "apps/web-abc-0")
                   for k, v in rule["annotations"].items()}
    assert annotations["description"].endswith("Value 90 on pod apps/web-abc-0.")
    container = 'namespace="apps",pod="web-abc-0",container="app"'
    test_rules(tmp_path, rules, [{
        "interval": "1m",
        "input_series": [
            {"series": f"container_memory_working_set_bytes{{{container}}}", "values": "900x10"},
            {"series": f'kube_pod_container_resource_limits{{{container},resource="memory"}}', "values": "1000x10"},
            # the same pod in a namespace the policy does not list never alerts
            {"series": 'container_memory_working_set_bytes{namespace="x",pod="p",container="app"}', "values": "999x10"},
            {"series": 'kube_pod_container_resource_limits{namespace="x",pod="p",container="app",resource="memory"}',
             "values": "1000x10"},
        ],
        "alert_rule_test": [
            {"eval_time": "1m", "alertname": rule["alert"], "exp_alerts": []},
            {"eval_time": "2m", "alertname": rule["alert"],
             "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations}]},
        ],
    }])
    # The alert Alertmanager would deliver for it becomes a finding for that pod.
    alert = Alert(status="firing", alertname=rule["alert"], labels={"alertname": rule["alert"], **labels},
                  annotations=annotations, starts_at=T0, fingerprint="abc")
    detector = Detector([MEMORY_POLICY], cluster=FakeCluster(deployment_with_pods("web", 1, "apps")), metrics=None,
                        clock=ManualClock(T0))
    [finding] = detector.on_alert(alert)
    assert str(finding.target) == "Pod/apps/web-abc-0" and finding.evidence[0].value == 90


def write_policy_file(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(MEMORY_POLICY.to_json_dict()) + "---\n" + yaml.safe_dump(CUSTOM_POLICY.to_json_dict()))
    return path


def test_cli_prints_a_rule_file(tmp_path):
    result = CliRunner().invoke(app, ["rules", str(write_policy_file(tmp_path))])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert document == compile_rules([MEMORY_POLICY, CUSTOM_POLICY])


def test_cli_writes_a_prometheus_rule_to_a_file(tmp_path):
    out = tmp_path / "out.yaml"
    result = CliRunner().invoke(app, ["rules", str(write_policy_file(tmp_path)), "--format", "prometheusrule",
                                      "--out", str(out), "--namespace", "monitoring", "--label", "release=prom"])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(out.read_text())
    assert document["kind"] == "PrometheusRule" and document["metadata"]["namespace"] == "monitoring"
    assert document["metadata"]["labels"]["release"] == "prom"


def test_cli_reports_bad_policies_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: kubeskippy.io/v1alpha1\nkind: HealingPolicy\nmetadata: {name: x}\n"
                   "spec: {selector: {resources: []}, triggers: [], actions: []}\n")
    result = CliRunner().invoke(app, ["rules", str(bad)])
    assert result.exit_code == 1
    assert "error:" in result.stderr and "Traceback" not in result.output


@needs_promtool
def test_cli_output_passes_promtool_check(tmp_path):
    out = tmp_path / "rules.yaml"
    CliRunner().invoke(app, ["rules", str(write_policy_file(tmp_path)), "-o", str(out)])
    result = check_rules(out)
    assert result.returncode == 0, result.stdout + result.stderr
