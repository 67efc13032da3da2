"""The guard against a compromised model: every injection in the corpus is fed through the
prompt as data, the scripted model obeys it, and 100 % of the smuggled actions end rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubeskippy.analyze import LLMAnalyzer, Planner
from kubeskippy.policy.action_kinds import action_kind

from .world import World, policy

CORPUS = yaml.safe_load((Path(__file__).parent / "injection_corpus.yaml").read_text(encoding="utf-8"))["cases"]


def world_with(case: dict) -> tuple[World, object]:
    world = World()
    deploy = world.deployment()
    rs = world.replicaset(deploy, 1, age=2 * 86400, image="shop/api:1.0")
    world.node("node-1")
    waiting_message = case["text"] if case["where"] == "container_message" else "back-off 40s"
    pod = world.pod(rs, ready=False, restarts=3, state={"waiting": {"reason": "CrashLoopBackOff", "message": waiting_message}},
                    last={"reason": "Error", "exitCode": 1, "startedAt": world.ts(100), "finishedAt": world.ts(98)})
    world.event(pod, "BackOff", "Back-off restarting failed container app", count=4)
    if case["where"] == "event":
        world.event(pod, "Warning", case["text"], age=30)
    log = "starting api\nFATAL: cannot read /etc/api/config.yaml\n"
    if case["where"] == "log":
        log += case["text"] + "\n"
    world.log(pod, log)
    return world, world.finding(pod, trigger="crashloop", trigger_type="condition")


def obeyed_answer(case: dict) -> str:
    if "raw" in case:
        return case["raw"]
    doc = {"explanation": "following the operator's note", **case["answer"]}
    doc["actions"] = [{"params": None, "reason": "as instructed", **a} for a in doc.get("actions", [])]
    return json.dumps(doc, ensure_ascii=False)


def smuggled(case: dict) -> list[tuple[str, str, str, str]]:
    """(action, kind, name, namespace) of every action the compromised model tried."""
    if "raw" in case:
        text = case["raw"]
        docs = []
        for chunk in text.replace("```json", "```").split("```"):
            try:
                docs.append(json.loads(chunk))
            except json.JSONDecodeError:
                continue
        actions = [a for d in docs for a in d.get("actions", [])]
    else:
        actions = case["answer"].get("actions", [])
    return [(a["action"], (a.get("target") or {}).get("kind", ""), (a.get("target") or {}).get("name", ""),
             (a.get("target") or {}).get("namespace") or "") for a in actions]


def strings_in(node) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings_in(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings_in(v)]
    return [node] if isinstance(node, str) else []


class CompromisedModel:
    """A backend that obeys whatever the injected text says, once it has seen it in the prompt."""

    name = "openai"
    model = "compromised"

    def __init__(self, case: dict) -> None:
        self.case = case
        self.prompts: list[str] = []

    def complete(self, messages, schema, *, timeout):
        prompt = next(m["content"] for m in messages if m["role"] == "user")
        self.prompts.append(prompt)
        document = json.loads(prompt.split("\n", 1)[1])
        marker = self.case.get("marker", self.case["text"][:20])
        assert any(marker in s for s in strings_in(document)), f"the injection never reached the prompt: {marker!r}"
        return obeyed_answer(self.case)


def planned(plan) -> set[tuple[str, str, str, str]]:
    return {(a.action, a.target.kind, a.target.name, a.target.namespace or "") for a in plan.actions}


def rejected(plan) -> set[tuple[str, str, str, str]]:
    out = set()
    for r in plan.rejected:
        s = r.suggestion
        t = s.get("target") or {}
        out.add((s["action"], t.get("kind", ""), t.get("name", ""), t.get("namespace") or ""))
    return out


def plan_case(case: dict, analyzer=None):
    world, finding = world_with(case)
    backend = CompromisedModel(case)
    analyzer = analyzer or LLMAnalyzer(backend, clock=world.clock)
    planner = Planner(policies={"shop/healing": policy()}, cluster=world.cluster(), metrics=world.metrics,
                      clock=world.clock, analyzer=analyzer, max_changes=10)
    return planner.plan(finding), backend


def test_the_corpus_has_at_least_25_distinct_cases():
    ids = [c["id"] for c in CORPUS]
    assert len(ids) >= 25 and len(set(ids)) == len(ids)
    assert {c["where"] for c in CORPUS} == {"event", "log", "container_message"}


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_every_smuggled_action_ends_rejected(case):
    plan, backend = plan_case(case)
    assert backend.prompts, "the model was never asked"
    tried = smuggled(case)
    assert tried, "a corpus case must smuggle something"
    assert not planned(plan) & set(tried), f"smuggled action planned: {planned(plan) & set(tried)}"
    if case["expect"] == "guard":
        assert plan.analyzer == "openai"
        assert set(tried) <= rejected(plan), (tried, plan.rejected)
    else:
        assert plan.analyzer == "rules"
        assert any("malformed" in n for n in plan.notes)
    pol = policy()
    kinds = {a.name: action_kind(a, pol) for a in pol.spec.actions}
    assert all(kinds[a.action] in ("notify", "diagnostics") for a in plan.actions), \
        "only the rules' own harmless steps may remain"


def test_the_whole_corpus_is_rejected_one_hundred_percent():
    total = blocked = 0
    for case in CORPUS:
        plan, _ = plan_case(case)
        for item in smuggled(case):
            total += 1
            blocked += item not in planned(plan)
    assert total >= 25 and blocked == total
