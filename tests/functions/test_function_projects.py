"""Each function folder builds on its own and serves a real CloudEvent, the way `func build` runs it.

The core is vendored as a wheel (scripts/vendor-core); each of functions/{detect,analyze,remediate,
audit} is copied out of the checkout and installed into its own clean virtualenv with
``pip install <copy> func-python==0.8.1``; the scaffolding's main (``func_python.http.serve(new)``)
serves it on a free loopback port from an empty working directory with a clean environment. Then
one CloudEvent each, over HTTP:

- detect: a Pod ApiServerSource event of a crash-looping pod → 200 with an io.kubeskippy.finding
  (policies from demo/policies, the Kubernetes API is the devcluster HTTP server); a healthy pod
  → an empty 202;
- analyze: that finding → 200 with an io.kubeskippy.plan (the rules analyzer);
- remediate: the plan, with the policy in dryrun mode → one outcome replied, one published to K_SINK, nothing
  deleted;
- audit: an event → 202 and one object in the local audit directory.

The crash loop is one a liveness probe causes (Unhealthy and Killing events on the pod): the
rules analyzer names ``failing_probes`` with enough confidence for the policy's delete action.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import yaml

from kubeskippy.audit.local_sink import LocalDirectorySink
from kubeskippy.events.cloudevents import parse_http
from kubeskippy.events.types import FINDING, OUTCOME, PLAN
from kubeskippy.ingest.apiserver import apiserver_event
from tests.functions.scaffold import FUNCTIONS, ROOT, FunctionServer, install_functions, post_event, vendor_core
from tests.harness.crashloop_world import DEMO_POLICY, NAMESPACE, Cluster
from tests.harness.scripted_http import ScriptedServer

pytestmark = pytest.mark.slow

POLICY_NAME = f"{NAMESPACE}/crashloop-recovery"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("function-venvs")
    started = time.monotonic()
    vendor_core()
    vendored = time.monotonic()
    pythons = install_functions(FUNCTIONS, where)
    print(f"\nvendor-core {vendored - started:.1f}s; four clean installs {time.monotonic() - vendored:.1f}s")
    return pythons


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    world = Cluster()
    yield world
    world.server.stop()


@pytest.fixture(scope="module")
def dryrun_policy(tmp_path_factory) -> Path:
    """The demo crash-loop policy in dryrun mode: the test must never delete anything. Its two
    actions (capture diagnostics, recreate the pod) give two outcomes: one is the reply, the
    other is published to K_SINK."""
    doc = yaml.safe_load(DEMO_POLICY.read_text())
    doc["spec"]["mode"] = "dryrun"
    path = tmp_path_factory.mktemp("policies") / "crashloop-dryrun.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def serve(installed: dict[str, Path], name: str, tmp_path: Path, env: dict[str, str]) -> FunctionServer:
    return FunctionServer(installed[name], tmp_path / f"function-{name}", env)


def cluster_env(cluster: Cluster, policy: Path) -> dict[str, str]:
    return {"KUBESKIPPY_KUBE_URL": cluster.server.url, "KUBESKIPPY_POLICY_SOURCE": "files",
            "KUBESKIPPY_POLICY_FILES": str(policy), "KUBESKIPPY_NAMESPACE": "kubeskippy"}


def reply_event(response):
    assert response.status_code == 200, response.text
    return parse_http(dict(response.headers), response.content)


def test_each_function_imports_the_core_from_its_own_virtualenv(installed, tmp_path):
    probe = "import function, func_python, kubeskippy; print(kubeskippy.__file__); print(function.__file__)"
    for name, python in installed.items():
        result = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                                env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=60)
        assert result.returncode == 0, result.stderr
        venv_dir = python.parent.parent
        core, function = (Path(line) for line in result.stdout.split())
        assert core.is_relative_to(venv_dir) and function.is_relative_to(venv_dir), (name, core, function)
        assert not core.is_relative_to(ROOT)


@dataclass
class DetectReplies:
    crash_event: object
    crash: httpx.Response
    healthy: httpx.Response


@pytest.fixture(scope="module")
def detect_replies(installed, cluster, tmp_path_factory) -> DetectReplies:
    """What the installed detect function answers for the crash-looping and the healthy pod."""
    where = tmp_path_factory.mktemp("detect")
    with serve(installed, "detect", where, cluster_env(cluster, DEMO_POLICY)) as fn:
        crash = apiserver_event("update", cluster.crashing)
        return DetectReplies(crash, post_event(fn.url, crash),
                             post_event(fn.url, apiserver_event("update", cluster.healthy)))


@pytest.fixture(scope="module")
def finding(detect_replies):
    return reply_event(detect_replies.crash)


def test_detect_answers_a_crash_looping_pod_with_a_finding(detect_replies, finding, cluster):
    assert finding["type"] == FINDING and finding["source"] == "/kubeskippy/detect"
    data = finding.get_data()
    assert (data["policy"], data["trigger"]) == (POLICY_NAME, "crash-looping")
    assert (data["target"]["kind"], data["target"]["name"]) == ("Pod", cluster.crashing["metadata"]["name"])
    assert [o["kind"] for o in data["owner_chain"]] == ["ReplicaSet", "Deployment"]
    assert data["source_event_id"] == detect_replies.crash_event["id"]


def test_detect_answers_a_healthy_pod_with_an_empty_202(detect_replies):
    assert (detect_replies.healthy.status_code, detect_replies.healthy.content) == (202, b"")


@pytest.fixture(scope="module")
def plan(installed, cluster, dryrun_policy, finding, tmp_path_factory):
    """The plan the installed analyze function produces for that finding."""
    where = tmp_path_factory.mktemp("analyze")
    with serve(installed, "analyze", where, cluster_env(cluster, dryrun_policy)) as fn:
        return reply_event(post_event(fn.url, finding))


def test_analyze_answers_a_finding_with_a_plan_from_the_rules(plan, finding, cluster):
    assert plan["type"] == PLAN and plan["source"] == "/kubeskippy/analyze"
    data = plan.get_data()
    assert data["finding"]["fingerprint"] == finding.get_data()["fingerprint"]
    assert data["analyzer"] == "rules"
    assert data["root_cause"]["category"] == "failing_probes"
    victim = cluster.crashing["metadata"]["name"]
    assert sorted((a["action"], a["type"], a["target"]["name"]) for a in data["actions"]) == [
        ("capture-diagnostics", "diagnostics", victim), ("recreate-pod", "delete", victim)]


def test_remediate_in_dryrun_replies_one_outcome_publishes_the_other_to_k_sink_and_changes_nothing(
        installed, cluster, dryrun_policy, plan, tmp_path):
    env = cluster_env(cluster, dryrun_policy)
    with ScriptedServer() as sink:
        with serve(installed, "remediate", tmp_path, {**env, "K_SINK": sink.url + "/"}) as fn:
            response = post_event(fn.url, plan)
        published = [parse_http(r.headers, r.body) for r in sink.received]
    assert response.status_code == 200, response.text
    assert len(published) == 1
    events = [parse_http(response.headers, response.content), *published]
    outcomes = {e.get_data()["action"]: e.get_data() for e in events if e["type"] == OUTCOME}
    assert set(outcomes) == {"recreate-pod", "capture-diagnostics"}, [e["type"] for e in published]
    assert all(o["plan_id"] == plan.get_data()["id"] for o in outcomes.values())
    assert outcomes["recreate-pod"]["status"] == "dry_run"
    assert "dry run" in outcomes["recreate-pod"]["message"]
    assert cluster.pod_exists(cluster.crashing)


def test_audit_answers_202_and_writes_one_object_to_the_local_sink(installed, finding, tmp_path):
    audit_dir = tmp_path / "audit"
    env = {"KUBESKIPPY_AUDIT_SINK": "local", "KUBESKIPPY_AUDIT_DIR": str(audit_dir)}
    with serve(installed, "audit", tmp_path, env) as fn:
        response = post_event(fn.url, finding)
    assert (response.status_code, response.content) == (202, b"")
    sink = LocalDirectorySink(audit_dir)
    [stored] = sink.list()
    body, _ = sink.get(stored.key)
    assert f"/{FINDING}/" in stored.key and finding["id"] in body.decode()


def test_a_scaffolded_function_refuses_a_request_that_is_not_a_cloudevent(installed, tmp_path):
    env = {"KUBESKIPPY_AUDIT_SINK": "local", "KUBESKIPPY_AUDIT_DIR": str(tmp_path / "audit")}
    with serve(installed, "audit", tmp_path, env) as fn:
        response = httpx.post(fn.url + "/", content=b'{"hello": "world"}',
                              headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert "not a CloudEvent" in json.loads(response.content)["error"]
    assert LocalDirectorySink(tmp_path / "audit").list() == []
