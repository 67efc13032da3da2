"""remediate: plans and HealingAction changes in; safety-checked actions, outcomes,
verifications and notifications out. The PingSource tick checks due verifications and expires
unanswered approvals."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from ..clock import WallClock
from ..errors import InvalidInput
from ..events.cloudevents import as_cloudevent, decode_payload, make_event
from ..events.types import (APISERVER_REF_PREFIX, APISERVER_RESOURCE_PREFIX, NOTIFICATION, OUTCOME, PING_TYPE, PLAN,
                            VERIFICATION)
from ..remediate.executor import Remediator
from ..remediate.result import RemediationResult
from ..safety.config import SafetyConfig
from ..safety.ledger import Ledger
from .config import Lazy, PolicySource, cluster_from_config, float_setting, namespace_from_config
from .fanout import ThreadFanout
from .request_cache import RequestCachedCluster

__all__ = ["RemediateService", "build", "safety_config_from"]


def safety_config_from(cfg: Mapping[str, str]) -> SafetyConfig:
    cap = cfg.get("KUBESKIPPY_GLOBAL_MAX_ACTIONS_PER_HOUR")
    kwargs: dict[str, Any] = {}
    if cap not in (None, ""):
        kwargs["global_max_actions_per_hour"] = int(float_setting(cfg, "KUBESKIPPY_GLOBAL_MAX_ACTIONS_PER_HOUR", 0))
    if cfg.get("KUBESKIPPY_MAX_UNAVAILABLE_FRACTION"):
        kwargs["max_unavailable_fraction"] = float_setting(cfg, "KUBESKIPPY_MAX_UNAVAILABLE_FRACTION", 0.34)
    return SafetyConfig(**kwargs)


class RemediateService:
    def __init__(self, cfg: Mapping[str, str]) -> None:
        self.clock = WallClock()
        self.cluster = cluster_from_config(cfg)
        self.policies = PolicySource(cfg, self.cluster)
        self.namespace = namespace_from_config(cfg)
        self.safety = safety_config_from(cfg)
        self.holder = cfg.get("HOSTNAME") or cfg.get("K_REVISION") or f"remediate-{os.getpid()}"
        # One request's repeated reads (the Deployment, its ReplicaSets) are served once; any write
        # (the HealingAction, the ledger's ConfigMaps, the action) drops them.
        self.cached_cluster = Lazy(lambda: RequestCachedCluster(self.cluster.get()))
        self.remediator = Lazy(self._build_remediator)

    def _build_remediator(self) -> Remediator:
        from ..adapters.configmap_store import ConfigMapStore

        cluster = self.cached_cluster.get()
        fanout = ThreadFanout()
        ledger = Ledger(ConfigMapStore(cluster, self.namespace, prefix=""), self.clock, self.safety, self.holder,
                        fanout=fanout)
        return Remediator(cluster=cluster, ledger=ledger, clock=self.clock,
                          policies=self.policies.get, holder=self.holder,
                          protection=self.safety, namespace_for_actions=self.namespace, fanout=fanout)

    def handle(self, event: Any) -> Sequence[Any]:
        with self.cached_cluster.get().scope():
            return self._handle(event)

    def _handle(self, event: Any) -> Sequence[Any]:
        ce = as_cloudevent(event)
        event_type = ce["type"]
        remediator = self.remediator.get()
        if event_type == PLAN:
            result = remediator.execute(decode_payload(ce))  # its outcomes carry what learning needs
        elif event_type.startswith((APISERVER_RESOURCE_PREFIX, APISERVER_REF_PREFIX)):
            # Imported here: the ingest package (with Alertmanager's wire models) is ~12 M
            # instructions that a Plan, remediate's usual first event, never needs.
            from ..ingest.apiserver import decode_apiserver_event

            observed = decode_apiserver_event(ce, self.cached_cluster.get(), clock=self.clock)
            result = remediator.on_healing_action_update(observed.obj) if observed.verb != "delete" \
                else RemediationResult()
        elif event_type == PING_TYPE:
            result = RemediationResult(verifications=remediator.verify_pending())
            result.outcomes.extend(remediator.expire_approvals())
            result.merge(remediator.recover_stalled())  # steps whose replica died mid-way
        else:
            raise InvalidInput(f"type: remediate does not handle {event_type!r}; its Triggers send {PLAN}, "
                               "HealingAction updates and PingSource ticks")
        return events_of(result)


def events_of(result: RemediationResult) -> list[Any]:
    return ([make_event(OUTCOME, o, function="remediate") for o in result.outcomes]
            + [make_event(VERIFICATION, v, function="remediate") for v in result.verifications]
            + [make_event(NOTIFICATION, n, function="remediate") for n in result.notifications])


def build(cfg: Mapping[str, str]) -> tuple[RemediateService, list]:
    return RemediateService(cfg), []
