"""The published JSON Schemas match the models, and every example is valid against both."""

import json
from pathlib import Path

import jsonschema
import pytest

from kubeskippy.events.schemas import crd_openapi_schema, event_schema, render_schema_files, stale_schema_files
from kubeskippy.events.types import EVENT_MODELS
from kubeskippy.policy.loading import load_files
from kubeskippy.policy.model import HealingAction, HealingPolicy

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"


def validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_committed_schema_files_match_the_models():
    stale = stale_schema_files(SCHEMAS)
    assert stale == [], f"run `kubeskippy policy schema` to regenerate: {stale}"


@pytest.mark.parametrize("event_type", list(EVENT_MODELS))
def test_each_example_is_valid_against_its_schema_and_its_model(event_type):
    example = json.loads((SCHEMAS / "examples" / f"{event_type}.json").read_text())
    schema = json.loads((SCHEMAS / f"{event_type}.json").read_text())
    assert schema["$id"].endswith(f"/{event_type}.json")
    validator(schema).validate(example)
    EVENT_MODELS[event_type].model_validate(example)


def test_an_alert_schema_accepts_only_its_own_status():
    firing = json.loads((SCHEMAS / "examples" / "io.kubeskippy.alert.firing.json").read_text())
    assert not validator(event_schema("io.kubeskippy.alert.resolved")).is_valid(firing)


@pytest.mark.parametrize("event_type", list(EVENT_MODELS))
def test_schemas_reject_unknown_fields_like_the_models(event_type):
    example = json.loads((SCHEMAS / "examples" / f"{event_type}.json").read_text())
    errors = list(validator(event_schema(event_type)).iter_errors({**example, "surprise": 1}))
    assert [e.validator for e in errors] == ["additionalProperties"]


def test_our_demo_policies_are_valid_against_the_published_policy_schema():
    schema = validator(json.loads((SCHEMAS / "healingpolicy.json").read_text()))
    import yaml

    documents = [d for p in sorted((ROOT / "demo" / "policies").glob("*.yaml")) for d in yaml.safe_load_all(p.read_text())]
    assert len(documents) == len(load_files([ROOT / "demo" / "policies"]).policies)
    for doc in documents:
        schema.validate(doc)
    bad = {**documents[0], "spec": {**documents[0]["spec"], "aiConfig": {}}}
    assert not schema.is_valid(bad)


def test_duration_defaults_are_published_as_go_durations():
    schema = json.loads((SCHEMAS / "healingpolicy.json").read_text())
    trigger = schema["properties"]["spec"]["properties"]["triggers"]["items"]["properties"]
    assert trigger["cooldownPeriod"]["default"] == "5m0s"
    assert trigger["metricTrigger"]["anyOf"][0]["properties"]["duration"]["default"] == "2m0s"


def _walk(node, path="$"):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


@pytest.mark.parametrize("model", [HealingPolicy, HealingAction])
def test_the_crd_schema_is_structural(model):
    schema = crd_openapi_schema(model)
    for path, node in _walk(schema):
        if not isinstance(node, dict) or path.endswith(".properties"):
            continue
        assert not {"$ref", "$defs", "anyOf", "oneOf", "$schema"} & node.keys(), path
        assert node.get("additionalProperties", {}) is not False, path
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert "crd/" + model.__name__.lower() + ".openapi.json" in render_schema_files()
