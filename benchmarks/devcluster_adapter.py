"""How much the raw-JSON adapter saves over the typed kubernetes client, on the same server.

Both sides talk to one DevClusterServer on 127.0.0.1 in the same run: the typed client
(``CoreV1Api``, which deserialises into model classes) is the baseline, ``KubernetesCluster`` (raw
``call_api`` + ``json.loads``) the candidate; MemoryCluster (no HTTP) shows the floor.

    .venv/bin/python benchmarks/devcluster_adapter.py [--pods 200] [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

from kubernetes import client

from kubeskippy.adapters.kubernetes import KubernetesCluster
from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import MemoryCluster, ObjectStore
from kubeskippy.devcluster.builders import container, pod
from kubeskippy.devcluster.server import DevClusterServer


def _median_seconds(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm up connections and caches
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    store = ObjectStore(ManualClock(), seed=1)
    store.load([pod(f"web-{i}", labels={"app": "web", "shard": str(i % 4)}, node="n1", phase="Running", ready=True,
                    containers=[container("app", env=[{"name": f"V{j}", "value": "x" * 20} for j in range(10)])])
                for i in range(args.pods)])
    with DevClusterServer(store) as server, server.api_client() as api:
        typed = client.CoreV1Api(api)
        raw = KubernetesCluster(api)
        memory = MemoryCluster(store)
        rows = [
            ("list all pods", lambda: typed.list_namespaced_pod("default"),
             lambda: raw.list("v1", "Pod", "default"), lambda: memory.list("v1", "Pod", "default")),
            ("list pods shard=1", lambda: typed.list_namespaced_pod("default", label_selector="shard=1"),
             lambda: raw.list("v1", "Pod", "default", label_selector="shard=1"),
             lambda: memory.list("v1", "Pod", "default", label_selector="shard=1")),
            ("get one pod", lambda: typed.read_namespaced_pod("web-7", "default"),
             lambda: raw.get("v1", "Pod", "web-7", "default"), lambda: memory.get("v1", "Pod", "web-7", "default")),
        ]
        print(f"{args.pods} pods, median of {args.rounds} rounds")
        print(f"{'operation':<20}{'typed client':>14}{'adapter':>12}{'memory':>12}{'typed/adapter':>15}")
        for name, typed_fn, raw_fn, memory_fn in rows:
            t = _median_seconds(typed_fn, args.rounds)
            r = _median_seconds(raw_fn, args.rounds)
            m = _median_seconds(memory_fn, args.rounds)
            print(f"{name:<20}{t * 1000:>12.2f}ms{r * 1000:>10.2f}ms{m * 1000:>10.2f}ms{t / r:>14.1f}x")


if __name__ == "__main__":
    main()
