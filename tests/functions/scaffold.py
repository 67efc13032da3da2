"""Install and run a function folder the way `func build` does, outside this repository.

func's Python scaffolding copies the function project next to a generated service whose
dependencies are the function itself and func-python, then runs ``func_python.http.serve(new)``.
Here: a clean virtualenv, ``pip install <function dir> func-python==0.8.1``, and that same main,
started from an empty working directory so nothing resolves from the repository checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

SCAFFOLD_MAIN = """\
import logging
from func_python.http import serve
from function import new
logging.basicConfig(level=logging.INFO)
serve(new)
"""


def vendor_core() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "vendor-core")], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHON": sys.executable}, capture_output=True)


def install_function(name: str, where: Path) -> Path:
    """A fresh virtualenv holding only the function project (with its vendored core) and func-python."""
    env_dir = where / f"venv-{name}"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    project = where / f"project-{name}"
    shutil.copytree(ROOT / "functions" / name, project, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(project), "func-python==0.8.1"], check=True, capture_output=True, timeout=900)
    return python


def start_function(python: Path, port: int, workdir: Path, env: dict[str, str]) -> subprocess.Popen:
    workdir.mkdir(parents=True, exist_ok=True)
    main = workdir / "main.py"
    main.write_text(SCAFFOLD_MAIN)
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir),
                 "LISTEN_ADDRESS": f"127.0.0.1:{port}", **env}
    return subprocess.Popen([str(python), str(main)], cwd=workdir, env=clean_env,
                            stdout=(workdir / "out.log").open("wb"), stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60.0) -> float:
    """Seconds until /health/readiness answered 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"function exited with {process.returncode}")
        try:
            if httpx.get(url + "/health/readiness", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{url} not ready after {timeout}s")
