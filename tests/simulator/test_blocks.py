"""A run advanced in blocks of ticks equals the same run ticked one by one, bit for bit.

The block engine (``simulator/world/block.py``) is how runs nobody acts on are fast; these tests
are what makes it safe: every model, OOM kills by the model and by the kubelet's check, crash
loops with back-off, readiness delays, request counters, incidents and plots, compared with
the per-tick reference on records, scraped series and the pod table.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from kubeskippy.simulator import runner as runner_module
from kubeskippy.simulator.runner import Arm, Run
from kubeskippy.simulator.scenario import parse_scenario
from kubeskippy.simulator.world.world import World

_RES = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}


def _scenario(tmp_path, *, hours: float = 2.0) -> dict:
    (tmp_path / "trace.json").write_text(json.dumps({"data": {"resultType": "matrix", "result": [
        {"metric": {}, "values": [[0, str(100 * 2**20)], [600, str(300 * 2**20)], [1200, str(600 * 2**20)]]}]}}))
    small = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "300m", "memory": "40Mi"}}
    workloads = [
        {"name": "leak", "model": "memory_leak", "replicas": 4, "resources": _RES},
        {"name": "crash", "model": "crash_loop", "replicas": 3, "resources": _RES},
        {"name": "random", "model": "random_crasher", "replicas": 4, "resources": _RES},
        {"name": "chaos", "model": "chaos_monkey", "replicas": 4, "resources": _RES},
        {"name": "chaos-small", "model": "chaos_monkey", "replicas": 3, "resources": small},  # OOM by the kubelet's check
        {"name": "spike", "model": "cpu_spike", "replicas": 3, "resources": _RES},
        {"name": "flaky", "model": "flaky_web", "replicas": 3, "resources": _RES, "readiness_delay": "40s"},
        {"name": "degrade", "model": "memory_degradation", "replicas": 2, "resources": _RES},
        {"name": "osc", "model": "cpu_oscillation", "replicas": 2, "resources": _RES},
        {"name": "net", "model": "network_degradation", "replicas": 2, "resources": _RES},
        {"name": "replay", "model": "trace", "replicas": 2, "resources": _RES,
         "params": {"file": str(tmp_path / "trace.json"), "signal": "memory"}},
        {"name": "steady", "model": "steady", "replicas": 3, "resources": _RES},
    ]
    return {"name": "blocks", "duration": f"{hours}h", "resolution": "15s", "signals": {"retention": "20m"},
            "cluster": {"nodes": {"count": 2, "cpu": "64", "memory": "256Gi", "pods": 250}}, "workloads": workloads}


def _run(spec: dict, *, blocks: bool, seed: int = 3) -> Run:
    run = Run(parse_scenario(spec), Arm("no-healing"), seed, blocks=blocks)
    run.execute()
    return run


def _record(run: Run) -> dict:
    rec = run.observer.record("x", "no-healing", run.seed, run.duration, {}).to_json()
    rec["events_recorded"] = run.world.recorder.total
    rec["events_by_reason"] = dict(sorted(run.world.recorder.by_reason.items()))
    return rec


def _assert_same(a: Run, b: Run) -> None:
    assert json.dumps(_record(a)) == json.dumps(_record(b))  # order of incidents, plots and OOM times too
    sa, sb = a.store, b.store
    assert sa.count == sb.count
    np.testing.assert_array_equal(sa.times, sb.times)
    w = min(sa.width, sb.width)
    np.testing.assert_array_equal(sa.serial[:, :w], sb.serial[:, :w])
    np.testing.assert_array_equal(sa.block[:, :, :w], sb.block[:, :, :w])  # NaN == NaN here
    ta, tb = a.world.table, b.world.table
    for name in ("alive", "cstate", "restarts", "ready", "mem", "cpu_total", "req_total", "err_total", "err", "lat",
                 "started", "due", "fails", "lt_reason", "lt_finished", "lt_started", "lt_code", "backoff_update",
                 "rkey"):  # the random key a start drew (batched starts take each row's last)
        np.testing.assert_array_equal(getattr(ta, name)[: ta.size], getattr(tb, name)[: tb.size], err_msg=name)
    # a model's scratch state matters while its container runs (a block may have run a dead
    # incarnation's model past the tick the kubelet killed it; nothing reads it again)
    up = ta.cstate[: ta.size] == 2
    for name in ("s0", "s1", "s2", "n0", "n1"):
        np.testing.assert_array_equal(getattr(ta, name)[: ta.size][up], getattr(tb, name)[: tb.size][up], err_msg=name)


@pytest.fixture
def counted_blocks(monkeypatch):
    """Counts the ticks advanced in blocks (so a test cannot pass by never using them)."""
    seen = {"blocks": 0, "ticks": 0}
    original = World.step_block

    def step_block(self, T, **kwargs):
        seen["blocks"] += 1
        seen["ticks"] += len(T)
        return original(self, T, **kwargs)

    monkeypatch.setattr(World, "step_block", step_block)
    return seen


def test_a_run_in_blocks_equals_the_same_run_tick_by_tick(tmp_path, counted_blocks):
    spec = _scenario(tmp_path)
    by_tick = _run(spec, blocks=False)
    assert counted_blocks["blocks"] == 0
    in_blocks = _run(spec, blocks=True)
    assert counted_blocks["ticks"] >= 470  # all but the first tick of 2 h
    rec = _record(in_blocks)
    assert rec["metrics"]["oom_kills"] > 0 and rec["metrics"]["container_exits"] > 50
    assert rec["metrics"]["liveness_kills"] == 0 and rec["metrics"]["incidents"] > 0
    _assert_same(in_blocks, by_tick)


def test_short_blocks_cut_incarnations_and_still_agree(tmp_path, monkeypatch, counted_blocks):
    monkeypatch.setattr(runner_module, "BLOCK_CELLS", 280)  # blocks of about 8 ticks
    spec = _scenario(tmp_path, hours=1.0)
    by_tick = _run(spec, blocks=False, seed=5)
    in_blocks = _run(spec, blocks=True, seed=5)
    assert counted_blocks["blocks"] >= 25
    _assert_same(in_blocks, by_tick)


def test_a_remainder_shorter_than_half_a_block_joins_the_block_before_it(tmp_path, monkeypatch, counted_blocks):
    """Every block pays a fixed part, so a short last block is merged into the one before it;
    a remainder of half a block or more stays a block of its own. Both agree with the ticks."""
    spec = _scenario(tmp_path, hours=1.0)
    by_tick = _run(spec, blocks=False, seed=5)
    rows = by_tick.world.table.size
    for block_ticks, blocks in ((180, 1), (120, 2)):  # 239 ticks after the first: 180 + 59, 120 + 119
        monkeypatch.setattr(runner_module, "BLOCK_CELLS", rows * block_ticks)
        counted_blocks.update(blocks=0, ticks=0)
        in_blocks = _run(spec, blocks=True, seed=5)
        assert (counted_blocks["blocks"], counted_blocks["ticks"]) == (blocks, 239)
        _assert_same(in_blocks, by_tick)


def test_how_far_a_pass_reaches_changes_nothing_but_the_number_of_passes(tmp_path, monkeypatch):
    from kubeskippy.simulator.world import block

    spec = _scenario(tmp_path, hours=1.0)
    reference = _run(spec, blocks=False, seed=4)
    passes = {"n": 0}
    original = block._simulate

    def counting(*args):
        passes["n"] += 1
        return original(*args)

    monkeypatch.setattr(block, "_simulate", counting)
    monkeypatch.setattr(block, "CHAIN_GENERATIONS", 1)  # one incarnation per pass: the reach decides
    counted = {}
    for reach in (1, 128):
        monkeypatch.setattr(block, "window_for", lambda rows, reach=reach: reach)
        passes["n"] = 0
        _assert_same(_run(spec, blocks=True, seed=4), reference)
        counted[reach] = passes["n"]
    assert counted[1] > 2 * counted[128] > 0


def _chained_scenario(tmp_path, *, hours: float = 2.0) -> dict:
    """Every model, with crash loops and OOM kills restarting many times (so incarnations are laid
    out ahead), and a readiness delay longer than some incarnations."""
    spec = _scenario(tmp_path, hours=hours)
    for w in spec["workloads"]:
        if w["name"] in ("crash", "leak", "random"):
            w["replicas"] = 6
    return spec


def test_laying_out_incarnations_ahead_cuts_the_passes_and_changes_nothing(tmp_path, monkeypatch):
    from kubeskippy.simulator.world import block

    spec = _chained_scenario(tmp_path)
    reference = _run(spec, blocks=False, seed=6)
    ahead = _run(spec, blocks=True, seed=6)
    _assert_same(ahead, reference)
    stats = ahead.world.block_stats
    exits = _record(ahead)["metrics"]["container_exits"]
    assert stats["kept"] > exits // 2  # most incarnations were laid out ahead and kept
    # without the containers that cannot be predicted (a trace follows wall time; the kubelet's
    # own OOM check kills chaos-small between the model's exits), a few passes do the whole run
    spec["workloads"] = [w for w in spec["workloads"] if w["name"] not in ("replay", "chaos-small")]
    ahead = _run(spec, blocks=True, seed=6)
    monkeypatch.setattr(block, "CHAIN_GENERATIONS", 1)
    one_by_one = _run(spec, blocks=True, seed=6)
    _assert_same(ahead, _run(spec, blocks=False, seed=6))
    _assert_same(one_by_one, _run(spec, blocks=False, seed=6))
    assert one_by_one.world.block_stats["kept"] == 0
    assert one_by_one.world.block_stats["passes"] > 4 * ahead.world.block_stats["passes"]


def test_laid_out_incarnations_after_one_that_outlived_the_back_off_reset_are_checked_like_the_rest(tmp_path):
    """A leak allocating every 11 s runs 9–11 min: some incarnations outlive the kubelet's
    back-off reset (10 min since the restart), so the next starts at once, others do not. The
    laid-out chains go through both cases, and the check of each laid-out start (the failure
    count before every exit, all generations at once) must follow the kubelet exactly."""
    spec = _scenario(tmp_path, hours=3.0)
    spec["workloads"] = [{"name": "slow-leak", "model": "memory_leak", "replicas": 6, "resources": _RES,
                          "params": {"interval": 11.0}},
                         {"name": "crash", "model": "crash_loop", "replicas": 2, "resources": _RES}]
    ahead = _run(spec, blocks=True, seed=5)
    _assert_same(ahead, _run(spec, blocks=False, seed=5))
    tbl = ahead.world.table
    runs = tbl.lt_finished[:6] - tbl.lt_started[:6]  # the leak's pods' last incarnations
    assert (runs > 600).any() and (runs < 600).any()  # both sides of the reset, as last seen
    stats = ahead.world.block_stats
    # every exit but each pod's first (no offsets measured yet) was predicted, laid out and kept
    assert stats["kept"] == stats["laid_out"] == _record(ahead)["metrics"]["container_exits"] - 8
    # and through the resets: 4 passes (one incarnation per pass: 38; chains cut at resets: 10)
    assert stats["passes"] <= 5


def test_a_leak_that_needs_more_allocations_than_the_first_chunk_agrees_in_blocks(tmp_path):
    """The leak draws its allocations in doubling chunks (128 first) and stops once every
    container is OOM-killed: here one needs ~280 allocations (2 MiB chunks) and one never
    reaches its limit within the run, so both the later chunks and the stop are used."""
    spec = _scenario(tmp_path, hours=2.0)
    spec["workloads"] = [{"name": "slow", "model": "memory_leak", "replicas": 3, "resources": _RES,
                          "params": {"chunk_mib": 2.0}},
                         {"name": "slower", "model": "memory_leak", "replicas": 2, "resources": _RES,
                          "params": {"chunk_mib": 0.5}}]
    run = _run(spec, blocks=True, seed=4)
    assert 0 < run.world.stats.oom_kills.sum() < 3 * 4  # the 2 MiB ones die once or twice, not the others
    _assert_same(run, _run(spec, blocks=False, seed=4))


def test_a_leak_across_hundreds_of_containers_agrees_in_blocks(tmp_path):
    """300 leaking containers: their allocation times and free counts are wide enough (≥
    ``WIDE_ROWS`` columns, more in the probes) to be summed row by row, which must add the same
    numbers in the same order as the per-tick code."""
    from kubeskippy.simulator.workloads.base import WIDE_ROWS

    spec = _scenario(tmp_path, hours=0.75)
    spec["workloads"] = [{"name": "many", "model": "memory_leak", "replicas": 300, "resources": _RES,
                          "params": {"chunk_mib": 25.0, "free_probability": 0.3, "free_min_chunks": 2.0}}]
    run = _run(spec, blocks=True, seed=8)
    assert 300 >= WIDE_ROWS and run.world.block_stats["kept"] > 300  # restarted and laid out ahead
    _assert_same(run, _run(spec, blocks=False, seed=8))


def test_a_pass_gives_its_generations_starts_and_exits_the_next_resource_versions_in_order():
    from kubeskippy.simulator.world.block import exit_versions

    # after version 10: generation 0 exits at 11, generation 1 starts at 12 and exits at 13, …
    assert exit_versions(10, np.array([0, 0, 1, 2, 2])).tolist() == [11, 11, 13, 15, 15]
    # no generation 0 (every current incarnation ran over the pass): generation 1 starts at 11
    assert exit_versions(10, np.array([1, 1, 2])).tolist() == [12, 12, 14]


@pytest.mark.parametrize("wrong", ["a second late", "every other one 30 s early"])
def test_wrong_predictions_fall_back_to_one_incarnation_per_pass_with_the_same_results(tmp_path, monkeypatch,
                                                                                        wrong):
    from kubeskippy.simulator.world import block

    spec = _chained_scenario(tmp_path)
    reference = _run(spec, blocks=False, seed=7)
    original = block._Chain._probe

    def mispredicting(self, world, f, offs, rows, *rest):
        original(self, world, f, offs, rows, *rest)
        if wrong == "a second late":  # no laid-out start is the kubelet's
            offs.off[rows] += 1.0
        else:  # half the laid-out incarnations run past their grid (their starts are right)
            offs.off[rows, 1::2] -= 30.0

    monkeypatch.setattr(block._Chain, "_probe", mispredicting)
    mispredicted = _run(spec, blocks=True, seed=7)
    _assert_same(mispredicted, reference)
    stats = mispredicted.world.block_stats
    assert stats["laid_out"] > 100 and stats["kept"] < stats["laid_out"] // 2  # laid out, then dropped


def test_a_laid_out_start_the_kubelet_would_not_give_is_an_error_not_a_result(tmp_path, monkeypatch):
    """The check that keeps a laid-out incarnation uses the kubelet's back-off; were it to
    disagree with ``World.exit_rows``, committing stops instead of recording a different run."""
    from kubeskippy.simulator.world import block

    spec = _chained_scenario(tmp_path, hours=1.0)
    # the block's back-off (what it predicts with and checks with) made to disagree with the world's
    monkeypatch.setattr(block, "backoff_after", lambda fails, update, fin: (fails + 1, np.zeros(len(fin))))
    monkeypatch.setattr(block, "backoff_delay", lambda fails: np.zeros(np.shape(fails)))
    with pytest.raises(RuntimeError, match="laid-out restart"):
        _run(spec, blocks=True, seed=6)


def test_models_that_follow_wall_time_or_take_fractions_of_seconds_are_not_laid_out(tmp_path):
    spec = _scenario(tmp_path, hours=1.0)
    spec["workloads"] = [w for w in spec["workloads"] if w["name"] in ("replay",)] + [
        {"name": "crash", "model": "crash_loop", "replicas": 2, "resources": _RES,
         "params": {"run_seconds": 30.5}}]  # not whole seconds: moving it by ticks might round differently
    run = _run(spec, blocks=True)
    assert run.world.block_stats["laid_out"] == 0 and run.world.block_stats["passes"] > 0
    _assert_same(run, _run(spec, blocks=False))


def test_the_kubelets_own_oom_check_kills_in_blocks_at_the_tick_memory_reaches_the_limit(tmp_path):
    spec = _scenario(tmp_path, hours=1.0)
    spec["workloads"] = [w for w in spec["workloads"] if w["name"] in ("chaos-small", "replay")]
    run = _run(spec, blocks=True)
    ooms = run.world.stats.oom_times
    assert ooms and all(t % 15 == 0 for _, t in ooms)  # at ticks, not at a model's exact time
    _assert_same(run, _run(spec, blocks=False))


def test_healing_runs_and_alert_rules_are_ticked_one_by_one(counted_blocks):
    from kubeskippy.simulator.arms import arms_for
    from kubeskippy.simulator.scenario import load_scenario

    sc = load_scenario("memory-leak")
    healing = next(a for a in arms_for(sc) if a.heals)
    Run(sc, healing, 1, duration=600).execute()
    assert counted_blocks["blocks"] == 0


@pytest.mark.parametrize("errors, chained", [(None, True), ("rising", True), ("constant", True), ("constant", False)])
def test_error_and_latency_cells_left_as_a_block_found_them_are_not_rewritten_and_change_nothing(
        monkeypatch, errors, chained):
    """Models that answer a constant error ratio and latency (or none) leave those frames' cells
    as the block started; a block skips writing them, and with every error ratio +0.0 all block
    counts no failed requests without multiplying. "rising": errors appear inside blocks that
    started with none (network degradation ramps from 0). "constant": steady pods failing 20 %
    of requests, and flaky web pods OOM-killed by their memory spikes, whose restarted
    incarnations answer constants other than what their rows held when the block started (an
    exit leaves the error ratio at 0) — also in short blocks with one incarnation per pass, where
    such an incarnation runs through later passes whole."""
    from kubeskippy.simulator.world import block

    counted, skipped, rose = [], [], []
    count_requests, unchanged = block._count_requests, block._unchanged

    def spy_count(world, f, acc):
        count_requests(world, f, acc)
        counted.append(not f.err_changed and not f.err0.any() and not acc.req_err.any())
        rose.append(not f.err0.any() and f.err_changed and acc.req_err.any())

    def spy_unchanged(values, initial):
        same = unchanged(values, initial)
        skipped.append(same)
        return same

    monkeypatch.setattr(block, "_count_requests", spy_count)
    monkeypatch.setattr(block, "_unchanged", spy_unchanged)
    if not chained:
        monkeypatch.setattr(block, "CHAIN_GENERATIONS", 1)
    if not chained or errors == "rising":
        monkeypatch.setattr(runner_module, "BLOCK_CELLS", 20 * 30)  # blocks of about 30 ticks
    tight = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "64Mi"}}
    workloads = [{"name": "leak", "model": "memory_leak", "replicas": 6, "resources": _RES},
                 {"name": "crash", "model": "crash_loop", "replicas": 6, "resources": _RES},
                 {"name": "steady", "model": "steady", "replicas": 4, "resources": _RES,
                  "params": {"error_rate": 0.2 if errors == "constant" else 0.0, "latency": 0.25}}]
    if errors == "constant":
        workloads.append({"name": "flaky", "model": "flaky_web", "replicas": 4, "resources": tight})
    if errors == "rising":
        workloads.append({"name": "net", "model": "network_degradation", "replicas": 2, "resources": _RES})
    spec = {"name": "quiet", "duration": "2h", "resolution": "15s", "signals": {"retention": "20m"},
            "cluster": {"nodes": {"count": 1, "cpu": "64", "memory": "256Gi", "pods": 250}}, "workloads": workloads}
    by_tick = _run(spec, blocks=False)
    in_blocks = _run(spec, blocks=True)
    _assert_same(in_blocks, by_tick)
    assert sum(skipped) >= 5 and counted
    assert all(counted) == (errors is None)  # the zero path only while no request can fail
    assert any(rose) == (errors == "rising")  # a block that started without errors and met some
    if errors == "constant":
        assert in_blocks.world.stats.oom_kills.sum() > 10


def test_the_last_terminated_reason_is_filled_forward_only_in_rows_whose_reason_changes():
    """From each exit tick on, a row holds that exit's reason; before its first exit, the
    block's initial one. Rows whose every exit repeats the initial reason hold it already and
    are left alone (a sentinel in such a row survives); the others equal the fill of every row."""
    from kubeskippy.simulator.world.block import Frames, _fill_forward

    rng = np.random.default_rng(11)
    for trial in range(50):
        B, n = int(rng.integers(1, 40)), int(rng.integers(1, 12))
        f = Frames(np.arange(1.0, B + 1), np.arange(0.0, B), n)
        f.lt0 = rng.integers(0, 3, n).astype(np.int8)
        f.lt_reason = np.repeat(f.lt0[None, :], B, axis=0)
        exits = [(int(k), int(r)) for r in range(n) for k in sorted(rng.choice(B, min(B, int(rng.integers(0, 4))), replace=False))]
        f.exit_ticks = np.array([k for k, _ in exits], dtype=np.int64)
        f.exit_rows = np.array([r for _, r in exits], dtype=np.int64)
        reasons = {}
        for k, r in exits:
            reasons[k, r] = f.lt0[r] if rng.random() < 0.5 else int(rng.integers(1, 4))
            f.lt_reason[k, r] = reasons[k, r]
        expected = f.lt_reason.copy()
        for r in range(n):  # the per-tick code: the reason of the latest exit so far
            for k in range(B):
                if (k, r) not in reasons and k > 0:
                    expected[k, r] = expected[k - 1, r]
        quiet = [r for r in range(n) if all(reasons[k, q] == f.lt0[r] for k, q in reasons if q == r)]
        for r in quiet:  # not a reachable state: it shows whether the row was rewritten
            f.lt_reason[[k for k in range(B) if (k, r) not in reasons], r] = 9
            expected[[k for k in range(B) if (k, r) not in reasons], r] = 9
        _fill_forward(f)
        np.testing.assert_array_equal(f.lt_reason, expected, err_msg=str(trial))


def test_memory_exactly_at_the_incident_threshold_is_hot_in_blocks_as_tick_by_tick():
    """The observer's memory percentage is (100 × memory) / limit in both paths; computed in
    another order, 29 MiB of 100 Mi would be 28.999999999999996 % and miss a 29 % threshold."""
    workloads = [{"name": "leak", "model": "memory_leak", "replicas": 2,
                  "params": {"base_mib": 9.0, "chunk_mib": 10.0, "interval": 60.0},
                  "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "100Mi"}}},
                 {"name": "steady", "model": "steady", "replicas": 2, "resources": _RES}]
    spec = {"name": "edge", "duration": "1h", "resolution": "15s", "signals": {"retention": "20m"},
            "incidents": {"memory_percent": 29, "merge_gap": "15s"},
            "cluster": {"nodes": {"count": 1, "cpu": "64", "memory": "256Gi", "pods": 250}}, "workloads": workloads}
    by_tick, in_blocks = _run(spec, blocks=False), _run(spec, blocks=True)
    _assert_same(in_blocks, by_tick)
    hot = [i for i in _record(in_blocks)["incidents"] if "memory_or_errors" in i["causes"]]
    assert hot and min(i["start"] for i in hot) < 60 * 3  # hot from 29 MiB (the second allocation) on


def _table_bytes(run: Run) -> dict:
    """Every column of the pod table (the models' scratch columns too), the resource-version
    counter and the OOM times: what a run leaves, bit for bit."""
    t = run.world.table
    out = {c: getattr(t, c)[: t.size].tobytes() for c in t.column_names()}
    out["_rv"], out["_oom"] = run.world._rv, list(run.world.stats.oom_times)
    return out


@pytest.mark.parametrize("stage, oom_heavy", [(1, False), (4, False), (8, True)])
def test_current_incarnations_run_in_two_stages_leave_every_column_as_one_run_over_the_pass(tmp_path, monkeypatch,
                                                                                             stage, oom_heavy):
    """A pass that lays out ahead simulates the incarnations it did not lay out (every running
    container at a block's start) over its first ``CURRENT_STAGE`` ticks, then the ones still
    running over the rest (``block._Current``). The pod table — every column, the models'
    scratch state of containers waiting at a block's end included — the resource versions, OOM
    times, records and scrapes must be those of one model call over the whole pass; also where
    the kubelet's OOM check kills a container in the first stage (chaos-small: its model runs on
    to the pass's end, as it did over the whole pass)."""
    from kubeskippy.simulator.world import block

    monkeypatch.setattr(runner_module, "BLOCK_CELLS", 52 * 40)  # blocks of 40 ticks: many block ends
    spec = _chained_scenario(tmp_path, hours=1.0)
    if oom_heavy:  # many containers the OOM check kills early in an incarnation, and a crash loop
        spec["workloads"] = [dict(w, replicas=40) if w["name"] == "chaos-small" else w for w in spec["workloads"]
                             if w["name"] in ("chaos-small", "crash")]
    after_blocks: list[dict] = []  # the table after every block (a restart resets a model's scratch state)
    step_block = World.step_block

    def snapshot(self, T, **kwargs):
        frames = step_block(self, T, **kwargs)
        t = self.table
        after_blocks.append({c: getattr(t, c)[: t.size].tobytes() for c in t.column_names()})
        return frames

    monkeypatch.setattr(World, "step_block", snapshot)
    monkeypatch.setattr(block, "CURRENT_STAGE", 10**9)  # one stage: a model call over the whole pass
    whole = _run(spec, blocks=True, seed=9)
    whole_blocks, after_blocks[:] = list(after_blocks), []
    seen = {"first stages": 0, "oom kills in them": 0}
    original = block._trajectories

    def counting(world, mt, cols, first, f, lo, hi, *, ahead=None):
        p = original(world, mt, cols, first, f, lo, hi, ahead=ahead)
        if ahead is None and hi - lo == stage and hi < len(f.T):
            seen["first stages"] += 1
            seen["oom kills in them"] += int(p.by_oom.sum())
        return p

    monkeypatch.setattr(block, "_trajectories", counting)
    monkeypatch.setattr(block, "CURRENT_STAGE", stage)
    staged = _run(spec, blocks=True, seed=9)
    assert seen["first stages"] > 10 and seen["oom kills in them"] > 0
    assert len(after_blocks) == len(whole_blocks) >= 5
    for k, (a, b) in enumerate(zip(after_blocks, whole_blocks)):
        assert a == b, (k, [c for c in a if a[c] != b[c]])
    assert _table_bytes(staged) == _table_bytes(whole)
    _assert_same(staged, whole)
    _assert_same(staged, _run(spec, blocks=False, seed=9))


@pytest.mark.parametrize("shape", [(4000, 100), (400, 2), (37, 300), (5, 7)])
def test_counters_kept_as_totals_only_from_a_row_on_hold_the_running_totals_bits_there(shape):
    """The block's counters are running totals only from the first row the ring buffer keeps
    (``_running_total_from``): the rows before are folded into it by one reduction along axis 0,
    which must add row after row as the running total does — numpy does so for two columns or
    more (a single column it sums pairwise: ``advance_block`` never folds one)."""
    from kubeskippy.simulator.world.block import _running_total_from
    from kubeskippy.simulator.workloads.base import running_total

    rng = np.random.default_rng(11)
    B, n = shape
    inc = rng.uniform(0, 1, (B, n)) * 10.0 ** rng.integers(-9, 9, (B, n))  # rounding shows
    expected = running_total(inc)
    for head in sorted({0, 1, B // 2, B - 1}):
        got = _running_total_from(inc.copy(), head)
        assert got[head:].tobytes() == expected[head:].tobytes(), head
    ints = rng.integers(0, 3, (B, n)).astype(np.int32)  # restart counts
    assert _running_total_from(ints.copy(), B // 2)[B // 2:].tobytes() == running_total(ints)[B // 2:].tobytes()


def test_long_blocks_keep_counter_totals_from_the_scrapes_kept_and_a_scrape_before_that_is_refused(
        tmp_path, monkeypatch):
    """A 2-hour block with 20 minutes of retention: the counters are totals from the first scrape
    the ring buffer keeps (the runs above compare the scraped values with the tick loop's); a
    reader asking for an earlier row is told so rather than given increments."""
    from kubeskippy.simulator.signals.store import SeriesStore

    froms = []
    original = World.step_block

    def recording(self, T, **kwargs):
        frames = original(self, T, **kwargs)
        froms.append((len(T), frames.totals_from))
        return frames

    monkeypatch.setattr(World, "step_block", recording)
    spec = _scenario(tmp_path, hours=2.0)
    run = _run(spec, blocks=True)
    slots = run.store.slots
    assert froms and all(at == max(0, ticks - slots) for ticks, at in froms)
    assert any(at > 0 for _, at in froms)
    froms.clear()  # one pod: a single column would be reduced pairwise, so it is not folded
    one = _run(dict(spec, workloads=[dict(spec["workloads"][0], replicas=1)]), blocks=True)
    assert froms and all(at == 0 for _, at in froms)
    _assert_same(one, _run(dict(spec, workloads=[dict(spec["workloads"][0], replicas=1)]), blocks=False))
    store = SeriesStore(1200.0, 15.0)
    frames = run.world.step_block(run.world._t + 15.0 * np.arange(1, 201), totals_from=150)
    with pytest.raises(ValueError, match="running totals only from row 150"):
        store.scrape_block(run.world, frames, np.arange(200))  # keeps the last 81: from row 119


def test_laid_out_incarnations_are_grouped_by_width_with_small_groups_riding_on_the_next():
    from kubeskippy.simulator.world import block

    rng = np.random.default_rng(4)
    width = rng.integers(1, 961, 500)
    width[:300] = rng.integers(1, 5, 300)  # many in the first group
    groups = block.width_groups(width)
    together = np.concatenate(groups)
    assert sorted(together.tolist()) == list(range(500))  # every column once
    assert all((np.diff(g) > 0).all() for g in groups)  # ascending within a group
    # a group of a few is simulated with the next wider one; a large one, or the widest, alone
    few = np.array([2, 3, 10, 12, 60, 60, 60, 61, 63] + [64] * 40 + [300])
    assert [g.tolist() for g in block.width_groups(few)] == [
        list(range(0, 4)) + list(range(4, 49)), [49]]  # 4 × 64 cells: with the 16–64 group; 300: alone
    assert [g.tolist() for g in block.width_groups(np.array([3] * 600 + [16]))] == [list(range(600)), [600]]
    assert [g.tolist() for g in block.width_groups(np.array([5, 900]))] == [[0, 1]]  # 2 × 900 ≤ 2,048
    assert block.width_groups(np.zeros(0, dtype=np.int64)) == []


def test_a_blocks_frames_are_freed_before_the_next_block_is_built(tmp_path, monkeypatch):
    """The runner drops each block's frames (tens of MiB at 100 pods × 4,000 ticks) once the
    scrape and the observer have read them, so the next block's matrices reuse that memory
    instead of growing the heap (and page-faulting it in)."""
    import weakref

    monkeypatch.setattr(runner_module, "BLOCK_CELLS", 35 * 30)  # 35 pods: blocks of 30 ticks
    previous: list = []
    alive_at_next = []
    original = World.step_block

    def tracking(self, T, **kwargs):
        if previous:
            alive_at_next.append(previous[-1]() is not None)
        frames = original(self, T, **kwargs)
        previous.append(weakref.ref(frames))
        return frames

    monkeypatch.setattr(World, "step_block", tracking)
    _run(_scenario(tmp_path, hours=1.0), blocks=True)
    assert len(alive_at_next) >= 3 and not any(alive_at_next)
