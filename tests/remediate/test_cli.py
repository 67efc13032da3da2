"""``kubeskippy approve|reject|actions list`` against the API double."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import kubeskippy.cli.actions as cli_actions
from kubeskippy.cli.main import app

from .world import World, plan_for, policy

runner = CliRunner()


@pytest.fixture
def pending(world: World, monkeypatch):
    pol = world.add_policy(policy(mode="manual"))
    dep = world.deployment(replicas=3)
    rem = world.remediator()
    rem.execute(plan_for(pol, dep, ("restart-it", "restart", {})))
    monkeypatch.setattr(cli_actions, "cluster_factory", lambda: world.cluster)
    (ha,) = world.healing_actions()
    return rem, ha["metadata"]["name"]


def test_actions_list_shows_pending_approvals(world, pending):
    _, name = pending
    result = runner.invoke(app, ["actions", "list", "-n", "default"])
    assert result.exit_code == 0, result.output
    header, row = result.output.strip().splitlines()
    assert header.split() == ["NAMESPACE", "NAME", "PHASE", "TYPE", "TARGET", "POLICY", "OUTCOME", "APPROVAL", "AGE"]
    assert row.split()[:8] == ["default", name, "Pending", "restart", "Deployment/web", "heal", "pending_approval",
                               "undecided"]


def test_approve_from_the_cli_then_the_update_executes_once(world, pending):
    rem, name = pending
    result = runner.invoke(app, ["approve", name, "-n", "default", "--reason", "checked", "--by", "alice"])
    assert result.exit_code == 0, result.output
    assert "approved by alice" in result.output
    ha = world.get("kubeskippy.io/v1alpha1", "HealingAction", name)
    assert ha["status"]["approval"]["approvedBy"] == "alice" and ha["status"]["approval"]["reason"] == "checked"
    assert [o.status for o in rem.on_healing_action_update(ha).outcomes] == ["executed"]
    again = runner.invoke(app, ["approve", name, "-n", "default", "--by", "bob"])
    assert again.exit_code == 1 and "not waiting for a decision" in again.output


def test_reject_from_the_cli_cancels(world, pending):
    rem, name = pending
    result = runner.invoke(app, ["reject", name, "--reason", "too risky", "--by", "alice"])
    assert result.exit_code == 0, result.output
    ha = world.get("kubeskippy.io/v1alpha1", "HealingAction", name)
    assert [(o.status, o.reason) for o in rem.on_healing_action_update(ha).outcomes] == [("cancelled", "rejected")]


def test_approving_an_unknown_action_says_so(world, pending):
    result = runner.invoke(app, ["approve", "nope", "-n", "default", "--by", "alice"])
    assert result.exit_code == 1 and "not found" in result.output
