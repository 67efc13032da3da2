"""Start the local event mesh: a broker and the four functions as real func-python processes.

Used by ``kubeskippy dev`` and by the end-to-end tests. Everything binds 127.0.0.1 on free
ports. The triggers mirror deploy/knative/triggers.yaml so routing here is routing there.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import httpx
import uvicorn

from .broker import Broker, DeliverySpec, Trigger
from .ingress import BrokerIngress

__all__ = ["free_port", "FUNCTIONS", "default_triggers", "BrokerServer", "FunctionProcess", "Mesh", "stop_process"]

FUNCTIONS = ("detect", "analyze", "remediate", "audit")


_HANDED_OUT: set[int] = set()
_PORT_LOCK = threading.Lock()


def free_port() -> int:
    """A loopback port nothing listens on now and that this process has not handed out before.

    The kernel may return the same ephemeral port to two quick bind-and-release probes; two
    function processes given one port would have the second fail to bind while the first
    answered its readiness checks, so ports are never handed out twice.
    """
    with _PORT_LOCK:
        while True:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


def default_triggers(urls: Mapping[str, str]) -> list[Trigger]:
    """The routing of the design's flow (see deploy/knative/triggers.yaml)."""
    return [
        Trigger("detect-apiserver", urls["detect"], prefix={"type": "dev.knative.apiserver."}),
        Trigger("detect-alerts", urls["detect"], prefix={"type": "io.kubeskippy.alert."}),
        Trigger("detect-sweep", urls["detect"], attributes={"type": "dev.knative.sources.ping"}),
        Trigger("analyze-findings", urls["analyze"], attributes={"type": "io.kubeskippy.finding"}),
        Trigger("analyze-learn-outcomes", urls["analyze"], attributes={"type": "io.kubeskippy.outcome"}),
        Trigger("analyze-learn-verifications", urls["analyze"], attributes={"type": "io.kubeskippy.verification"}),
        Trigger("remediate-plans", urls["remediate"], attributes={"type": "io.kubeskippy.plan"}),
        Trigger("remediate-approvals", urls["remediate"],
                attributes={"type": "dev.knative.apiserver.resource.update", "kind": "HealingAction"}),
        Trigger("remediate-verify", urls["remediate"], attributes={"type": "dev.knative.sources.ping"}),
        Trigger("audit-all", urls["audit"], prefix={"type": "io.kubeskippy."}),
    ]


class BrokerServer:
    """The broker's ingress under uvicorn in a background thread with its own event loop."""

    def __init__(self, broker: Broker, port: int | None = None) -> None:
        self.broker = broker
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        config = uvicorn.Config(BrokerIngress(broker), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", interface="asgi3")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="kubeskippy-broker", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the broker did not start")
            time.sleep(0.01)

    def call(self, coro, timeout: float = 60.0):
        """Run a coroutine on the broker's loop from another thread (e.g. wait_idle)."""
        servers = getattr(self._server, "servers", None)
        if not servers:
            raise RuntimeError("the broker is not running")
        return asyncio.run_coroutine_threadsafe(coro, servers[0].get_loop()).result(timeout)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@dataclass
class FunctionProcess:
    name: str
    target: str | Path  # a function project folder, or a function name (served from the package)
    env: Mapping[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, log_dir: Path) -> None:
        self.log_path = log_dir / f"{self.name}.log"
        env = {**os.environ, **self.env, "LISTEN_ADDRESS": f"127.0.0.1:{self.port}", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kubeskippy.mesh.serve_function", str(self.target)],
            env=env, stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"function {self.name} exited with {self.process.returncode}; "
                                   f"log: {self.log_path.read_text()[-2000:] if self.log_path else ''}")
            try:
                r = httpx.get(self.url + "health/readiness", timeout=1.0)
                if r.status_code == 200 and self.process is not None and self.process.poll() is None:
                    return
                last = r.text
            except httpx.HTTPError as e:
                last = str(e)
            time.sleep(0.05)
        raise RuntimeError(f"function {self.name} not ready after {timeout}s: {last}")

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM (func-python shuts down cleanly on it), then SIGKILL after ``timeout`` seconds."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Mesh:
    """Broker + four function processes, wired by the default triggers.

    ``env`` is passed to every function (cluster URL, policy files, audit sink …);
    ``per_function_env`` adds to one function.
    """

    def __init__(self, repo_root: Path | None, log_dir: Path, *, env: Mapping[str, str] | None = None,
                 per_function_env: Mapping[str, Mapping[str, str]] | None = None,
                 delivery: DeliverySpec | None = None, functions: tuple[str, ...] = FUNCTIONS) -> None:
        self.repo_root = repo_root
        self.log_dir = log_dir
        self.broker = Broker(delivery=delivery or DeliverySpec(retry=3, backoff_delay=0.1, timeout=30.0))
        self.server = BrokerServer(self.broker)
        per = per_function_env or {}
        self.functions = {
            name: FunctionProcess(name, _function_target(repo_root, name),
                                  {**(env or {}), "K_SINK": self.server.url, **per.get(name, {})})
            for name in functions
        }

    def start(self) -> "Mesh":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        urls = {name: fn.url for name, fn in self.functions.items()}
        self.broker.triggers = [t for t in default_triggers({**{n: "" for n in FUNCTIONS}, **urls})
                                if t.subscriber]
        if "audit" in urls:
            self.broker.delivery = DeliverySpec(retry=self.broker.delivery.retry,
                                                backoff_delay=self.broker.delivery.backoff_delay,
                                                timeout=self.broker.delivery.timeout,
                                                dead_letter_sink=urls["audit"])
        self.server.start()
        for fn in self.functions.values():
            fn.start(self.log_dir)
        for fn in self.functions.values():
            fn.wait_ready()
        return self

    def wait_idle(self, timeout: float = 30.0) -> None:
        self.server.call(self.broker.wait_idle(timeout), timeout + 5)

    def stop(self) -> None:
        for fn in self.functions.values():
            fn.stop()
        self.server.stop()

    def __enter__(self) -> "Mesh":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _function_target(repo_root: Path | None, name: str) -> str | Path:
    """The function project folder when the repository is at hand, else the function's name."""
    if repo_root is not None and (repo_root / "functions" / name / "function").is_dir():
        return repo_root / "functions" / name
    return name
