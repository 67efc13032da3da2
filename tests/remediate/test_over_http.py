"""A few actions end to end over real HTTP: the Remediator on the production KubernetesCluster
adapter (the real ``kubernetes`` client) against the devcluster server on 127.0.0.1."""

from __future__ import annotations

import pytest

from kubeskippy.adapters.kubernetes import KubernetesCluster
from kubeskippy.devcluster import builders as b
from kubeskippy.devcluster.server import DevClusterServer
from kubeskippy.errors import TemporaryError

from .world import World, plan_for, policy

pytestmark = pytest.mark.slow


@pytest.fixture
def http_world():
    world = World()
    with DevClusterServer(world.store) as server:
        client = server.api_client()
        world.cluster = KubernetesCluster(client, request_timeout=(2.0, 10.0))
        world.server = server
        yield world
        client.close()


def test_rolling_restart_over_http_leaves_the_annotation_and_an_event(http_world):
    w = http_world
    pol = w.add_policy(policy())
    dep = w.deployment(replicas=2)
    outcome = w.remediator().execute(plan_for(pol, dep, ("restart-it", "restart", {}))).outcomes[0]
    assert outcome.status == "executed", outcome.message
    annotations = w.get("apps/v1", "Deployment", "web")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"] == "2023-11-14T22:13:20Z"
    assert len(w.events(reason="KubeSkippyRestart")) == 1
    assert w.healing_actions()[0]["status"]["phase"] == "Succeeded"


def test_eviction_blocked_by_a_pdb_over_http_is_a_blocked_outcome(http_world):
    w = http_world
    pol = w.add_policy(policy())
    w.deployment(replicas=2)
    w.cluster.create(b.pdb("web", match_labels={"app": "web"}, min_available=2))
    w.controller.settle()
    outcome = w.remediator().execute(plan_for(pol, w.pods()[0], ("restart-it", "restart", {}))).outcomes[0]
    assert (outcome.status, outcome.reason) == ("blocked", "disruption_budget")
    assert len(w.pods()) == 2


def test_scale_and_dry_run_patch_over_http(http_world):
    w = http_world
    pol = w.add_policy(policy(actions=[{"name": "more", "type": "scale", "scaleAction": {"direction": "up",
                                                                                         "replicas": 1}}]))
    dep = w.deployment(replicas=2)
    assert w.remediator().execute(plan_for(pol, dep, ("more", "scale", {}))).outcomes[0].status == "executed"
    assert w.get("apps/v1", "Deployment", "web")["spec"]["replicas"] == 3

    dry = w.add_policy(policy(name="dry", mode="dryrun", actions=[{"name": "p", "type": "patch", "patchAction": {
        "type": "strategic", "patch": '{"spec": {"template": {"spec": {"containers": [{"name": "app", '
                                      '"image": "nginx:2"}]}}}}'}}]))
    before = w.get("apps/v1", "Deployment", "web")
    outcome = w.remediator().execute(plan_for(dry, before, ("p", "patch", {}))).outcomes[0]
    assert outcome.status == "dry_run" and outcome.changes[0].new_value == "nginx:2"
    assert w.get("apps/v1", "Deployment", "web") == before


def test_a_5xx_from_the_api_server_mid_way_is_retryable_and_the_retry_acts_once(http_world):
    w = http_world
    pol = w.add_policy(policy())
    dep = w.deployment(replicas=2)
    plan = plan_for(pol, dep, ("restart-it", "restart", {}))
    w.server.faults.inject(status=500, count=1, verbs=["patch"], path=r"/deployments/web$")
    with pytest.raises(TemporaryError):
        w.remediator().execute(plan)
    assert w.remediator().execute(plan).outcomes[0].status == "executed"
    w.controller.settle()
    assert len(w.cluster.list("apps/v1", "ReplicaSet", "default")) == 2  # one rollout


def test_approval_by_status_patch_over_http_executes_once(http_world):
    w = http_world
    pol = w.add_policy(policy(mode="manual"))
    dep = w.deployment(replicas=3)
    rem = w.remediator()
    rem.execute(plan_for(pol, dep, ("restart-it", "restart", {})))
    (ha,) = w.healing_actions()
    updated = w.cluster.patch("kubeskippy.io/v1alpha1", "HealingAction", ha["metadata"]["name"], "default",
                              {"status": {"approval": {"approved": True, "approvedBy": "alice"}}},
                              patch_type="merge", subresource="status")
    assert [o.status for o in rem.on_healing_action_update(updated).outcomes] == ["executed"]
    assert rem.on_healing_action_update(updated).outcomes == []
