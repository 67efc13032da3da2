"""The same contention, through ConfigMapStore and the real kubernetes client against the
devcluster API server over HTTP: eight replicas, each with its own client, one namespace."""

from __future__ import annotations

import random

import pytest

from kubeskippy.adapters.configmap_store import ConfigMapStore
from kubeskippy.adapters.kubernetes import KubernetesCluster
from kubeskippy.devcluster import DevClusterServer, ObjectStore
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.ledger import Ledger

from .builders import SleepRecorder
from .concurrency import BUSY, STRICT, assert_exactly_the_limit_ran, run_contention


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [pytest.param(STRICT, id="limit-5"), pytest.param(BUSY, id="limit-60")])
def test_eight_replicas_over_http_run_exactly_the_limit_with_no_duplicate_and_no_overlap(clock, scenario):
    config = SafetyConfig(max_attempts=30, chain_threshold=10**6, workload_shards=1)  # one record: most contention
    clients = []
    with DevClusterServer(ObjectStore(clock)) as server:
        def make(holder: str) -> Ledger:
            client = server.api_client()
            clients.append(client)
            store = ConfigMapStore(KubernetesCluster(client), "kubeskippy", prefix="")
            return Ledger(store, clock, config, holder, sleep=SleepRecorder(), rng=random.Random(holder))

        try:
            tracker = run_contention(scenario, make)
            assert_exactly_the_limit_ran(scenario, tracker, make("inspector"))
            updates = [r for r in server.requests if r.verb == "update"]
        finally:
            for client in clients:
                client.close()
    if scenario is BUSY:  # with five grants in all, a race on a write is likely but not certain
        assert any(r.status == 409 for r in updates), "the replicas never raced"
    names = {r.path.rsplit("/", 1)[1] for r in updates}
    # two records: the namespace's leases and the rate windows (the policy's and the global cap's)
    assert names == {"kubeskippy-safety-global", "kubeskippy-safety-w-prod-0"}
