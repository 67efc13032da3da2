"""Every action against the Kubernetes API double: the resulting objects, the recorded changes,
the Kubernetes Event — and the same action in dry-run mode changing nothing."""

from __future__ import annotations

import copy
import json

import pytest

from kubeskippy.devcluster import builders as b

from .world import World, plan_for, policy

ANN = "kubectl.kubernetes.io/restartedAt"


def _snapshot(world: World) -> list[dict]:
    """Every object except HealingActions (the record of the dry run itself)."""
    out = []
    for obj in world.store.all_objects():
        if obj["kind"] != "HealingAction":
            out.append(copy.deepcopy(obj))
    return sorted(out, key=lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def _run(world: World, action: dict, target: dict, params: dict | None = None, *, mode: str = "automatic",
         annotations: dict | None = None, type_: str | None = None, safety: dict | None = None):
    pol = world.add_policy(policy(mode=mode, actions=[action], annotations=annotations, safety=safety))
    plan = plan_for(pol, target, (action["name"], type_ or action["type"], params or {}))
    return world.remediator().execute(plan)


def _only_outcome(result):
    assert len(result.outcomes) == 1, result.outcomes
    return result.outcomes[0]


# --- restart -------------------------------------------------------------------------------------

def test_rolling_restart_of_a_deployment_sets_the_restarted_at_annotation_and_leaves_an_event(world):
    dep = world.deployment(replicas=3)
    outcome = _only_outcome(_run(world, {"name": "restart", "type": "restart"}, dep))
    assert outcome.status == "executed"
    live = world.get("apps/v1", "Deployment", "web")
    stamp = live["spec"]["template"]["metadata"]["annotations"][ANN]
    assert stamp == "2023-11-14T22:13:20Z"  # the ManualClock's start, in kubectl's format
    assert [(c.field, c.old_value, c.new_value) for c in outcome.changes] == [
        (f"spec.template.metadata.annotations[{ANN}]", "", stamp)]
    events = world.events(reason="KubeSkippyRestart")
    assert len(events) == 1
    ev = events[0]
    assert ev["involvedObject"]["kind"] == "Deployment" and ev["involvedObject"]["name"] == "web"
    assert ev["source"]["component"] == "kubeskippy" and ev["type"] == "Normal"
    assert "rollout restart" in ev["message"] and "Why: test reason" in ev["message"]
    world.controller.settle()
    assert len(world.cluster.list("apps/v1", "ReplicaSet", "default")) == 2  # a new rollout happened


def test_rolling_restart_of_a_pod_evicts_only_that_pod_even_when_a_deployment_owns_it(world):
    world.deployment(replicas=3)
    victim = world.pods()[0]
    outcome = _only_outcome(_run(world, {"name": "restart", "type": "restart"}, victim))
    assert outcome.status == "executed"
    names = [p["metadata"]["name"] for p in world.pods()]
    assert victim["metadata"]["name"] not in names and len(names) == 2
    assert "restartedAt" not in json.dumps(world.get("apps/v1", "Deployment", "web")["spec"]["template"])
    assert outcome.changes[0].field == "eviction" and outcome.changes[0].new_value == "evicted"


def test_graceful_restart_of_a_pod_passes_its_grace_period_to_the_eviction(world, monkeypatch):
    world.deployment(replicas=2)
    victim = world.pods()[0]
    seen = {}
    original = world.cluster.evict

    def spy(name, namespace, *, grace_period_seconds=None, dry_run=False):
        seen["grace"] = grace_period_seconds
        return original(name, namespace, grace_period_seconds=grace_period_seconds, dry_run=dry_run)

    monkeypatch.setattr(world.cluster, "evict", spy)
    outcome = _only_outcome(_run(world, {"name": "restart", "type": "restart",
                                         "restartAction": {"strategy": "graceful", "gracePeriodSeconds": 7}}, victim))
    assert outcome.status == "executed" and seen == {"grace": 7}
    assert "gracePeriodSeconds=7" in outcome.changes[0].field


def test_restart_blocked_by_a_pod_disruption_budget_is_a_blocked_outcome_not_a_crash(world):
    world.deployment(replicas=2)
    world.cluster.create(b.pdb("web-pdb", match_labels={"app": "web"}, min_available=2))
    world.controller.settle()
    victim = world.pods()[0]
    outcome = _only_outcome(_run(world, {"name": "restart", "type": "restart"}, victim))
    assert outcome.status == "blocked" and outcome.reason == "disruption_budget"
    assert "retry later" in outcome.message
    assert len(world.pods()) == 2
    # nothing was done, so the ledger gave the slot and the lease back: no cooldown started
    assert world.ledger.actions_in_window() == 0
    assert world.ledger.active_leases("default") == []


def test_recreate_restart_of_a_workload_deletes_at_most_max_concurrent_pods_unready_first(world):
    world.deployment(replicas=6)
    pods = world.pods()
    world.controller.crash_pod("default", pods[2]["metadata"]["name"])
    outcome = _only_outcome(_run(world, {"name": "restart", "type": "restart",
                                         "restartAction": {"strategy": "recreate", "maxConcurrent": 2}},
                                 world.get("apps/v1", "Deployment", "web")))
    assert outcome.status == "executed"
    gone = {p["metadata"]["name"] for p in pods} - {p["metadata"]["name"] for p in world.pods()}
    assert len(gone) == 2 and pods[2]["metadata"]["name"] in gone


# --- scale ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("direction,replicas,expected,clamped", [
    pytest.param("up", 2, 5, False, id="up-by-two"),
    pytest.param("down", 1, 2, False, id="down-by-one"),
    pytest.param("absolute", 4, 4, False, id="absolute"),
    pytest.param("up", 10, 6, True, id="up-clamped-to-max"),
    pytest.param("down", 3, 2, True, id="down-clamped-to-min"),
])
def test_scale_changes_replicas_through_the_scale_subresource_within_bounds(world, direction, replicas, expected,
                                                                           clamped):
    dep = world.deployment(replicas=3)
    action = {"name": "scale", "type": "scale", "scaleAction": {"direction": direction, "replicas": replicas,
                                                                "minReplicas": 2, "maxReplicas": 6}}
    outcome = _only_outcome(_run(world, action, dep))
    assert outcome.status == "executed"
    assert world.get("apps/v1", "Deployment", "web")["spec"]["replicas"] == expected
    assert [(c.change_type, c.field, c.old_value, c.new_value) for c in outcome.changes] == [
        ("scale", "spec.replicas", "3", str(expected))]
    assert ("clamped" in outcome.message) is clamped
    ha = world.healing_actions()[0]
    assert (ha["status"]["result"]["metrics"].get("replicas.clamped") == "true") is clamped


def test_scale_given_a_pod_acts_on_its_deployment(world):
    world.deployment(replicas=2)
    action = {"name": "scale", "type": "scale", "scaleAction": {"direction": "up", "replicas": 1}}
    outcome = _only_outcome(_run(world, action, world.pods()[0]))
    assert outcome.status == "executed" and outcome.target.kind == "Deployment"
    assert world.get("apps/v1", "Deployment", "web")["spec"]["replicas"] == 3


# --- patch ---------------------------------------------------------------------------------------

def test_strategic_patch_from_a_yaml_string_updates_the_container_by_name(world):
    dep = world.deployment(replicas=1)
    action = {"name": "patch", "type": "patch", "patchAction": {"type": "strategic", "patch": (
        "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.28\n")}}
    outcome = _only_outcome(_run(world, action, dep))
    assert outcome.status == "executed"
    containers = world.get("apps/v1", "Deployment", "web")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "nginx:1.28")]
    assert [(c.field, c.old_value, c.new_value) for c in outcome.changes] == [
        ("spec.template.spec.containers[0].image", "nginx:1.27", "nginx:1.28")]


def test_patches_list_maps_to_json_patch_replace_for_existing_and_add_for_missing_paths(world):
    dep = world.deployment(replicas=1)
    action = {"name": "patch", "type": "patch", "patchAction": {"type": "merge", "patches": [
        {"path": ["spec", "replicas"], "value": "2"},
        {"path": ["spec", "template", "spec", "containers", "0", "resources", "limits", "memory"],
         "value": "\"256Mi\""},
        {"path": ["metadata", "labels", "team"], "value": "payments"},
    ]}}
    outcome = _only_outcome(_run(world, action, dep))
    assert outcome.status == "executed"
    live = world.get("apps/v1", "Deployment", "web")
    assert live["spec"]["replicas"] == 2
    assert live["spec"]["template"]["spec"]["containers"][0]["resources"] == {"limits": {"memory": "256Mi"}}
    assert live["metadata"]["labels"]["team"] == "payments"
    intent = json.loads(world.healing_actions()[0]["status"]["result"]["metrics"]["kubeskippy.io/intent"])
    assert intent["ops"] == [
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"limits": {"memory": "256Mi"}}},
        {"op": "add", "path": "/metadata/labels/team", "value": "payments"},
    ]


def test_json_patch_string_is_sent_as_given(world):
    dep = world.deployment(replicas=1)
    action = {"name": "patch", "type": "patch", "patchAction": {
        "type": "json", "patch": '[{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]'}}
    outcome = _only_outcome(_run(world, action, dep))
    assert outcome.status == "executed"
    assert world.get("apps/v1", "Deployment", "web")["metadata"]["annotations"] == {"a": "b"}


# --- delete --------------------------------------------------------------------------------------

def test_delete_with_force_uses_grace_zero_and_the_replicaset_replaces_the_pod(world, monkeypatch):
    world.deployment(replicas=2)
    victim = world.pods()[0]
    calls = []
    original = world.cluster.delete

    def spy(*args, **kw):
        calls.append(kw)
        return original(*args, **kw)

    monkeypatch.setattr(world.cluster, "delete", spy)
    outcome = _only_outcome(_run(world, {"name": "del", "type": "delete", "deleteAction": {
        "force": True, "gracePeriodSeconds": 30, "propagationPolicy": "Background"}}, victim))
    assert outcome.status == "executed"
    assert calls[0]["grace_period_seconds"] == 0 and calls[0]["propagation_policy"] == "Background"
    assert victim["metadata"]["name"] not in [p["metadata"]["name"] for p in world.pods()]
    world.controller.settle()
    assert len(world.pods()) == 2


# --- rollback ------------------------------------------------------------------------------------

def _two_revisions(world: World) -> dict:
    world.deployment(replicas=2)
    world.cluster.patch("apps/v1", "Deployment", "web", "default", {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "image": "nginx:broken"}]}}}}, patch_type="strategic")
    world.controller.settle()
    return world.get("apps/v1", "Deployment", "web")


def test_rollback_restores_the_previous_replicasets_template(world):
    dep = _two_revisions(world)
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    action = {"name": "undo", "type": "custom"}
    outcome = _only_outcome(_run(world, action, dep, annotations={
        "kubeskippy.io/custom-actions": '{"undo": {"custom": "rollback"}}'}))
    assert outcome.status == "executed", outcome.message
    live = world.get("apps/v1", "Deployment", "web")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert "pod-template-hash" not in live["spec"]["template"]["metadata"]["labels"]
    fields = {c.field: (c.old_value, c.new_value) for c in outcome.changes}
    assert fields["spec.template.spec.containers[app].image"] == ("nginx:broken", "nginx:1.27")
    assert outcome.action_type == "rollback"


def test_rollback_without_an_earlier_revision_is_refused(world):
    dep = world.deployment(replicas=1)
    outcome = _only_outcome(_run(world, {"name": "undo", "type": "custom"}, dep, params={"custom": "rollback"}))
    assert outcome.status == "blocked" and outcome.reason == "no_previous_revision"


# --- raise a limit -------------------------------------------------------------------------------

def test_raise_memory_limit_by_percent_on_the_owning_deployment_up_to_the_cap(world):
    world.deployment(replicas=1, containers=[b.container("app", resources={"limits": {"memory": "512Mi"}}),
                                             b.container("side", resources={"limits": {"memory": "900Mi"}})])
    pod = world.pods()[0]
    outcome = _only_outcome(_run(world, {"name": "more-memory", "type": "custom"}, pod,
                                 params={"custom": "raise_limit", "resource": "memory", "percent": 50,
                                         "max": "1Gi"}))
    assert outcome.status == "executed", outcome.message
    containers = world.get("apps/v1", "Deployment", "web")["spec"]["template"]["spec"]["containers"]
    assert {c["name"]: c["resources"]["limits"]["memory"] for c in containers} == {"app": "768Mi", "side": "1Gi"}
    assert [(c.field, c.old_value, c.new_value) for c in outcome.changes] == [
        ("spec.template.spec.containers[app].resources.limits.memory", "512Mi", "768Mi"),
        ("spec.template.spec.containers[side].resources.limits.memory", "900Mi", "1Gi")]
    assert "capped: side" in outcome.message


def test_raise_limit_already_at_the_cap_is_refused(world):
    world.deployment(replicas=1, containers=[b.container("app", resources={"limits": {"cpu": "2"}})])
    outcome = _only_outcome(_run(world, {"name": "cpu", "type": "custom"}, world.pods()[0],
                                 params={"custom": "raise_limit", "resource": "cpu", "percent": 20, "max": "2"}))
    assert outcome.status == "blocked" and outcome.reason == "at_cap"


# --- cordon and drain ----------------------------------------------------------------------------

def test_cordon_and_drain_marks_the_node_unschedulable_and_evicts_all_but_daemonset_pods(world):
    world.deployment(replicas=2)
    node = world.get("v1", "Node", "devcluster-node-1", None)
    ds_owner = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "uid": "ds-uid"}}
    world.cluster.seed([b.pod("agent-x", node="devcluster-node-1", phase="Running", ready=True, owner=ds_owner)])
    outcome = _only_outcome(_run(world, {"name": "drain", "type": "custom"}, node, params={"custom": "drain"}))
    assert outcome.status == "executed", outcome.message
    assert world.get("v1", "Node", "devcluster-node-1", None)["spec"]["unschedulable"] is True
    assert [p["metadata"]["name"] for p in world.pods()] == ["agent-x"]
    assert outcome.details["evicted"] and outcome.details["kept"] == ["default/agent-x (daemonset/mirror)"]
    assert world.events(reason="KubeSkippyCordonDrain")  # Node events go to "default"


def test_drain_leaves_pods_in_protected_namespaces_and_reports_them(world):
    world.cluster.seed([b.pod("dns", "kube-system", node="devcluster-node-1", phase="Running", ready=True)])
    world.controller.reconcile()
    node = world.get("v1", "Node", "devcluster-node-1", None)
    outcome = _only_outcome(_run(world, {"name": "drain", "type": "custom"}, node, params={"custom": "cordon_drain"}))
    assert outcome.status == "executed"
    assert world.get("v1", "Pod", "dns", "kube-system")
    assert "protected" in outcome.details["kept"][0]


# --- quarantine ----------------------------------------------------------------------------------

def test_quarantine_takes_a_pod_out_of_its_service_and_replicaset_but_keeps_it(world):
    world.deployment(replicas=2)
    world.cluster.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                          "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    victim = world.pods()[0]
    outcome = _only_outcome(_run(world, {"name": "isolate", "type": "custom"}, victim,
                                 params={"custom": "quarantine"}))
    assert outcome.status == "executed", outcome.message
    kept = world.get("v1", "Pod", victim["metadata"]["name"])
    # the labels the ReplicaSet's selector and the Service's selector use are gone, and kept aside
    assert set(kept["metadata"]["labels"]) == {"kubeskippy.io/quarantined"}
    assert kept["metadata"]["labels"]["kubeskippy.io/quarantined"] == "true"
    removed = json.loads(kept["metadata"]["annotations"]["kubeskippy.io/quarantined-labels"])
    assert removed == victim["metadata"]["labels"] and set(removed) == {"app", "pod-template-hash"}
    assert not kept["metadata"].get("ownerReferences")
    assert victim["metadata"]["name"] not in [p["metadata"]["name"] for p in world.pods(selector="app=web")]
    world.controller.settle()
    assert len(world.pods(selector="app=web")) == 2  # the ReplicaSet replaced it
    assert "Service web" in outcome.message


# --- diagnostics and notify ----------------------------------------------------------------------

def test_diagnostics_capture_status_events_and_log_tail_into_the_outcome(world):
    world.deployment(replicas=1)
    pod = world.pods()[0]
    name = pod["metadata"]["name"]
    world.store.set_log("default", name, "line 1\nline 2\nboom: out of memory\n", container="app")
    world.cluster.create(b.event("ev1", pod, reason="BackOff", message="Back-off restarting failed container"))
    outcome = _only_outcome(_run(world, {"name": "diag", "type": "custom"}, pod,
                                 params={"custom": "diagnostics", "tailLines": 2}))
    assert outcome.status == "executed"
    diag = outcome.details["diagnostics"]
    assert diag["status"]["phase"] == "Running"
    assert [e["reason"] for e in diag["events"]] == ["BackOff"]
    assert diag["logs"][0]["container"] == "app" and "boom: out of memory" in diag["logs"][0]["log"]
    assert "line 1" not in diag["logs"][0]["log"]
    assert outcome.changes == []


def test_notify_changes_nothing_and_emits_a_notification(world):
    dep = world.deployment(replicas=1)
    before = _snapshot(world)
    result = _run(world, {"name": "tell", "type": "custom"}, dep,
                  params={"custom": "notify", "severity": "critical", "title": "image cannot be pulled"})
    outcome = _only_outcome(result)
    assert outcome.status == "executed"
    assert [(n.severity, n.title) for n in result.notifications] == [("critical", "image cannot be pulled")]
    after = [o for o in _snapshot(world) if o["kind"] != "Event"]
    assert after == [o for o in before if o["kind"] != "Event"]


# --- dry run of every action ---------------------------------------------------------------------

DRY_RUN_CASES = [
    pytest.param({"name": "a", "type": "restart"}, "deployment", {}, id="restart-rolling"),
    pytest.param({"name": "a", "type": "restart"}, "pod", {}, id="restart-pod-eviction"),
    pytest.param({"name": "a", "type": "restart", "restartAction": {"strategy": "recreate", "maxConcurrent": 1}},
                 "deployment", {}, id="restart-recreate"),
    pytest.param({"name": "a", "type": "scale", "scaleAction": {"direction": "up", "replicas": 2}}, "deployment", {},
                 id="scale"),
    pytest.param({"name": "a", "type": "patch", "patchAction": {"type": "merge", "patch": '{"spec": {"replicas": 5}}',
                                                                "patches": [{"path": ["metadata", "labels", "x"],
                                                                             "value": "y"}]}},
                 "deployment", {}, id="patch"),
    pytest.param({"name": "a", "type": "delete"}, "pod", {}, id="delete"),
    pytest.param({"name": "a", "type": "custom"}, "deployment-v2", {"custom": "rollback"}, id="rollback"),
    pytest.param({"name": "a", "type": "custom"}, "deployment",
                 {"custom": "raise_limit", "resource": "memory", "percent": 25, "max": "2Gi"}, id="raise-limit"),
    pytest.param({"name": "a", "type": "custom"}, "node", {"custom": "cordon_drain"}, id="cordon-drain"),
    pytest.param({"name": "a", "type": "custom"}, "pod", {"custom": "quarantine"}, id="quarantine"),
]


@pytest.mark.parametrize("action,target_kind,params", DRY_RUN_CASES)
def test_dry_run_records_the_intended_changes_and_changes_nothing(world, action, target_kind, params):
    world.deployment(replicas=3, containers=[b.container("app", resources={"limits": {"memory": "512Mi"}})])
    if target_kind == "deployment-v2":
        world.cluster.patch("apps/v1", "Deployment", "web", "default", {"spec": {"template": {"metadata": {
            "annotations": {"v": "2"}}}}}, patch_type="merge")
        world.controller.settle()
    target = {"deployment": lambda: world.get("apps/v1", "Deployment", "web"),
              "deployment-v2": lambda: world.get("apps/v1", "Deployment", "web"),
              "pod": lambda: world.pods()[0],
              "node": lambda: world.get("v1", "Node", "devcluster-node-1", None)}[target_kind]()
    before = _snapshot(world)
    outcome = _only_outcome(_run(world, action, target, params, mode="dryrun"))
    assert outcome.status == "dry_run", outcome.message
    assert outcome.changes, "a dry run must record the exact intended change"
    assert _snapshot(world) == before
    ha = world.healing_actions()[0]
    assert ha["spec"]["dryRun"] is True and ha["status"]["phase"] == "Succeeded"
    assert world.ledger.actions_in_window() == 0  # a dry run takes no rate-limit slot
