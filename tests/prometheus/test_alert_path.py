"""The whole alert path with real parts: exporter → Prometheus (rules from `kubeskippy rules`) →
Alertmanager → webhook → our intake → detection. The finding must name the breaching pod and
its Deployment, nothing for the pod below the threshold, and resolving must add no finding.
"""

from __future__ import annotations

import threading

import pytest
from typer.testing import CliRunner

from kubeskippy.cli.main import app
from kubeskippy.clock import WallClock
from kubeskippy.detect.detector import Detector
from kubeskippy.devcluster.memory_cluster import MemoryCluster
from kubeskippy.events.cloudevents import decode_payload, encode, parse_http
from kubeskippy.ingest.alertmanager import alert_event, decode_alertmanager_webhook
from kubeskippy.policy.loading import load_file
from tests.harness.prom import (
    Alertmanager, MetricsExporter, Prometheus, WebhookReceiver, require_alertmanager, require_prometheus, wait_for,
)

pytestmark = pytest.mark.slow

POLICY = """\
apiVersion: kubeskippy.io/v1alpha1
kind: HealingPolicy
metadata:
  name: cart-memory
  namespace: shop
spec:
  mode: automatic
  selector:
    namespaces: [shop]
    labelSelector:
      matchLabels: {app: cart}
    resources:
    - {apiVersion: v1, kind: Pod}
  triggers:
  - name: memory-high
    type: metric
    metricTrigger: {query: memory_usage_percent, operator: ">", threshold: 85, duration: 2s}
  actions:
  - {name: restart, type: restart}
"""


def cluster_objects() -> list[dict]:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "cart", "namespace": "shop", "uid": "d-1", "labels": {"app": "cart"}},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "cart"}},
                       "template": {"metadata": {"labels": {"app": "cart"}},
                                    "spec": {"containers": [{"name": "app", "image": "cart:1"}]}}}}
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "cart-7c9d", "namespace": "shop", "uid": "rs-1", "labels": {"app": "cart"},
                       "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart",
                                            "uid": "d-1", "controller": True}]},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "cart"}}, "template": deploy["spec"]["template"]}}
    pods = [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": name, "namespace": "shop", "uid": f"p-{name}", "labels": {"app": "cart"},
                          "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "cart-7c9d",
                                               "uid": "rs-1", "controller": True}]},
             "spec": {"containers": [{"name": "app", "image": "cart:1",
                                      "resources": {"limits": {"memory": "1G"}}}]},
             "status": {"phase": "Running"}} for name in ("cart-1", "cart-2")]
    return [deploy, rs, *pods]


def set_memory(exporter: MetricsExporter, pod: str, used_bytes: float) -> None:
    labels = {"namespace": "shop", "pod": pod, "container": "app"}
    exporter.set("container_memory_working_set_bytes", labels, used_bytes)
    exporter.set("kube_pod_container_resource_limits", {**labels, "resource": "memory", "unit": "byte"}, 1e9)


def test_a_firing_alert_becomes_one_finding_for_the_breaching_pod_and_resolving_adds_none(tmp_path):
    prometheus_bin, alertmanager_bin = require_prometheus(), require_alertmanager()
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY)
    rules_file = tmp_path / "rules.yaml"
    rendered = CliRunner().invoke(app, ["rules", str(policy_file), "--out", str(rules_file)])
    assert rendered.exit_code == 0, rendered.output

    cluster = MemoryCluster()
    cluster.seed(cluster_objects())
    detector = Detector(load_file(policy_file).policies, cluster=cluster, metrics=None, clock=WallClock())
    handled: list[tuple] = []  # (alert, findings) per alert, as the detect function would see them
    lock = threading.Lock()

    def intake(body: bytes) -> int:
        """What the detect function does with a webhook: decode, wrap as CloudEvents, detect."""
        for alert in decode_alertmanager_webhook(body):
            event = parse_http(*encode(alert_event(alert)))
            decoded = decode_payload(event)
            assert decoded == alert and event["id"] == alert.id
            findings = detector.on_alert(decoded)
            with lock:
                handled.append((decoded, findings))
        return 200

    def firing_findings():
        with lock:
            return [f for a, fs in handled if a.status == "firing" for f in fs]

    with MetricsExporter() as exporter, WebhookReceiver(intake) as receiver:
        set_memory(exporter, "cart-1", 950e6)  # 95 % of its limit
        set_memory(exporter, "cart-2", 100e6)  # 10 %
        with Alertmanager(alertmanager_bin, webhook_url=receiver.url()) as alertmanager, \
                Prometheus(prometheus_bin, targets=[exporter.target], rule_files=[rules_file],
                           alertmanager=alertmanager.address) as prometheus:
            assert [r["name"] for r in prometheus.rules_loaded()] == ["kubeskippy_shop_cart_memory_memory_high"]
            [finding] = wait_for(firing_findings, timeout=90, what="a finding from the firing alert")
            assert receiver.errors == []
            assert (finding.target.kind, finding.target.namespace, finding.target.name) == ("Pod", "shop", "cart-1")
            assert (finding.workload.kind, finding.workload.name) == ("Deployment", "cart")
            assert (finding.policy, finding.trigger, finding.trigger_type) == ("shop/cart-memory", "memory-high", "metric")
            [evidence] = finding.evidence
            assert evidence.value == pytest.approx(95.0)

            set_memory(exporter, "cart-1", 200e6)  # back to 20 %: Prometheus resolves the alert
            wait_for(lambda: any(a.status == "resolved" for a, _ in handled), timeout=90,
                     what="the resolved notification")
            with lock:
                assert all(fs == [] for a, fs in handled if a.status == "resolved")
                alerted_pods = {a.labels["pod"] for a, _ in handled}
            assert firing_findings() == [finding]
            assert alerted_pods == {"cart-1"}  # cart-2 never crossed the threshold
            assert receiver.errors == []
