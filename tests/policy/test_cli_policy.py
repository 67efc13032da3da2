"""`kubeskippy policy check` and `kubeskippy policy schema` as a user runs them."""

import json
from pathlib import Path

from typer.testing import CliRunner

from kubeskippy.cli.main import app
from kubeskippy.events.schemas import render_schema_files

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_check_prints_ok_per_document_and_exits_zero():
    result = runner.invoke(app, ["policy", "check", str(FIXTURES / "published-shapes.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.count("OK ") == 2
    assert "HealingPolicy shop/inventory-activity" in result.output


def test_check_names_every_bad_field_and_exits_one():
    result = runner.invoke(app, ["policy", "check", str(FIXTURES / "off-schema-ai.yaml")])
    assert result.exit_code == 1
    assert "ERROR" in result.output
    assert "spec.safetyRules.protectedResources[0].labelSelector: unknown field" in result.output
    assert "Traceback" not in result.output


def test_check_with_compat_warns_and_passes():
    result = runner.invoke(app, ["policy", "check", "--compat", str(FIXTURES / "off-schema-ai.yaml")])
    assert result.exit_code == 0, result.output
    assert "warning: spec.aiConfig: unknown field, ignored" in result.output


def test_check_json_output_is_machine_readable():
    result = runner.invoke(app, ["policy", "check", "-o", "json", str(FIXTURES / "rejected-even-in-compat.yaml"),
                                 str(FIXTURES / "with-configmap.yaml"), "--compat"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [(r["source"].rsplit("/", 1)[1], r["ok"]) for r in report] == [
        ("rejected-even-in-compat.yaml#1", False), ("with-configmap.yaml#1", True), ("with-configmap.yaml#2", True)]
    assert report[0]["errors"][0] == {"path": "spec.triggers[0].type", "message": "must be one of metric event condition"}
    assert report[1]["objects"] == [{"kind": "HealingPolicy", "namespace": "shop", "name": "web-error-rate"}]


def test_check_reports_an_unreadable_file_without_a_traceback(tmp_path):
    result = runner.invoke(app, ["policy", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "file not found" in result.output


def test_schema_writes_every_file_and_check_detects_drift(tmp_path):
    result = runner.invoke(app, ["policy", "schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.json")) == sorted(render_schema_files())
    assert runner.invoke(app, ["policy", "schema", "--out", str(tmp_path), "--check"]).exit_code == 0
    (tmp_path / "io.kubeskippy.plan.json").write_text("{}")
    drift = runner.invoke(app, ["policy", "schema", "--out", str(tmp_path), "--check"])
    assert drift.exit_code == 1
    assert "io.kubeskippy.plan.json" in drift.output
