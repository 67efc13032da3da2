"""Benchmark of the what-if simulator's world: pods × simulated hours per wall second.

Three measurements, each in a fresh subprocess (so peak RSS is its own):

1. scale: a mix of the demo workloads (memory leak, CPU spikes, random crasher, chaos monkey,
   flaky web, crash loop and steady pods, 10 replicas per Deployment) at 100, 1,000 and 10,000
   pods for 24 simulated hours at 15 s resolution, with metrics scraped every tick and the
   incident observer on — the no-healing arm, i.e. the simulator's own cost. The 100- and
   1,000-pod runs are short samples (0.2 s and 2 s of CPU) that move ±20 % between processes
   on a shared machine: each is run ``--repeats`` times (5), in fresh processes, and the median
   run is its figure; the 10,000-pod run (~20 s) runs once, between them (two runs of each small
   size before it, three after), so the machine's drift meets every size alike.
2. the same at 1,000 pods × 6 h restricted to memory_leak + crash_loop + steady, against
3. a naive baseline written here: one SimPy process per pod, updating that pod in Python every
   tick with the same rules (10 MiB per 10 s leak with 10 % frees, OOM at the limit, kubelet
   back-off, crash after 30 s, a scrape copying every pod's values). It does less per pod than
   the vectorised world (one scraped signal of fifteen; no readiness, request counters, Events,
   probes or incident observer), so the ratio is conservative; the restart counts cross-check.
   The two run alternately, ``--pairs`` times (5), each in its own process, so both meet the
   shared machine's slow and fast moments; every pair's ratio, their median (the figure: a
   pair's runs are neighbours in time) and the best against the best are printed.

4. the healing arm: what ``kubeskippy simulate`` with no arguments runs (the demo suite, 1 h,
   3 seeds, its demo policies against no healing), CPU seconds per run and in total.

Times: wall and CPU (process) seconds; per-pod-hour costs use CPU time, because the machine is
shared and wall time then measures the neighbours too. A vectorised figure is ``run_once``: building
the run (World, Deployments, pods) and executing it; the process's start-up before it (interpreter,
imports, parsing the scenario: about a second, the same at any size) is printed apart and counted
in neither. The naive baseline's timer starts after its pods and processes exist.

Run:  .venv/bin/python benchmarks/simulator.py            (all; about 2 minutes)
      .venv/bin/python benchmarks/simulator.py --quick    (smaller sizes, for a smoke check)
      .venv/bin/python benchmarks/simulator.py --sizes 100 1000 --pairs 0 --no-demo   (only some parts)
      .venv/bin/python benchmarks/simulator.py --simulator /tmp/sim-old   (another copy of simulator/,
            imported as kubeskippy.simulator in every measuring process: old and new code side by side)
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time

MIX = [("memory_leak", {}), ("cpu_spike", {}), ("random_crasher", {}), ("chaos_monkey", {}),
       ("flaky_web", {}), ("crash_loop", {}), ("steady", {}), ("steady", {}), ("steady", {}), ("steady", {})]
SMALL_MIX = [("memory_leak", {}), ("crash_loop", {}), ("steady", {}), ("steady", {})]


def scenario_for(pods: int, hours: float, mix) -> dict:
    deployments = max(1, pods // 10)
    workloads = []
    for i in range(deployments):
        model, params = mix[i % len(mix)]
        workloads.append({"name": f"w{i}-{model.replace('_', '-')}", "model": model, "replicas": 10,
                          "params": params,
                          "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                        "limits": {"cpu": "500m", "memory": "512Mi"}}})
    return {"name": f"bench-{pods}", "duration": f"{hours}h", "resolution": "15s",
            "signals": {"retention": "30m"},
            "cluster": {"nodes": {"count": max(1, pods // 100 + 1), "cpu": "64", "memory": "256Gi", "pods": 250}},
            "workloads": workloads}


def run_vectorised(pods: int, hours: float, mix_name: str) -> dict:
    """``run_once`` timed in two parts: building the run (the World, its Deployments and pods)
    and executing it. ``cpu_s`` is both (what ``run_once`` costs); the process's start-up before
    it (interpreter, imports of numpy, SimPy, pydantic and the simulator, parsing the scenario)
    is reported apart as ``startup_cpu_s`` and is in neither."""
    from kubeskippy.simulator.runner import Arm, Run
    from kubeskippy.simulator.scenario import parse_scenario

    sc = parse_scenario(scenario_for(pods, hours, MIX if mix_name == "full" else SMALL_MIX))
    startup = time.process_time()  # CPU since the process began: interpreter, imports, scenario
    started, cpu = time.perf_counter(), time.process_time()
    run = Run(sc, Arm("no-healing"), 1)
    built = time.process_time()
    record = run.execute()
    wall, cpu, build = time.perf_counter() - started, time.process_time() - cpu, built - cpu
    return {"kind": "vectorised", "pods": pods, "hours": hours, "mix": mix_name, "wall_s": wall, "cpu_s": cpu,
            "build_cpu_s": build, "startup_cpu_s": startup,
            "us_per_pod_hour": cpu / (pods * hours) * 1e6,
            "us_per_pod_hour_executing": (cpu - build) / (pods * hours) * 1e6, "oom_kills": record.metrics["oom_kills"],
            "exits": record.metrics["container_exits"], "peak_rss_mib": _rss_mib(),
            "block_stats": dict(getattr(run.world, "block_stats", {}))}


def run_naive(pods: int, hours: float) -> dict:
    """One SimPy process per pod; the same rules as the small mix, in plain Python."""
    import simpy

    env = simpy.Environment()
    step, limit, mib = 15.0, 512 * 2**20, 2**20
    scraped: list[list[float]] = []
    state = [dict(kind=("memory_leak", "crash_loop", "steady", "steady")[(i // 10) % 4], mem=0.0, chunks=0,
                  next_alloc=0.0, started=2.0, restarts=0, fails=0, last_restart=None, due=2.0, running=False,
                  rng=random.Random(i)) for i in range(pods)]

    def pod(s):
        while True:
            yield env.timeout(step)
            t = env.now
            if not s["running"]:
                if s["due"] <= t:
                    s["running"], s["started"], s["chunks"], s["next_alloc"] = True, s["due"], 0, s["due"]
                    if s["restarts"]:
                        s["last_restart"] = s["due"]
                continue
            exit_at = None
            if s["kind"] == "memory_leak":
                while s["next_alloc"] <= t:
                    if s["next_alloc"] > s["started"] and s["rng"].random() < 0.1 and s["chunks"] > 5:
                        s["chunks"] -= 1
                    s["chunks"] += 1
                    s["mem"] = (10 + 10 * s["chunks"]) * mib
                    if s["mem"] >= limit:
                        exit_at = s["next_alloc"]
                        break
                    s["next_alloc"] += 10
            elif s["kind"] == "crash_loop":
                s["mem"] = mib
                if s["started"] + 30 <= t:
                    exit_at = s["started"] + 30
            else:
                s["mem"] = 64 * mib
            if exit_at is not None:
                s["restarts"] += 1
                expired = s["last_restart"] is None or exit_at - s["last_restart"] > 600
                s["fails"] = 1 if expired else s["fails"] + 1
                delay = 0.0 if s["fails"] <= 1 else min(10 * 2 ** (s["fails"] - 2), 300)
                s["running"], s["due"], s["mem"] = False, exit_at + delay + 1, 0.0

    def scraper():
        while True:
            yield env.timeout(step)
            scraped.append([s["mem"] for s in state])
            if len(scraped) > 120:
                scraped.pop(0)

    for s in state:
        env.process(pod(s))
    env.process(scraper())
    started, cpu = time.perf_counter(), time.process_time()
    env.run(until=hours * 3600 + 1e-6)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"kind": "naive", "pods": pods, "hours": hours, "mix": "small", "wall_s": wall, "cpu_s": cpu,
            "us_per_pod_hour": cpu / (pods * hours) * 1e6, "restarts": sum(s["restarts"] for s in state),
            "peak_rss_mib": _rss_mib()}


def run_demo_suite(seeds: int) -> dict:
    """The default ``kubeskippy simulate`` grid, without the table rendering."""
    from kubeskippy.simulator.arms import arms_for
    from kubeskippy.simulator.runner import run_once
    from kubeskippy.simulator.scenario import DEMO_SUITE, load_scenario

    runs = []
    started, cpu = time.perf_counter(), time.process_time()
    for name in DEMO_SUITE:
        sc = load_scenario(name)
        for k in range(seeds):
            for arm in arms_for(sc):
                c = time.process_time()
                record = run_once(sc, arm, sc.seed + k)
                runs.append({"scenario": sc.name, "arm": arm.name, "seed": sc.seed + k,
                             "cpu_s": time.process_time() - c, "actions": record.metrics["actions"],
                             "oom_kills": record.metrics["oom_kills"]})
    return {"kind": "demo", "seeds": seeds, "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu, "runs": runs, "peak_rss_mib": _rss_mib()}


STEADY_POD_HOURS = 100_000
"""A scale run of at least this many pod-hours (10,000 pods × 24 h: ~20 s of CPU) is one steady
sample; a smaller one (100 pods × 24 h: ~0.2 s) moves ±20 % between fresh processes on a shared
machine, so it is run ``--repeats`` times and its median run is the figure."""


def repeats_for(pods: int, hours: float, repeats: int) -> int:
    return 1 if pods * hours >= STEADY_POD_HOURS else max(1, repeats)


def scale_order(sizes: list[int], hours: float, repeats: int) -> list[int]:
    """The order of the scale runs: each repeated size's runs split around the steady ones (half
    before, half after), smaller sizes outermost, so the machine's drift over the minutes a
    10,000-pod run takes reaches every size alike instead of favouring whichever ran last."""
    repeated = sorted((p for p in sizes if repeats_for(p, hours, repeats) > 1), reverse=True)
    steady = [p for p in sizes if repeats_for(p, hours, repeats) == 1]
    before = {p: repeats_for(p, hours, repeats) // 2 for p in repeated}
    head = [p for p in reversed(repeated) for _ in range(before[p])]
    tail = [p for p in repeated for _ in range(repeats_for(p, hours, repeats) - before[p])]
    return head + steady + tail


def scale_runs(sizes: list[int], hours: float, repeats: int) -> list[list[dict]]:
    """Every size's runs (fresh processes, in :func:`scale_order`), by size as given."""
    runs: dict[int, list[dict]] = {p: [] for p in sizes}
    for pods in scale_order(sizes, hours, repeats):
        runs[pods].append(_subprocess(["full", str(pods), str(hours)]))
    return [runs[p] for p in sizes]


def median_run(runs: list[dict]) -> dict:
    """The run of median CPU time (the lower middle one of an even count), with all its figures."""
    ordered = sorted(runs, key=lambda r: r["cpu_s"])
    return ordered[(len(ordered) - 1) // 2]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_SIMULATOR: list[str] = []  # ["--simulator", PATH] when measuring another copy of simulator/


def _subprocess(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *_SIMULATOR, "--one", *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _use_simulator(path: str) -> None:
    """Import ``kubeskippy.simulator`` from ``path`` (a copy of the simulator/ folder) instead."""
    import importlib.util
    from pathlib import Path

    import kubeskippy

    spec = importlib.util.spec_from_file_location("kubeskippy.simulator", Path(path) / "__init__.py",
                                                  submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["kubeskippy.simulator"] = module
    kubeskippy.simulator = module
    spec.loader.exec_module(module)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", nargs="+")
    parser.add_argument("--pairs", type=int, default=5, help="vectorised/naive comparison runs, alternating")
    parser.add_argument("--sizes", type=int, nargs="*", help="pod counts of the scale runs (default 100 1000 10000)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="fresh-process runs of each scale size under 100,000 pod-hours; the median is its figure")
    parser.add_argument("--no-demo", action="store_true", help="skip the healing-arm measurement")
    parser.add_argument("--simulator", help="a copy of simulator/ to import as kubeskippy.simulator")
    args = parser.parse_args()
    if args.simulator:
        _SIMULATOR[:] = ["--simulator", args.simulator]
        if args.one:
            _use_simulator(args.simulator)
    if args.one:
        kind, pods, hours = args.one[0], int(args.one[1]), float(args.one[2])
        if kind == "demo":
            result = run_demo_suite(pods)
        else:
            result = run_naive(pods, hours) if kind == "naive" else run_vectorised(pods, hours, kind)
        print(json.dumps(result))
        return
    sizes, hours = ([100, 1000], 2.0) if args.quick else ([100, 1000, 10000], 24.0)
    if args.sizes is not None:
        sizes = args.sizes
    results = []
    for pods, runs in zip(sizes, scale_runs(sizes, hours, args.repeats)):
        r = median_run(runs)
        results.append(r)
        spread = (f"; {len(runs)} runs {min(x['cpu_s'] for x in runs):.3f}–{max(x['cpu_s'] for x in runs):.3f} s CPU, "
                  f"the median's figures" if len(runs) > 1 else "")
        print(f"scale     {pods:6d} pods × {hours:g} h: {r['wall_s']:7.2f} s wall, {r['cpu_s']:7.2f} s CPU "
              f"(of which building the run {r['build_cpu_s']:.2f} s; process start-up before it "
              f"{r['startup_cpu_s']:.2f} s, not counted), {r['us_per_pod_hour']:8.2f} µs per pod-hour "
              f"({r['us_per_pod_hour_executing']:.2f} executing only), peak RSS {r['peak_rss_mib']:.0f} MiB, "
              f"OOM kills {r['oom_kills']}, exits {r['exits']}, block passes {r['block_stats'].get('passes', '?')} "
              f"(incarnations laid out ahead and kept: {r['block_stats'].get('kept', '?')}){spread}", flush=True)
    base = min(results, key=lambda r: r["pods"]) if results else None
    for r in results:
        print(f"  cost per pod-hour relative to {base['pods']} pods: {r['us_per_pod_hour'] / base['us_per_pod_hour']:.2f} "
              f"(executing only: {r['us_per_pod_hour_executing'] / base['us_per_pod_hour_executing']:.2f})")
    if len(results) > 1:
        rel = [r["us_per_pod_hour"] / base["us_per_pod_hour"] for r in results]
        print(f"  flat within ±20 % of the {base['pods']}-pod run's cost per pod-hour: "
              f"{'yes' if all(0.8 <= x <= 1.2 for x in rel) else 'no'} ({min(rel):.2f}–{max(rel):.2f})")
    cmp_pods, cmp_hours = (300, 1.0) if args.quick else (1000, 6.0)
    pairs = []  # alternating, so that both sides see the shared machine in the same moods
    for _ in range(args.pairs):
        pairs.append((_subprocess(["small", str(cmp_pods), str(cmp_hours)]),
                      _subprocess(["naive", str(cmp_pods), str(cmp_hours)])))
    demo = None if args.no_demo else _subprocess(["demo", "1" if args.quick else "3", "1"])
    if pairs:
        _print_pairs(pairs, cmp_pods, cmp_hours)
    if demo is not None:
        healing = [r["cpu_s"] for r in demo["runs"] if r["arm"] != "no-healing"]
        baseline = [r["cpu_s"] for r in demo["runs"] if r["arm"] == "no-healing"]
        print(f"healing   kubeskippy simulate (demo suite, {demo['seeds']} seeds × 2 arms × 1 h): "
              f"{demo['cpu_s']:.2f} s CPU ({demo['wall_s']:.2f} s wall, {demo['peak_rss_mib']:.0f} MiB); per run: healing arm "
              f"{min(healing):.2f}–{max(healing):.2f} s, no-healing arm {min(baseline):.2f}–{max(baseline):.2f} s")
    print(json.dumps({"scale": results, "pairs": pairs, "demo": demo}))


def _print_pairs(pairs: list, cmp_pods: int, cmp_hours: float) -> None:
    vec = min((v for v, _ in pairs), key=lambda r: r["cpu_s"])
    naive = min((n for _, n in pairs), key=lambda r: r["cpu_s"])
    vec_cpu = ", ".join(format(v["cpu_s"], ".2f") for v, _ in pairs)
    naive_cpu = ", ".join(format(n["cpu_s"], ".2f") for _, n in pairs)
    ratios = ", ".join(format(n["cpu_s"] / v["cpu_s"], ".1f") + "×" for v, n in pairs)
    # A pair's two runs are neighbours in time, so the machine's drift cancels within a pair; the
    # best of each side may come from different moments. The median pair is the figure.
    median_pair = statistics.median(n["cpu_s"] / v["cpu_s"] for v, n in pairs)
    print(f"compare   {cmp_pods} pods × {cmp_hours:g} h, {len(pairs)} alternating pairs: vectorised {vec_cpu} s CPU "
          f"(building the run {vec['build_cpu_s']:.2f} s; {vec['peak_rss_mib']:.0f} MiB), naive one-process-per-pod "
          f"{naive_cpu} s CPU ({naive['peak_rss_mib']:.0f} MiB); per pair {ratios}: median pair {median_pair:.1f}× "
          f"faster (best against best {naive['cpu_s'] / vec['cpu_s']:.1f}×); "
          f"same restarts: {vec['exits']} vs {naive['restarts']}")


if __name__ == "__main__":
    main()
