"""The simulator's alert-rule evaluation agrees with a real Prometheus on the same series.

The memory-leak scenario's rule is evaluated by the simulator; its series are exported as
OpenMetrics, imported with promtool into TSDB blocks, served by Prometheus 2.x on 127.0.0.1, and
the rule's expression is evaluated there with query_range at the very evaluation times. Applying
the rule's ``for:`` to Prometheus' answers must give the same firing times.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import pytest

from kubeskippy.simulator.runner import Arm, Run
from kubeskippy.simulator.scenario import load_scenario
from kubeskippy.simulator.signals.openmetrics import write_openmetrics

pytestmark = pytest.mark.slow

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def _free_port() -> int:
    from kubeskippy.mesh.runner import free_port  # never hands out one port twice

    return free_port()


@pytest.mark.skipif(not (PROMTOOL and PROMETHEUS), reason="promtool/prometheus not installed (Debian prometheus)")
def test_the_memory_leak_alert_fires_at_the_same_simulated_times_as_in_prometheus(tmp_path):
    scenario = load_scenario("memory-leak").model_copy(update={"duration": 3600.0})
    scenario.signals.retention = 3600.0 + 60
    run = Run(scenario, Arm("no-healing"), 1)
    run.execute()
    rule = scenario.alerting.rules[0]
    ours = sorted({(t, labels["pod"]) for t, labels in run.rules.firing_times(rule.alert)})
    assert len(ours) >= 6, "the leak should fire the rule several times in an hour"

    export = tmp_path / "series.om"
    with export.open("w") as f:
        write_openmetrics(run.store, f, epoch=scenario.epoch_seconds,
                          families=["container_memory_working_set_bytes", "kube_pod_container_resource_limits"])
    data = tmp_path / "data"
    subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(export), str(data)], check=True,
                   capture_output=True, timeout=120)
    config = tmp_path / "prometheus.yml"
    config.write_text("global: {scrape_interval: 15s, evaluation_interval: 15s}\n")
    port = _free_port()
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
                             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "prometheus did not become ready"
            time.sleep(0.5)
        step = scenario.signals.evaluation_interval
        epoch = scenario.epoch_seconds
        answer = httpx.get(f"{base}/api/v1/query_range", params={
            "query": rule.expr, "start": epoch + step, "end": epoch + scenario.duration, "step": step}, timeout=60)
        answer.raise_for_status()
        result = answer.json()["data"]["result"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # Prometheus' for: over its answers at the same evaluation times.
    active_times: dict[str, set[float]] = {}
    for series in result:
        active_times[series["metric"]["pod"]] = {round(float(t) - epoch, 3) for t, _ in series["values"]}
    theirs = set()
    grid = [step * k for k in range(1, int(scenario.duration / step) + 1)]
    for pod, active in active_times.items():
        since = None
        fired = False
        for t in grid:
            if t in active:
                since = t if since is None else since
                if not fired and t - since >= rule.for_:
                    theirs.add((t, pod))
                    fired = True
            else:
                since, fired = None, False
    assert sorted(theirs) == ours
