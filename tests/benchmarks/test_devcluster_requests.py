"""The devcluster framing benchmark runs both servers and reports every request kind for each:
the baseline (http.server's framing) must serve the same requests, or the ratio means nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_both_framings_serve_every_kind_and_the_table_has_a_ratio_for_each():
    run = subprocess.run([sys.executable, "-m", "benchmarks.devcluster_requests", "--requests", "20", "--rounds", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = {m.group(1).strip(): (float(m.group(2)), float(m.group(3)), float(m.group(4)))
            for m in re.finditer(r"^(GET one pod|LIST pods shard=3|PUT a ConfigMap)\s+(\d+)\s+(\d+)\s+([\d.]+)$",
                                 run.stdout, re.M)}
    assert set(rows) == {"GET one pod", "LIST pods shard=3", "PUT a ConfigMap"}, run.stdout
    assert all(lean > 0 and stdlib > 0 for lean, stdlib, _ in rows.values())
