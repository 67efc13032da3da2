"""Instructions per request: detect against the bare echo function, counted by valgrind.

Why a second throughput figure: ``benchmarks.functions --only throughput`` measures requests/s
and p99 over real HTTP, the target's own measure, but on this shared two-core VM its ratio
swings 0.43–0.97 between runs of the same code. The instructions a request costs do not depend
on the load (two runs agree to ~0.1 %), so this says whether a change made detect do less work.

What is counted: each function's ASGI ``handle`` called in-process with the throughput
benchmark's event mix (the same seed and proportions: healthy Pod updates, crash-looping Pod
updates, core Events), so the HTTP server (hypercorn under func-python, the same code for both)
is left out; worker threads are counted, the Kubernetes API double is not (its own process, as
the API server is in production). Each side runs twice under
``valgrind --tool=cachegrind --cache-sim=no``, with ``--requests`` and with none (after the same
warm-up), and the difference is divided by ``--requests``.

Run from the repository root (takes ~2 minutes):
    .venv/bin/python -m benchmarks.request_instructions [--requests N] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.functions import ECHO, DevClusterProcess, demo_policy_objects, detect_env, event_mix  # noqa: E402

VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
WARM_UP = 50
SEED = 5  # benchmarks.functions' default


async def drive(app, mix: list[tuple[dict, bytes]], count: int) -> None:
    """``count`` POSTs of the mix's events to an ASGI app, as an HTTP server would make them."""
    for i in range(count):
        headers, body = mix[i % len(mix)]
        scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
                 + [(b"content-length", str(len(body)).encode())]}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        statuses: list[int] = []

        async def receive() -> dict:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app.handle(scope, receive, send)
        if not statuses or not 200 <= statuses[0] < 300:
            raise RuntimeError(f"request {i} was answered {statuses}")


def new_app(which: str, cluster_url: str):
    if which == "echo":
        spec = importlib.util.spec_from_file_location("echo_function", ECHO / "function" / "func.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module.new()
    from kubeskippy.serving import FunctionApp
    from kubeskippy.services.detect import build

    app = FunctionApp("detect", build)
    app.start(detect_env(cluster_url))
    return app


def child(which: str, count: int, info_file: Path) -> None:
    """One counted process: warm up, then ``count`` requests."""
    import logging

    logging.disable(logging.CRITICAL)  # the same for both sides: no log lines
    info = json.loads(info_file.read_text())
    mix, _ = event_mix(info, 2000, SEED)
    app = new_app(which, info["url"])
    asyncio.run(drive(app, mix, WARM_UP + count))


def counted(which: str, count: int, info_file: Path) -> int:
    result = subprocess.run([*VALGRIND, sys.executable, "-m", "benchmarks.request_instructions", "--child", which,
                             str(count), str(info_file)], cwd=ROOT, capture_output=True, text=True, check=False)
    match = _REFS.search(result.stderr)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"{which} ({count} requests) failed: {result.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), Path(args.child[2]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="kubeskippy-bench-instructions-"))
    try:
        with DevClusterProcess(SEED, 0, 0, demo_policy_objects(10_000)) as cluster:
            info_file = work / "world.json"
            info_file.write_text(json.dumps({**cluster.info, "url": cluster.url}))
            per_request = {}
            for which in ("echo", "detect"):
                base, full = counted(which, 0, info_file), counted(which, args.requests, info_file)
                per_request[which] = (full - base) / args.requests
        _, counts = event_mix(json.loads(info_file.read_text()), 2000, SEED)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = per_request["detect"] / per_request["echo"]
    results = {"requests": args.requests, "mix": counts, "instructions_per_request": per_request, "ratio": ratio}
    print(f"mix {counts}, {args.requests} requests after {WARM_UP} of warm-up")
    print(f"instructions per request: echo {per_request['echo']:,.0f}, detect {per_request['detect']:,.0f} "
          f"(ratio {ratio:.2f})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
