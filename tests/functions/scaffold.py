"""Install and run a function folder the way `func build` does, outside this repository.

func's Python scaffolding copies the function project next to a generated service whose
dependencies are the function itself and func-python, then runs ``func_python.http.serve(new)``.
Here: a clean virtualenv, ``pip install <copy of the function dir> func-python==0.8.1``, and that
same main, started from an empty working directory with a clean environment, so nothing can
resolve from the repository checkout.

Why a wheelhouse: every install needs the same ~65 third-party wheels (the core's dependencies,
func-python, hatchling to build the project). Fetching them from the index four times per run
costs minutes; instead they are collected once into ``build/function-wheelhouse`` and each
install runs ``--no-index --find-links <wheelhouse>``. The command and the resolution are
otherwise the scaffolding's: only the function folder (with its vendored core wheel) decides
what gets installed. When the core gains a dependency the wheelhouse lacks, the offline install
fails and the wheelhouse is refreshed from the index once, then the install is retried.

Two more savings that change nothing about what gets resolved: the virtualenv is created without
its own pip and filled by this interpreter's pip (``pip --python <venv python> install``), and
``--no-compile`` skips byte-compiling ~65 packages (the function compiles what it imports when it
starts). Together they took one install from ~57 s to ~12 s (docs/functions.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import venv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import httpx

from kubeskippy.events.cloudevents import encode
from kubeskippy.mesh.runner import free_port

__all__ = ["ROOT", "FUNCTIONS", "FUNC_PYTHON", "SCAFFOLD_MAIN", "WHEELHOUSE", "vendor_core", "install_function",
           "install_functions", "refresh_wheelhouse", "FunctionServer", "post_event", "InstallError"]

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("detect", "analyze", "remediate", "audit")
FUNC_PYTHON = "func-python==0.8.1"
WHEELHOUSE = Path(os.environ.get("KUBESKIPPY_FUNCTION_WHEELHOUSE", ROOT / "build" / "function-wheelhouse"))

SCAFFOLD_MAIN = """\
import logging
from func_python.http import serve

logging.basicConfig(level=logging.INFO)

try:
    from function import new as handler
except ImportError:
    from function import handle as handler


def main():
    logging.info("Functions middleware invoking user function")
    serve(handler)


if __name__ == "__main__":
    main()
"""
"""The scaffolding's service main: func-python's http middleware serving the function's new()."""

_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


class InstallError(RuntimeError):
    """pip failed; the message carries its output."""


@dataclass
class _Refreshes:
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0


_refreshes = _Refreshes()


def _run(cmd: list[str], what: str, *, timeout: float, cwd: Path | None = None,
         env: Mapping[str, str] | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                            env=dict(env) if env is not None else None)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise InstallError(f"{what} failed (exit {result.returncode}):\n{tail}")


def vendor_core() -> Path:
    """Build the core wheel into every functions/*/vendor/ (scripts/vendor-core); returns it."""
    _run(["bash", str(ROOT / "scripts" / "vendor-core")], "scripts/vendor-core", timeout=600, cwd=ROOT,
         env={**os.environ, "PYTHON": sys.executable})
    [wheel] = (ROOT / "functions" / "detect" / "vendor").glob("kubeskippy-*.whl")
    return wheel


def _copy_project(name: str, where: Path) -> Path:
    project = where / f"project-{name}"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(ROOT / "functions" / name, project, ignore=shutil.ignore_patterns("__pycache__"))
    return project


def refresh_wheelhouse(project: Path) -> None:
    """Collect every wheel a function install needs from the index into :data:`WHEELHOUSE`."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    _run([*_PIP, "wheel", "-w", str(WHEELHOUSE), str(project), FUNC_PYTHON, "hatchling"],
         "collecting the wheelhouse", timeout=1200)
    for own in ("kubeskippy-*.whl", "function-*.whl"):  # built from this checkout: never reuse them
        for path in WHEELHOUSE.glob(own):
            path.unlink()


def install_function(name: str, where: Path) -> Path:
    """A fresh virtualenv holding only the function project (with its vendored core) and
    func-python, installed from a copy of the function folder. Returns the venv's python."""
    env_dir = where / f"venv-{name}"
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    project = _copy_project(name, where)
    offline = [*_PIP, "--python", str(python), "install", "--no-compile", "--no-index", "--find-links",
               str(WHEELHOUSE), str(project), FUNC_PYTHON]
    generation = _refreshes.generation
    try:
        _run(offline, f"pip install {name} (offline, from {WHEELHOUSE})", timeout=900)
    except InstallError:
        with _refreshes.lock:  # parallel installs that all failed refresh the wheelhouse once
            if _refreshes.generation == generation:
                refresh_wheelhouse(project)
                _refreshes.generation += 1
        _run(offline, f"pip install {name} (offline, after refreshing the wheelhouse)", timeout=900)
    return python


def install_functions(names: tuple[str, ...], where: Path, *, workers: int = 2) -> dict[str, Path]:
    """Install several functions in parallel (each in its own venv). The first install also
    fills the wheelhouse if it is missing, so the others find it."""
    names = tuple(names)
    if not names:
        return {}
    first = install_function(names[0], where) if not any(WHEELHOUSE.glob("*.whl")) else None
    rest = names[1:] if first else names
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pythons = dict(zip(rest, pool.map(lambda n: install_function(n, where), rest)))
    if first:
        pythons[names[0]] = first
    return {n: pythons[n] for n in names}


@dataclass
class FunctionServer:
    """One installed function served by the scaffolding's main on a free loopback port.

    The working directory is empty and the environment holds only PATH, HOME, LISTEN_ADDRESS
    and ``env``: the process sees its virtualenv and nothing of this checkout.
    """

    python: Path
    workdir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "function.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> "FunctionServer":
        service, run = self.workdir / "service", self.workdir / "run"
        service.mkdir(parents=True, exist_ok=True)
        run.mkdir(parents=True, exist_ok=True)
        (service / "main.py").write_text(SCAFFOLD_MAIN)
        clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(run),
                     "LISTEN_ADDRESS": f"127.0.0.1:{self.port}", "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen([str(self.python), str(service / "main.py")], cwd=run, env=clean_env,
                                        stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds until /health/readiness answered 200; fails with the function's log."""
        assert self.process is not None, "start() first"
        started = time.monotonic()
        last = ""
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"function exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                response = httpx.get(self.url + "/health/readiness", timeout=1)
                if response.status_code == 200:
                    return time.monotonic() - started
                last = response.text
                if last.startswith("start failed"):  # FunctionApp stays unready until restarted
                    raise RuntimeError(f"{self.url} reports {last!r}:\n{self.log()[-3000:]}")
            except httpx.HTTPError as e:
                last = str(e)
            time.sleep(0.02)
        raise TimeoutError(f"{self.url} not ready after {timeout}s ({last}):\n{self.log()[-3000:]}")

    def stop(self) -> None:
        from kubeskippy.mesh.runner import stop_process

        stop_process(self.process)

    def __enter__(self) -> "FunctionServer":
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def post_event(url: str, event, *, mode: str = "binary", timeout: float = 30.0) -> httpx.Response:
    """POST one CloudEvent the way the Broker delivers it."""
    headers, body = encode(event, mode=mode)
    return httpx.post(url + "/", headers=dict(headers), content=body, timeout=timeout)
