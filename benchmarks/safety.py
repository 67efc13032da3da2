"""Safety-ledger throughput: decisions per second with 8 contending workers on shared records.

Each worker has its own Ledger (its own holder) and, over HTTP, its own API client.
All of them decide about workloads of ONE namespace under ONE policy, so they contend on the same
ConfigMaps: the namespace's workload record (leases, executed steps, cooldowns, chains), the
policy's window and the global window. The devcluster API server runs in its own process, as an
API server would; the workers are threads of this process. Each run is repeated, fresh state
each time, through two stores in the same run:

* in-memory: MemoryStore (the baseline);
* HTTP: ConfigMapStore → KubernetesCluster.for_url (the functions' standard-library client) → devcluster
  on 127.0.0.1.

Decision mixes:

* storm: the concurrency tests' stream — 400 distinct plans replayed to 1,000 per 8 workers... scaled
  by --plans, on 9 workloads, limit 5 an hour, cooldown 10 min: nearly every decision is a
  refusal (duplicate / leased / cooldown / rate_limited), as in an alert storm;
* refused: replays of executed steps only (``duplicate``);
* granted: every decision grants (fresh step, fresh workload) and is followed by complete();
* ceiling (the baseline of the granted mix): each worker only increments a counter in one shared
  ConfigMap by compare-and-swap (read, +1, replace; the ledger's retry loop and backoff) — the
  most successful writes per second 8 contending workers get out of one record here. A grant
  and its completion need three writes (two of them to the namespace's record), so a third of
  this is what the granted mix could reach if the ledger itself cost nothing.

Run:  .venv/bin/python benchmarks/safety.py [--workers 8] [--plans 1000] [--granted 40] [--repeats 3]

The decisions/s column of the ceiling mix counts successful writes.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import statistics
import threading
import time
from collections import Counter
from typing import Callable

from kubeskippy.clock import WallClock
from kubeskippy.errors import Refused, TemporaryError
from kubeskippy.events.model import ObjectRef
from kubeskippy.ports import VersionedStore
from kubeskippy.safety.cas import Backoff, Change, update_record
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.contract import ActionRequest
from kubeskippy.safety.ledger import Ledger
from kubeskippy.safety.memory_store import MemoryStore
from kubeskippy.services.fanout import ThreadFanout

MIXES = ("storm", "refused", "granted", "ceiling")
CONFIG = SafetyConfig(max_attempts=40, global_max_actions_per_hour=10**6)  # the global window is still kept


def request(step: str, workload: str, *, limit: int, cooldown: float) -> ActionRequest:
    """``step`` and ``workload`` start with the run's tag, which also names the namespace (and so
    the records): every run starts from empty records."""
    ref = ObjectRef(api_version="apps/v1", kind="Deployment", name=workload, namespace=f"bench-{step.split('-')[0]}")
    return ActionRequest(step_id=step, policy=f"{ref.namespace}/policy", trigger="t", target=ref, workload=ref,
                         action_type="restart", max_actions_per_hour=limit, cooldown=cooldown, lease_duration=300.0)


def streams(mix: str, workers: int, plans: int, granted: int, tag: str) -> list[list[ActionRequest]]:
    """Each worker's list of requests for one run."""
    if mix == "storm":
        stream = [request(f"{tag}-plan-{i % 400}", f"{tag}-w{(i % 400) % 9}", limit=5, cooldown=600.0)
                  for i in range(plans)]
        random.Random(11).shuffle(stream)
        return [stream[n::workers] for n in range(workers)]
    if mix == "refused":
        return [[request(f"{tag}-done-{i}", f"{tag}-done-{i}", limit=10**6, cooldown=0.0)
                 for i in range(plans // workers)] for _ in range(workers)]
    count = granted * 3 if mix == "ceiling" else granted  # as many writes as the granted mix makes
    return [[request(f"{tag}-{n}-{i}", f"{tag}-{n}-{i}", limit=10**6, cooldown=0.0) for i in range(count)]
            for n in range(workers)]


def prepare(mix: str, ledger: Ledger, tag: str, plans: int, workers: int) -> None:
    if mix == "refused":  # the steps the workers will replay
        for i in range(plans // workers):
            ledger.complete(ledger.reserve(request(f"{tag}-done-{i}", f"{tag}-done-{i}", limit=10**6,
                                                   cooldown=0.0)))


def run(mix: str, stores: list[VersionedStore], per_worker: list[list[ActionRequest]]) -> tuple[int, float, Counter]:
    """(decisions, seconds, outcomes) of one run with one worker per store."""
    clock = WallClock()
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(stores) + 1)
    errors: list[BaseException] = []

    def increment(data: dict[str, str]) -> Change[None]:
        data["n"] = str(int(data.get("n", "0")) + 1)
        return Change(None)

    def worker(n: int) -> None:
        fanout = ThreadFanout(workers=2)  # as each remediate replica has: lease and slot written at once
        ledger = Ledger(stores[n], clock, CONFIG, f"worker-{n}", fanout=fanout)
        backoff, rng = Backoff(CONFIG.max_attempts, CONFIG.backoff_base, CONFIG.backoff_cap), random.Random(n)
        try:
            start.wait()
            if mix == "ceiling":
                for req in per_worker[n]:
                    update_record(stores[n], f"{req.workload.namespace}-ceiling", increment, backoff=backoff,
                                  sleep=time.sleep, rng=rng, max_bytes=CONFIG.max_record_bytes)
                with lock:
                    outcomes["written"] += len(per_worker[n])
                return
            for req in per_worker[n]:
                try:
                    reservation = ledger.reserve(req)
                except Refused as e:
                    outcome = e.reason
                except TemporaryError:
                    outcome = "temporary"
                else:
                    ledger.complete(reservation)
                    outcome = "granted"
                with lock:
                    outcomes[outcome] += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            fanout.shutdown()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return sum(outcomes.values()), elapsed, outcomes


def _serve(conn) -> None:  # runs in the server process
    from kubeskippy.devcluster import DevClusterServer

    logging.basicConfig(level=logging.ERROR)
    with DevClusterServer() as server:
        conn.send(server.port)
        conn.recv()  # until told to stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--plans", type=int, default=1000, help="decisions per run in the storm and refused mixes")
    parser.add_argument("--granted", type=int, default=40, help="granted decisions per worker and run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    from kubeskippy.adapters.configmap_store import ConfigMapStore
    from kubeskippy.adapters.kubernetes import KubernetesCluster

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    port = parent.recv()

    def http_stores(tag: str) -> tuple[list[VersionedStore], Callable[[], None]]:
        """One client per worker, as the remediate function builds it; the run's tag prefixes
        every record, so each run starts empty."""
        clusters = [KubernetesCluster.for_url(f"http://127.0.0.1:{port}") for _ in range(args.workers)]
        stores = [ConfigMapStore(c, "kubeskippy", prefix=f"{tag}-") for c in clusters]
        return stores, lambda: [c.api_client.close() for c in clusters]

    results: dict[tuple[str, str], list[tuple[int, float, Counter]]] = {}
    try:
        for mix in MIXES:
            for r in range(args.repeats):
                for backend in ("in-memory", "HTTP"):
                    tag = f"{mix[0]}{r}{backend[0].lower()}"
                    if backend == "in-memory":
                        memory = MemoryStore()
                        stores, close = [memory] * args.workers, (lambda: None)
                    else:
                        stores, close = http_stores(tag)
                    try:
                        prepare(mix, Ledger(stores[0], WallClock(), CONFIG, "preparer"), tag, args.plans, args.workers)
                        per_worker = streams(mix, args.workers, args.plans, args.granted, tag)
                        results.setdefault((mix, backend), []).append(run(mix, stores, per_worker))
                    finally:
                        close()
    finally:
        parent.send("stop")
        server.join(timeout=10)

    print(f"workers={args.workers} plans={args.plans} granted/worker={args.granted} repeats={args.repeats} "
          f"cpus={multiprocessing.cpu_count()}")
    print(f"{'mix':8} {'store':10} {'decisions/s median':>19} {'min':>8} {'max':>8}  outcomes (last run)")
    medians = {}
    for (mix, backend), runs in results.items():
        rates = [d / s for d, s, _ in runs]
        medians[(mix, backend)] = statistics.median(rates)
        print(f"{mix:8} {backend:10} {statistics.median(rates):19.0f} {min(rates):8.0f} {max(rates):8.0f}  "
              f"{dict(runs[-1][2])}")
    for mix in MIXES:
        print(f"{mix}: HTTP / in-memory = {medians[(mix, 'HTTP')] / medians[(mix, 'in-memory')]:.4f}")
    print(f"granted over HTTP: {medians[('granted', 'HTTP')] / (medians[('ceiling', 'HTTP')] / 3):.2f} of the "
          f"ceiling's writes/s divided by the 3 writes a grant needs")


if __name__ == "__main__":
    main()
