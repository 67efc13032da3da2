"""Run ``promtool`` (Prometheus' own rule checker and unit-test runner) from tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROMTOOL = shutil.which("promtool")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool (Debian package 'prometheus') is not installed; CI installs it")


def check_rules(path: Path) -> subprocess.CompletedProcess:
    assert PROMTOOL
    return subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)


def test_rules(tmp_path: Path, rule_file: dict, tests: list[dict], evaluation_interval: str = "1m") -> None:
    """Write ``rule_file`` and a promtool unit-test file around ``tests`` and assert they pass."""
    assert PROMTOOL
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(rule_file, sort_keys=False, width=1_000_000))
    spec = tmp_path / "tests.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [str(rules)], "evaluation_interval": evaluation_interval,
                                    "tests": tests}, sort_keys=False, width=1_000_000))
    result = subprocess.run([PROMTOOL, "test", "rules", str(spec)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


test_rules.__test__ = False  # a helper, not a test
