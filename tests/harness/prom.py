"""Real Prometheus and Alertmanager for tests, on free loopback ports, plus two small helpers:
an exporter whose gauges a test sets, and a webhook receiver that records (or handles) posts.

Both servers run with 1 s scrape and evaluation intervals and Alertmanager groups with a 1 s
``group_wait``/``group_interval``, so an alert with ``for: 2s`` reaches the webhook within about
ten seconds. Each instance gets its own temporary directory (config, TSDB, log) and is
terminated on exit; on a start failure the log tail is in the exception.

The binaries come from Debian (``apt-get install prometheus prometheus-alertmanager``); tests
skip with :data:`PROMETHEUS_MISSING_REASON` / :data:`ALERTMANAGER_MISSING_REASON` when absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import pytest
import yaml
from kubeskippy.mesh.runner import free_port  # never hands out one port twice

__all__ = [
    "Prometheus",
    "Alertmanager",
    "MetricsExporter",
    "WebhookReceiver",
    "find_prometheus",
    "find_alertmanager",
    "require_prometheus",
    "require_alertmanager",
    "free_port",
    "wait_for",
    "PROMETHEUS_MISSING_REASON",
    "ALERTMANAGER_MISSING_REASON",
]

PROMETHEUS_MISSING_REASON = ("the `prometheus` binary is not installed; `apt-get install -y --no-install-recommends "
                             "prometheus` (CI installs it)")
ALERTMANAGER_MISSING_REASON = ("the `prometheus-alertmanager` binary is not installed; `apt-get install -y "
                               "--no-install-recommends prometheus-alertmanager` (CI installs it)")


def find_prometheus() -> str | None:
    return shutil.which("prometheus")


def find_alertmanager() -> str | None:
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def require_prometheus() -> str:
    path = find_prometheus()
    if path is None:
        pytest.skip(PROMETHEUS_MISSING_REASON)
    return path


def require_alertmanager() -> str:
    path = find_alertmanager()
    if path is None:
        pytest.skip(ALERTMANAGER_MISSING_REASON)
    return path




def wait_for(condition: Callable[[], object], *, timeout: float, interval: float = 0.25, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


class _Server:
    """A binary run in its own temporary directory until stopped."""

    name = "server"

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"kubeskippy-{self.name}-"))
        self.log_path = self.dir / "log.txt"
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _args(self) -> list[str]:
        raise NotImplementedError

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def start(self, timeout: float = 30.0) -> "_Server":
        self._log = open(self.log_path, "wb")
        self._process = subprocess.Popen([self.binary, *self._args()], cwd=self.dir, stdout=self._log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}")
            if _get(self.url + "/-/ready")[0] == 200:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Prometheus(_Server):
    """Prometheus scraping ``targets`` (host:port) every second and evaluating ``rule_files``."""

    name = "prometheus"

    def __init__(self, binary: str, *, targets: Sequence[str] = (), rule_files: Iterable[Path] = (),
                 alertmanager: str | None = None) -> None:
        super().__init__(binary)
        rules = []
        for i, path in enumerate(rule_files):
            copy = self.dir / f"rules-{i}.yaml"
            shutil.copyfile(path, copy)
            rules.append(copy.name)
        config: dict = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": rules,
            "scrape_configs": [{"job_name": "exporter", "static_configs": [{"targets": list(targets)}]}],
        }
        if alertmanager:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        (self.dir / "prometheus.yml").write_text(yaml.safe_dump(config))

    def _args(self) -> list[str]:
        return ["--config.file=prometheus.yml", "--storage.tsdb.path=data",
                f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle",
                "--rules.alert.resend-delay=1s", "--log.level=warn"]

    def api(self, path: str) -> dict:
        status, body = _get(self.url + path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}: {body[:500]!r}")
        return json.loads(body)["data"]

    def rules_loaded(self) -> list[dict]:
        return [rule for group in self.api("/api/v1/rules")["groups"] for rule in group["rules"]]

    def targets_up(self) -> bool:
        active = self.api("/api/v1/targets")["activeTargets"]
        return bool(active) and all(t["health"] == "up" for t in active)


class Alertmanager(_Server):
    """Alertmanager posting every group (firing and resolved) to ``webhook_url`` after ~1 s."""

    name = "alertmanager"

    def __init__(self, binary: str, *, webhook_url: str, group_by: Sequence[str] = ("alertname", "namespace", "pod")) -> None:
        super().__init__(binary)
        config = {
            "route": {"receiver": "kubeskippy", "group_by": list(group_by), "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "kubeskippy",
                           "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
        }
        (self.dir / "alertmanager.yml").write_text(yaml.safe_dump(config))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _args(self) -> list[str]:
        return ["--config.file=alertmanager.yml", "--storage.path=data",
                f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=warn"]


class _LoopbackHTTP:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class MetricsExporter(_LoopbackHTTP):
    """Serves ``/metrics`` in the Prometheus text format from gauges the test sets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gauges: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("content-type", "text/plain; version=0.0.4")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(Handler)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set(self, name: str, labels: Mapping[str, str], value: float) -> None:
        with self._lock:
            self._gauges.setdefault(name, {})[tuple(sorted(labels.items()))] = value

    def render(self) -> str:
        lines = []
        with self._lock:
            for name, series in sorted(self._gauges.items()):
                lines.append(f"# TYPE {name} gauge")
                for labels, value in series.items():
                    text = ",".join(f'{k}="{v}"' for k, v in labels)
                    lines.append(f"{name}{{{text}}} {value!r}")
        return "\n".join(lines) + "\n"


class WebhookReceiver(_LoopbackHTTP):
    """Records every POST; ``handle(body) -> int`` (optional) decides the status and may raise."""

    def __init__(self, handle: Callable[[bytes], int] | None = None) -> None:
        self.bodies: list[bytes] = []
        self.errors: list[BaseException] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.bodies.append(body)
                status = 200
                if handle is not None:
                    try:
                        status = handle(body)
                    except Exception as e:  # the test inspects receiver.errors
                        receiver.errors.append(e)
                        status = 500
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(Handler)

    def url(self, path: str = "/alertmanager") -> str:
        return f"http://127.0.0.1:{self.port}{path}"
