"""Kubernetes API requests per stage of one crash loop, and where the destructive action falls.

The mesh latency (benchmarks/functions.py, ``--only mesh``) is dominated by API round trips on
the critical path, so this counts them: the detect, analyze and remediate services are called
in-process, one after the other, against a devcluster HTTP server seeded with the same world as
the mesh benchmark (victims with a crash-looping pod under the demo crash-loop policy), and the
server's request log is read after each stage. Remediate's requests are split at the first
DELETE (or eviction) of the pod: only the ones before it are on the path the mesh figure times.

Run from the repository root:
    .venv/bin/python -m benchmarks.mesh_requests [--victims N] [--verbose]

``--verbose`` prints every request of the last victim (method, path, verb), so a change can be
checked request by request.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.functions import _build_world, detect_env, write_policies  # noqa: E402
from kubeskippy.ingest.apiserver import apiserver_event  # noqa: E402

__all__ = ["main", "count_requests"]


def _destructive(record) -> bool:
    return (record.method == "DELETE" and "/pods/" in record.path) or record.path.endswith("/eviction")


def count_requests(victims: int, verbose: bool = False) -> dict:
    from kubeskippy.devcluster.server import DevClusterServer
    from kubeskippy.services.analyze import AnalyzeService
    from kubeskippy.services.detect import DetectService
    from kubeskippy.services.remediate import RemediateService

    logging.disable(logging.CRITICAL)
    store, info = _build_world(seed=7, mesh_runs=victims + 1)
    with tempfile.TemporaryDirectory() as tmp, DevClusterServer(store) as server:
        cfg = {**detect_env(server.url, write_policies(Path(tmp), 10_000)),
               "KUBESKIPPY_GLOBAL_MAX_ACTIONS_PER_HOUR": "100000"}
        detect, analyze, remediate = DetectService(cfg), AnalyzeService(cfg), RemediateService(cfg)
        rows: dict[str, list[float]] = {"detect": [], "analyze": [], "remediate before the DELETE": [],
                                        "remediate whole plan": [], "remediate ms, whole plan": []}
        last: dict[str, list] = {}
        for i, victim in enumerate(info["victims"]):
            server.api.clear_requests()
            findings = detect.handle(apiserver_event("update", victim, id=f"count-{i}"))
            detect_requests = server.api.requests
            if len(findings) != 1:
                raise RuntimeError(f"victim {i}: expected one finding, got {len(findings)}")
            server.api.clear_requests()
            plans = analyze.handle(findings[0])
            analyze_requests = server.api.requests
            server.api.clear_requests()
            started = time.perf_counter()
            remediate.handle(plans[0])
            remediate_requests = server.api.requests
            cut = next((n for n, r in enumerate(remediate_requests) if _destructive(r)), None)
            if cut is None:
                raise RuntimeError(f"victim {i}: remediate deleted nothing: {remediate_requests}")
            if i == 0:
                continue  # the first one also pays for connections and policy reads
            rows["detect"].append(len(detect_requests))
            rows["analyze"].append(len(analyze_requests))
            rows["remediate before the DELETE"].append(cut + 1)
            rows["remediate whole plan"].append(len(remediate_requests))
            rows["remediate ms, whole plan"].append((time.perf_counter() - started) * 1000)
            last = {"detect": detect_requests, "analyze": analyze_requests, "remediate": remediate_requests}
    if verbose:
        for stage, requests in last.items():
            print(f"-- {stage}")
            for r in requests:
                print(f"   {r.method:6} {r.verb:6} {r.status} {r.path}")
    summary = {k: statistics.median(v) for k, v in rows.items()}
    summary["critical path"] = (summary["detect"] + summary["analyze"] + summary["remediate before the DELETE"])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victims", type=int, default=10)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    summary = count_requests(args.victims, args.verbose)
    for name, value in summary.items():
        print(f"{name:32} {value:g}")


if __name__ == "__main__":
    main()
