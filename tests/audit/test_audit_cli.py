"""`kubeskippy audit ls|show|verify|stats` over a local trail."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kubeskippy.audit.local_sink import LocalDirectorySink
from kubeskippy.audit.recorder import Recorder
from kubeskippy.cli.audit import query_from_options
from kubeskippy.cli.main import app
from kubeskippy.clock import ManualClock
from kubeskippy.errors import InvalidInput
from kubeskippy.events import types as t

from .events import OTHER_POD, T0, healing_story

runner = CliRunner()


@pytest.fixture
def trail_dir(tmp_path):
    clock = ManualClock(T0)
    recorder = Recorder(LocalDirectorySink(tmp_path), clock)
    for event in healing_story("fp-web", start=T0, heal_after=120):
        recorder.record(event)
    for event in healing_story("fp-cart", start=T0 + 600, heal_after=30, target=OTHER_POD):
        recorder.record(event)
    return tmp_path


def run(*args: str):
    return runner.invoke(app, ["audit", *args], env={"KUBESKIPPY_AUDIT_SINK": ""})


def test_ls_lists_every_record_as_json(trail_dir):
    result = run("ls", "--dir", str(trail_dir), "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert len(listed) == 8
    assert listed[0]["metadata"]["event-type"] == t.FINDING


def test_ls_filters_by_target_type_and_time(trail_dir):
    by_target = json.loads(run("ls", "--dir", str(trail_dir), "--target", "cart-55f-xyz", "--json").output)
    assert {r["metadata"]["target"] for r in by_target} == {"Pod/shop/cart-55f-xyz"} and len(by_target) == 4
    outcomes = json.loads(run("ls", "--dir", str(trail_dir), "--type", t.OUTCOME, "--json").output)
    assert len(outcomes) == 2
    window = json.loads(run("ls", "--dir", str(trail_dir), "--from", "2026-11-21T19:10:00Z",
                            "--to", "2026-11-21T19:10:01Z", "--json").output)
    assert [r["metadata"]["event-type"] for r in window] == [t.FINDING, t.PLAN]


def test_ls_prints_a_table(trail_dir):
    result = run("ls", "--dir", str(trail_dir), "--policy", "memory-guard")
    assert result.exit_code == 0
    assert "6 audit records" in result.output  # findings, plans, outcomes: verifications name no policy


def test_show_prints_one_record_and_its_digest_status(trail_dir):
    key = json.loads(run("ls", "--dir", str(trail_dir), "--json").output)[0]["key"]
    shown = json.loads(run("show", key, "--dir", str(trail_dir), "--json").output)
    assert shown["digest"] == "ok"
    assert shown["record"]["event"]["type"] == t.FINDING


def test_show_of_a_missing_key_is_an_error_with_exit_code_2(trail_dir):
    result = run("show", "2026/01/01/00/x/none.json", "--dir", str(trail_dir))
    assert result.exit_code == 2


def test_verify_exits_1_and_names_the_tampered_record(trail_dir):
    assert run("verify", "--dir", str(trail_dir)).exit_code == 0
    key = json.loads(run("ls", "--dir", str(trail_dir), "--type", t.OUTCOME, "--json").output)[0]["key"]
    path = trail_dir / key
    path.write_bytes(path.read_bytes().replace(b"executed", b"failed!!"))
    result = run("verify", "--dir", str(trail_dir), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["checked"] == 8
    assert [(p["key"], p["status"]) for p in report["problems"]] == [(key, "mismatch")]
    assert "1 of 8 records failed verification" in run("verify", "--dir", str(trail_dir)).output


def test_stats_reports_actions_and_time_to_heal(trail_dir):
    result = run("stats", "--dir", str(trail_dir), "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["actions"] == [{"action_type": "restart", "status": "executed", "count": 2}]
    heal = stats["time_to_heal"]
    assert (heal["healed"], heal["open"], heal["max_seconds"], heal["mean_seconds"]) == (2, 0, 120.0, 75.0)
    table = run("stats", "--dir", str(trail_dir))
    assert table.exit_code == 0 and "time to heal" in table.output


def test_since_means_the_last_duration_up_to_now():
    query = query_from_options(since="2h", start=None, end=None, policy=None, target=None, event_type=None,
                               kind=None, clock=ManualClock(T0))
    assert (query.start, query.end) == (T0 - 7200, T0)


@pytest.mark.parametrize("options, field", [
    ({"since": "2h", "start": "2026-11-21T00:00:00Z"}, "--since"),
    ({"since": "two hours"}, "--since"),
    ({"start": "yesterday"}, "--from"),
    ({"kind": "everything"}, "--kind"),
])
def test_bad_filter_options_name_the_option(options, field):
    kwargs = dict(since=None, start=None, end=None, policy=None, target=None, event_type=None, kind=None)
    kwargs.update(options)
    with pytest.raises(InvalidInput) as caught:
        query_from_options(**kwargs, clock=ManualClock(T0))
    assert caught.value.errors[0].path == field


def test_a_bad_option_exits_2_with_a_message(trail_dir):
    result = run("ls", "--dir", str(trail_dir), "--since", "soon")
    assert result.exit_code == 2
    assert "--since" in result.output
