"""Scenario 1 (and 5): a crash-looping pod is healed end to end, with the shipped RBAC enforced.

Deployment → ReplicaSet → Pod in the API double; the pod goes into CrashLoopBackOff; the feed
posts the ApiServerSource event to the broker; detect → analyze (rules) → remediate (lease,
delete per the policy) run as func-python processes; the controller replaces the pod; a
PingSource tick verifies; audit writes every KubeSkippy event to SeaweedFS. Each function talks
to the double with its own ServiceAccount's token, and the double enforces
deploy/knative/rbac.yaml.
"""

from __future__ import annotations

import pytest

from kubeskippy.events.types import FINDING, OUTCOME, PLAN, VERIFICATION

from .scenarios import CRASHLOOP_POLICY, CrashLoopRun, healing_actions_for, pod_deletes, run_crash_loop
from .world import APPS_NAMESPACE, FUNCTION_ACCOUNTS, World, read_audit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def healed(world: World) -> CrashLoopRun:
    run = run_crash_loop(world, "checkout")
    print(f"\ncrash-loop scenario: pod deleted {run.deleted_at - run.crashed_at:.2f}s after the crash was written")
    return run


def _for_victim(world: World, run: CrashLoopRun, event_type: str) -> list[dict]:
    """Distinct payloads of ``event_type`` about this scenario's pod (by id)."""
    seen: dict[str, dict] = {}
    for data in world.payloads(event_type):
        target = data.get("target") or (data.get("finding") or {}).get("target") or {}
        if target.get("name") == run.victim_name:
            seen[data["id"]] = data
    return list(seen.values())


def test_the_crash_looping_pod_is_deleted_once_and_its_replicaset_replaces_it(world, healed):
    deletes = pod_deletes(world, healed.victim_name)
    assert [(r.method, r.user, r.status) for r in deletes] == [
        ("DELETE", world.users[world.tokens["remediate"]], 200)]
    owner = healed.victim["metadata"]["ownerReferences"][0]
    assert healed.replacement["metadata"]["ownerReferences"][0]["uid"] == owner["uid"]
    assert healed.replacement["status"]["containerStatuses"][0]["restartCount"] == 0
    assert len(world.pods(healed.app)) == 2


def test_the_healing_action_records_the_deletion_and_a_healthy_verification(healed):
    ha = healed.healing_action
    assert ha["metadata"]["namespace"] == "kubeskippy"
    assert ha["spec"]["policyRef"]["name"] == CRASHLOOP_POLICY
    assert ha["status"]["phase"] == "Succeeded"
    [change] = ha["status"]["result"]["changes"]
    assert (change["changeType"], change["resourceRef"]) == ("delete", f"Pod/{APPS_NAMESPACE}/{healed.victim_name}")
    verified = {c["type"]: c for c in ha["status"]["conditions"]}["Verified"]
    assert (verified["status"], verified["reason"]) == ("True", "Healthy")


def test_finding_plan_outcome_and_verification_events_tell_one_story(world, healed):
    [finding] = _for_victim(world, healed, FINDING)
    assert (finding["policy"], finding["trigger"]) == (f"{APPS_NAMESPACE}/{CRASHLOOP_POLICY}", "crash-looping")
    assert [(o["kind"], o["name"]) for o in finding["owner_chain"]][-1] == ("Deployment", healed.app)
    assert finding["source_event_id"] in {e["id"] for e in world.events("dev.knative.apiserver.resource.update")}
    [plan] = _for_victim(world, healed, PLAN)
    assert plan["finding"]["fingerprint"] == finding["fingerprint"]
    assert plan["analyzer"] == "rules"
    assert [(a["action"], a["type"], a["target"]["name"]) for a in plan["actions"]] == [
        ("capture-diagnostics", "diagnostics", healed.victim_name),  # before anything changes
        ("recreate-pod", "delete", healed.victim_name)]
    outcomes = {o["action"]: o for o in world.payloads(OUTCOME) if o["plan_id"] == plan["id"]}
    assert {a: o["status"] for a, o in outcomes.items()} == {"capture-diagnostics": "executed",
                                                             "recreate-pod": "executed"}
    captured = outcomes["capture-diagnostics"]["details"]["diagnostics"]
    waiting = [(c.get("state") or {}).get("waiting", {}).get("reason") for c in captured["status"]["containerStatuses"]]
    assert "CrashLoopBackOff" in waiting  # captured while the crash-looping pod still existed: before the delete
    assert captured["capturedAt"] <= outcomes["recreate-pod"]["at"]
    verifications = {v["id"]: v for v in world.payloads(VERIFICATION) if v["plan_id"] == plan["id"]}
    [verification] = verifications.values()  # only the change is verified
    assert verification["healthy"] is True
    assert verification["outcome_id"] == outcomes["recreate-pod"]["id"]
    assert (verification["target"]["kind"], verification["target"]["name"]) == ("Deployment", healed.app)


def test_every_kubeskippy_event_is_in_the_audit_bucket_exactly_once(world, healed):
    entries = read_audit(world.s3)
    by_id: dict[str, list] = {}
    for entry in entries:
        by_id.setdefault(entry.id, []).append(entry)
    published = {e["id"]: e for e in world.mesh.broker.accepted if e["type"].startswith("io.kubeskippy.")}
    assert published, "the scenario published no KubeSkippy events"
    for event_id, event in published.items():
        stored = by_id.get(event_id, [])
        assert len(stored) == 1, f"{event['type']} {event_id}: {len(stored)} audit objects"
        assert stored[0].event["type"] == event["type"] == stored[0].type
        assert stored[0].metadata["event-id"] == event_id
    assert [e.key for e in entries if e.type.startswith("dead-letter.")] == []
    plan_ids = {p["id"] for p in _for_victim(world, healed, PLAN)}
    assert {e.record["event"]["data"]["plan_id"] for e in entries
            if e.type == OUTCOME and e.record["event"]["data"]["target"]["name"] == healed.victim_name} == plan_ids


def test_no_function_call_was_refused_and_audit_never_called_kubernetes(world, healed):
    assert world.denied() == []
    assert world.requests_by("audit") == []
    callers = {r.user for r in world.requests}
    assert callers <= set(world.users.values())  # every request carried one of our tokens
    assert {world.users[world.tokens[f]] for f in ("detect", "analyze", "remediate")} <= callers


def test_nothing_was_dead_lettered_and_no_function_hit_an_unexpected_error(world, healed):
    assert world.dead_letters() == []
    assert world.loop.errors == []
    for name in FUNCTION_ACCOUNTS:
        assert '"unexpected error"' not in world.function_log(name), world.function_log(name)[-3000:]


def test_only_the_crash_looping_pod_was_touched(world, healed):
    writes = [r for r in world.requests
              if r.method in ("DELETE", "POST", "PUT", "PATCH") and f"/namespaces/{APPS_NAMESPACE}/" in r.path
              and f"/{healed.app}" in r.path]
    assert [r.path for r in writes] == [f"/api/v1/namespaces/{APPS_NAMESPACE}/pods/{healed.victim_name}"]
    assert len(healing_actions_for(world, healed.victim_name)) == 1
