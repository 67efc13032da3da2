"""The payload and policy models load on first use, and every import path still gives the same class.

Why it matters: each function builds only the pydantic models its first event touches (see
docs/functions.md, "Cold start"); these tests pin both halves of that bargain — nothing public
moved, and the cold-start path does not quietly start building everything again.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

import kubeskippy.events as events
import kubeskippy.events.model as event_model_module
import kubeskippy.events.types as event_types
import kubeskippy.policy as policy
import kubeskippy.policy.loading as loading
import kubeskippy.policy.model as policy_model
from kubeskippy.policy.healing_action import __all__ as HEALING_ACTION_NAMES
from kubeskippy.types import camel_alias, new_dict, new_list

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "policy" / "fixtures"


@pytest.mark.parametrize("name", event_model_module.__all__)
def test_every_event_model_name_is_the_same_object_from_the_package_and_the_model_module(name):
    assert getattr(events, name) is getattr(event_model_module, name)


@pytest.mark.parametrize("name", event_types.__all__)
def test_every_event_type_name_is_the_same_object_from_the_package_and_the_types_module(name):
    assert getattr(events, name) is getattr(event_types, name)


def test_the_events_package_exports_the_model_and_types_names_in_order():
    assert events.__all__ == list(event_model_module.__all__) + list(event_types.__all__)


def test_event_models_maps_every_event_type_in_order_and_agrees_with_event_model():
    assert tuple(event_types.EVENT_MODELS) == event_types.EVENT_TYPES
    assert event_types.EVENT_MODELS is event_types.EVENT_MODELS  # built once, then a plain attribute
    for event_type, model in event_types.EVENT_MODELS.items():
        assert event_types.event_model(event_type) is model
        assert issubclass(model, event_model_module.EventModel)
    assert event_types.event_model("dev.knative.sources.ping") is None


def test_policy_package_and_model_module_export_the_same_names_and_objects():
    assert policy.__all__ == policy_model.__all__
    for name in policy_model.__all__:
        assert getattr(policy, name) is getattr(policy_model, name)


def test_the_healing_action_models_are_reexported_by_the_policy_model_module():
    from kubeskippy.policy import healing_action

    for name in HEALING_ACTION_NAMES:
        assert getattr(policy_model, name) is getattr(healing_action, name)
        assert name in policy_model.__all__


def test_unknown_names_still_raise_attribute_error():
    for module in (events, event_model_module, event_types, policy, policy_model, loading):
        with pytest.raises(AttributeError):
            getattr(module, "NoSuchModel")


def test_the_loader_kinds_table_names_both_kinds():
    assert loading.KUBESKIPPY_KINDS == {"HealingPolicy": policy_model.HealingPolicy,
                                        "HealingAction": policy_model.HealingAction}


def _spec_models() -> list[type[BaseModel]]:
    return [getattr(policy_model, name) for name in policy_model.__all__
            if isinstance(getattr(policy_model, name), type) and issubclass(getattr(policy_model, name),
                                                                           policy_model.Spec)]


@pytest.mark.parametrize("model", _spec_models(), ids=lambda m: m.__name__)
def test_camel_alias_gives_pydantics_to_camel_for_every_policy_field(model):
    for field_name, info in model.model_fields.items():
        if info.alias == camel_alias(field_name):  # generated, not an explicit alias
            assert camel_alias(field_name) == to_camel(field_name)


def test_the_default_factories_give_a_new_empty_container_every_time():
    assert new_list() == [] and new_list() is not new_list()
    assert new_dict() == {} and new_dict() is not new_dict()


def test_default_containers_are_not_shared_between_instances():
    a = policy_model.LabelSelector()
    b = policy_model.LabelSelector()
    a.match_labels["x"] = "y"
    assert b.match_labels == {}


def test_reading_policies_and_a_finding_builds_no_plan_alert_outcome_or_healing_action_model():
    """What detect does on its first event (read the policies, emit a Finding), in a fresh
    interpreter: the models it does not need stay unbuilt. (example_payloads would build them all,
    so the Finding is made by hand.)"""
    code = (
        "import sys\n"
        "import kubeskippy.events, kubeskippy.events.cloudevents, kubeskippy.ingest\n"
        "from kubeskippy.events.cloudevents import decode_payload, make_event\n"
        "from kubeskippy.events.model import Finding, ObjectRef\n"
        "from kubeskippy.policy.loading import load_file\n"
        f"result = load_file({str(FIXTURES / 'published-shapes.yaml')!r}, compat=True)\n"
        "assert result.policies\n"
        "pod = ObjectRef(api_version='v1', kind='Pod', name='p', namespace='ns')\n"
        "finding = Finding(id='f1', policy='ns/p', trigger='t', trigger_type='condition', target=pod,\n"
        "                  fingerprint='fp', observed_at=0.0)\n"
        "assert decode_payload(make_event('io.kubeskippy.finding', finding, function='detect')) == finding\n"
        "lazy = ('kubeskippy.events.alert', 'kubeskippy.events.plan', 'kubeskippy.events.remediation',\n"
        "        'kubeskippy.policy.healing_action')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
