"""Ledger.reads_ahead: the reads it hands out are exactly the ones reserve() then needs."""

from __future__ import annotations

import pytest

from kubeskippy.adapters.configmap_store import ConfigMapStore
from kubeskippy.clock import ManualClock
from kubeskippy.devcluster.memory_cluster import MemoryCluster
from kubeskippy.events.model import ObjectRef
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.contract import ActionRequest
from kubeskippy.safety.ledger import Ledger
from kubeskippy.services.request_cache import RequestCachedCluster


class CountingCluster(MemoryCluster):
    def __init__(self) -> None:
        super().__init__()
        self.config_map_reads = 0

    def get(self, api_version, kind, name, namespace=None):
        self.config_map_reads += kind == "ConfigMap"
        return super().get(api_version, kind, name, namespace)


def _request(observe_only: bool) -> ActionRequest:
    pod = ObjectRef(api_version="v1", kind="Pod", name="web-1", namespace="apps")
    workload = ObjectRef(api_version="apps/v1", kind="Deployment", name="web", namespace="apps")
    return ActionRequest(step_id="plan-1:recreate", policy="apps/heal", trigger="crash", target=pod,
                         workload=workload, action_type="delete", max_actions_per_hour=5, cooldown=300.0,
                         lease_duration=300.0, observe_only=observe_only)


@pytest.mark.parametrize("observe_only,records", [(False, 2), (True, 1)])
@pytest.mark.parametrize("global_cap", [None, 100])
def test_reserve_needs_no_read_beyond_the_ones_made_ahead(observe_only, records, global_cap):
    inner = CountingCluster()
    inner.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubeskippy"}})
    cached = RequestCachedCluster(inner)
    ledger = Ledger(ConfigMapStore(cached, "kubeskippy", prefix=""), ManualClock(),
                    SafetyConfig(global_max_actions_per_hour=global_cap), "replica-1")
    request = _request(observe_only)
    with cached.scope():
        calls = ledger.reads_ahead(request)
        for call in calls:
            call()
        assert len(calls) == records and inner.config_map_reads == records
        ledger.reserve(request)
    assert inner.config_map_reads == records
