"""The devcluster's own CPU per request: its lean HTTP framing against ``http.server``'s.

Every latency figure of the functions includes their requests to the devcluster, which stands in
for an API server that answers in well under a millisecond. The devcluster reads a request's
header block with :func:`kubeskippy.http_headers.parse_header_lines` and writes an answer's head
and body in one go; ``http.server`` parses the block with the ``email`` package and writes the
head header by header. The baseline here is the same server with ``http.server``'s framing put
back (``parse_request``, ``send_response``/``send_header``/``end_headers``), everything else equal.

The server runs in its own process (its own GIL, as in the mesh); the client sends small GETs,
label-selected LISTs and PUTs of one ConfigMap on one keep-alive connection. Rounds alternate the
two servers; the figure is the server process's CPU time per request, median over rounds.

    .venv/bin/python -m benchmarks.devcluster_requests [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["main"]

HEADERS = {"Accept": "application/json", "User-Agent": "kubeskippy/bench", "Authorization": "Bearer x"}


def _serve(conn: Any, framing: str) -> None:
    """Child process: a devcluster with 50 pods and a ConfigMap; answers CPU-time queries."""
    import logging

    from kubeskippy.clock import ManualClock
    from kubeskippy.devcluster import ObjectStore
    from kubeskippy.devcluster import server as devserver
    from kubeskippy.devcluster.builders import configmap, container, pod

    class StdlibFraming(devserver._Handler):  # the baseline: http.server's parsing and writing
        parse_request = BaseHTTPRequestHandler.parse_request
        log_request = BaseHTTPRequestHandler.log_request

        def _send_head(self, status: int, fields: list[tuple[str, str]], body: bytes = b"") -> None:
            self.send_response(status)
            for key, value in fields:
                self.send_header(key, value)
            self.end_headers()
            if body:
                self.wfile.write(body)

    class Server(devserver._HTTPServer):
        def __init__(self, address: tuple[str, int], api: Any) -> None:
            self.api = api
            devserver.ThreadingHTTPServer.__init__(self, address, StdlibFraming)

    logging.disable(logging.CRITICAL)
    if framing == "http.server":
        devserver._HTTPServer = Server  # type: ignore[misc] - this process serves the baseline only
    store = ObjectStore(ManualClock(1_700_000_000), seed=1)
    store.load([pod(f"web-{i}", labels={"app": "web", "shard": str(i % 10)}, node="n1", phase="Running",
                    ready=True, containers=[container("app")]) for i in range(50)])
    store.create(configmap("settings", data={"a": "1"}))
    server = devserver.DevClusterServer(store).start()
    conn.send(server.url)
    while conn.recv() != "stop":
        conn.send(time.process_time())  # CLOCK_PROCESS_CPUTIME_ID: all threads, not tick-sized
    server.stop()


def _round(url: str, cpu: Any, requests: int) -> dict[str, float]:
    """Server CPU µs per request of each kind, one after the other on one connection."""
    from kubeskippy.adapters.http_pool import HttpPool

    pool = HttpPool(url)
    cm_path = "/api/v1/namespaces/default/configmaps/settings"
    kinds = {
        "GET one pod": lambda: pool.request("GET", "/api/v1/namespaces/default/pods/web-7", headers=HEADERS),
        "LIST pods shard=3": lambda: pool.request(
            "GET", "/api/v1/namespaces/default/pods?labelSelector=shard%3D3", headers=HEADERS),
        "PUT a ConfigMap": None,
    }

    def put() -> None:
        current = json.loads(pool.request("GET", cm_path, headers=HEADERS).data)
        current["data"]["a"] = str(int(current["data"]["a"]) + 1)
        pool.request("PUT", cm_path, body=json.dumps(current).encode(),
                     headers={**HEADERS, "Content-Type": "application/json"})

    kinds["PUT a ConfigMap"] = put  # a GET and a PUT: the compare-and-swap a ledger write makes
    out = {}
    for name, call in kinds.items():
        for _ in range(50):
            call()  # warm: connection, code paths
        before = cpu()
        for _ in range(requests):
            call()
        out[name] = (cpu() - before) / requests * 1e6
    pool.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per kind and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    servers = {}
    for framing in ("lean", "http.server"):
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_serve, args=(child, framing), daemon=True)
        process.start()
        servers[framing] = (parent, process, parent.recv())
    samples: dict[str, dict[str, list[float]]] = {f: {} for f in servers}
    try:
        for _ in range(args.rounds):
            for framing, (conn, _, url) in servers.items():
                def cpu(conn=conn) -> float:
                    conn.send("cpu")
                    return conn.recv()
                for name, value in _round(url, cpu, args.requests).items():
                    samples[framing].setdefault(name, []).append(value)
    finally:
        for conn, process, _ in servers.values():
            conn.send("stop")
            process.join(timeout=10)
    print(f"devcluster server CPU per request (µs), median of {args.rounds} alternating rounds "
          f"of {args.requests} requests per kind")
    print(f"{'request':<20}{'lean framing':>14}{'http.server':>14}{'ratio':>8}")
    for name in samples["lean"]:
        lean = statistics.median(samples["lean"][name])
        stdlib = statistics.median(samples["http.server"][name])
        print(f"{name:<20}{lean:>14.0f}{stdlib:>14.0f}{lean / stdlib:>8.2f}")


if __name__ == "__main__":
    main()
