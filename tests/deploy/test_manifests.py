"""Everything under deploy/knative and demo/ is valid: core kinds against the Kubernetes OpenAPI
schemas, Knative kinds against their published CRD models, scripts against shellcheck, and the
local mesh routes exactly as the Triggers do."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "knative"
KUBERNETES_VERSION = "1.32"

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from cloudcoil.models.knative_eventing.eventing.v1 import Broker, Trigger
    from cloudcoil.models.knative_eventing.sources.v1 import ApiServerSource, PingSource, SinkBinding
    from cloudcoil.models.knative_serving.serving.v1 import Service as KnativeService

KNATIVE_MODELS = {
    ("eventing.knative.dev/v1", "Broker"): Broker,
    ("eventing.knative.dev/v1", "Trigger"): Trigger,
    ("sources.knative.dev/v1", "ApiServerSource"): ApiServerSource,
    ("sources.knative.dev/v1", "PingSource"): PingSource,
    ("sources.knative.dev/v1", "SinkBinding"): SinkBinding,
    ("serving.knative.dev/v1", "Service"): KnativeService,
}
OWN_KINDS = {("kubeskippy.io/v1alpha1", "HealingPolicy"), ("kubeskippy.io/v1alpha1", "HealingAction"),
             ("monitoring.coreos.com/v1", "PrometheusRule")}


def manifest_files() -> list[Path]:
    files = (sorted(DEPLOY.glob("*.yaml")) + sorted((DEPLOY / "monitoring").glob("*.yaml"))
             + sorted((ROOT / "demo" / "manifests").glob("*.yaml")))
    return [f for f in files if f.name != "kustomization.yaml"]


def documents() -> list[tuple[str, dict]]:
    out = []
    for path in manifest_files():
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc:
                out.append((f"{path.relative_to(ROOT)}#{i}", doc))
    return out


def unknown_keys(given: object, kept: object, path: str = "") -> list[str]:
    """Keys present in the manifest that the model dropped (cloudcoil models ignore extras)."""
    if isinstance(given, dict) and isinstance(kept, dict):
        missing = [f"{path}.{k}".lstrip(".") for k in given if k not in kept]
        return missing + [m for k in given if k in kept for m in unknown_keys(given[k], kept[k], f"{path}.{k}")]
    if isinstance(given, list) and isinstance(kept, list):
        return [m for i, (g, k) in enumerate(zip(given, kept)) for m in unknown_keys(g, k, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("where, doc", documents(), ids=[w for w, _ in documents()])
def test_manifest_validates_against_its_schema(where, doc):
    import kubernetes_validate

    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in KNATIVE_MODELS:
        model = KNATIVE_MODELS[key].model_validate(doc)
        kept = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
        assert unknown_keys(doc, kept) == [], f"{where}: fields unknown to {key[1]}"
    elif key == ("monitoring.coreos.com/v1", "PrometheusRule"):
        # The rule expressions themselves go through promtool in test_prometheus_rules_pass_promtool.
        assert set(doc) == {"apiVersion", "kind", "metadata", "spec"} and set(doc["spec"]) == {"groups"}
        assert all({"name", "rules"} <= set(group) for group in doc["spec"]["groups"])
    elif key in OWN_KINDS:
        import jsonschema

        from kubeskippy.policy.crd import crd_documents

        crd = next(c for c in crd_documents() if c["spec"]["names"]["kind"] == key[1])
        jsonschema.validate(doc, crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("folder", [DEPLOY, DEPLOY / "monitoring"], ids=["knative", "monitoring"])
def test_kustomization_lists_files_that_exist(folder):
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (folder / resource).is_file(), f"kustomization names missing {resource}"


def test_prometheus_rules_are_rendered_from_the_demo_policies():
    from typer.testing import CliRunner

    from kubeskippy.cli.main import app

    result = CliRunner().invoke(app, ["rules", str(ROOT / "demo" / "policies"), "--format", "prometheusrule"])
    assert result.exit_code == 0, result.output
    committed = (DEPLOY / "monitoring" / "prometheus-rules.yaml").read_text()
    assert yaml.safe_load(committed) == yaml.safe_load(result.stdout), (
        "regenerate: kubeskippy rules demo/policies --format prometheusrule "
        "-o deploy/knative/monitoring/prometheus-rules.yaml")


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool comes with Debian's prometheus (installed by .ci/run)")
def test_prometheus_rules_pass_promtool(tmp_path):
    rule = yaml.safe_load((DEPLOY / "monitoring" / "prometheus-rules.yaml").read_text())
    plain = tmp_path / "rules.yml"
    plain.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    result = subprocess.run(["promtool", "check", "rules", str(plain)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_queries_only_metrics_the_functions_export():
    import json
    import re

    from kubeskippy.serving.metrics import FunctionMetrics

    exported = set()
    for family in FunctionMetrics("x").registry.collect():
        exported.update({family.name, family.name + "_total", family.name + "_bucket"})
    dashboard = json.loads((DEPLOY / "monitoring" / "kubeskippy-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"kubeskippy_[a-z_]+", target["expr"]):
                assert name in exported, f"{panel['title']}: {name} is not exported"


def test_the_local_mesh_routes_like_the_triggers():
    from kubeskippy.mesh.runner import default_triggers

    urls = {name: f"kubeskippy-{name}" for name in ("detect", "analyze", "remediate", "audit")}
    mesh = {(t.name, t.subscriber, tuple(sorted(t.attributes.items())), tuple(sorted(t.prefix.items())))
            for t in default_triggers(urls)}
    deployed = set()
    for doc in yaml.safe_load_all((DEPLOY / "triggers.yaml").read_text()):
        if not doc:
            continue
        spec = doc["spec"]
        attributes = dict((spec.get("filter") or {}).get("attributes") or {})
        attributes.pop("source", None)  # the sweep's source is cluster-specific; the mesh has one PingSource
        prefix = {k: v for f in spec.get("filters") or [] for k, v in (f.get("prefix") or {}).items()}
        deployed.add((doc["metadata"]["name"], spec["subscriber"]["ref"]["name"],
                      tuple(sorted(attributes.items())), tuple(sorted(prefix.items()))))
    assert mesh == deployed


def test_every_function_project_scales_to_zero_and_uses_the_http_middleware():
    for name in ("detect", "analyze", "remediate", "audit"):
        spec = yaml.safe_load((ROOT / "functions" / name / "func.yaml").read_text())
        assert spec["specVersion"] == "0.36.0" and spec["runtime"] == "python"
        assert spec["invoke"] == "http", "we decode CloudEvents ourselves (body limit, /alertmanager)"
        assert spec["deploy"]["options"]["scale"]["min"] == 0
        assert spec["deploy"]["serviceAccountName"] == f"kubeskippy-{name}"
        assert spec["deploy"]["healthEndpoints"] == {"liveness": "/health/liveness",
                                                     "readiness": "/health/readiness"}


@pytest.mark.skipif(not shutil.which("amtool"), reason="amtool comes with Debian's prometheus-alertmanager "
                                                       "(installed by .ci/run)")
def test_alertmanager_receiver_passes_amtool():
    result = subprocess.run(["amtool", "check-config", str(DEPLOY / "alertmanager-kubeskippy.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck comes from Debian (installed by .ci/run)")
def test_demo_scripts_pass_shellcheck():
    scripts = sorted(str(p) for p in (ROOT / "demo").glob("*.sh")) + [str(ROOT / "scripts" / "vendor-core")]
    result = subprocess.run(["shellcheck", "-x", *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_setup_dry_run_prints_every_step_without_a_cluster(tmp_path):
    result = subprocess.run(["bash", str(ROOT / "demo" / "setup.sh"), "--dry-run"], capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in ("kind cluster", "Knative Serving", "Knative Eventing", "Monitoring", "Demo apps",
                    "KubeSkippy: CRDs", "The four functions", "Demo policies", "Where to look next"):
        assert heading in out
    assert "+ kind create cluster --name kubeskippy" in out
    assert "Missing prerequisites" in result.stderr  # named, even in a dry run


@pytest.mark.parametrize("script", ["monitor.sh", "teardown.sh"])
def test_other_demo_scripts_have_a_dry_run(script, tmp_path):
    result = subprocess.run(["bash", str(ROOT / "demo" / script), "--dry-run"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "+ kubectl" in result.stdout or "+ kind" in result.stdout


def test_every_setting_the_manifests_pass_is_read_by_the_code():
    import re

    source = "\n".join(p.read_text() for p in (ROOT / "kubeskippy").rglob("*.py"))
    files = [DEPLOY / "config.yaml", DEPLOY / "services.yaml",
             *[ROOT / "functions" / n / "func.yaml" for n in ("detect", "analyze", "remediate", "audit")]]
    for path in files:
        for name in set(re.findall(r"\bKUBESKIPPY_[A-Z0-9_]+", path.read_text())):
            assert f'"{name}"' in source or f"'{name}'" in source, \
                f"{path.relative_to(ROOT)} sets {name}, which no code reads"


def test_the_oidc_overlay_patches_every_trigger_and_service_into_valid_objects():
    from kubeskippy.devcluster.patches import apply_json_patch  # RFC 6902, as kustomize applies it

    overlay = yaml.safe_load((DEPLOY / "oidc" / "kustomization.yaml").read_text())
    base = {(d["kind"], d["metadata"]["name"]): d for d in
            [*yaml.safe_load_all((DEPLOY / "triggers.yaml").read_text()),
             *yaml.safe_load_all((DEPLOY / "services.yaml").read_text())] if d}
    patched = set()
    for entry in overlay["patches"]:
        key = (entry["target"]["kind"], entry["target"]["name"])
        assert key in base, f"the overlay patches {key}, which deploy/knative does not define"
        doc = apply_json_patch(base[key], yaml.safe_load(entry["patch"]))
        model = KNATIVE_MODELS[(doc["apiVersion"], doc["kind"])].model_validate(doc)
        assert unknown_keys(doc, model.model_dump(by_alias=True, exclude_unset=True, mode="json")) == []
        if doc["kind"] == "Trigger":
            function = doc["spec"]["subscriber"]["audience"]
        else:
            env = {e["name"]: e.get("value") for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]}
            function = env["KUBESKIPPY_OIDC_AUDIENCE"]
        assert function.startswith("kubeskippy-")
        patched.add(key)
    assert patched == set(base), "every Trigger and Service gets an audience"


def test_every_demo_policy_with_a_demo_app_selects_its_pods():
    """The kind demo only works if the policies' selectors match the demo apps' pod labels."""
    from kubeskippy.detect.labels import compile_label_selector
    from kubeskippy.policy.loading import load_files

    apps = [d for d in yaml.safe_load_all((ROOT / "demo" / "manifests" / "apps.yaml").read_text())
            if d and d["kind"] == "Deployment"]
    pod_labels = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in apps}
    selected_apps = set()
    for policy in load_files([ROOT / "demo" / "policies"]).policies:
        selector = compile_label_selector(policy.spec.selector.label_selector)
        namespaces = policy.spec.selector.namespaces or [policy.namespace]
        matches = {name for name, labels in pod_labels.items() if selector.matches(labels)}
        if "demo-apps" in namespaces:
            selected_apps |= matches
    assert selected_apps == set(pod_labels), f"demo apps no policy selects: {set(pod_labels) - selected_apps}"
