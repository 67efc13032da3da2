"""The functions as processes: detect against a bare func-python echo, cold starts, and the mesh.

Three figures (issue 5), each measured against a baseline in the same run:

1. Throughput and tail latency of detect over HTTP through func-python, as a fraction of the bare
   echo function's (benchmarks/echo_function: decode a CloudEvent, reply with it). Both run as
   real processes on loopback under the same middleware (``python -m kubeskippy.mesh.serve_function
   <folder>``: func-python's http middleware on hypercorn), driven by the same client
   (benchmarks/http_load.py: ``--concurrency`` keep-alive connections with one request in flight
   each, bounded by ``--requests`` and ``--seconds``; lean, so it does not take a core from the
   server it measures) with the same events. Rounds alternate echo and detect so machine noise hits
   both. Targets: detect ≥ 70 % of the echo's requests/s, detect p99 ≤ 2× the echo's.
2. Cold start: process start → first CloudEvent answered, for each of the four functions against
   the echo, median of ``--starts``, all five started in turn in every round. Each function's
   first event is its real input: detect a crash-looping pod's update (its answer is a finding
   that needed the Kubernetes client and API reads), analyze that finding, remediate the plan
   (executed against the API; outcomes published to a K_SINK), audit the plan. Bytecode is
   cached as in a pip-installed function (see ``bytecode_env``). Target: each ≤ 2× the echo.
3. An ApiServerSource-shaped event → the action executed, through the local mesh
   (kubeskippy.mesh.runner.Mesh: broker + detect, analyze, remediate, audit as func-python
   processes, rules analyzer): from posting the event to the broker until the API reports the
   crash-looping pod DELETED (a watch opened before posting). Each run uses its own Deployment
   (cooldowns and leases are per workload) and waits for the mesh to go idle before the next.
   Target: p50 ≤ 50 ms.

The Kubernetes API is the devcluster HTTP server, in a process of its own so its threads do not
share a GIL with the load generator or the broker. The cluster: namespace demo-apps with the
demo scenarios and the demo HealingPolicies (demo/policies; the crash-loop policy's
maxActionsPerHour raised so the mesh runs are not rate-limited), namespace shop with workloads
no policy selects, ~300 core Events. The functions read the policies as production does
(func.yaml: ``KUBESKIPPY_POLICY_SOURCE=cluster``, HealingPolicy objects listed from the API);
``--policy-source files`` gives them the same policies as files instead, as rounds before
2026-11-22 measured. Crash loops are caused by a failing liveness probe (Unhealthy and
Killing events), which the rules analyzer diagnoses as failing_probes with confidence 0.7.

The event mix: 55 % Pod updates of healthy pods, 10 % Pod updates of crash-looping pods (each a
finding), 35 % core Event adds (Normal and Warning; BackOff warnings about crash-looping pods are
counted against the policy's event trigger through the API).

Run from the repository root:  .venv/bin/python -m benchmarks.functions [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402

from benchmarks.http_load import LoadResult, run_load, run_load_httpx  # noqa: E402
from kubeskippy.events.cloudevents import encode  # noqa: E402
from kubeskippy.ingest.apiserver import apiserver_event  # noqa: E402
from kubeskippy.mesh.runner import free_port  # noqa: E402

ECHO = ROOT / "benchmarks" / "echo_function"
DETECT = ROOT / "functions" / "detect"
APPS = "demo-apps"
OTHER = "shop"
SCENARIOS = ("crashloop", "memory-leak", "cpu-oscillation", "service-degradation", "chaos", "none")
PROBE_EVENTS = (
    ("Unhealthy", "Warning", "Liveness probe failed: HTTP probe failed with statuscode: 500", 6),
    ("Killing", "Normal", "Container app failed liveness probe, will be restarted", 3),
    ("BackOff", "Warning", "Back-off restarting failed container app in pod", 4),
)
NORMAL_REASONS = ("Scheduled", "Pulled", "Created", "Started", "SuccessfulCreate")
WARNING_REASONS = ("BackOff", "Unhealthy", "FailedMount", "ProbeWarning")


# --- the Kubernetes API double, in its own process -------------------------------------------------

from kubeskippy.clock import OffsetClock as _ShiftedClock  # noqa: E402  (the wall clock plus an offset)


def _build_world(seed: int, mesh_runs: int, cold_runs: int = 0,
                 policies: tuple[dict, ...] = ()) -> tuple[Any, dict]:
    """Seed the store (``policies``: HealingPolicy documents to create); return it and what the
    benchmark needs to know about it."""
    from kubeskippy.clock import to_rfc3339
    from kubeskippy.devcluster import Controller, ObjectStore
    from kubeskippy.devcluster.builders import container, deployment, event

    rng = random.Random(seed)
    clock = _ShiftedClock()
    store = ObjectStore(clock, seed=seed)
    controller = Controller(store, node_names=("node-1", "node-2", "node-3"))
    app = container(resources={"requests": {"memory": "128Mi", "cpu": "100m"},
                               "limits": {"memory": "256Mi", "cpu": "500m"}})

    def scenario_deployment(name: str, ns: str, scenario: str, replicas: int) -> dict:
        labels = {"app": name}
        if scenario != "none":
            labels["kubeskippy.io/scenario"] = scenario
        return deployment(name, ns, replicas=replicas, labels=labels, containers=[dict(app)])

    with clock.shifted(-1800):
        for ns in (APPS, OTHER, "kubeskippy"):
            store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for policy in policies:
            store.create(policy)
        for i in range(12):
            store.create(scenario_deployment(f"web-{i:02d}", APPS, SCENARIOS[i % len(SCENARIOS)], 3))
        for i in range(8):
            store.create(scenario_deployment(f"shop-{i:02d}", OTHER, "none", 3))
        for i in range(mesh_runs):
            store.create(scenario_deployment(f"victim-{i:02d}", APPS, "crashloop", 2))
        for i in range(cold_runs):
            store.create(scenario_deployment(f"cold-{i:02d}", APPS, "crashloop", 2))
        controller.settle()

    def crash(pod: dict) -> dict:
        meta = pod["metadata"]
        with clock.shifted(-180):
            crashed = controller.crash_pod(meta["namespace"], meta["name"])
        for j, (reason, type_, message, count) in enumerate(PROBE_EVENTS):
            obj = event(f"{meta['name']}.probe{j}", crashed, reason=reason, message=message, type_=type_, count=count)
            obj.update(firstTimestamp=to_rfc3339(time.time() - 170), lastTimestamp=to_rfc3339(time.time() - 20))
            store.create(obj)
        return store.get("v1", "Pod", meta["name"], meta["namespace"])

    def pods_of(name: str, ns: str) -> list[dict]:
        return sorted(store.list("v1", "Pod", ns, label_selector=f"app={name}"), key=lambda p: p["metadata"]["name"])

    crashing = [crash(pods_of(f"web-{i:02d}", APPS)[0]) for i in range(12) if SCENARIOS[i % len(SCENARIOS)] == "crashloop"]
    victims = [crash(pods_of(f"victim-{i:02d}", APPS)[0]) for i in range(mesh_runs)]
    cold_victims = [crash(pods_of(f"cold-{i:02d}", APPS)[0]) for i in range(cold_runs)]
    crashing_names = {p["metadata"]["name"] for p in crashing + victims + cold_victims}
    healthy = [p for ns in (APPS, OTHER) for p in store.list("v1", "Pod", ns)
               if p["metadata"]["name"] not in crashing_names
               and not p["metadata"]["name"].startswith(("victim-", "cold-"))]
    events = []
    subjects = healthy + crashing
    for i in range(300):
        subject = rng.choice(subjects)
        if rng.random() < 0.7:
            reason, type_, count = rng.choice(NORMAL_REASONS), "Normal", 1
        else:
            reason, type_, count = rng.choice(WARNING_REASONS), "Warning", rng.randint(1, 5)
        obj = event(f"{subject['metadata']['name']}.{i:04d}", subject, reason=reason, type_=type_, count=count,
                    message=f"{reason} for {subject['metadata']['name']}")
        obj.update(firstTimestamp=to_rfc3339(time.time() - rng.uniform(60, 600)),
                   lastTimestamp=to_rfc3339(time.time() - rng.uniform(0, 60)))
        events.append(store.create(obj))
    return store, {"healthy": healthy, "crashing": crashing, "victims": victims, "cold_victims": cold_victims,
                   "events": events}


def _devcluster_main(conn, seed: int, mesh_runs: int, cold_runs: int = 0, policies: tuple[dict, ...] = ()) -> None:
    """Child process: seed, serve, report the URL and the objects, then wait for "stop"."""
    import logging

    from kubeskippy.devcluster.server import DevClusterServer

    logging.disable(logging.CRITICAL)
    store, info = _build_world(seed, mesh_runs, cold_runs, policies)
    server = DevClusterServer(store).start()
    conn.send({"url": server.url, **info})
    conn.recv()
    server.stop()


class DevClusterProcess:
    """The devcluster HTTP server in a spawned process (its own interpreter and GIL)."""

    def __init__(self, seed: int, mesh_runs: int, cold_runs: int = 0, policies: tuple[dict, ...] = ()) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_devcluster_main, args=(child, seed, mesh_runs, cold_runs, policies),
                                    daemon=True)
        self.info: dict = {}

    def __enter__(self) -> "DevClusterProcess":
        self._process.start()
        if not self._conn.poll(120):
            raise RuntimeError("the devcluster process did not start")
        self.info = self._conn.recv()
        return self

    @property
    def url(self) -> str:
        return self.info["url"]

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()


# --- function processes ------------------------------------------------------------------------------

@dataclass
class FunctionProcess:
    """A function folder served like func's scaffolding does, on a free loopback port."""

    folder: Path
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    unset: tuple[str, ...] = ()
    """Variables of this environment the process must not inherit."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> float:
        """Start the process; returns the perf_counter() time just before the fork."""
        log = (self.log_dir / f"{self.folder.name}-{self.port}.log").open("wb")
        env = {**{k: v for k, v in os.environ.items() if k not in self.unset}, **self.env,
               "LISTEN_ADDRESS": f"127.0.0.1:{self.port}", "PYTHONUNBUFFERED": "1"}
        started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "kubeskippy.mesh.serve_function", str(self.folder)],
                                        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.log_dir)
        return started

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the process has used so far, from /proc (Linux)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def first_answer(self, client: httpx.Client, headers: dict, body: bytes, timeout: float = 60.0) -> float:
        """Post ``body`` until the function answers 2xx; returns the perf_counter() time of the answer.
        ``client`` is created before the process starts: making one costs ~50 ms (TLS context)."""
        return self.first_reply(client, headers, body, timeout)[0]

    def first_reply(self, client: httpx.Client, headers: dict, body: bytes,
                    timeout: float = 60.0) -> tuple[float, httpx.Response]:
        """:meth:`first_answer`, also returning the 2xx response (a function's reply event)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.folder.name} exited with {self.process.returncode}")
            try:
                response = client.post(self.url, headers=headers, content=body)
            except httpx.TransportError:
                time.sleep(0.005)
                continue
            if 200 <= response.status_code < 300:
                return time.perf_counter(), response
            if response.status_code != 503:  # 503: started but not ready yet
                raise RuntimeError(f"{self.folder.name} answered {response.status_code}: {response.text}")
            time.sleep(0.005)
        raise TimeoutError(f"{self.folder.name} did not answer within {timeout}s")

    def stop(self) -> None:
        from kubeskippy.mesh.runner import stop_process

        stop_process(self.process)


# --- load --------------------------------------------------------------------------------------------

def event_mix(info: dict, n: int, seed: int) -> tuple[list[tuple[dict, bytes]], dict[str, int]]:
    """``n`` pre-encoded ApiServerSource events in the documented proportions, shuffled."""
    rng = random.Random(seed)
    out: list[tuple[dict, bytes]] = []
    counts = {"healthy pod update": 0, "crash-looping pod update": 0, "core Event add": 0}
    for i in range(n):
        r = rng.random()
        if r < 0.55:
            obj, verb, kind = rng.choice(info["healthy"]), "update", "healthy pod update"
        elif r < 0.65:
            obj, verb, kind = rng.choice(info["crashing"]), "update", "crash-looping pod update"
        else:
            obj, verb, kind = rng.choice(info["events"]), "add", "core Event add"
        counts[kind] += 1
        headers, body = encode(apiserver_event(verb, obj, id=f"bench-{i}"), mode="binary")
        out.append((dict(headers), body))
    return out, counts


# --- the figures --------------------------------------------------------------------------------------

def detect_env(cluster_url: str, policy_dir: Path | None = None) -> dict[str, str]:
    """The functions' settings: policies from ``policy_dir``'s files, or (None) from the cluster."""
    policies = {"KUBESKIPPY_POLICY_SOURCE": "cluster"} if policy_dir is None else \
        {"KUBESKIPPY_POLICY_SOURCE": "files", "KUBESKIPPY_POLICY_FILES": str(policy_dir)}
    return {"KUBESKIPPY_KUBE_URL": cluster_url, "KUBESKIPPY_NAMESPACE": "kubeskippy", **policies}


def demo_policy_files(max_actions_per_hour: int) -> dict[str, list[Any]]:
    """The demo policies by file name, with the crash-loop policy's hourly cap raised for
    repeated mesh runs."""
    files = {}
    for path in sorted((ROOT / "demo" / "policies").glob("*.yaml")):
        docs = list(yaml.safe_load_all(path.read_text()))
        for doc in docs:
            if doc and doc["metadata"]["name"] == "crashloop-recovery":
                doc["spec"].setdefault("safetyRules", {})["maxActionsPerHour"] = max_actions_per_hour
        files[path.name] = docs
    return files


def demo_policy_objects(max_actions_per_hour: int) -> tuple[dict, ...]:
    """:func:`demo_policy_files`' HealingPolicies, to create in the cluster."""
    return tuple(doc for docs in demo_policy_files(max_actions_per_hour).values() for doc in docs
                 if doc and doc.get("kind") == "HealingPolicy")


def write_policies(where: Path, max_actions_per_hour: int) -> Path:
    """:func:`demo_policy_files` written to a folder."""
    folder = where / "policies"
    folder.mkdir(parents=True, exist_ok=True)
    for name, docs in demo_policy_files(max_actions_per_hour).items():
        (folder / name).write_text(yaml.safe_dump_all(docs))
    return folder


def throughput(args, info: dict, policy_dir: Path | None, log_dir: Path) -> dict:
    mix, counts = event_mix(info, 2000, args.seed)
    echo = FunctionProcess(ECHO, {}, log_dir)
    detect = FunctionProcess(DETECT, detect_env(info["url"], policy_dir), log_dir)
    results: dict[str, list[LoadResult]] = {"echo": [], "detect": []}
    load = run_load_httpx if args.client == "httpx" else run_load
    client_cpu: dict[str, list[float]] = {"echo": [], "detect": []}  # the load generator's own CPU
    server_us: dict[str, list[float]] = {"echo": [], "detect": []}  # the function process's CPU per request
    try:
        for fn in (echo, detect):
            fn.start()
            with httpx.Client(timeout=30) as client:
                fn.first_answer(client, *mix[0])
            asyncio.run(load(fn.url, mix, concurrency=args.concurrency, count=300, seconds=10))  # warm-up
        for _ in range(args.rounds):
            for name, fn in (("echo", echo), ("detect", detect)):
                cpu, server_cpu = time.process_time(), fn.cpu_seconds()
                results[name].append(asyncio.run(load(fn.url, mix, concurrency=args.concurrency,
                                                       count=args.requests, seconds=args.seconds)))
                client_cpu[name].append(time.process_time() - cpu)
                server_us[name].append((fn.cpu_seconds() - server_cpu) / results[name][-1].requests * 1e6)
    finally:
        echo.stop()
        detect.stop()

    def summary(runs: list[LoadResult]) -> dict:
        merged = [x for r in runs for x in r.latencies_ms]
        statuses: dict[int, int] = {}
        for r in runs:
            for k, v in r.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        whole = LoadResult(sum(r.requests for r in runs), sum(r.seconds for r in runs), merged, statuses)
        return {"rps_per_round": [round(r.rps, 1) for r in runs], "rps_median": statistics.median(r.rps for r in runs),
                "p50_ms": whole.percentile(50), "p99_ms": whole.percentile(99), "requests": whole.requests,
                "statuses": statuses}

    out = {"mix": counts, "client": args.client, "echo": summary(results["echo"]), "detect": summary(results["detect"])}
    for name in ("echo", "detect"):
        out[name]["client_cpu_s_per_round"] = [round(c, 2) for c in client_cpu[name]]
        out[name]["server_cpu_us_per_request"] = [round(c) for c in server_us[name]]
    # Less sensitive to a shared machine than requests/s: what one request costs each server.
    out["server_cpu_ratio"] = statistics.median(server_us["detect"]) / statistics.median(server_us["echo"])
    out["rps_ratio"] = out["detect"]["rps_median"] / out["echo"]["rps_median"]
    out["p99_ratio"] = out["detect"]["p99_ms"] / out["echo"]["p99_ms"]
    return out


class _Sink:
    """K_SINK for the cold starts: answers 202 to every CloudEvent posted (remediate replies with
    one outcome of a multi-step plan and publishes the others to the Broker before answering)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length") or 0))
                received.append(self.headers.get("ce-type"))
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> "_Sink":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


COLD_FUNCTIONS = ("detect", "analyze", "remediate", "audit")


def runtime_env(name: str) -> dict[str, str]:
    """The process settings production starts a function with: its func.yaml's run envs that are
    not KubeSkippy settings (those point at the benchmark's own cluster instead), such as
    ``PYDANTIC_DISABLE_PLUGINS``. deploy/knative/config.yaml sets the same (tests/deploy checks).
    The echo gets the settings all four functions share, so both sides start alike."""
    if name == "echo":
        shared = [runtime_env(n).items() for n in COLD_FUNCTIONS]
        return dict(set(shared[0]).intersection(*shared[1:]))
    spec = yaml.safe_load((ROOT / "functions" / name / "func.yaml").read_text())
    return {e["name"]: str(e["value"]) for e in spec["run"]["envs"]
            if not e["name"].startswith("KUBESKIPPY_") and "value" in e}


def pass_reply_on(inputs: dict[str, tuple[dict, bytes]], name: str, response: Any) -> None:
    """Make a function's reply the next one's first event, as the Broker would route it: detect's
    Finding to analyze, analyze's Plan to remediate and audit."""
    reply = ({k: v for k, v in response.headers.items() if k.startswith("ce-") or k == "content-type"},
             response.content)
    if name == "detect":
        inputs["analyze"] = reply
    elif name == "analyze":
        inputs["remediate"] = inputs["audit"] = reply


def bytecode_env(work: Path) -> dict[str, str]:
    """Bytecode as a deployed function has it: ``pip install`` (what func's Python buildpack runs
    on the function project) byte-compiles every package it installs, while this checkout is an
    editable install whose environment may set PYTHONDONTWRITEBYTECODE, which would make every
    start compile the kubeskippy sources again. A cache directory under the work dir, filled by the
    untimed first round, gives every process (echo included) compiled modules to load."""
    return {"PYTHONPYCACHEPREFIX": str(work / "pycache")}


def cold_starts(args, info: dict, policy_dir: Path | None, log_dir: Path) -> dict:
    """Each function's first answer after process start, against the echo's, rounds interleaved.

    The inputs are the pipeline's own events: a crash-looping pod's update for detect (and the
    echo), detect's reply (the Finding) for analyze, analyze's reply (the Plan) for remediate,
    which executes it against the API (each round has its own crash-looping Deployment, so every
    round's plan is new work) and publishes the outcomes to K_SINK, and the Plan for audit, which
    writes it to the local sink. Round 0 is untimed: it fills the bytecode cache (see
    :func:`bytecode_env`) unless ``--compile-each-start``.
    """
    names = ("echo", *COLD_FUNCTIONS)
    times: dict[str, list[float]] = {name: [] for name in names}
    replies: dict[str, int] = {}
    base_env = {**detect_env(info["url"], policy_dir), "KUBESKIPPY_AUDIT_SINK": "local",
                "KUBESKIPPY_GLOBAL_MAX_ACTIONS_PER_HOUR": "100000"}
    inherited = {} if args.compile_each_start else bytecode_env(log_dir)
    rounds = [("warm-up", victim) for victim in info["cold_victims"][:1]] if inherited else []
    rounds += [("timed", victim) for victim in info["cold_victims"][len(rounds):]]
    with _Sink() as sink:
        for kind, victim in rounds:
            inputs = {"echo": encode(apiserver_event("update", victim, id=f"cold-{victim['metadata']['name']}"),
                                     mode="binary")}
            inputs["detect"] = inputs["echo"]
            for name in names:
                folder = ECHO if name == "echo" else ROOT / "functions" / name
                env = {**runtime_env(name), **base_env, **inherited, "K_SINK": sink.url,
                       "KUBESKIPPY_AUDIT_DIR": str(log_dir / "audit")} if name != "echo" else \
                    {**runtime_env("echo"), **inherited}
                fn = FunctionProcess(folder, env, log_dir, unset=("PYTHONDONTWRITEBYTECODE",) if inherited else ())
                headers, body = inputs[name]
                try:
                    with httpx.Client(timeout=30) as client:
                        started = fn.start()
                        answered, response = fn.first_reply(client, dict(headers), body)
                finally:
                    fn.stop()
                if kind == "timed":
                    times[name].append(answered - started)
                replies[f"{name} {response.status_code}"] = replies.get(f"{name} {response.status_code}", 0) + 1
                pass_reply_on(inputs, name, response)
    echo = statistics.median(times["echo"])
    out: dict[str, Any] = {"bytecode": "compiled on every start" if args.compile_each_start
                           else "cached (filled by an untimed first round)", "replies": replies,
                           "published_to_sink": len(sink.received),
                           "echo": {"runs_s": times["echo"], "median_s": echo}}
    for name in COLD_FUNCTIONS:
        median = statistics.median(times[name])
        out[name] = {"runs_s": times[name], "median_s": median, "ratio": median / echo}
    return out


class DeletionWatch:
    """Watch one pod through the API and note when it is DELETED (opened before the event is posted)."""

    def __init__(self, cluster_url: str, pod: dict) -> None:
        meta = pod["metadata"]
        self.name = meta["name"]
        self.url = (f"{cluster_url}/api/v1/namespaces/{meta['namespace']}/pods"
                    f"?watch=true&fieldSelector=metadata.name%3D{self.name}"
                    f"&resourceVersion={meta['resourceVersion']}&timeoutSeconds=60")
        self.deleted_at: float | None = None
        self._opened = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "DeletionWatch":
        self._thread.start()
        if not self._opened.wait(10):
            raise RuntimeError(f"could not open a watch on {self.name}")
        return self

    def _run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(70, connect=5)) as client:
            with client.stream("GET", self.url) as response:
                self._opened.set()
                for line in response.iter_lines():
                    if line and json.loads(line).get("type") == "DELETED":
                        self.deleted_at = time.time()
                        break
        self._done.set()

    def wait(self, timeout: float) -> float | None:
        self._done.wait(timeout)
        return self.deleted_at


def _first_record_after(records, trigger: str, since: float):
    return next((r for r in records if r.trigger == trigger and r.at >= since), None)


def mesh_latency(args, info: dict, policy_dir: Path | None, log_dir: Path) -> dict:
    """Event → pod deleted through the mesh, with the time split at the broker's deliveries:
    detect answered (finding) → analyze answered (plan) → the DELETE reached the API."""
    from kubeskippy.mesh.runner import Mesh

    env = {**detect_env(info["url"], policy_dir), "KUBESKIPPY_AUDIT_SINK": "local",
           "KUBESKIPPY_AUDIT_DIR": str(log_dir / "audit"), "KUBESKIPPY_GLOBAL_MAX_ACTIONS_PER_HOUR": "100000"}
    latencies: list[float] = []
    stages: dict[str, list[float]] = {"detect": [], "analyze": [], "remediate until DELETE": []}
    missed: list[str] = []
    with Mesh(ROOT, log_dir / "mesh", env=env) as mesh:
        with httpx.Client(timeout=30) as client:
            for i, victim in enumerate(info["victims"]):
                watch = DeletionWatch(info["url"], victim).start()
                headers, body = encode(apiserver_event("update", victim, id=f"mesh-{i}"), mode="binary")
                posted = time.time()
                response = client.post(mesh.server.url, headers=dict(headers), content=body)
                response.raise_for_status()
                deleted = watch.wait(30)
                mesh.wait_idle(30)
                if deleted is None:
                    missed.append(victim["metadata"]["name"])
                    continue
                if i < args.mesh_warmup:
                    continue
                latencies.append((deleted - posted) * 1000)
                records = list(mesh.broker.records)
                detected = _first_record_after(records, "detect-apiserver", posted)
                analyzed = _first_record_after(records, "analyze-findings", posted)
                if detected and analyzed:
                    stages["detect"].append((detected.at - posted) * 1000)
                    stages["analyze"].append((analyzed.at - detected.at) * 1000)
                    stages["remediate until DELETE"].append((deleted - analyzed.at) * 1000)
        dead = len(mesh.broker.dead_letters)
    result = {"runs": len(latencies), "warmup_runs": args.mesh_warmup, "missed": missed, "dead_letters": dead}
    if latencies:
        ordered = sorted(latencies)
        result.update(p50_ms=statistics.median(ordered), p90_ms=ordered[int(0.9 * (len(ordered) - 1))],
                      min_ms=ordered[0], max_ms=ordered[-1], all_ms=[round(x, 1) for x in latencies],
                      stage_p50_ms={k: round(statistics.median(v), 1) for k, v in stages.items() if v})
    return result


# --- report --------------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_table(results: dict) -> None:
    rows = []
    t = results.get("throughput")
    if t:
        rows.append(("requests/s (median of rounds)", f"{t['detect']['rps_median']:.0f}", f"{t['echo']['rps_median']:.0f}",
                     f"{t['rps_ratio']:.2f}", ">= 0.70", verdict(t["rps_ratio"] >= 0.70)))
        rows.append(("p50 latency ms", f"{t['detect']['p50_ms']:.1f}", f"{t['echo']['p50_ms']:.1f}",
                     f"{t['detect']['p50_ms'] / t['echo']['p50_ms']:.2f}", "", ""))
        rows.append(("p99 latency ms", f"{t['detect']['p99_ms']:.1f}", f"{t['echo']['p99_ms']:.1f}",
                     f"{t['p99_ratio']:.2f}", "<= 2.00", verdict(t["p99_ratio"] <= 2.0)))
        rows.append(("server CPU µs per request (median)", f"{statistics.median(t['detect']['server_cpu_us_per_request']):.0f}",
                     f"{statistics.median(t['echo']['server_cpu_us_per_request']):.0f}",
                     f"{t['server_cpu_ratio']:.2f}", "", ""))
        rows.append(("load generator CPU s per round (median)", f"{statistics.median(t['detect']['client_cpu_s_per_round']):.2f}",
                     f"{statistics.median(t['echo']['client_cpu_s_per_round']):.2f}", "", "", ""))
    c = results.get("cold_start")
    if c:
        for name in COLD_FUNCTIONS:
            rows.append((f"cold start to first answer s (median): {name}", f"{c[name]['median_s']:.2f}",
                         f"{c['echo']['median_s']:.2f}", f"{c[name]['ratio']:.2f}", "<= 2.00",
                         verdict(c[name]["ratio"] <= 2.0)))
    m = results.get("mesh")
    if m and m.get("runs"):
        rows.append(("mesh event -> pod deleted ms (p50)", f"{m['p50_ms']:.1f}", "", "", "<= 50 ms",
                     verdict(m["p50_ms"] <= 50)))
        rows.append(("mesh event -> pod deleted ms (p90 / max)", f"{m['p90_ms']:.1f} / {m['max_ms']:.1f}", "", "", "", ""))
        for stage, ms in m.get("stage_p50_ms", {}).items():
            rows.append((f"  of which {stage} (p50)", f"{ms:.1f}", "", "", "", ""))
    header = ("figure", "function / mesh", "echo", "ratio", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000, help="per round and function")
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound per round and function")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--starts", type=int, default=5, help="timed cold starts of each function and the echo")
    parser.add_argument("--compile-each-start", action="store_true",
                        help="no bytecode cache: every start compiles what it imports (as with PYTHONDONTWRITEBYTECODE)")
    parser.add_argument("--mesh-runs", type=int, default=23)
    parser.add_argument("--mesh-warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--client", choices=("lean", "httpx"), default="lean",
                        help="the throughput load generator: lean HTTP/1.1 on asyncio streams (default) or one "
                             "async httpx client (the instrument before 2026-11-22; it takes a core of its own)")
    parser.add_argument("--policy-source", choices=("cluster", "files"), default="cluster",
                        help="where the functions read the HealingPolicies: the API (production's setting) or files")
    parser.add_argument("--only", choices=("throughput", "cold_start", "mesh"), action="append")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.seconds, args.rounds, args.starts, args.mesh_runs, args.mesh_warmup = 400, 5, 1, 2, 5, 1
    only = set(args.only or ("throughput", "cold_start", "mesh"))
    results: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                           "loadavg_before": os.getloadavg()},
                               "settings": {k: v for k, v in vars(args).items() if k not in ("json", "only")}}
    work = Path(tempfile.mkdtemp(prefix="kubeskippy-bench-functions-"))
    try:
        policy_dir = write_policies(work, max_actions_per_hour=10_000) if args.policy_source == "files" else None
        policies = demo_policy_objects(10_000) if args.policy_source == "cluster" else ()
        cold_runs = args.starts + (0 if args.compile_each_start else 1) if "cold_start" in only else 0
        with DevClusterProcess(args.seed, args.mesh_runs, cold_runs, policies) as cluster:
            info = {**cluster.info, "url": cluster.url}
            print(f"devcluster at {cluster.url}: {len(info['healthy'])} healthy pods, {len(info['crashing'])} "
                  f"crash-looping, {len(info['events'])} events, {len(info['victims'])} mesh victims")
            if "throughput" in only:
                results["throughput"] = throughput(args, info, policy_dir, work)
                print("throughput:", json.dumps(results["throughput"]))
            if "cold_start" in only:
                results["cold_start"] = cold_starts(args, info, policy_dir, work)
                print("cold start:", json.dumps(results["cold_start"]))
            if "mesh" in only:
                results["mesh"] = mesh_latency(args, info, policy_dir, work)
                print("mesh:", json.dumps(results["mesh"]))
        results["machine"]["loadavg_after"] = os.getloadavg()
        print()
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average before "
              f"{results['machine']['loadavg_before'][0]:.1f}, after {results['machine']['loadavg_after'][0]:.1f}")
        print_table(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if os.environ.get("KUBESKIPPY_BENCH_KEEP"):
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
