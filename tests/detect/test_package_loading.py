"""The detect package loads its parts on first use, and every import path still works.

Why: the detect function imports the detector and has no use for the Prometheus rule compiler at
its cold start (docs/functions.md, "Cold start"); nothing public may move because of that.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import kubeskippy.detect as detect

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", detect.__all__)
def test_every_public_name_of_the_package_is_the_object_its_module_defines(name):
    module = importlib.import_module(f"kubeskippy.detect.{detect._HOMES[name]}")
    assert getattr(detect, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        detect.no_such_name  # noqa: B018


def test_the_detect_function_does_not_load_the_rule_compiler():
    code = "import sys, kubeskippy.services.detect; print('kubeskippy.detect.rules' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
