"""Both LLM backends over real HTTP against a scripted server: answers, retries, 500s, timeouts,
fallback to the rules, caching, and the redacted prompt the server actually received."""

from __future__ import annotations

import json
import logging
import time

import pytest

from kubeskippy.analyze import Planner, analyzer_from_config
from kubeskippy.analyze.llm import PROMPT_LOGGER

from .scenarios import memory_leak
from .scripted_llm import Reply, ScriptedLLM, answer
from .world import World, policy

pytestmark = pytest.mark.slow  # real sockets and threads (fast, but integration)

BACKENDS = ["ollama", "openai"]

SECRETS = {
    "password in a URL": "S3cr3tPass",
    "bearer token": "abcdef123456tokenvalue",
    "AWS access key": "AKIAIOSFODNN7EXAMPLE",
    "password=": "hunter2",
    "JWT": "eyJhbGciOiJIUzI1NiJ9",
    "private key body": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "env value": "env-value-never-sent",
}


@pytest.fixture
def llm():
    server = ScriptedLLM().start()
    yield server
    server.stop()


def env_for(backend: str, server: ScriptedLLM, timeout: float = 5.0) -> dict[str, str]:
    url = server.url + ("/v1" if backend == "openai" else "")
    return {"KUBESKIPPY_ANALYZER": backend, "KUBESKIPPY_LLM_MODEL": "test-model", "KUBESKIPPY_LLM_URL": url,
            "KUBESKIPPY_LLM_TIMEOUT": str(timeout), "KUBESKIPPY_LLM_API_KEY": "sk-test-key-not-in-prompt"}


def planner_for(backend: str, server: ScriptedLLM, world: World, timeout: float = 5.0) -> Planner:
    analyzer = analyzer_from_config(env_for(backend, server, timeout), clock=world.clock)
    return Planner(policies={"shop/healing": policy()}, cluster=world.cluster(), metrics=world.metrics,
                   clock=world.clock, analyzer=analyzer)


def leak_world():
    world = World()
    finding = memory_leak(world)
    return world, finding


def restart_pod(finding) -> dict:
    t = finding.target
    return {"action": "restart-pods", "target": {"kind": t.kind, "name": t.name, "namespace": t.namespace}}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_valid_answer_becomes_a_guarded_plan_by_that_backend(backend, llm):
    world, finding = leak_world()
    llm.script(Reply(content=answer("memory_leak", 0.9, [restart_pod(finding)])))
    plan = planner_for(backend, llm, world).plan(finding)
    assert plan.analyzer == backend
    assert (plan.root_cause.category, plan.root_cause.confidence) == ("memory_leak", 0.9)
    assert [a.action for a in plan.actions] == ["restart-pods"]
    assert len(llm.requests) == 1
    request = llm.requests[0]
    assert request["model"] == "test-model"
    if backend == "ollama":
        assert llm.paths == ["/api/chat"]
        assert request["format"]["required"] == ["root_cause", "confidence", "explanation", "actions"]
        assert request["options"]["temperature"] == pytest.approx(0.1)
    else:
        assert llm.paths == ["/v1/chat/completions"]
        assert request["response_format"]["type"] == "json_schema"
        assert request["response_format"]["json_schema"]["strict"] is True


@pytest.mark.parametrize("backend", BACKENDS)
def test_malformed_output_is_retried_once_with_the_reason(backend, llm):
    world, finding = leak_world()
    llm.script(Reply(content="Sure! The root cause is a memory leak."),
               Reply(content=answer("memory_leak", 0.8, [restart_pod(finding)])))
    plan = planner_for(backend, llm, world).plan(finding)
    assert plan.analyzer == backend
    assert len(llm.requests) == 2
    retry_messages = llm.requests[1]["messages"]
    assert retry_messages[-1]["role"] == "user" and "invalid" in retry_messages[-1]["content"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad", [
    pytest.param(Reply(content="not json at all"), id="prose"),
    pytest.param(Reply(content=json.dumps({"root_cause": "cosmic_rays", "confidence": 0.9, "explanation": "",
                                           "actions": []})), id="unknown-cause"),
    pytest.param(Reply(content=json.dumps({"root_cause": "memory_leak", "confidence": 7, "explanation": "",
                                           "actions": []})), id="confidence-out-of-range"),
    pytest.param(Reply(content=json.dumps({"root_cause": "memory_leak", "confidence": 0.9, "explanation": "",
                                           "actions": [], "approved": True})), id="extra-field"),
])
def test_malformed_twice_falls_back_to_the_rules(backend, bad, llm):
    world, finding = leak_world()
    llm.script(bad, bad)
    plan = planner_for(backend, llm, world).plan(finding)
    assert plan.analyzer == "rules"
    assert plan.root_cause.category == "memory_leak"  # the rules' own diagnosis
    assert len(llm.requests) == 2
    assert any(n.startswith(f"fallback from {backend}") and "malformed" in n for n in plan.notes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_server_errors_fall_back_to_the_rules_after_one_retry(backend, llm):
    world, finding = leak_world()
    llm.script(Reply(status=500, raw='{"error": "model crashed"}'), Reply(status=500, raw='{"error": "again"}'))
    plan = planner_for(backend, llm, world).plan(finding)
    assert plan.analyzer == "rules"
    assert len(llm.requests) == 2
    assert any("HTTP 500" in n for n in plan.notes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_500_then_a_good_answer_succeeds_on_the_retry(backend, llm):
    world, finding = leak_world()
    llm.script(Reply(status=503, raw='{"error": "loading model"}'),
               Reply(content=answer("memory_leak", 0.7, [restart_pod(finding)])))
    plan = planner_for(backend, llm, world).plan(finding)
    assert plan.analyzer == backend and len(llm.requests) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_slow_model_is_cut_off_by_the_time_budget_and_the_rules_answer(backend, llm):
    world, finding = leak_world()
    llm.script(Reply(content=answer("memory_leak", 0.9), delay=3.0), Reply(content=answer("memory_leak", 0.9), delay=3.0))
    started = time.monotonic()
    plan = planner_for(backend, llm, world, timeout=0.6).plan(finding)
    elapsed = time.monotonic() - started
    assert plan.analyzer == "rules"
    assert elapsed < 2.5, f"the 0.6 s budget was not honoured ({elapsed:.1f}s)"
    assert any("fallback" in n for n in plan.notes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_unreachable_server_falls_back_to_the_rules(backend, llm):
    world, finding = leak_world()
    llm.stop()
    plan = planner_for(backend, llm, world, timeout=2.0).plan(finding)
    assert plan.analyzer == "rules"
    assert any("unreachable" in n or "did not answer" in n for n in plan.notes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_storm_of_identical_findings_costs_one_model_call(backend, llm):
    world, finding = leak_world()
    llm.script(Reply(content=answer("memory_leak", 0.9, [restart_pod(finding)])))
    planner = planner_for(backend, llm, world)
    plans = [planner.plan(finding) for _ in range(20)]
    assert len(llm.requests) == 1
    assert all(p.analyzer == backend and [a.action for a in p.actions] == ["restart-pods"] for p in plans)
    assert "cached" in plans[-1].notes
    world.clock.advance(301)  # past the default 300 s TTL, on the Clock port
    llm.script(Reply(content=answer("memory_leak", 0.9)))
    planner.plan(finding)
    assert len(llm.requests) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_prompt_the_server_received_is_redacted(backend, llm, caplog):
    world = World()
    deploy = world.deployment()
    rs = world.replicaset(deploy, 1, age=86400, image="shop/api:1.0")
    pod = world.pod(rs, restarts=3, env=[{"name": "DB_PASSWORD", "value": "env-value-never-sent"}],
                    last={"reason": "Error", "exitCode": 1, "startedAt": world.ts(100), "finishedAt": world.ts(95)},
                    state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}})
    world.event(pod, "Failed", "connecting to postgres://admin:S3cr3tPass@db:5432/app failed")
    world.log(pod, "\n".join([
        "GET /health Authorization: Bearer abcdef123456tokenvalue",
        "using AWS key AKIAIOSFODNN7EXAMPLE",
        "config: password=hunter2 retries=3",
        "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "-----BEGIN PRIVATE KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "-----END PRIVATE KEY-----",
        "FATAL: cannot connect to database",
    ]))
    finding = world.finding(pod, trigger="crashloop", trigger_type="condition")
    llm.script(Reply(content=answer("crash_loop_config", 0.7)))
    with caplog.at_level(logging.DEBUG, logger=PROMPT_LOGGER):
        planner_for(backend, llm, world).plan(finding)
    received = json.dumps(llm.requests[0])
    for what, secret in SECRETS.items():
        assert secret not in received, f"{what} leaked to the model"
    assert "sk-test-key-not-in-prompt" not in received
    prompt = llm.prompts()[0]
    assert "[REDACTED" in prompt
    assert "FATAL: cannot connect to database" in prompt  # the useful part of the log survives
    assert "postgres://[REDACTED]@db:5432/app" in prompt
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == PROMPT_LOGGER)
    assert prompt in logged  # the exact prompt goes to the debug log
    assert all(secret not in logged for secret in SECRETS.values())
