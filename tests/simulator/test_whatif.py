"""What-if runs through the production decision code: closed loop, determinism, dry run, safety."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kubeskippy.policy.loading import load_documents
from kubeskippy.simulator.runner import Arm, run_once

from .helpers import LEAK, scenario_with

LEAK_POLICY = """
apiVersion: kubeskippy.io/v1alpha1
kind: HealingPolicy
metadata: {{name: leak-early, namespace: demo-apps}}
spec:
  mode: {mode}
  selector:
    namespaces: [demo-apps]
    labelSelector: {{matchLabels: {{kubeskippy.io/scenario: memory-leak}}}}
    resources: [{{apiVersion: v1, kind: Pod}}]
  triggers:
    - name: memory-high
      type: metric
      metricTrigger: {{query: memory_usage_percent, operator: ">", threshold: 70, duration: 1m}}
      cooldownPeriod: {cooldown}
  actions:
    - name: restart-leaking-pod
      type: restart
      restartAction: {{strategy: graceful}}
  safetyRules: {{maxActionsPerHour: {rate}, requireHealthCheck: true, healthCheckTimeout: 2m}}
"""


def policy(mode: str = "automatic", *, cooldown: str = "30s", rate: int = 30) -> Arm:
    text = LEAK_POLICY.format(mode=mode, cooldown=cooldown, rate=rate)
    return Arm(f"leak-{mode}", tuple(load_documents(text).policies))


SCENARIO = scenario_with(dict(LEAK, termination_grace=5), duration="1h",
                         knative={"sweep_interval": "30s"}, alerting={"policy_rules": False})


@pytest.fixture(scope="module")
def baseline():
    return run_once(SCENARIO, Arm("no-healing"), 1)


@pytest.fixture(scope="module")
def healed():
    return run_once(SCENARIO, policy(), 1)


def test_without_healing_oom_kills_match_the_leak_rate(baseline):
    # Two pods, one OOM kill per 8.5–10.5 min of life each (plus ~1 s to restart).
    assert 2 * 3600 / 630 <= baseline.metrics["oom_kills"] <= 2 * 3600 / 480
    assert baseline.metrics["actions"] == 0 and baseline.metrics["findings"] == 0


def test_with_an_early_restart_policy_oom_kills_drop_and_mttr_is_reported(baseline, healed):
    assert healed.metrics["actions_by_type"].get("restart", 0) >= 4
    assert healed.metrics["oom_kills"] < baseline.metrics["oom_kills"] / 2
    assert healed.metrics["mttr_mean"] is not None and healed.metrics["mttr_mean"] > 0
    assert healed.metrics["healing"]["dead_letters"] == 0


def test_the_same_seed_gives_an_identical_report():
    def strip(record):
        data = record.to_json()
        data["metrics"].pop("wall_seconds")
        return json.dumps(data, sort_keys=True, default=str)

    scenario = scenario_with(LEAK, duration="30m", alerting={"policy_rules": False})
    first = run_once(scenario, policy(), 7)
    second = run_once(scenario, policy(), 7)
    assert strip(first) == strip(second)
    assert strip(first) != strip(run_once(scenario, policy(), 8))


def test_a_dryrun_policy_changes_nothing_but_records_its_intent(baseline):
    record = run_once(SCENARIO, policy("dryrun"), 1)
    assert record.metrics["cluster_mutations"] == 0
    assert record.metrics["oom_kills"] == baseline.metrics["oom_kills"]
    assert record.metrics["outcomes_by_status"].get("dry_run", 0) >= 1
    assert record.metrics["actions"] == 0


def test_the_rate_limit_of_the_ledger_holds_in_simulation():
    record = run_once(SCENARIO, policy(cooldown="0s", rate=2), 1)
    executed = sorted(a["t"] for a in record.actions if a["status"] == "executed")
    # Sliding hour: never more than two executed actions in any 3600 s window.
    assert all(sum(1 for u in executed if t <= u < t + 3600) <= 2 for t in executed)
    assert record.metrics["blocked_by_reason"].get("rate_limited", 0) >= 1


def test_the_cooldown_of_the_ledger_holds_in_simulation():
    record = run_once(SCENARIO, policy(cooldown="20m", rate=100), 1)
    executed = sorted(a["t"] for a in record.actions if a["status"] == "executed")
    assert executed, "the policy acted at least once"
    assert all(b - a >= 20 * 60 for a, b in zip(executed, executed[1:]))
    assert record.metrics["blocked_by_reason"].get("cooldown", 0) >= 1


def test_a_protected_workload_is_never_acted_on():
    protected = dict(LEAK, annotations={"kubeskippy.io/protected": "true"}, termination_grace=5)
    scenario = scenario_with(protected, duration="30m", alerting={"policy_rules": False})
    record = run_once(scenario, policy(), 1)
    assert record.metrics["actions"] == 0
    assert record.metrics["cluster_mutations"] == 0
    assert record.metrics["blocked_by_reason"].get("protected", 0) >= 1


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_observers_per_deployment_counts_are_bincounts_of_tick_and_deployment(shuffled):
    """The observer counts (tick, Deployment) cells grouping columns by Deployment; it must equal
    ``np.bincount`` over flat (tick, Deployment) indices — rows in Deployment order or not (pods
    replaced), Deployments with no rows, no rows at all."""
    from kubeskippy.simulator.observe import _DeploymentColumns

    rng = np.random.default_rng(7)
    B, K = 37, 9
    deps = np.repeat(np.array([0, 1, 3, 4, 6, 7, 8]), rng.integers(1, 12, 7)).astype(np.int32)  # 2, 5 empty
    if shuffled:
        deps = rng.permutation(deps)
    mask = rng.random((B, len(deps))) < 0.4
    flat = np.arange(B)[:, None] * K + deps[None, :]
    expected = np.bincount(flat[mask], minlength=B * K).reshape(B, K)
    columns = _DeploymentColumns(deps, K)
    assert (columns.order is None) == (not shuffled)
    counts = columns.count(mask)
    assert counts.dtype == expected.dtype and counts.tobytes() == expected.tobytes()
    np.testing.assert_array_equal(columns.any(mask), expected > 0)
    empty = _DeploymentColumns(np.zeros(0, dtype=np.int32), K)
    assert empty.count(np.zeros((B, 0), dtype=bool)).shape == (B, K)
