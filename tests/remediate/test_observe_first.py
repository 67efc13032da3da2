"""Observe-only steps planned before a change: applied before it, recorded after it.

The crash-loop policy captures diagnostics "before anything changes" and then deletes the pod.
The capture's reads happen first (so it sees the pod as it was); its HealingAction, ledger
entry and Kubernetes Event are written after the delete, off the path to it.
"""

from __future__ import annotations

import pytest

from kubeskippy.devcluster import builders as b
from kubeskippy.errors import TemporaryError
from kubeskippy.remediate import Remediator
from kubeskippy.services.fanout import ThreadFanout
from kubeskippy.services.request_cache import RequestCachedCluster

from .world import World, plan_for, policy

CUSTOM = {"kubeskippy.io/custom-actions": "diag: {custom: diagnostics}"}
DIAG_THEN_DELETE = [{"name": "diag", "type": "custom", "priority": 200},
                    {"name": "recreate", "type": "delete", "priority": 100,
                     "deleteAction": {"gracePeriodSeconds": 10}}]


class Recording:
    """A Cluster that remembers every call (and passes it on), to check what happened in which order."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[tuple] = []

    def __getattr__(self, verb):
        method = getattr(self.inner, verb)

        def call(*args, **kwargs):
            if verb in ("create", "replace"):
                obj = args[0]
                self.calls.append((verb, obj["kind"], obj["metadata"]["name"], kwargs.get("subresource")))
            else:
                self.calls.append((verb, *[a for a in args if isinstance(a, str)][:3]))
            return method(*args, **kwargs)
        return call

    def index(self, verb: str, kind: str, name_prefix: str = "") -> int:
        return next(n for n, c in enumerate(self.calls)
                    if c[0] == verb and kind in c and any(isinstance(x, str) and x.startswith(name_prefix)
                                                          for x in c[1:]))


@pytest.fixture
def scene(world: World):
    pol = world.add_policy(policy(actions=DIAG_THEN_DELETE, annotations=CUSTOM))
    world.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    dep = world.deployment(replicas=2)
    pod = world.pods()[0]
    name = pod["metadata"]["name"]
    world.store.set_log("default", name, "starting\npanic: config missing\n", container="app")
    world.cluster.create(b.event("ev1", pod, reason="BackOff", message="Back-off restarting failed container"))
    rs = world.get("apps/v1", "ReplicaSet", pod["metadata"]["ownerReferences"][0]["name"])
    plan = plan_for(pol, pod, ("diag", "custom", {}), ("recreate", "delete", {}), owners=[rs, dep])
    return world, pod, plan


def _remediator(world: World, cluster) -> Remediator:
    return Remediator(cluster=cluster, ledger=world.ledger, clock=world.clock, policies=world.policies,
                      holder="replica-1", protection=world.config)


def _phases(world: World) -> dict[str, str]:
    """Each HealingAction's phase, by its step's name (the part before the first dash)."""
    return {ha["metadata"]["name"].split("-")[0]: ha["status"]["phase"] for ha in world.healing_actions()}


def test_the_capture_sees_the_pod_before_the_delete_and_is_recorded_after_it(scene):
    world, pod, plan = scene
    cluster = Recording(world.cluster)
    result = _remediator(world, cluster).execute(plan)
    assert [(o.action, o.status) for o in result.outcomes] == [("diag", "executed"), ("recreate", "executed")]
    diag = result.outcomes[0].details["diagnostics"]
    assert diag["pods"][0]["name"] == pod["metadata"]["name"] and diag["status"]["phase"] == "Running"
    assert "panic: config missing" in diag["logs"][0]["log"]
    assert [e["reason"] for e in diag["events"]] == ["BackOff"]
    assert diag["capturedAt"] == "2023-11-14T22:13:20.000Z"
    deleted = cluster.index("delete", "Pod")
    assert cluster.index("logs", pod["metadata"]["name"]) < deleted  # captured first ...
    assert cluster.index("create", "HealingAction", "diag-") > deleted  # ... recorded after
    assert cluster.index("create", "HealingAction", "recreate-") < deleted
    assert _phases(world) == {"diag": "Succeeded", "recreate": "Succeeded"}


def test_a_transient_fault_before_the_delete_records_no_capture_and_the_retry_captures_again(scene):
    world, pod, plan = scene
    fault = world.cluster.faults.inject(status=503, count=1, verbs=["delete"], path=r"/pods/")
    with pytest.raises(TemporaryError):
        world.remediator().execute(plan)
    assert fault.hits == 1
    assert [ha["metadata"]["name"].split("-")[0] for ha in world.healing_actions()] == ["recreate"]
    world.clock.advance(1)
    result = world.remediator().execute(plan)
    assert [(o.action, o.status) for o in result.outcomes] == [("diag", "executed"), ("recreate", "executed")]
    assert result.outcomes[0].details["diagnostics"]["status"]["phase"] == "Running"  # the pod was still there
    assert world.cluster.list("v1", "Pod", "default", field_selector=f"metadata.name={pod['metadata']['name']}") == []


def test_a_redelivered_plan_replays_both_outcomes_without_capturing_again(scene):
    world, pod, plan = scene
    first = world.remediator().execute(plan)
    cluster = Recording(world.cluster)
    again = _remediator(world, cluster).execute(plan)
    assert [o.id for o in again.outcomes] == [o.id for o in first.outcomes]
    assert [c for c in cluster.calls if c[0] in ("logs", "delete", "create")] == []


def test_a_capture_that_needs_approval_is_not_taken_ahead_of_the_change(scene):
    world, pod, plan = scene
    plan = plan.model_copy(update={"actions": [plan.actions[0].model_copy(update={"requires_approval": True}),
                                               plan.actions[1]]})
    cluster = Recording(world.cluster)
    result = _remediator(world, cluster).execute(plan)
    assert [(o.action, o.status) for o in result.outcomes] == [("diag", "pending_approval"),
                                                               ("recreate", "executed")]
    assert not any(c[0] == "logs" for c in cluster.calls)
    assert cluster.index("create", "HealingAction", "diag-") < cluster.index("delete", "Pod")


def test_with_a_fan_out_and_a_request_cache_each_first_read_reaches_the_api_once(scene):
    world, pod, plan = scene
    inner = Recording(world.cluster)
    cached, fanout = RequestCachedCluster(inner), ThreadFanout(workers=4)
    remediator = Remediator(cluster=cached, ledger=world.ledger, clock=world.clock, policies=world.policies,
                            holder="replica-1", protection=world.config, fanout=fanout)
    try:
        with cached.scope():
            result = remediator.execute(plan)
    finally:
        fanout.shutdown()
    assert [o.status for o in result.outcomes] == ["executed", "executed"]
    before_delete = inner.calls[:inner.index("delete", "Pod")]
    reads = [c for c in before_delete if c[0] in ("get", "list")]
    assert len(reads) == len(set(reads)), reads
    assert {c[2] for c in reads if c[0] == "get"} >= {"Pod", "ReplicaSet", "Deployment", "Namespace", "HealingAction"}
    assert {c[2] for c in reads if c[0] == "list"} == {"Event", "Pod", "ReplicaSet"}  # diagnostics, blast radius


class BatchFanout:
    """Runs each batch of calls in order, numbering the batches, so a test can tell which calls
    a thread fan-out would have made at once (a batch made inside one counts as that one)."""

    def __init__(self) -> None:
        self.batch = 0
        self.current: int | None = None

    def __call__(self, calls):
        if self.current is not None:
            return [call() for call in calls]
        self.batch += 1
        outer, self.current = self.current, self.batch
        try:
            return [call() for call in calls]
        finally:
            self.current = outer


def test_with_a_fan_out_the_changes_healing_action_is_created_while_the_capture_is_taken(scene):
    world, pod, plan = scene
    fanout = BatchFanout()
    batches: list[tuple[int | None, tuple]] = []
    inner = Recording(world.cluster)
    original = inner.__getattr__

    class Batched:
        def __getattr__(self, verb):
            call = original(verb)

            def tagged(*args, **kwargs):
                result = call(*args, **kwargs)
                batches.append((fanout.current, inner.calls[-1]))
                return result
            return tagged

    remediator = Remediator(cluster=Batched(), ledger=world.ledger, clock=world.clock, policies=world.policies,
                            holder="replica-1", protection=world.config, fanout=fanout)
    result = remediator.execute(plan)
    assert [o.status for o in result.outcomes] == ["executed", "executed"]
    batch_of = {c: n for n, c in batches}
    create = next(c for c in batch_of if c[:2] == ("create", "HealingAction") and c[2].startswith("recreate-"))
    capture = next(c for c in batch_of if c[0] == "logs")
    assert batch_of[create] == batch_of[capture] is not None
    # what an observer sees is unchanged: Pending record, then InProgress (claim), then the delete
    order = [c for _, c in batches]
    claim = next(n for n, c in enumerate(order) if c[0] == "replace" and c[2].startswith("recreate-"))
    assert order.index(create) < claim < inner.index("delete", "Pod")


@pytest.fixture
def change_only(world: World):
    """A policy whose one action deletes the pod: a change with no capture before it."""
    pol = world.add_policy(policy(actions=[{"name": "recreate", "type": "delete", "priority": 100,
                                            "deleteAction": {"gracePeriodSeconds": 10}}]))
    world.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    world.deployment(replicas=2)
    return world, pol, world.pods()[0]


def test_without_an_observe_only_step_before_it_a_change_is_recorded_in_its_turn(change_only):
    world, pol, pod = change_only
    fanout = BatchFanout()
    inner = Recording(world.cluster)
    creates: list[int | None] = []
    original_create = inner.__getattr__("create")

    def create(obj, **kwargs):
        creates.append(fanout.current)
        return original_create(obj, **kwargs)
    inner.create = create
    remediator = Remediator(cluster=inner, ledger=world.ledger, clock=world.clock, policies=world.policies,
                            holder="replica-1", protection=world.config, fanout=fanout)
    result = remediator.execute(plan_for(pol, pod, ("recreate", "delete", {})))
    assert [o.status for o in result.outcomes] == ["executed"]
    assert creates and creates[0] is None  # the HealingAction: outside any fan-out batch


def test_with_a_fan_out_a_capture_awaiting_approval_leaves_the_changes_record_to_its_turn(scene):
    world, pod, plan = scene
    plan = plan.model_copy(update={"actions": [plan.actions[0].model_copy(update={"requires_approval": True}),
                                               plan.actions[1]]})
    fanout = BatchFanout()
    inner = Recording(world.cluster)
    created: list[tuple[str, int | None]] = []
    original_create = inner.__getattr__("create")

    def create(obj, **kwargs):
        created.append((obj["metadata"]["name"].split("-")[0], fanout.current))
        return original_create(obj, **kwargs)
    inner.create = create
    remediator = Remediator(cluster=inner, ledger=world.ledger, clock=world.clock, policies=world.policies,
                            holder="replica-1", protection=world.config, fanout=fanout)
    result = remediator.execute(plan)
    assert [(o.action, o.status) for o in result.outcomes] == [("diag", "pending_approval"),
                                                               ("recreate", "executed")]
    records = [(name, batch) for name, batch in created if name in ("diag", "recreate")]
    assert records == [("diag", None), ("recreate", None)]  # in plan order, each in its turn


def test_a_transient_fault_in_the_capture_releases_the_record_made_beside_it_so_the_retry_goes_on_at_once(scene):
    world, pod, plan = scene
    # the pod's third GET is the capture's own (the read-ahead's and the checks' come first and are best effort)
    fault = world.cluster.faults.inject(status=503, count=3, verbs=["get"], path=rf"/pods/{pod['metadata']['name']}$")
    remediator = Remediator(cluster=world.cluster, ledger=world.ledger, clock=world.clock, policies=world.policies,
                            holder="replica-1", protection=world.config, fanout=BatchFanout())
    with pytest.raises(TemporaryError):
        remediator.execute(plan)
    assert fault.hits == 3
    assert [ha["metadata"]["name"].split("-")[0] for ha in world.healing_actions()] == ["recreate"]
    world.clock.advance(1)  # far inside the 300 s lease a creation alone would hold
    result = remediator.execute(plan)
    assert [(o.action, o.status) for o in result.outcomes] == [("diag", "executed"), ("recreate", "executed")]
    assert result.outcomes[0].details["diagnostics"]["status"]["phase"] == "Running"


def test_with_a_fan_out_a_changes_kubernetes_event_is_written_beside_its_ledger_record(change_only):
    world, pol, pod = change_only
    fanout = BatchFanout()
    inner = Recording(world.cluster)
    seen: list[tuple[str, int | None]] = []
    original_create = inner.__getattr__("create")

    def create(obj, **kwargs):
        if obj["kind"] == "Event":
            seen.append(("event", fanout.current))
        return original_create(obj, **kwargs)
    inner.create = create
    original_complete = world.ledger.complete

    def complete(reservation):
        seen.append(("ledger", fanout.current))
        return original_complete(reservation)
    world.ledger.complete = complete
    remediator = Remediator(cluster=inner, ledger=world.ledger, clock=world.clock, policies=world.policies,
                            holder="replica-1", protection=world.config, fanout=fanout)
    result = remediator.execute(plan_for(pol, pod, ("recreate", "delete", {})))
    assert [o.status for o in result.outcomes] == ["executed"]
    assert sorted(kind for kind, _ in seen) == ["event", "ledger"]
    assert seen[0][1] == seen[1][1] is not None  # one batch: neither waits for the other
    event = inner.index("create", "Event")
    final = max(n for n, c in enumerate(inner.calls) if c[:2] == ("replace", "HealingAction"))
    assert event < final  # the HealingAction's final status still comes last
    assert [ha["status"]["phase"] for ha in world.healing_actions()] == ["Succeeded"]


def test_an_early_captures_record_is_created_without_reading_it_again(scene):
    world, pod, plan = scene
    cluster = Recording(world.cluster)
    result = _remediator(world, cluster).execute(plan)
    assert [o.status for o in result.outcomes] == ["executed", "executed"]
    after_delete = cluster.calls[cluster.index("delete", "Pod"):]
    assert not [c for c in after_delete if c[0] == "get" and "HealingAction" in c and c[-1].startswith("diag-")]


def test_an_early_captures_record_made_meanwhile_by_another_replica_is_met_by_the_create_conflict(scene):
    world, pod, plan = scene
    cluster = Recording(world.cluster)
    original_create = cluster.__getattr__("create")

    def create(obj, **kwargs):
        if obj["kind"] == "HealingAction" and obj["metadata"]["name"].startswith("diag-") and \
                not world.cluster.list(obj["apiVersion"], "HealingAction", obj["metadata"]["namespace"],
                                       field_selector=f"metadata.name={obj['metadata']['name']}"):
            world.cluster.create(obj)  # the other replica's record, a moment before ours
        return original_create(obj, **kwargs)
    cluster.create = create
    with pytest.raises(TemporaryError, match="being carried out"):  # the other replica drives it: come back later
        _remediator(world, cluster).execute(plan)
    assert sorted(ha["metadata"]["name"].split("-")[0] for ha in world.healing_actions()) == ["diag", "recreate"]


def test_an_early_capture_is_recorded_with_one_ledger_write_and_one_status_write(scene):
    world, pod, plan = scene
    cluster = Recording(world.cluster)
    ledger_writes: list[str] = []
    original = world.ledger.record_observed
    world.ledger.record_observed = lambda request: ledger_writes.append(request.step_id) or original(request)
    before = world.safety_store.stats.replaces + world.safety_store.stats.creates
    result = _remediator(world, cluster).execute(plan)
    assert [o.status for o in result.outcomes] == ["executed", "executed"]
    diag_writes = [c for c in cluster.calls if c[0] in ("create", "replace") and c[2].startswith("diag-")]
    assert diag_writes == [("create", "HealingAction", diag_writes[0][2], None),
                           ("replace", "HealingAction", diag_writes[0][2], "status")]  # Pending → Succeeded
    assert ledger_writes == [plan.id + ":diag"]
    # the change: lease + rate slot, then complete; the capture: its one record
    assert world.safety_store.stats.replaces + world.safety_store.stats.creates - before == 4
    assert world.ledger.active_leases("default") == []
    diag = next(ha for ha in world.healing_actions() if ha["metadata"]["name"].startswith("diag-"))
    status, metrics = diag["status"], diag["status"]["result"]["metrics"]
    assert status["phase"] == "Succeeded" and status["attempts"] == 1 and status["startTime"]
    assert status["approval"]["approvedBy"] == "kubeskippy (automatic)"
    assert metrics["kubeskippy.io/applied"] == "true" and metrics["kubeskippy.io/outcome"] == "executed"
    assert metrics["kubeskippy.io/intent"] and metrics["kubeskippy.io/holder"] == "replica-1"
    assert result.outcomes[0].details["diagnostics"]["status"]["phase"] == "Running"
    assert [c["reason"] for c in status["conditions"] if c["type"] == "Ready"] == ["Succeeded"]
    assert len(world.events(reason=world.events()[0]["reason"])) >= 1  # the capture's Kubernetes Event


def test_an_early_capture_refused_by_its_cooldown_is_cancelled_and_the_change_goes_on(scene):
    world, pod, plan = scene
    world.ledger.record_observed(world.remediator()._action_request(  # a capture of this workload just now
        _diag_step(world, plan), ref_of(pod), ref_of(world.get("apps/v1", "Deployment", "web"))))
    result = world.remediator().execute(plan)
    assert [(o.action, o.status, o.reason) for o in result.outcomes] == [("diag", "blocked", "cooldown"),
                                                                         ("recreate", "executed", "")]
    assert _phases(world) == {"diag": "Cancelled", "recreate": "Succeeded"}


def test_a_fault_in_an_early_captures_ledger_write_releases_its_record_and_the_retry_finishes_it_once(scene):
    world, pod, plan = scene
    original, calls = world.ledger.record_observed, []

    def flaky(request):
        calls.append(request.step_id)
        if len(calls) == 1:
            raise TemporaryError("configmaps: 503")
        return original(request)
    world.ledger.record_observed = flaky
    with pytest.raises(TemporaryError):
        world.remediator().execute(plan)
    diag = next(ha for ha in world.healing_actions() if ha["metadata"]["name"].startswith("diag-"))
    assert diag["status"].get("phase", "Pending") == "Pending"
    assert diag["status"]["result"]["metrics"]["kubeskippy.io/lease-expires"]  # released: no waiting
    assert "kubeskippy.io/applied-intent" in diag["metadata"]["annotations"]  # it ran: the record says so
    world.clock.advance(1)
    cluster = Recording(world.cluster)
    again = _remediator(world, cluster).execute(plan)
    # the capture is not taken again (the pod is gone anyway) and the delete is replayed, not redone
    assert [(o.action, o.status) for o in again.outcomes] == [("diag", "executed"), ("recreate", "executed")]
    assert not [c for c in cluster.calls if c[0] in ("logs", "delete")]
    assert _phases(world) == {"diag": "Succeeded", "recreate": "Succeeded"}


def test_a_fault_in_an_early_captures_final_write_is_finished_by_the_retry_from_the_ledgers_record(scene):
    world, pod, plan = scene
    fault = world.cluster.faults.inject(status=503, count=1, verbs=["update"], path=r"/healingactions/diag-.*/status")
    with pytest.raises(TemporaryError):
        world.remediator().execute(plan)
    assert fault.hits == 1
    world.clock.advance(1)
    again = world.remediator().execute(plan)
    assert [(o.action, o.status) for o in again.outcomes] == [("diag", "executed"), ("recreate", "executed")]
    diag = next(ha for ha in world.healing_actions() if ha["metadata"]["name"].startswith("diag-"))
    assert diag["status"]["result"]["message"] == "already executed (recorded in the safety ledger)"


def _diag_step(world: World, plan):
    from kubeskippy.remediate.steps import build_step

    pol = world.policies[plan.finding.policy]
    return build_step(step_id="earlier-plan:diag", plan_id="earlier-plan", fingerprint=plan.finding.fingerprint,
                      trigger=plan.finding.trigger, policy=pol, planned=plan.actions[0])


def ref_of(obj: dict):
    from kubeskippy.events.model import ObjectRef

    return ObjectRef.of(obj)


def test_with_a_fan_out_the_plans_policy_is_read_beside_its_first_reads(scene):
    world, pod, plan = scene
    fanout = BatchFanout()
    batches: list[tuple[int | None, str]] = []
    inner = Recording(world.cluster)
    original_get = inner.__getattr__("get")

    def get(*args, **kwargs):
        batches.append((fanout.current, args[1]))
        return original_get(*args, **kwargs)
    inner.get = get

    def policies(key):
        batches.append((fanout.current, "HealingPolicy"))
        return world.policies.get(key)
    remediator = Remediator(cluster=inner, ledger=world.ledger, clock=world.clock, policies=policies,
                            holder="replica-1", protection=world.config, fanout=fanout)
    result = remediator.execute(plan)
    assert [o.status for o in result.outcomes] == ["executed", "executed"]
    first = batches[0][0]
    assert first is not None and batches[0][1] == "HealingPolicy"
    assert {kind for batch, kind in batches if batch == first} >= {"HealingPolicy", "Pod", "ReplicaSet", "Deployment",
                                                                   "Namespace", "HealingAction"}
