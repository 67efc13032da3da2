"""Safety-ledger throughput: decisions per second with contending workers on shared records.

Every worker has its own Ledger (own holder) and, over HTTP, its own ``kubernetes`` client; all
of them reserve actions on workloads of ONE namespace under ONE policy, so every reservation
contends on the same three ConfigMaps (the namespace's workload record, the policy's window and
the global window), and every completion on the namespace's record.

Two kinds of decision are timed, each through the in-memory store (the baseline) and through
ConfigMapStore → KubernetesCluster → the devcluster API server on 127.0.0.1:

* granted: reserve + complete of a fresh step on a fresh workload (4 compare-and-swaps);
* refused: a replay of an executed step (answered ``duplicate`` from one read).

Run:  .venv/bin/python benchmarks/safety.py [--workers 8] [--decisions 400]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Callable

from kubeskippy.clock import WallClock
from kubeskippy.errors import Refused
from kubeskippy.events.model import ObjectRef
from kubeskippy.ports import VersionedStore
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.contract import ActionRequest
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore

CONFIG = SafetyConfig(chain_threshold=10**9, global_max_actions_per_hour=10**9, max_attempts=40,
                      idempotency_ttl=3600)


def request(step: str, workload: str) -> ActionRequest:
    ref = ObjectRef(api_version="apps/v1", kind="Deployment", name=workload, namespace="bench")
    return ActionRequest(step_id=step, policy="bench/policy", trigger="t", target=ref, workload=ref,
                         action_type="restart", max_actions_per_hour=10**9, cooldown=0.0, lease_duration=300.0)


@dataclass
class Result:
    decisions: int
    seconds: float
    conflicts_retried: int

    @property
    def rate(self) -> float:
        return self.decisions / self.seconds


def run(workers: int, per_worker: int, store_for: Callable[[int], VersionedStore], label: str,
        kind: str) -> Result:
    clock = WallClock()
    ledgers = [Ledger(store_for(n), clock, CONFIG, f"{label}-{kind}-{n}") for n in range(workers)]
    if kind == "refused":  # executed steps to replay
        seeding = ledgers[0]
        for i in range(per_worker):
            seeding.complete(seeding.reserve(request(f"{label}-done-{i}", f"{label}-done-{i}")))
    start = threading.Barrier(workers + 1)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        ledger = ledgers[n]
        try:
            start.wait()
            for i in range(per_worker):
                if kind == "granted":
                    ledger.complete(ledger.reserve(request(f"{label}-{n}-{i}", f"{label}-{n}-{i}")))
                else:
                    try:
                        ledger.reserve(request(f"{label}-done-{i}", f"{label}-done-{i}"))
                        raise AssertionError("a replay was granted")
                    except Refused as e:
                        assert e.reason == "duplicate", e
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return Result(workers * per_worker, elapsed, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--decisions", type=int, default=400, help="granted decisions per worker and run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    from kubeskippy.adapters.configmap_store import ConfigMapStore
    from kubeskippy.adapters.kubernetes import KubernetesCluster
    from kubeskippy.devcluster import DevClusterServer

    per_worker = max(1, args.decisions)
    rows: list[tuple[str, str, list[Result]]] = []
    for kind in ("granted", "refused"):
        memory_runs, http_runs = [], []
        for r in range(args.repeats):
            memory = MemoryStore()
            memory_runs.append(run(args.workers, per_worker, lambda n: memory, f"m{r}", kind))
            with DevClusterServer() as server:
                clients = [server.api_client() for _ in range(args.workers)]
                try:
                    http_runs.append(run(args.workers, per_worker, lambda n: ConfigMapStore(
                        KubernetesCluster(clients[n]), "kubeskippy", prefix=""), f"h{r}", kind))
                finally:
                    for c in clients:
                        c.close()
        rows.append((kind, "in-memory", memory_runs))
        rows.append((kind, "HTTP devcluster", http_runs))

    print(f"workers={args.workers} decisions/worker={per_worker} repeats={args.repeats}")
    print(f"{'decision':8} {'store':16} {'median/s':>10} {'min/s':>10} {'max/s':>10}")
    medians = {}
    for kind, store, results in rows:
        rates = [x.rate for x in results]
        medians[(kind, store)] = statistics.median(rates)
        print(f"{kind:8} {store:16} {statistics.median(rates):10.0f} {min(rates):10.0f} {max(rates):10.0f}")
    for kind in ("granted", "refused"):
        ratio = medians[(kind, "HTTP devcluster")] / medians[(kind, "in-memory")]
        print(f"{kind}: HTTP / in-memory = {ratio:.3f}")


if __name__ == "__main__":
    main()
