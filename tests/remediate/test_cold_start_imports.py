"""What remediate's usual first event, a Plan, no longer loads (docs/functions.md "Round 5" and
"Round 6"); each cut checked in a fresh interpreter, and the deferred path checked to still work.

- The intake package: the ApiServerSource decoder (and with ``kubeskippy.ingest`` Alertmanager's
  wire models, ~15 M instructions of a cold start) is loaded by the first HealingAction update.
- ``safety.memory_store``, the in-memory double: the compare-and-swap loop takes ``record_size``
  from ``safety.configmap_limits`` (~4 M).
- ``LeaseView`` (``safety.lease_view``), read only by ``Ledger.active_leases`` (~4 M).
- The Verification and Notification models are built on first use, not at import (~4 M).
- The crash-loop policy's custom-actions annotation (YAML flow style) is read without PyYAML
  (~83 M) and without compiling the custom-action keyword patterns (~3 M).
"""

import subprocess
import sys
from pathlib import Path

import yaml

from kubeskippy.events.model import ObjectRef, Verification
from kubeskippy.ingest.apiserver import apiserver_event
from kubeskippy.remediate.params import custom_actions_of
from kubeskippy.safety import configmap_limits, lease_view, ledger, memory_store
from kubeskippy.services.remediate import RemediateService

ROOT = Path(__file__).resolve().parents[2]
# The demo crash-loop policy as the API returns it (its annotation is YAML flow style).
CRASHLOOP_POLICY = yaml.safe_load((ROOT / "demo" / "policies" / "crashloop-recovery.yaml").read_text())


def test_importing_the_remediate_service_does_not_import_the_intake_package():
    code = ("import sys\n"
            "import kubeskippy.services.remediate\n"
            "print(sorted(m for m in sys.modules if m.startswith('kubeskippy.ingest')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_healing_action_event_is_still_decoded_by_the_remediate_service():
    # A deleted HealingAction needs no API read: decoded, then nothing to do.
    service = RemediateService({"KUBESKIPPY_KUBE_URL": "http://127.0.0.1:9", "KUBESKIPPY_POLICY_SOURCE": "cluster"})
    gone = {"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingAction",
            "metadata": {"name": "recreate-1", "namespace": "kubeskippy", "uid": "u1", "resourceVersion": "7"}}
    assert list(service.handle(apiserver_event("delete", gone, id="ha-deleted"))) == []


def _fresh(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.strip().split("\n")


_FIRST_PLAN_NEEDS = f"""
import sys
import kubeskippy.services.remediate
from kubeskippy.events.model import Notification, Outcome, Verification
from kubeskippy.policy import action_kinds
from kubeskippy.policy.model import HealingPolicy
from kubeskippy.remediate.attribution import plan_attributions
from kubeskippy.remediate.params import custom_actions_of

policy = HealingPolicy.model_validate({CRASHLOOP_POLICY!r})
print(custom_actions_of(policy), action_kinds.custom_kinds_of(policy))
print("yaml" in sys.modules, action_kinds._keyword_patterns.cache_info().currsize)
print("kubeskippy.safety.memory_store" in sys.modules, "kubeskippy.safety.lease_view" in sys.modules)
print(Outcome.__pydantic_complete__, Verification.__pydantic_complete__, Notification.__pydantic_complete__)
"""


def test_a_first_plan_needs_no_pyyaml_memory_store_lease_view_or_verification_model():
    assert _fresh(_FIRST_PLAN_NEEDS) == [
        "{'capture-diagnostics': {'custom': 'diagnostics'}} {'capture-diagnostics': 'diagnostics'}",
        "False 0", "False False", "True False False"]


def test_the_deferred_pieces_still_work_where_they_are_used():
    from kubeskippy.policy.model import HealingPolicy

    assert custom_actions_of(HealingPolicy.model_validate(CRASHLOOP_POLICY)) == {
        "capture-diagnostics": {"custom": "diagnostics"}}
    assert memory_store.record_size is configmap_limits.record_size
    assert ledger.LeaseView is lease_view.LeaseView  # Ledger.active_leases: tests/safety
    assert memory_store.CONFIGMAP_MAX_BYTES == configmap_limits.CONFIGMAP_MAX_BYTES == 1024 * 1024
    pod = ObjectRef(api_version="v1", kind="Pod", name="web-1", namespace="shop")
    check = Verification(id="v1", plan_id="p1", outcome_id="o1", finding_fingerprint="f1", target=pod, healthy=True,
                         started_at=1.0, checked_at=2.0)
    assert Verification.model_validate_json(check.model_dump_json()) == check


def test_loading_the_remediate_function_defines_no_kubeskippy_dataclass_but_the_safety_config():
    # Each dataclass a cold start defines costs it ~2.5-3.9 M instructions (docs/functions.md,
    # "Session 7"); the value types on this path are NamedTuples or plain classes instead.
    code = ("import dataclasses, sys\n"
            "made = []\n"
            "original = dataclasses._process_class\n"
            "def counting(cls, *args, **kwargs):\n"
            "    made.append(f'{cls.__module__}.{cls.__qualname__}')\n"
            "    return original(cls, *args, **kwargs)\n"
            "dataclasses._process_class = counting\n"
            f"sys.path.insert(0, {str(ROOT / 'functions' / 'remediate')!r})\n"
            "import function\n"
            "print(sorted(m for m in made if m.startswith('kubeskippy')))\n")
    assert _fresh(code) == ["['kubeskippy.safety.config.SafetyConfig']"]
