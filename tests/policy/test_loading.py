"""Loading manifests: every bad field named by path, compat mode prunes, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeskippy.errors import FieldError, InvalidInput
from kubeskippy.policy.loading import (
    InvalidDocuments, check_documents, load_documents, load_file, load_files,
)
from kubeskippy.policy.model import HealingAction, HealingPolicy

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = Path(__file__).resolve().parents[2] / "demo" / "policies"

MINIMAL = """\
apiVersion: kubeskippy.io/v1alpha1
kind: HealingPolicy
metadata:
  name: p
spec:
  selector:
    resources: [{apiVersion: v1, kind: Pod}]
  triggers:
  - name: t
    type: metric
    metricTrigger: {query: cpu_usage_percent, operator: ">", threshold: 80}
  actions:
  - name: a
    type: restart
"""

PREDICTIVE_UNKNOWN = {
    "forecast-healing": [
        "spec.triggers[0].annotations", "spec.actions[0].scaleAction.strategy", "spec.actions[0].annotations",
        "spec.actions[1].restartAction.gracePeriod", "spec.actions[2].patchAction.target",
        "spec.safetyRules.predictiveMode", "spec.safetyRules.confidenceThreshold",
        "spec.safetyRules.trendAnalysisWindow", "spec.aiConfig",
    ],
    "forecast-coordinator": ["spec.actions[0].scaleAction.strategy", "spec.safetyRules.systemWideCoordination"],
}
AI_UNKNOWN = [
    "spec.triggers[0].aiAnalysis", "spec.actions[0].restartAction.waitTime", "spec.actions[0].aiAnnotations",
    "spec.safetyRules.protectedResources[0].labelSelector", "spec.safetyRules.aiSafetyChecks", "spec.aiConfig",
]


def errors_of(text: str, **kw) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        load_documents(text, **kw)
    return [str(e) for e in info.value.errors]


def test_published_shapes_load_clean_in_strict_mode():
    result = load_file(FIXTURES / "published-shapes.yaml")
    assert [p.name for p in result.policies] == ["orders-restarts", "inventory-activity"]
    assert result.warnings == []
    inventory = result.policies[1]
    assert inventory.spec.mode == "automatic"
    assert inventory.trigger("any-normal-event").cooldown_period == 90.0
    assert inventory.trigger("latency-p99").metric_trigger.query.startswith("histogram_quantile(0.99,")
    assert [a.name for a in inventory.spec.actions_by_priority()] == ["scale-inventory", "drop-stuck-pod", "bump-limits"]


@pytest.mark.parametrize("fixture, expected", [
    pytest.param("off-schema-predictive.yaml", PREDICTIVE_UNKNOWN, id="predictive"),
    pytest.param("off-schema-ai.yaml", {"smart-healing": AI_UNKNOWN}, id="ai"),
])
def test_off_schema_fields_fail_in_strict_mode_with_their_exact_paths(fixture, expected):
    reports = check_documents((FIXTURES / fixture).read_text(), source=fixture)
    assert [r.source for r in reports] == [f"{fixture}#{i}" for i in range(1, len(expected) + 1)]
    for report, paths in zip(reports, expected.values()):
        assert [(e.path, e.message) for e in report.errors] == [(p, "unknown field") for p in paths]
        assert report.objects == []


@pytest.mark.parametrize("fixture, expected", [
    pytest.param("off-schema-predictive.yaml", PREDICTIVE_UNKNOWN, id="predictive"),
    pytest.param("off-schema-ai.yaml", {"smart-healing": AI_UNKNOWN}, id="ai"),
])
def test_compat_mode_loads_them_and_warns_once_per_pruned_field(fixture, expected):
    result = load_file(FIXTURES / fixture, compat=True)
    assert [p.name for p in result.policies] == list(expected)
    want = [(f"{fixture}#{i}", path) for i, paths in enumerate(expected.values(), start=1) for path in paths]
    assert [(Path(w.source).name, w.path) for w in result.warnings] == want
    assert {w.message for w in result.warnings} == {"unknown field, ignored"}


def test_compat_mode_keeps_everything_it_did_not_prune():
    forecast = load_file(FIXTURES / "off-schema-predictive.yaml", compat=True).policies[0]
    scale = forecast.action("scale-early").scale_action
    assert (scale.direction, scale.replicas, scale.min_replicas, scale.max_replicas) == ("up", 1, 2, 5)
    assert forecast.action("circuit-breaker").patch_action.type == "strategic"
    assert forecast.spec.safety_rules.max_actions_per_hour == 12


def test_enum_and_required_violations_fail_even_in_compat_mode():
    reports = check_documents((FIXTURES / "rejected-even-in-compat.yaml").read_text(), compat=True)
    assert [str(e) for e in reports[0].errors] == [
        "spec.triggers[0].type: must be one of metric event condition",
        "spec.actions[0].patchAction.type: required",
    ]
    assert [w.path for w in reports[0].warnings] == ["spec.triggers[0].aiTrigger"]


def test_a_foreign_kind_is_an_error_in_strict_mode_and_skipped_with_a_warning_in_compat():
    text = (FIXTURES / "with-configmap.yaml").read_text()
    assert errors_of(text, source="f.yaml") == [
        "kind: v1/ConfigMap is not a KubeSkippy kind (expected kubeskippy.io/v1alpha1 HealingPolicy or HealingAction)"]
    result = load_documents(text, source="f.yaml", compat=True)
    assert [p.name for p in result.policies] == ["web-error-rate"]
    assert [(w.source, w.path) for w in result.warnings] == [("f.yaml#2", "kind")]
    assert result.warnings[0].message.endswith(", skipped")


def test_lists_typed_lists_and_healing_actions_load_and_empty_documents_are_skipped():
    reports = check_documents((FIXTURES / "lists-and-actions.yaml").read_text(), source="l.yaml")
    assert [r.source for r in reports] == ["l.yaml#1", "l.yaml#2", "l.yaml#4"]
    result = load_file(FIXTURES / "lists-and-actions.yaml")
    assert [p.name for p in result.policies] == ["listed-policy", "typed-list-policy"]
    assert isinstance(result.policies[1], HealingPolicy)
    [action] = result.actions
    assert isinstance(action, HealingAction)
    assert action.spec.timeout == 600.0 and action.status.phase == "Pending"


def test_an_error_inside_a_list_is_named_by_its_item_index():
    text = """
apiVersion: v1
kind: List
items:
- {apiVersion: kubeskippy.io/v1alpha1, kind: HealingPolicy, metadata: {name: ok}, spec: {}}
"""
    errors = errors_of(text)
    assert "items[0].spec.selector: required" in errors
    assert "items[0].spec.triggers: required" in errors


def test_the_operator_error_lists_the_operators_allowed():
    text = MINIMAL.replace('operator: ">"', 'operator: "=>"')
    assert errors_of(text) == ["spec.triggers[0].metricTrigger.operator: must be one of > < >= <= == !="]


def test_every_bad_field_is_named_in_one_error():
    text = """\
apiVersion: kubeskippy.io/v1alpha1
kind: HealingPolicy
metadata:
  name: Bad_Name
spec:
  mode: sometimes
  selector:
    resources: [{kind: Pod}]
  triggers:
  - name: t
    type: metric
    metricTrigger: {query: q, operator: ">", threshold: high, duration: 3 minutes}
    cooldownPeriod: 5m
  actions:
  - {name: a, type: scale, scaleAction: {direction: up, replicas: -1}, priority: 1.5}
"""
    assert errors_of(text) == [
        "metadata.name: must be a lowercase RFC 1123 name: a-z, 0-9, '-' and '.', starting and ending with a letter or digit",
        "spec.selector.resources[0].apiVersion: required",
        "spec.triggers[0].metricTrigger.threshold: must be a number",
        "spec.triggers[0].metricTrigger.duration: invalid duration '3 minutes': use a number with a unit (ms, s, m, h), e.g. '90s' or '1h30m'",
        "spec.actions[0].scaleAction.replicas: must be >= 0",
        "spec.actions[0].priority: must be a whole number",
        "spec.mode: must be one of monitor dryrun automatic manual",
    ]


@pytest.mark.parametrize("spec_change, expected", [
    pytest.param(("type: restart", "type: scale"), "spec.actions[0].scaleAction: required when type is scale", id="scale-needs-config"),
    pytest.param(("metricTrigger:", "eventTrigger:"), "spec.triggers[0].eventTrigger.query: unknown field", id="wrong-trigger-block"),
    pytest.param(("- name: a\n", "- name: t\n"), None, id="names-may-repeat-across-lists"),
])
def test_rules_between_fields_land_on_the_field_they_name(spec_change, expected):
    text = MINIMAL.replace(*spec_change)
    if expected is None:
        assert load_documents(text).policies
    else:
        assert expected in errors_of(text)


def test_bounds_that_depend_on_each_other_name_the_field_at_fault():
    text = MINIMAL.replace("type: restart", "type: scale\n    scaleAction: {direction: up, replicas: 1, minReplicas: 5, maxReplicas: 2}")
    assert errors_of(text) == ["spec.actions[0].scaleAction.minReplicas: must not exceed maxReplicas"]


def test_duplicate_trigger_names_are_rejected():
    text = MINIMAL.replace("  actions:", "  - name: t\n    type: event\n    eventTrigger: {reason: BackOff}\n  actions:")
    assert errors_of(text) == ["spec.triggers: duplicate name 't'"]


def test_python_field_names_are_unknown_fields_in_a_manifest():
    text = MINIMAL.replace("metricTrigger:", "metric_trigger:")
    assert errors_of(text) == ["spec.triggers[0].metric_trigger: unknown field"]
    # compat prunes it like any unknown field, and then the trigger lacks its block
    assert errors_of(text, compat=True) == ["spec.triggers[0].metricTrigger: required when type is metric"]


@pytest.mark.parametrize("header, expected", [
    pytest.param("apiVersion: kubeskippy.io/v1beta1\nkind: HealingPolicy\n",
                 "apiVersion: unsupported version 'kubeskippy.io/v1beta1': must be kubeskippy.io/v1alpha1", id="version"),
    pytest.param("kind: HealingPolicy\n", "apiVersion: required", id="no-apiversion"),
    pytest.param("apiVersion: kubeskippy.io/v1alpha1\n", "kind: required", id="no-kind"),
    pytest.param("apiVersion: kubeskippy.io/v1alpha1\nkind: HealingRule\n",
                 "kind: must be one of HealingPolicy HealingAction (or List, HealingPolicyList, HealingActionList)",
                 id="unknown-kind"),
])
def test_api_version_and_kind_are_checked_first(header, expected):
    body = MINIMAL.split("\n", 2)[2]
    assert errors_of(header + body) == [expected]


def test_a_yaml_syntax_error_gives_line_and_column():
    text = MINIMAL.replace("  name: p\n", "  name: p\n  labels: {a: b\n")
    with pytest.raises(InvalidInput) as info:
        load_documents(text, source="p.yaml")
    assert info.value.source == "p.yaml"
    [error] = info.value.errors
    assert error.message == ("YAML syntax error at line 6, column 5: while parsing a flow mapping: "
                             "expected ',' or '}', but got ':'")


def test_a_duplicate_key_is_a_syntax_error_naming_its_line():
    text = MINIMAL.replace("  name: p\n", "  name: p\n  name: q\n")
    [error] = [e.message for e in pytest.raises(InvalidInput, load_documents, text).value.errors]
    assert error == "YAML syntax error at line 5, column 3: found duplicate key 'name'"


@pytest.mark.parametrize("text, expected", [
    pytest.param("- a\n- b\n", ": must be an object (a YAML mapping), got list", id="list"),
    pytest.param("just words\n", ": must be an object (a YAML mapping), got str", id="scalar"),
])
def test_a_document_that_is_not_a_mapping_is_rejected(text, expected):
    assert [f"{e.path}: {e.message}" for e in pytest.raises(InvalidInput, load_documents, text).value.errors] == [expected]


def test_the_error_source_names_the_document_and_every_failed_document_is_reported():
    bad = MINIMAL.replace('operator: ">"', "operator: gt")
    text = MINIMAL + "---\n" + bad + "---\n" + bad.replace("name: p", "name: r")
    with pytest.raises(InvalidDocuments) as info:
        load_documents(text, source="policies.yaml")
    assert info.value.source == "policies.yaml#2"
    assert [f.source for f in info.value.failures] == ["policies.yaml#2", "policies.yaml#3"]
    assert "policies.yaml#3: spec.triggers[0].metricTrigger.operator" in str(info.value)


def test_load_files_expands_directories_and_reports_a_missing_file(tmp_path):
    (tmp_path / "a.yaml").write_text(MINIMAL)
    (tmp_path / "b.yml").write_text(MINIMAL.replace("name: p", "name: q"))
    (tmp_path / "notes.txt").write_text("not yaml: [")
    assert [p.name for p in load_files([tmp_path]).policies] == ["p", "q"]
    with pytest.raises(InvalidInput) as info:
        load_files([tmp_path / "a.yaml", tmp_path / "missing.yaml"])
    assert info.value.source == str(tmp_path / "missing.yaml")
    assert info.value.errors == [FieldError("", "file not found")]


def test_our_demo_policies_are_valid_in_strict_mode():
    result = load_files([DEMO])
    assert len(result.policies) >= 5
    assert result.warnings == []
    modes = {p.spec.mode for p in result.policies}
    assert {"automatic", "manual", "dryrun"} <= modes
    assert any(a.requires_approval for p in result.policies for a in p.spec.actions)


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8))
yaml_values = st.recursive(yaml_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["apiVersion", "kind", "metadata", "name", "spec", "selector", "triggers", "actions", "items",
         "metricTrigger", "type", "resources", "x"]), inner, max_size=4)), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(yaml_values)
def test_any_structure_gives_a_result_or_invalid_input_never_a_crash(value):
    import yaml

    text = yaml.safe_dump({"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingPolicy", "spec": value})
    try:
        load_documents(text)
    except InvalidInput as e:
        assert e.errors and all(isinstance(x, FieldError) for x in e.errors)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_a_result_or_invalid_input_never_a_crash(text):
    try:
        load_documents(text)
    except InvalidInput as e:
        assert e.errors


def test_checking_a_listed_policy_defines_neither_load_warning_nor_load_result_until_needed():
    """The functions check one listed object at a time and rarely meet a warning: the two
    dataclasses are defined on first use (a cold start saves ~6 M instructions)."""
    import subprocess
    import sys

    code = ("import sys, yaml\n"
            "from kubeskippy.policy import loading\n"
            f"doc = yaml.safe_load(open({str(DEMO / 'crashloop-recovery.yaml')!r}))\n"
            "report = loading.check_object(doc, source='api')\n"
            "print(report.ok, len(report.objects), report.warnings, 'kubeskippy.policy.load_results' in sys.modules)\n"
            "doc['spec']['noSuchField'] = 1\n"
            "warned = loading.check_object(doc, source='api', compat=True)\n"
            "print([type(w).__name__ + ' ' + str(w) for w in warned.warnings])\n"
            "print(loading.LoadResult is __import__('kubeskippy.policy.load_results').policy.load_results.LoadResult)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:3] == ["True 1 [] False", "['LoadWarning api: spec.noSuchField: unknown field, ignored']", "True"]
