"""Cold start in instructions: process start → first CloudEvent answered, counted by valgrind.

Why a second cold-start figure: ``benchmarks.functions --only cold_start`` times wall clock, and
on this shared two-core machine its echo median alone swings 0.29–0.58 s between runs, so it
cannot resolve a change of a few per cent. The instructions a process executes do not depend on
the load: two runs agree to 0.1 %. They are not time (cache misses, page faults and waiting for
the API are not counted; remediate's ~40 API requests cost the API server's CPU, which this does
not see), so the wall-clock benchmark stays the target's measure and this one says whether a
change did less work.

Same setup as the wall-clock benchmark: the devcluster API in its own process, the demo policies
as HealingPolicy objects the functions list from it (production's policy source; ``--policy-source
files`` reads them from files, as rounds before 2026-11-22 measured), each process started with production's runtime settings (``runtime_env``: func.yaml's
run envs that are not KubeSkippy settings, e.g. ``PYDANTIC_DISABLE_PLUGINS``; the echo gets them
too), the same inputs (detect and the echo a crash-looping pod's update, analyze detect's reply,
remediate and audit analyze's), bytecode cached by an untimed first round. In the counted round
each process runs under ``valgrind --tool=cachegrind --cache-sim=no`` from exec until it exits
after SIGTERM (so func-python's shutdown is in every count, the echo's included).

Run from the repository root:
    .venv/bin/python -m benchmarks.cold_start_instructions [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.functions import (  # noqa: E402
    COLD_FUNCTIONS, ECHO, DevClusterProcess, _Sink, bytecode_env, demo_policy_objects, detect_env, pass_reply_on,
    runtime_env, write_policies,
)
from kubeskippy.events.cloudevents import encode  # noqa: E402
from kubeskippy.ingest.apiserver import apiserver_event  # noqa: E402
from kubeskippy.mesh.runner import free_port, stop_process  # noqa: E402

VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _first_reply(client: httpx.Client, url: str, process: subprocess.Popen, headers: dict, body: bytes,
                 timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the function exited with {process.returncode}")
        try:
            response = client.post(url, headers=headers, content=body)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if response.status_code != 503:  # 503: started, not ready yet
            if not 200 <= response.status_code < 300:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text}")
            return response
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def count_round(env: dict[str, str], work: Path, sink_url: str, victim: dict, *, counted: bool) -> dict[str, float]:
    """One process per function (and the echo) answering its first event; millions of
    instructions of each when ``counted``."""
    inputs = {"echo": encode(apiserver_event("update", victim, id=f"cold-{victim['metadata']['name']}"),
                             mode="binary")}
    inputs["detect"] = inputs["echo"]
    counts: dict[str, float] = {}
    for name in ("echo", *COLD_FUNCTIONS):
        folder = ECHO if name == "echo" else ROOT / "functions" / name
        port = free_port()
        process_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        process_env.update(runtime_env(name))  # what production starts it with (func.yaml's run envs)
        process_env.update(env, K_SINK=sink_url, LISTEN_ADDRESS=f"127.0.0.1:{port}", PYTHONUNBUFFERED="1")
        command = [sys.executable, "-m", "kubeskippy.mesh.serve_function", str(folder)]
        log = work / f"{name}-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([*VALGRIND, *command] if counted else command, env=process_env,
                                       stdout=out, stderr=subprocess.STDOUT, cwd=work)
        try:
            with httpx.Client(timeout=120) as client:
                headers, body = inputs[name]
                response = _first_reply(client, f"http://127.0.0.1:{port}/", process, dict(headers), body,
                                        timeout=600 if counted else 60)
        finally:
            stop_process(process, timeout=120)
        if counted:
            found = _REFS.search(log.read_text(errors="replace"))
            if found is None:
                raise RuntimeError(f"{name}: valgrind reported no instruction count (see {log})")
            counts[name] = int(found.group(1).replace(",", "")) / 1e6
        pass_reply_on(inputs, name, response)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--policy-source", choices=("cluster", "files"), default="cluster",
                        help="where the functions read the HealingPolicies: the API (production's setting) or files")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind); nothing to count with")
    work = Path(tempfile.mkdtemp(prefix="kubeskippy-bench-cold-ir-"))
    try:
        policy_dir = write_policies(work, max_actions_per_hour=10_000) if args.policy_source == "files" else None
        policies = demo_policy_objects(10_000) if args.policy_source == "cluster" else ()
        with DevClusterProcess(args.seed, 0, 2, policies) as cluster:
            info = {**cluster.info, "url": cluster.url}
            env = {**detect_env(info["url"], policy_dir), **bytecode_env(work), "KUBESKIPPY_AUDIT_SINK": "local",
                   "KUBESKIPPY_AUDIT_DIR": str(work / "audit"), "KUBESKIPPY_GLOBAL_MAX_ACTIONS_PER_HOUR": "100000"}
            with _Sink() as sink:
                warm, counted = info["cold_victims"][:2]
                count_round(env, work, sink.url, warm, counted=False)  # fills the bytecode cache
                counts = count_round(env, work, sink.url, counted, counted=True)
        echo = counts["echo"]
        results = {"unit": "millions of instructions (valgrind cachegrind I refs)", "policy_source": args.policy_source,
                   **{name: {"instructions_m": round(m, 1), "ratio": round(m / echo, 3)} for name, m in counts.items()}}
        print(f"policies from: {args.policy_source}")
        print(f"{'process':10s} {'instructions (M)':>17s} {'ratio to echo':>14s}")
        for name, m in counts.items():
            print(f"{name:10s} {m:17.0f} {m / echo:14.2f}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
