"""Benchmark: rules analysis throughput, in process.

Each finding goes through the whole Planner: context gathering from an in-memory cluster
(target, owners, pods, node, ReplicaSets, events, logs) and an in-memory Metrics fake (four
range queries per pod, 61 points each), the rules analyzer, the guard and plan construction.
Two in-memory clusters are measured: ``IndexedCluster`` below (objects indexed by kind and
namespace, read-only, no copies: the cost of analysis itself) and the devcluster's MemoryCluster
(a faithful API-server double that deep-copies every object and scans every object of a kind on
each list: an upper bound on port overhead). Workloads cycle through every scenario of tests/analyze/scenarios.py, so every rule
fires. Also reported, from the same run: the analysis step alone on pre-gathered contexts, and
the whole plan with learning on (an in-memory VersionedStore).

    .venv/bin/python benchmarks/analyze.py [--findings N] [--workloads W]

Target (docs/analysis.md): ≥ 2,000 findings/s for the full rules path.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kubeskippy.analyze import EffectivenessStore, Planner, RulesAnalyzer  # noqa: E402
from kubeskippy.analyze.context import ContextGatherer  # noqa: E402
from kubeskippy.clock import ManualClock  # noqa: E402
from kubeskippy.errors import APINotFound  # noqa: E402
from kubeskippy.devcluster.memory_cluster import MemoryCluster  # noqa: E402
from kubeskippy.safety.memory_store import MemoryStore  # noqa: E402
from tests.analyze.scenarios import SCENARIOS  # noqa: E402
from tests.analyze.world import SeriesMetrics, World, policy  # noqa: E402


def build(workloads: int):
    """W workloads, each a scenario in its own namespace, all in one cluster and one metrics fake."""
    clock = ManualClock(1_700_000_000.0)
    metrics = SeriesMetrics()
    cluster = MemoryCluster()
    everything: list[dict] = []
    logs: dict[tuple[str, str, str], str] = {}
    findings, policies = [], {}
    names = list(SCENARIOS)
    for i in range(workloads):
        world = World(clock=clock, namespace=f"ns-{i}", metrics=metrics)
        build_scenario, _ = SCENARIOS[names[i % len(names)]]
        finding = build_scenario(world)
        pol = policy()
        pol.metadata.namespace = f"ns-{i}"
        finding = finding.model_copy(update={"policy": f"ns-{i}/healing"})
        policies[f"ns-{i}/healing"] = pol
        for obj in world.objects:  # one node per workload, so one node's pressure stays its own
            if obj["kind"] == "Pod":
                obj["spec"]["nodeName"] = f"node-{i}"
            elif obj["kind"] == "Node":
                obj["metadata"]["name"] = f"node-{i}"
        cluster.seed(world.objects)
        everything.extend(world.objects)
        for (pod, container), text in world.logs.items():
            cluster.store.set_log(world.namespace, pod, text, container=container)
            logs[(world.namespace, pod, container)] = text
        findings.append(finding)
    return clock, IndexedCluster(everything, logs), cluster, metrics, policies, findings


class IndexedCluster:
    """The read half of the Cluster port over dicts indexed by (kind, namespace); enough for analysis."""

    def __init__(self, objects: list[dict], logs: dict[tuple[str, str, str], str]) -> None:
        self.by_key: dict[tuple[str, str, str | None], list[dict]] = {}
        self.by_name: dict[tuple[str, str | None, str], dict] = {}
        for obj in objects:
            meta = obj["metadata"]
            self.by_key.setdefault((obj["apiVersion"], obj["kind"], meta.get("namespace")), []).append(obj)
            self.by_name[(obj["kind"], meta.get("namespace"), meta["name"])] = obj
        self.logs_by_key = logs

    def get(self, api_version, kind, name, namespace=None):
        try:
            return self.by_name[(kind, namespace, name)]
        except KeyError:
            raise APINotFound(404, f"{kind} {name} not found") from None

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        items = self.by_key.get((api_version, kind, namespace), [])
        want = dict(p.split("=", 1) for p in (label_selector or "").split(",") if p)
        fields = dict(p.split("=", 1) for p in (field_selector or "").split(",") if p)
        out = []
        for obj in items:
            labels = obj["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in want.items()):
                continue
            inv = obj.get("involvedObject") or {}
            if any(inv.get(k.split(".", 1)[1]) != v for k, v in fields.items()):
                continue
            out.append(obj)
        return out

    def logs(self, name, namespace, *, container=None, tail_lines=50):
        return self.logs_by_key.get((namespace, name, container or ""), "")


def rate(fn, items, repeat: int = 3) -> float:
    """Best-of-``repeat`` items per second."""
    best = 0.0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for item in items:
            fn(item)
        elapsed = time.perf_counter() - start
        best = max(best, len(items) / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=5000)
    parser.add_argument("--workloads", type=int, default=220)
    args = parser.parse_args()

    clock, cluster, double, metrics, policies, findings = build(args.workloads)
    stream = [findings[i % len(findings)] for i in range(args.findings)]
    planner = Planner(policies=policies, cluster=cluster, metrics=metrics, clock=clock)
    on_double = Planner(policies=policies, cluster=double, metrics=metrics, clock=clock)
    learning_planner = Planner(policies=policies, cluster=cluster, metrics=metrics, clock=clock,
                               learning=EffectivenessStore(MemoryStore(), clock, sleep=lambda s: None))
    gatherer = ContextGatherer(cluster=cluster, metrics=metrics, clock=clock)
    contexts = [gatherer.gather(f) for f in findings]
    ctx_stream = [contexts[i % len(contexts)] for i in range(args.findings)]
    rules = RulesAnalyzer()

    causes = {planner.plan(f).root_cause.category for f in findings}
    assert causes == {on_double.plan(f).root_cause.category for f in findings}
    full = rate(planner.plan, stream)
    full_double = rate(on_double.plan, stream[: max(1, args.findings // 4)])
    gather_only = rate(gatherer.gather, stream)
    analysis_only = rate(lambda c: rules.analyze(c, policies[c.finding.policy]), ctx_stream)
    with_learning = rate(learning_planner.plan, stream[: max(1, args.findings // 5)])
    latencies = []
    for f in stream[:1000]:
        t = time.perf_counter()
        planner.plan(f)
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()

    print(f"workloads: {args.workloads} ({len(causes)} distinct causes: {', '.join(sorted(causes))})")
    print(f"findings per run: {args.findings}, best of 3")
    print(f"full rules plan (gather + analyze + guard + plan): {full:,.0f} findings/s")
    print(f"  same, reading the devcluster MemoryCluster:      {full_double:,.0f} findings/s")
    print(f"  context gathering alone:                        {gather_only:,.0f} findings/s")
    print(f"  rules analysis alone (pre-gathered context):     {analysis_only:,.0f} findings/s")
    print(f"  full plan with learning (in-memory store):       {with_learning:,.0f} findings/s")
    print(f"latency per plan: median {statistics.median(latencies):.3f} ms, p99 {latencies[int(len(latencies) * 0.99)]:.3f} ms")
    print(f"target ≥ 2,000 findings/s: {'met' if full >= 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
