"""A small world for remediation tests: the Kubernetes API double (MemoryCluster + Controller),
a real safety Ledger on a MemoryStore, a ManualClock, and builders for policies and plans."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import Controller, MemoryCluster, ObjectStore
from kubeskippy.devcluster import builders as b
from kubeskippy.events.model import Finding, ObjectRef, Plan, PlannedAction, RootCause
from kubeskippy.policy.model import HealingPolicy
from kubeskippy.remediate import Remediator
from kubeskippy.safety import Ledger, MemoryStore, SafetyConfig

__all__ = ["World", "policy", "plan_for", "ref"]

_ids = itertools.count(1)


def policy(name: str = "heal", namespace: str = "default", *, mode: str = "automatic",
           actions: list[dict] | None = None, safety: dict | None = None,
           annotations: dict | None = None) -> HealingPolicy:
    return HealingPolicy.model_validate({
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations or {}},
        "spec": {
            "mode": mode,
            "selector": {"resources": [{"apiVersion": "apps/v1", "kind": "Deployment"}]},
            "triggers": [{"name": "crash", "type": "condition", "cooldownPeriod": "5m",
                          "conditionTrigger": {"type": "CrashLoopBackOff", "status": "True"}}],
            "actions": actions or [{"name": "restart-it", "type": "restart"}],
            "safetyRules": {"maxActionsPerHour": 10, **(safety or {})},
        },
    })


def ref(obj: dict) -> ObjectRef:
    return ObjectRef.of(obj)


def plan_for(pol: HealingPolicy, target: dict, *steps: tuple[str, str, dict], plan_id: str | None = None,
             owners: list[dict] = (), now: float = 1_700_000_000.0) -> Plan:
    """A plan of (action name, type, params) steps on ``target``."""
    finding = Finding(id=f"f-{next(_ids)}", policy=f"{pol.namespace}/{pol.name}", trigger="crash",
                      trigger_type="condition", target=ref(target), owner_chain=[ref(o) for o in owners],
                      fingerprint=f"fp-{ref(target).name}", observed_at=now)
    return Plan(id=plan_id or f"plan-{next(_ids)}", finding=finding,
                root_cause=RootCause(category="unknown", confidence=0.9, explanation="test"), analyzer="rules",
                actions=[PlannedAction(action=a, type=t, target=ref(target), params=p, reason="test reason")
                         for a, t, p in steps], created_at=now)


@dataclass
class World:
    clock: ManualClock = field(default_factory=ManualClock)
    config: SafetyConfig = field(default_factory=SafetyConfig)
    policies: dict[str, HealingPolicy] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.store = ObjectStore(self.clock, seed=1)
        self.cluster = MemoryCluster(self.store, sleep=self.clock.advance)
        self.controller = Controller(self.store)
        self.safety_store = MemoryStore()
        self.ledger = Ledger(self.safety_store, self.clock, self.config, holder="replica-1", sleep=lambda s: None)

    def add_policy(self, pol: HealingPolicy) -> HealingPolicy:
        self.policies[f"{pol.namespace}/{pol.name}"] = pol
        return pol

    def remediator(self, holder: str = "replica-1", **kw: Any) -> Remediator:
        ledger = self.ledger if holder == "replica-1" else Ledger(self.safety_store, self.clock, self.config,
                                                                  holder=holder, sleep=lambda s: None)
        return Remediator(cluster=self.cluster, ledger=ledger, clock=self.clock, policies=self.policies,
                          holder=holder, protection=self.config, **kw)

    def deployment(self, name: str = "web", namespace: str = "default", replicas: int = 3, **kw: Any) -> dict:
        self.cluster.create(b.deployment(name, namespace, replicas=replicas, **kw))
        self.controller.settle()
        return self.get("apps/v1", "Deployment", name, namespace)

    def pods(self, namespace: str = "default", selector: str | None = None) -> list[dict]:
        return sorted(self.cluster.list("v1", "Pod", namespace, label_selector=selector),
                      key=lambda p: p["metadata"]["name"])

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = "default") -> dict:
        return self.cluster.get(api_version, kind, name, namespace)

    def healing_actions(self, namespace: str | None = None) -> list[dict]:
        return self.cluster.list("kubeskippy.io/v1alpha1", "HealingAction", namespace)

    def events(self, namespace: str = "default", reason: str | None = None) -> list[dict]:
        return [e for e in self.cluster.list("v1", "Event", namespace)
                if reason is None or e.get("reason") == reason]
