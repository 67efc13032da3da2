"""Scenario 2: a memory-leak alert from a real Prometheus and Alertmanager ends in a restart.

An exporter on loopback serves cAdvisor- and kube-state-metrics-shaped series for one pod at 95 %
of its memory limit; Prometheus evaluates the rules ``kubeskippy rules`` renders from the
memory-leak demo policy; Alertmanager posts to the detect process's /alertmanager; the alert
event goes through the broker to detect, the finding to analyze (which sees an earlier OOM kill
after a long run: a leak), the plan to remediate, which evicts the pod; the controller replaces
it. The one change to the demo policy: the trigger's duration is 2s instead of 1m, so the alert
fires within seconds (the rendered rule's ``for:`` follows).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from kubeskippy.events.types import ALERT_FIRING, ALERT_RESOLVED, FINDING, OUTCOME, PLAN
from tests.harness.prom import (Alertmanager, MetricsExporter, Prometheus, free_port, require_alertmanager,
                                require_prometheus)
from tests.harness.s3 import SeaweedFS

from .conftest import s3_target
from .scenarios import healing_actions_for
from .world import APPS_NAMESPACE, World, demo_policy, read_audit, scenario_deployment, wait_until

pytestmark = pytest.mark.slow

POLICY = "memory-leak-restart"
APP = "leaky"
LIMIT_BYTES = 256 * 2**20


def memory_policy() -> dict:
    policy = demo_policy(POLICY)
    [memory_high] = [t for t in policy["spec"]["triggers"] if t["name"] == "memory-high"]
    memory_high["metricTrigger"]["duration"] = "2s"
    return policy


def render_rules(policy: dict, folder: Path) -> Path:
    """``kubeskippy rules`` (the installed command) renders the Prometheus rules from the policy."""
    policy_file, rules_file = folder / "policy.yaml", folder / "rules.yaml"
    policy_file.write_text(yaml.safe_dump(policy))
    command = Path(sys.executable).parent / "kubeskippy"
    done = subprocess.run([str(command), "rules", str(policy_file), "--out", str(rules_file)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return rules_file


def set_memory(exporter: MetricsExporter, pod: str, percent: float) -> None:
    labels = {"namespace": APPS_NAMESPACE, "pod": pod, "container": "app"}
    exporter.set("container_memory_working_set_bytes", {**labels, "id": f"/kubepods/{pod}/app"},
                 LIMIT_BYTES * percent / 100)
    exporter.set("kube_pod_container_resource_limits", {**labels, "resource": "memory", "unit": "byte"},
                 float(LIMIT_BYTES))


@pytest.fixture(scope="module")
def alerted(s3_server: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    prometheus_bin, alertmanager_bin = require_prometheus(), require_alertmanager()
    folder = tmp_path_factory.mktemp("e2e-memory")
    policy = memory_policy()
    rules = render_rules(policy, folder)
    alertmanager_port = free_port()
    with MetricsExporter() as exporter, \
            Prometheus(prometheus_bin, targets=[exporter.target], rule_files=[rules],
                       alertmanager=f"127.0.0.1:{alertmanager_port}") as prometheus:
        world = World(folder / "mesh", s3=s3_target(s3_server),
                      per_function_env={name: {"KUBESKIPPY_PROMETHEUS_URL": prometheus.url}
                                        for name in ("detect", "analyze")})
        try:
            world.start(policies=[policy])
            world.add(scenario_deployment(APP, "memory-leak", replicas=2, memory_limit="256Mi"), age=3600)
            wait_until(lambda: len(world.pods(APP)) == 2, timeout=10, what="two pods")
            victim, healthy = world.pods(APP)
            world.oom_killed_earlier(victim, ran_for=1500, ago=600)
            set_memory(exporter, victim["metadata"]["name"], 95)
            set_memory(exporter, healthy["metadata"]["name"], 30)
            alertmanager = Alertmanager(alertmanager_bin, webhook_url=world.mesh.functions["detect"].url + "alertmanager")
            alertmanager.port = alertmanager_port  # the address Prometheus was told to send to
            with alertmanager:
                name = victim["metadata"]["name"]
                wait_until(lambda: world.store.find("v1", "Pod", name, APPS_NAMESPACE) is None, timeout=90,
                           what=lambda: f"the leaking pod {name} to be restarted\n{world.diagnostics()}")
                wait_until(lambda: (healing_actions_for(world, name, "restart")[0].get("status") or {}).get("phase")
                           == "Succeeded", timeout=30, what="the HealingAction to succeed")
                wait_until(lambda: len([p for p in world.pods(APP) if p["metadata"]["name"] != name]) == 2,
                           timeout=10, what="a replacement pod")
                set_memory(exporter, name, 10)  # the old series falls: Prometheus resolves the alert
                wait_until(lambda: [a for a in world.payloads(ALERT_RESOLVED) if a["labels"].get("pod") == name],
                           timeout=60, what="the resolved alert")
                world.wait_idle()
                yield {"world": world, "victim": victim, "healthy": healthy}
        finally:
            world.stop()


def test_the_alert_arrives_through_alertmanager_and_detect(alerted):
    world, victim = alerted["world"], alerted["victim"]
    alerts = [a for a in world.payloads(ALERT_FIRING) if a["labels"].get("pod") == victim["metadata"]["name"]]
    assert alerts, "no firing alert for the leaking pod reached the broker"
    assert {a["labels"]["kubeskippy_policy"] for a in alerts} == {f"{APPS_NAMESPACE}/{POLICY}"}
    assert {a["labels"]["alertname"] for a in alerts} == {"kubeskippy_demo_apps_memory_leak_restart_memory_high"}
    assert not [a for a in world.payloads(ALERT_FIRING)
                if a["labels"].get("pod") == alerted["healthy"]["metadata"]["name"]]


def test_the_finding_comes_from_the_alert_and_the_plan_restarts_the_leaking_pod(alerted):
    world, name = alerted["world"], alerted["victim"]["metadata"]["name"]
    alert_ids = {e["id"] for e in world.events(ALERT_FIRING)}
    findings = {f["id"]: f for f in world.payloads(FINDING) if f["target"]["name"] == name}
    assert findings
    assert {(f["trigger"], f["trigger_type"]) for f in findings.values()} == {("memory-high", "metric")}
    assert {f["source_event_id"] for f in findings.values()} <= alert_ids
    plans = {p["id"]: p for p in world.payloads(PLAN) if p["finding"]["target"]["name"] == name}
    assert {p["root_cause"]["category"] for p in plans.values()} == {"memory_leak"}
    assert {(a["action"], a["type"], a["target"]["name"]) for p in plans.values() for a in p["actions"]} == {
        ("restart-leaking-pod", "restart", name)}


def test_the_pod_is_evicted_once_and_replaced(alerted):
    world, name = alerted["world"], alerted["victim"]["metadata"]["name"]
    writes = [r for r in world.requests if f"/pods/{name}" in r.path and r.method in ("POST", "DELETE", "PATCH", "PUT")]
    assert [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in writes] == [("POST", "eviction", 201)]
    assert writes[0].user == world.users[world.tokens["remediate"]]
    executed = {o["id"] for o in world.payloads(OUTCOME) if o["target"]["name"] == name and o["status"] == "executed"}
    assert len(executed) == 1
    assert alerted["healthy"]["metadata"]["name"] in {p["metadata"]["name"] for p in world.pods(APP)}


def test_the_alert_and_everything_after_it_are_audited(alerted):
    world = alerted["world"]
    stored = {e.id: e for e in read_audit(world.s3)}
    for event in world.mesh.broker.accepted:
        if event["type"].startswith("io.kubeskippy."):
            assert event["id"] in stored, event["type"]
    assert ALERT_FIRING in {e.type for e in stored.values()}


def test_no_request_was_refused_and_audit_made_no_kubernetes_call(alerted):
    world = alerted["world"]
    assert world.denied() == []
    assert world.requests_by("audit") == []
    assert world.dead_letters() == []
