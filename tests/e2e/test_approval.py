"""Scenario 3: the approval path. A policy in manual mode proposes; the HealingAction waits
Pending; a person runs the real ``kubeskippy approve`` against the API double (through a
kubeconfig, as kubectl would, with a token the shipped RBAC plus an approver role allows); the
HealingAction update reaches remediate through the feed, and the action runs exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kubeskippy.events.types import NOTIFICATION, OUTCOME

from .scenarios import APPROVAL_POLICY, healing_actions_for, pod_deletes
from .world import APPROVER, APPS_NAMESPACE, KUBESKIPPY_NAMESPACE, World, scenario_deployment, wait_until

pytestmark = pytest.mark.slow

APP = "payments"


def kubeconfig(world: World, path: Path, token: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "devcluster",
        "clusters": [{"name": "devcluster", "cluster": {"server": world.server.url}}],
        "users": [{"name": APPROVER, "user": {"token": token}}],
        "contexts": [{"name": "devcluster", "context": {"cluster": "devcluster", "user": APPROVER}}],
    }))
    return path


def kubeskippy_cli(*args: str, config: Path) -> subprocess.CompletedProcess:
    """The installed command, in its own process, seeing only a kubeconfig (no service account)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_SERVICE")}
    env["KUBECONFIG"] = str(config)
    command = Path(sys.executable).parent / "kubeskippy"  # the console script pip installed
    assert command.is_file(), f"{command} missing: pip install -e . installs the kubeskippy command"
    return subprocess.run([str(command), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def approval(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict:
    world.add(scenario_deployment(APP, APPROVAL_POLICY, replicas=2))
    wait_until(lambda: len(world.pods(APP)) == 2, timeout=10, what="two pods")
    victim = world.pods(APP)[0]
    name = victim["metadata"]["name"]
    world.crash_loop(victim)
    pending = wait_until(lambda: [ha for ha in healing_actions_for(world, name)
                                  if (ha.get("status") or {}).get("phase") == "Pending"
                                  and "approval" in (ha.get("status") or {})],
                         timeout=60, what=lambda: f"a Pending HealingAction for {name}\n{world.diagnostics()}")
    world.wait_idle()
    time.sleep(0.5)  # nothing may happen while it waits; give a wrong path the chance to act
    world.wait_idle()
    before = {"deletes": len(pod_deletes(world, name)), "pod": world.store.find("v1", "Pod", name, APPS_NAMESPACE)}
    config = kubeconfig(world, tmp_path_factory.mktemp("kube") / "config", world.tokens[APPROVER])
    ha_name = pending[0]["metadata"]["name"]
    approved = kubeskippy_cli("approve", ha_name, "-n", KUBESKIPPY_NAMESPACE, "--reason", "checked the logs",
                              "--by", APPROVER, config=config)
    wait_until(lambda: world.store.find("v1", "Pod", name, APPS_NAMESPACE) is None, timeout=60,
               what=lambda: f"the approved deletion of {name}\n{world.diagnostics()}")
    wait_until(lambda: (healing_actions_for(world, name)[0].get("status") or {}).get("phase") == "Succeeded",
               timeout=60, what="the HealingAction to succeed")
    world.wait_idle()
    again = kubeskippy_cli("approve", ha_name, "-n", KUBESKIPPY_NAMESPACE, "--reason", "twice", config=config)
    world.wait_idle()
    return {"victim": name, "pending": pending[0], "before": before, "approved": approved, "again": again,
            "healing_action": healing_actions_for(world, name)[0]}


def test_nothing_is_done_while_the_healing_action_waits(approval):
    assert approval["before"]["deletes"] == 0
    assert approval["before"]["pod"] is not None
    pending = approval["pending"]
    assert pending["spec"]["approvalRequired"] is True
    assert pending["spec"]["policyRef"]["name"] == APPROVAL_POLICY


def test_remediate_announces_the_pending_approval(world, approval):
    outcomes = [o for o in world.payloads(OUTCOME) if o["target"]["name"] == approval["victim"]]
    assert "pending_approval" in {o["status"] for o in outcomes}
    notes = [n for n in world.payloads(NOTIFICATION) if (n.get("target") or {}).get("name") == approval["victim"]]
    assert any(f"kubeskippy approve {approval['pending']['metadata']['name']}" in n["message"] for n in notes)


def test_the_cli_approves_and_the_action_runs_exactly_once(world, approval):
    assert approval["approved"].returncode == 0, approval["approved"].stderr
    assert "approved by alice" in approval["approved"].stdout
    assert len(pod_deletes(world, approval["victim"])) == 1
    ha = approval["healing_action"]
    assert ha["status"]["phase"] == "Succeeded"
    assert ha["status"]["attempts"] == 1
    assert (ha["status"]["approval"]["approvedBy"], ha["status"]["approval"]["reason"]) == (APPROVER, "checked the logs")
    executed = {o["id"] for o in world.payloads(OUTCOME)
                if o["target"]["name"] == approval["victim"] and o["status"] == "executed"}
    assert len(executed) == 1
    approvals_routed = {r.trigger for r in world.deliveries() if r.status == 200 or r.status == 202}
    assert "remediate-approvals" in approvals_routed  # the update came through the feed and the Trigger


def test_a_second_approval_is_refused_and_changes_nothing(world, approval):
    assert approval["again"].returncode == 1, approval["again"].stdout + approval["again"].stderr
    assert "not waiting for a decision" in approval["again"].stderr
    assert len(pod_deletes(world, approval["victim"])) == 1


def test_the_approver_and_the_functions_stayed_within_their_rbac(world, approval):
    assert world.denied() == []
    approver = [r for r in world.requests if r.user == APPROVER]
    assert {(r.verb, r.path.rsplit("/", 1)[-1]) for r in approver} <= {
        ("get", approval["pending"]["metadata"]["name"]), ("update", "status")}
    assert any(r.verb == "update" for r in approver)
