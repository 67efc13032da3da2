"""Fast regression test for a wiring bug the end-to-end runs found: the analyze service handed
outcomes and verifications to methods the learning store does not have (``record_outcome``),
so every io.kubeskippy.outcome answered 500, was retried and dead-lettered, and nothing was
learned. In process, on the in-memory cluster: a finding's plan goes out with nothing written
first, the remediate service executes it and attributes its outcome (workload, root cause, action
kind), the outcome and a healthy verification arrive as CloudEvents, and the score rises."""

from __future__ import annotations

import json

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import Controller, MemoryCluster, ObjectStore
from kubeskippy.events.cloudevents import decode_payload, make_event
from kubeskippy.events.model import Finding, ObjectRef, Verification
from kubeskippy.events.types import FINDING, OUTCOME, VERIFICATION
from kubeskippy.services.analyze import AnalyzeService
from kubeskippy.services.remediate import RemediateService
from kubeskippy.services.config import Lazy

from .scenarios import crashloop_policy
from .world import APPS_NAMESPACE, scenario_deployment


def test_outcomes_and_verifications_teach_the_learning_store(tmp_path):
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(crashloop_policy()))
    clock = ManualClock()
    store = ObjectStore(clock)
    cluster = MemoryCluster(store)
    # Two replicas: a lone Ready pod would need approval to be disrupted.
    cluster.create(scenario_deployment("web", "crashloop", replicas=2))
    Controller(store).settle()
    pod = cluster.list("v1", "Pod", APPS_NAMESPACE)[0]
    configmaps_before = cluster.list("v1", "ConfigMap", APPS_NAMESPACE, label_selector=None)
    service = AnalyzeService({"KUBESKIPPY_POLICY_SOURCE": "files", "KUBESKIPPY_POLICY_FILES": str(policy_file)})
    service.cluster = Lazy(lambda: cluster)  # the in-memory cluster instead of an API server
    service.clock = clock  # read when the planner and the learning store are first built
    target = ObjectRef.of({"apiVersion": "v1", "kind": "Pod", **pod})
    finding = Finding(id="f-1", policy=f"{APPS_NAMESPACE}/crashloop-recovery", trigger="crash-looping",
                      trigger_type="condition", target=target, fingerprint="fp-1", observed_at=store.clock.now())

    [plan_event] = service.handle(make_event(FINDING, finding, function="detect"))
    plan = decode_payload(plan_event)
    # analyze wrote nothing before answering: the outcomes carry what learning needs.
    assert cluster.list("v1", "ConfigMap", APPS_NAMESPACE, label_selector=None) == configmaps_before
    remediate = RemediateService({"KUBESKIPPY_POLICY_SOURCE": "files", "KUBESKIPPY_POLICY_FILES": str(policy_file)})
    remediate.cluster = Lazy(lambda: cluster)
    remediate.clock = clock
    answers = [decode_payload(e) for e in remediate.handle(plan_event) if e["type"] == OUTCOME]
    [outcome] = [o for o in answers if o.action_type == "delete"]  # the demo policy also captures diagnostics
    assert (outcome.status, outcome.reason) == ("executed", ""), outcome.message
    assert (outcome.attribution.root_cause, outcome.attribution.action_kind) == (plan.root_cause.category, "delete")
    now = store.clock.now()
    verification = Verification(id="v-1", plan_id=plan.id, outcome_id=outcome.id, finding_fingerprint="fp-1",
                                target=plan.finding.workload, healthy=True, started_at=now, checked_at=now)
    learning = service.learning.get()
    before = learning.effectiveness(plan.finding.workload, plan.root_cause.category, "delete")

    assert service.handle(make_event(OUTCOME, outcome, function="remediate")) == []
    assert service.handle(make_event(VERIFICATION, verification, function="remediate")) == []

    after = learning.effectiveness(plan.finding.workload, plan.root_cause.category, "delete")
    assert (before.successes, after.successes) == (0.0, 1.0)
    assert after.score > before.score
