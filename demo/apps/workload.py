"""KubeSkippy demo workloads: one small program, four behaviours chosen by APP_MODE.

The rates match the simulator's workload library (kubeskippy.simulator), so `kubeskippy
simulate demo` predicts what the kind demo shows:

  memory-leak      +10 MiB every 10 s, 10 % chance per step to free the oldest chunk
                   (with a 512 Mi limit: OOMKilled after roughly 8-10 minutes)
  cpu-oscillation  busy-loop at 25/50/75/100 % then rest, each phase ~108 s (~9 min cycle)
  crash-loop       starts, serves for 30 s, exits 1 (kubelet backs off: CrashLoopBackOff)
  chaos            every 15-45 s one of memory/cpu/crash/network/restart, odds 3/3/2/2/1
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MIB = 1024 * 1024
_hold: list[bytearray] = []
_network_broken = threading.Event()


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        ok = not _network_broken.is_set()
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"ok\n" if ok else b"degraded\n")

    def log_message(self, *args: object) -> None:
        pass


def serve_health(port: int = 8080) -> None:
    server = ThreadingHTTPServer(("0.0.0.0", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def busy(fraction: float, seconds: float) -> None:
    """Use about ``fraction`` of one core for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        while time.monotonic() - start < 0.1 * fraction:
            pass
        time.sleep(0.1 * (1 - fraction))


def memory_leak(rng: random.Random) -> None:
    while True:
        _hold.append(bytearray(10 * MIB))
        print(f"holding {len(_hold) * 10} MiB", flush=True)
        time.sleep(10)
        if rng.random() < 0.1 and len(_hold) > 5:
            _hold.pop(0)


def cpu_oscillation(rng: random.Random) -> None:
    while True:
        for level in (0.25, 0.5, 0.75, 1.0, 0.0):
            print(f"cpu level {level:.0%}", flush=True)
            if level:
                busy(level, 108)
            else:
                time.sleep(108)


def crash_loop(rng: random.Random) -> None:
    print("serving for 30 s, then failing", flush=True)
    time.sleep(30)
    print("fatal: simulated configuration error", file=sys.stderr, flush=True)
    sys.exit(1)


def chaos(rng: random.Random) -> None:
    kinds = ["memory"] * 3 + ["cpu"] * 3 + ["crash"] * 2 + ["network"] * 2 + ["restart"]
    while True:
        time.sleep(rng.uniform(15, 45))
        kind = rng.choice(kinds)
        print(f"chaos: {kind}", flush=True)
        if kind == "memory":
            _hold.append(bytearray(64 * MIB))
        elif kind == "cpu":
            busy(0.9, 20)
        elif kind == "crash":
            sys.exit(2)
        elif kind == "network":
            _network_broken.set()
            time.sleep(30)
            _network_broken.clear()
        elif kind == "restart":
            sys.exit(0)


MODES = {"memory-leak": memory_leak, "cpu-oscillation": cpu_oscillation, "crash-loop": crash_loop, "chaos": chaos}


def main() -> None:
    mode = os.environ.get("APP_MODE", "")
    if mode not in MODES:
        raise SystemExit(f"APP_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    serve_health()
    MODES[mode](random.Random(os.environ.get("HOSTNAME", "seed")))


if __name__ == "__main__":
    main()
