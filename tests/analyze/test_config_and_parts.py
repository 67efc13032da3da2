"""Analyzer selection from the environment, trends, the cache, action kinds and answer parsing."""

from __future__ import annotations

import threading

import pytest

from kubeskippy.analyze import LLMAnalyzer, RulesAnalyzer, analyzer_from_config, llm_settings_from_env
from kubeskippy.policy.action_kinds import CUSTOM_ACTIONS_ANNOTATION, action_kind, action_params
from kubeskippy.analyze.cache import TTLCache, analysis_key
from kubeskippy.analyze.prompt import ANSWER_SCHEMA, AnswerError, parse_answer
from kubeskippy.analyze.trends import fit_line, trend_of
from kubeskippy.clock import ManualClock
from kubeskippy.errors import InvalidInput
from kubeskippy.events.model import Evidence
from kubeskippy.policy.model import HealingActionTemplate

from .scenarios import memory_leak
from .world import World, policy


def test_the_rules_analyzer_is_the_default():
    assert isinstance(analyzer_from_config({}), RulesAnalyzer)
    assert isinstance(analyzer_from_config({"KUBESKIPPY_ANALYZER": "rules"}), RulesAnalyzer)


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_an_llm_backend_is_chosen_by_configuration_without_contacting_it(backend):
    analyzer = analyzer_from_config({"KUBESKIPPY_ANALYZER": backend, "KUBESKIPPY_LLM_MODEL": "m",
                                     "KUBESKIPPY_LLM_URL": "http://127.0.0.1:9", "KUBESKIPPY_LLM_TIMEOUT": "7.5"})
    assert isinstance(analyzer, LLMAnalyzer)
    assert (analyzer.name, analyzer.backend.model, analyzer.budget) == (backend, "m", 7.5)


def test_every_bad_variable_is_named():
    with pytest.raises(InvalidInput) as e:
        llm_settings_from_env({"KUBESKIPPY_ANALYZER": "openai", "KUBESKIPPY_LLM_TIMEOUT": "soon",
                               "KUBESKIPPY_LLM_TEMPERATURE": "9", "KUBESKIPPY_LLM_URL": "ftp://x"})
    paths = {err.path for err in e.value.errors}
    assert paths == {"KUBESKIPPY_LLM_MODEL", "KUBESKIPPY_LLM_TIMEOUT", "KUBESKIPPY_LLM_TEMPERATURE", "KUBESKIPPY_LLM_URL"}


def test_an_unknown_analyzer_is_rejected():
    with pytest.raises(InvalidInput, match="KUBESKIPPY_ANALYZER"):
        analyzer_from_config({"KUBESKIPPY_ANALYZER": "oracle"})


def test_the_public_openai_endpoint_needs_a_key():
    with pytest.raises(InvalidInput, match="KUBESKIPPY_LLM_API_KEY"):
        llm_settings_from_env({"KUBESKIPPY_ANALYZER": "openai", "KUBESKIPPY_LLM_MODEL": "gpt-4o-mini"})


def test_azure_is_selected_by_an_api_version():
    analyzer = analyzer_from_config({"KUBESKIPPY_ANALYZER": "openai", "KUBESKIPPY_LLM_MODEL": "dep",
                                     "KUBESKIPPY_LLM_URL": "https://example.openai.azure.com",
                                     "KUBESKIPPY_LLM_API_KEY": "k", "KUBESKIPPY_LLM_API_VERSION": "2024-06-01"})
    assert type(analyzer.backend._client).__name__ == "AzureOpenAI"


def test_a_line_fit_recovers_slope_and_fit_quality():
    line = fit_line([(1_700_000_000 + i, 3.0 + 2.0 * i) for i in range(10)])
    assert line.slope == pytest.approx(2.0) and line.r2 == pytest.approx(1.0)
    assert fit_line([(0, 1), (1, 2)]) is None
    assert fit_line([(5, 1), (5, 2), (5, 3)]) is None


def test_a_flat_series_never_reaches_its_limit_and_nan_samples_are_dropped():
    tr = trend_of("memory", [(0, 10.0), (30, float("nan")), (60, 10.0), (90, 10.0)], limit=20.0)
    assert len(tr.points) == 3 and tr.seconds_to_limit(90) is None
    assert tr.growth_fraction_of_limit() == pytest.approx(0.0)


def test_the_cache_expires_on_the_clock_and_is_bounded():
    clock = ManualClock()
    cache: TTLCache[int] = TTLCache(clock, ttl=10, max_entries=2)
    cache.put("a", 1)
    clock.advance(9.9)
    assert cache.get("a") == 1
    clock.advance(0.1)
    assert cache.get("a") is None
    for k in "bcd":
        cache.put(k, 1)
    assert cache.get("b") is None and cache.get("d") == 1


def test_concurrent_identical_requests_compute_once():
    cache: TTLCache[int] = TTLCache(ManualClock())
    calls = []
    gate = threading.Event()

    def compute():
        calls.append(1)
        gate.wait(2)
        return 42, None

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute))) for _ in range(5)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert len(calls) == 1 and sorted(r[1] for r in results) == [False, True, True, True, True]


def test_the_cache_key_ignores_evidence_timestamps_but_not_evidence():
    world = World()
    f = memory_leak(world)
    a = f.model_copy(update={"evidence": [Evidence(kind="metric", description="m", value=1.0, since=1.0)]})
    b = f.model_copy(update={"evidence": [Evidence(kind="metric", description="m", value=1.0, since=99.0)]})
    c = f.model_copy(update={"evidence": [Evidence(kind="metric", description="m", value=2.0)]})
    assert analysis_key(a, "p", "x") == analysis_key(b, "p", "x") != analysis_key(c, "p", "x")


def test_custom_action_kinds_come_from_the_executors_annotation_then_keywords():
    pol = policy()
    kinds = {a.name: action_kind(a, pol) for a in pol.spec.actions}
    assert kinds == {"restart-pods": "restart", "scale-up": "scale", "raise-memory-limit": "raise_limit",
                     "rollback-deployment": "rollback", "capture-diagnostics": "diagnostics",
                     "notify-oncall": "notify", "delete-pod": "delete", "cordon-node": "cordon_drain"}
    undo = HealingActionTemplate.model_validate({"name": "undo-release", "type": "custom"})
    assert action_kind(undo) == "rollback"
    mystery = HealingActionTemplate.model_validate({"name": "frobnicate", "type": "custom"})
    assert action_kind(mystery) == "custom" and action_params(mystery, "custom") == {}
    assert CUSTOM_ACTIONS_ANNOTATION == "kubeskippy.io/custom-actions"


def test_the_annotation_key_is_the_one_the_executor_reads():
    naming = pytest.importorskip("kubeskippy.remediate.naming", reason="remediation not installed in this tree")
    assert naming.ANN_CUSTOM_ACTIONS == CUSTOM_ACTIONS_ANNOTATION


def test_the_answer_schema_is_strict_mode_compatible():
    def check(node):
        if isinstance(node, dict):
            if node.get("type") == "object":
                assert node["additionalProperties"] is False
                assert set(node["required"]) == set(node["properties"])
            for v in node.values():
                check(v)
        elif isinstance(node, list):
            for v in node:
                check(v)
    check(ANSWER_SCHEMA)


def test_a_fenced_answer_is_accepted_but_trailing_text_is_not():
    world = World()
    from kubeskippy.analyze.context import ContextGatherer
    ctx = ContextGatherer(cluster=world.cluster(), metrics=None, clock=world.clock).gather(memory_leak(world))
    body = '{"root_cause": "memory_leak", "confidence": 0.5, "explanation": "x", "actions": []}'
    root, _ = parse_answer("```json\n" + body + "\n```", ctx)
    assert root.category == "memory_leak"
    with pytest.raises(AnswerError, match="not JSON"):
        parse_answer(body + " I hope this helps!", ctx)


def test_only_hosted_openai_gets_the_schema_without_length_limits():
    from kubeskippy.adapters.llm_openai import OpenAIChat, wire_schema
    assert OpenAIChat(model="m", base_url="https://api.openai.com/v1", api_key="k").hosted
    assert OpenAIChat(model="m", base_url="https://x.openai.azure.com", api_key="k", api_version="2024-06-01").hosted
    assert not OpenAIChat(model="m", base_url="http://127.0.0.1:8080/v1").hosted
    stripped = wire_schema(ANSWER_SCHEMA)
    assert "maxLength" not in str(stripped) and "maxLength" in str(ANSWER_SCHEMA)
    assert stripped["properties"]["actions"]["maxItems"] == 8
