"""The CRDs are generated from the models, stay in sync, are structural, and their CEL rules
reject exactly what the models reject."""

from __future__ import annotations

from pathlib import Path

import celpy
import jsonschema
import pytest
import yaml

from kubeskippy.errors import InvalidInput
from kubeskippy.policy.crd import CEL_RULES, crd_documents, render_crds
from kubeskippy.policy.loading import load_documents

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "deploy" / "knative" / "crds.yaml"


def test_committed_crds_match_the_models():
    assert CRDS.read_text() == render_crds(), "regenerate with: kubeskippy crds -o deploy/knative/crds.yaml"


def test_crds_validate_against_the_kubernetes_schema():
    import kubernetes_validate

    for doc in yaml.safe_load_all(CRDS.read_text()):
        kubernetes_validate.validate(doc, "1.32", strict=True)


def walk(node, path="$"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


@pytest.mark.parametrize("crd", crd_documents(), ids=lambda c: c["spec"]["names"]["kind"])
def test_schema_is_structural(crd):
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert crd["spec"]["names"]["shortNames"] in (["hp"], ["ha"])
    schema = version["schema"]["openAPIV3Schema"]
    for path, node in walk(schema):
        if path.endswith(".properties") or path.endswith("x-kubernetes-validations"):
            continue
        if "properties" in node:
            assert node.get("type") == "object", f"{path}: properties need type object"
            assert "additionalProperties" not in node, f"{path}: properties and additionalProperties exclude each other"
        for banned in ("$ref", "anyOf", "oneOf", "allOf", "$defs", "const"):
            assert banned not in node or path.endswith(".properties"), f"{path}: {banned} is not structural"


def policy_schema() -> dict:
    return crd_documents()[0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def cel_errors(doc: dict) -> list[str]:
    """Evaluate the CRD's x-kubernetes-validations the way the API server would."""
    env = celpy.Environment()
    errors = []
    for path, rule, message in CEL_RULES["HealingPolicy"]:
        for node in nodes_at(doc, path):
            program = env.program(env.compile(rule))
            if not program.evaluate({"self": celpy.json_to_cel(node)}):
                errors.append(message)
    return errors


def nodes_at(doc, path):
    nodes = [doc]
    for step in path:
        nxt = []
        for n in nodes:
            if step == "[]":
                nxt.extend(n if isinstance(n, list) else [])
            elif isinstance(n, dict) and step in n:
                nxt.append(n[step])
        nodes = nxt
    return nodes


def api_server_accepts(doc: dict) -> bool:
    try:
        jsonschema.validate(doc, policy_schema())
    except jsonschema.ValidationError:
        return False
    return not cel_errors(doc)


def model_accepts(doc: dict) -> bool:
    try:
        load_documents(yaml.safe_dump(doc))
    except InvalidInput:
        return False
    return True


def demo_policies() -> list[dict]:
    docs = []
    for path in sorted((ROOT / "demo" / "policies").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def test_demo_policies_pass_the_crd_schema_and_rules():
    docs = demo_policies()
    assert docs, "demo/policies holds the demo policies"
    for doc in docs:
        assert api_server_accepts(doc), doc["metadata"]["name"]


BASE = {
    "apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingPolicy", "metadata": {"name": "p", "namespace": "d"},
    "spec": {"selector": {"resources": [{"apiVersion": "v1", "kind": "Pod"}]},
             "triggers": [{"name": "t", "type": "event", "eventTrigger": {"reason": "BackOff"}}],
             "actions": [{"name": "a", "type": "restart"}]},
}


def variant(**changes):
    import copy

    doc = copy.deepcopy(BASE)
    for where, value in changes.items():
        node = doc["spec"]
        *head, last = where.split("__")
        for step in head:
            node = node[int(step)] if step.isdigit() else node[step]
        node[last] = value
    return doc


@pytest.mark.parametrize("doc, valid", [
    pytest.param(BASE, True, id="valid"),
    pytest.param(variant(actions=[{"name": "s", "type": "scale"}]), False, id="scale-without-scaleAction"),
    pytest.param(variant(actions=[{"name": "s", "type": "scale", "scaleAction": {
        "direction": "up", "replicas": 1, "minReplicas": 5, "maxReplicas": 2}}]), False, id="min-above-max"),
    pytest.param(variant(actions=[{"name": "p", "type": "patch", "patchAction": {"type": "merge"}}]), False,
                 id="patch-without-content"),
    pytest.param(variant(triggers=[{"name": "t", "type": "metric"}]), False, id="metric-without-metricTrigger"),
    pytest.param(variant(triggers=[{"name": "t", "type": "event", "eventTrigger": {}},
                                   {"name": "t", "type": "event", "eventTrigger": {}}]), False,
                 id="duplicate-trigger-names"),
    pytest.param(variant(mode="yolo"), False, id="bad-mode"),
])
def test_the_api_server_and_the_models_agree(doc, valid):
    assert api_server_accepts(doc) is valid
    assert model_accepts(doc) is valid
