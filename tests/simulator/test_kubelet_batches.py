"""The kubelet's starts and exits applied as one batch of successive incarnations leave the
world exactly as one call per start and per exit would (``World.start_rows`` / ``exit_rows``
with repeated rows: how ``world.block`` commits the incarnations it laid out ahead)."""

from __future__ import annotations

import numpy as np

from kubeskippy.simulator.runner import Arm, Run
from kubeskippy.simulator.scenario import parse_scenario
from kubeskippy.simulator.world.table import RUNNING

_RES = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
_SPEC = {"name": "batches", "duration": "10m", "resolution": "15s",
         "cluster": {"nodes": {"count": 1, "cpu": "64", "memory": "256Gi", "pods": 100}},
         "workloads": [{"name": "steady", "model": "steady", "replicas": 4, "resources": _RES},
                       {"name": "leak", "model": "memory_leak", "replicas": 2, "resources": _RES}]}
_COLUMNS = ("cstate", "restarts", "started", "due", "fails", "backoff", "backoff_update", "lt_reason", "lt_code",
            "lt_started", "lt_finished", "rv", "rkey", "mkey", "s0", "n0", "mem", "cpu", "err", "lat", "ready",
            "ready_at", "exit_at")


def _world():
    run = Run(parse_scenario(_SPEC), Arm("no-healing"), 11, blocks=False)
    run.execute()
    return run.world


def _three_incarnations():
    """Per running row: exit times of three incarnations (one row's second ends more than the
    back-off reset after its start: the kubelet forgets its failures) and exit codes."""
    world = _world()
    rows = np.flatnonzero(world.table.alive[: world.table.size] & (world.table.cstate[: world.table.size] == RUNNING))
    assert len(rows) == 6
    t = world.table.started[rows] + 30.0
    gaps = [np.zeros(len(rows)), np.array([20.0, 20.0, 700.0, 20.0, 5.0, 20.0]), np.full(len(rows), 40.0)]
    codes = [np.array([1, 0, 1, 137, 137, 1], dtype=np.int16)] * 3
    return rows, t, gaps, codes


def test_a_batch_of_successive_exits_and_starts_equals_one_call_each():
    rows, t, gaps, codes = _three_incarnations()
    one_by_one = _world()
    tbl = one_by_one.table
    tbl.mem[rows[3]] = tbl.mem_limit[rows[3]]  # an OOM kill at the first exit
    rv0 = one_by_one._rv
    started, updates, fins, starts = [tbl.started[rows].copy()], [tbl.backoff_update[rows].copy()], [], []
    fin = t
    for g in range(3):
        fin = fin + gaps[g]
        fins.append(fin)
        one_by_one.exit_rows(rows, fin, codes[g])
        if g < 2:
            due = tbl.due[rows].copy()
            starts.append(due)
            one_by_one.start_rows(rows, due)
            started.append(due)
            updates.append(due)
            fin = due + 10.0

    batched = _world()
    b = batched.table
    b.mem[rows[3]] = b.mem_limit[rows[3]]
    mem = np.concatenate([b.mem[rows], np.zeros(2 * len(rows))])
    n = len(rows)
    batched.start_rows(np.tile(rows, 2), np.concatenate(starts), restarts=np.concatenate([b.restarts[rows] + 1,
                                                                                          b.restarts[rows] + 2]),
                       rv=np.repeat([rv0 + 2, rv0 + 4], n))
    oom, _, _, due = batched.exit_rows(np.tile(rows, 3), np.concatenate(fins), np.concatenate(codes), mem=mem,
                                       started=np.concatenate(started), update=np.concatenate(updates),
                                       rv=np.repeat([rv0 + 1, rv0 + 3, rv0 + 5], n))
    batched._rv = rv0 + 5

    np.testing.assert_array_equal(due[: 2 * n], np.concatenate(starts))
    assert oom.sum() == 1 and tbl.fails[rows[2]] != 3  # the long-running one forgot its failures
    for name in _COLUMNS:
        np.testing.assert_array_equal(getattr(b, name)[: b.size], getattr(tbl, name)[: tbl.size], err_msg=name)
    for name in ("exits", "oom_kills"):
        np.testing.assert_array_equal(getattr(batched.stats, name), getattr(one_by_one.stats, name))
    assert batched.stats.oom_times == one_by_one.stats.oom_times
    assert batched.recorder.by_reason == one_by_one.recorder.by_reason and batched._rv == one_by_one._rv
    now = float(np.concatenate(fins).max())
    assert [vars(a) for a in batched.recorder.aggregates(now)] == [vars(a) for a in one_by_one.recorder.aggregates(now)]
