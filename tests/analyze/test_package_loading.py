"""The analyze package loads its parts on first use, and every import path still works.

Why: the analyze function runs on the rules unless an LLM is configured, so its cold start must not
pay for the LLM path (prompt models, redaction patterns, the answer cache); see docs/functions.md,
"Cold start". These tests pin both halves: nothing public moved, and the rules path stays light.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import kubeskippy.analyze as analyze

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", analyze.__all__)
def test_every_public_name_of_the_package_is_the_object_its_module_defines(name):
    home = "guard" if name in ("guard", "GuardConfig", "GuardResult") else analyze._HOMES[name]
    assert getattr(analyze, name) is getattr(importlib.import_module(f"kubeskippy.analyze.{home}"), name)


def test_guard_from_the_package_is_the_function_even_after_its_module_is_imported():
    guard_module = importlib.import_module("kubeskippy.analyze.guard")

    from kubeskippy.analyze import guard
    assert guard is guard_module.guard and callable(guard)


def test_submodules_remain_reachable_as_package_attributes():
    assert analyze.redact.redact_text("password=hunter2") == "password=[REDACTED]"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        analyze.no_such_name  # noqa: B018


def test_the_rules_analyzer_path_does_not_load_the_llm_modules():
    code = (
        "import sys\n"
        "import kubeskippy.services.analyze\n"
        "from kubeskippy.analyze.config import analyzer_from_config\n"
        "print(type(analyzer_from_config({})).__name__)\n"
        "print(sorted(m for m in sys.modules if m.rsplit('.', 1)[-1] in ('llm', 'prompt', 'redact', 'cache')\n"
        "             and m.startswith('kubeskippy.analyze')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["RulesAnalyzer", "[]"]
