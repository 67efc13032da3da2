"""remediate attributes outcomes to the analyzer's action kinds without loading the analyzer.

Why: ``kubeskippy.analyze`` loads its guard, context, diagnosis and planner parts with the package
(~65 M instructions of remediate's cold start, docs/functions.md "Cold start"); the kinds live in
``kubeskippy.policy.action_kinds``, which both functions import.
"""

import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]


_ATTRIBUTE_ONE_OUTCOME = """
import sys
import kubeskippy.services.remediate
from kubeskippy.events.model import Finding, ObjectRef, Outcome, Plan, PlannedAction, RootCause
from kubeskippy.policy.model import HealingPolicy
from kubeskippy.remediate.attribution import plan_attributions, with_attributions

policy = HealingPolicy.model_validate({
    "metadata": {"name": "heal", "namespace": "shop"},
    "spec": {"selector": {"resources": [{"apiVersion": "apps/v1", "kind": "Deployment"}]},
             "triggers": [{"name": "crash", "type": "condition",
                           "conditionTrigger": {"type": "CrashLoopBackOff", "status": "True"}}],
             "actions": [{"name": "rollback-web", "type": "custom"}]}})
pod = ObjectRef(api_version="v1", kind="Pod", name="web-1", namespace="shop")
finding = Finding(id="f", policy="shop/heal", trigger="crash", trigger_type="condition", target=pod,
                  fingerprint="fp", observed_at=0.0)
plan = Plan(id="p", finding=finding, root_cause=RootCause(category="memory_limit_too_low", confidence=0.9,
            explanation="x"), analyzer="rules", created_at=0.0,
            actions=[PlannedAction(action="rollback-web", type="custom", target=pod, reason="x")])
outcome = Outcome(id="o", plan_id="p", finding_fingerprint="fp", policy="shop/heal", action="rollback-web",
                  action_type="custom", target=pod, status="executed", at=0.0)
[attributed] = with_attributions([outcome], plan.id, plan_attributions(plan, policy))
print(attributed.attribution.action_kind)
print(sorted(m for m in sys.modules if m.startswith("kubeskippy.analyze")))
"""


def test_attributing_an_outcome_to_its_kind_does_not_import_the_analyze_package():
    out = subprocess.run([sys.executable, "-c", _ATTRIBUTE_ONE_OUTCOME], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.split("\n")[:2] == ["rollback", "[]"]
