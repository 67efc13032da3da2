"""Production starts every function with the same runtime settings, wherever it is deployed from.

Why: ``PYDANTIC_DISABLE_PLUGINS`` is part of the cold-start budget (docs/functions.md, "Cold
start"), so `func deploy` (func.yaml) and `kubectl apply -k` (the ConfigMap every Knative Service
reads) must agree, and the benchmarks start the functions with what func.yaml says.
"""

from pathlib import Path

import pytest
import yaml

from benchmarks.functions import COLD_FUNCTIONS, runtime_env

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "knative"


def func_envs(name: str) -> dict[str, str]:
    spec = yaml.safe_load((ROOT / "functions" / name / "func.yaml").read_text())
    return {e["name"]: e.get("value") for e in spec["run"]["envs"]}


@pytest.mark.parametrize("name", COLD_FUNCTIONS)
def test_every_function_project_disables_pydantic_plugins(name):
    assert func_envs(name)["PYDANTIC_DISABLE_PLUGINS"] == "__all__"


def test_every_knative_service_gets_the_same_setting_from_the_shared_config_map():
    config = yaml.safe_load((DEPLOY / "config.yaml").read_text())
    assert config["data"]["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    services = [d for d in yaml.safe_load_all((DEPLOY / "services.yaml").read_text()) if d]
    assert {d["metadata"]["name"] for d in services} == {f"kubeskippy-{n}" for n in COLD_FUNCTIONS}
    for service in services:
        container = service["spec"]["template"]["spec"]["containers"][0]
        assert {"configMapRef": {"name": config["metadata"]["name"]}} in container["envFrom"]
        assert "PYDANTIC_DISABLE_PLUGINS" not in {e["name"] for e in container.get("env", [])}


@pytest.mark.parametrize("name", COLD_FUNCTIONS)
def test_the_benchmarks_start_each_function_with_its_production_runtime_settings(name):
    runtime = runtime_env(name)
    assert runtime == {k: v for k, v in func_envs(name).items() if not k.startswith("KUBESKIPPY_")}
    assert runtime["PYDANTIC_DISABLE_PLUGINS"] == "__all__"


def test_the_echo_baseline_starts_with_the_settings_all_functions_share():
    assert runtime_env("echo") == {"PYDANTIC_DISABLE_PLUGINS": "__all__"}
