"""Each workload model reproduces the figures documented in docs/simulator.md, for fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest

from kubeskippy.errors import InvalidInput
from kubeskippy.simulator.workloads.chaos import CHAOS_KINDS

from .helpers import LEAK, scenario_with, world_after


def test_the_memory_leak_is_oom_killed_eight_to_ten_minutes_after_it_starts():
    lifetimes = []
    for seed in (1, 2, 3, 4, 5):
        world = world_after(scenario_with(LEAK, resolution="5s"), 700, seed=seed)
        rows = world.table.live()
        assert world.stats.oom_kills[0] == 2
        lifetimes += list(world.table.lt_finished[rows] - world.table.lt_started[rows])
    # ≥ 51 chunks of 10 MiB on a 10 MiB base reach 512 Mi; each 10 s step nets +1 with p = 0.9.
    assert all(480 <= life <= 630 for life in lifetimes), lifetimes
    assert 8.5 * 60 <= np.mean(lifetimes) <= 10 * 60


def test_an_oom_kill_is_visible_in_the_pod_as_the_kubelet_reports_it():
    from kubeskippy.simulator.world.objects import pod_object

    world = world_after(scenario_with(LEAK), 620)
    row = int(world.table.live()[0])
    status = pod_object(world, row)["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert status["lastState"]["terminated"]["exitCode"] == 137


def test_the_crash_loop_restarts_with_the_kubelets_back_off():
    spec = {"name": "crashloop-app", "model": "crash_loop", "replicas": 1}
    world = world_after(scenario_with(spec, resolution="1s", cluster={"image_pull": "0s"}), 900)
    tbl = world.table
    row = int(tbl.live()[0])
    # sleep 30, exit 1; the kubelet restarts after 0, 10, 20, 40, 80, 160, 300 s (+1 s to start).
    starts = [2.0]
    for delay in (0, 10, 20, 40, 80, 160, 300):
        starts.append(starts[-1] + 30 + delay + 1)
    assert starts == [2, 33, 74, 125, 196, 307, 498, 829]
    assert tbl.restarts[row] == 8  # the 8th death at 859 s
    assert tbl.started[row] == 829
    assert tbl.lt_finished[row] == 859
    assert tbl.backoff[row] == 300


def test_the_random_crasher_runs_three_to_seven_minutes_and_crashes_four_times_in_ten():
    spec = {"name": "random-crasher", "model": "random_crasher", "replicas": 400}
    world = world_after(scenario_with(spec, cluster={"nodes": {"count": 20}}), 3 * 3600, step=60)
    tbl = world.table
    rows = tbl.live()
    runs = tbl.lt_finished[rows] - tbl.lt_started[rows]
    runs = runs[~np.isnan(runs)]
    assert len(runs) > 300
    # A run lasts k cycles of 180–419 s: at least 180 s, and the first crash ends a whole number of cycles.
    assert runs.min() >= 180
    first_cycle_crashes = np.mean(runs < 420)  # crashed at the end of the first cycle
    assert 0.33 < first_cycle_crashes < 0.47


def test_the_cpu_oscillation_repeats_every_nine_minutes_at_25_50_75_100_percent():
    spec = {"name": "osc", "model": "cpu_oscillation", "replicas": 1,
            "resources": {"limits": {"cpu": "4", "memory": "100Mi"}}}
    world = world_after(scenario_with(spec, resolution="5s", cluster={"image_pull": "0s"}), 5)
    model = world.models["cpu_oscillation"]
    sched = model._schedules[0]
    assert sched.period == 540
    assert list(sched.value(np.array([10.0, 130.0, 250.0, 370.0, 500.0]))) == [0.25, 1.0, 2.25, 4.0, 0.005]


def test_the_chaos_monkey_injects_every_15_to_45_seconds_with_odds_3_3_2_2_1():
    spec = {"name": "chaos", "model": "chaos_monkey", "replicas": 300, "params": {"crash_exits": 0, "restart_exits": 0}}
    world = world_after(scenario_with(spec, cluster={"nodes": {"count": 10}}, resolution="1s"), 1800)
    tbl = world.table
    rows = tbl.live()
    injections = tbl.n0[rows]
    # Each cycle: wait 15–45 s, inject 5–25 s, cool down 10 s → 24 to 52 cycles in 30 minutes.
    assert injections.min() >= 1800 // (45 + 25 + 10) - 1 and injections.max() <= 1800 // (15 + 5 + 10) + 1
    from kubeskippy.simulator.workloads.base import draw_between
    draws = draw_between(np.repeat(tbl.rkey[rows], 40), 2, np.tile(np.arange(40), len(rows)), 0, 10)
    shares = np.array([np.mean(draws <= 2), np.mean((draws > 2) & (draws <= 5)), np.mean((draws > 5) & (draws <= 7)),
                       np.mean((draws > 7) & (draws <= 9)), np.mean(draws == 10)])
    assert np.allclose(shares, np.array([3, 3, 2, 2, 1]) / 11, atol=0.02)
    assert len(CHAOS_KINDS) == 5


def test_network_degradation_ramps_errors_three_percent_a_step_and_exits_after_260_seconds():
    spec = {"name": "net", "model": "network_degradation", "replicas": 1}
    world = world_after(scenario_with(spec, resolution="1s", cluster={"image_pull": "0s"}), 2 + 55)
    row = int(world.table.live()[0])
    assert world.table.err[row] == pytest.approx(0.18)  # step 6 after 55 s
    assert world.table.lat[row] == pytest.approx(0.30)
    world2 = world_after(scenario_with(spec, resolution="1s", cluster={"image_pull": "0s"}), 300)
    row = int(world2.table.live()[0])
    assert world2.table.lt_finished[row] - world2.table.lt_started[row] == 260


def test_the_flaky_web_app_fails_a_fifth_of_requests_and_its_probes_notice():
    spec = {"name": "flaky", "model": "flaky_web", "replicas": 20,
            "readiness_probe": {"initial_delay": "5s", "period": "10s"},
            "liveness_probe": {"initial_delay": "10s", "period": "30s"}}
    world = world_after(scenario_with(spec, resolution="5s"), 4 * 3600, step=5)
    rows = world.table.live()
    assert np.allclose(world.table.err[rows][world.table.cstate[rows] == 2], 0.20)
    # P(3 consecutive liveness failures) = 0.008 per 30 s probe → about one restart per pod-hour.
    kills = world.stats.liveness_kills[0]
    assert 20 <= kills <= 160
    assert world.recorder.by_reason["Unhealthy"] > 0


def test_trace_replay_drives_memory_and_oom_kills_at_the_limit(tmp_path):
    import json
    values = [[1000 + 60 * k, str((100 + 50 * k) * 2**20)] for k in range(10)]
    (tmp_path / "trace.json").write_text(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"pod": "x"}, "values": values}]}}))
    spec = {"name": "replay", "model": "trace", "replicas": 1, "params": {"file": str(tmp_path / "trace.json"),
                                                                         "signal": "memory"},
            "resources": {"limits": {"memory": "400Mi", "cpu": "1"}}}
    world = world_after(scenario_with(spec, resolution="15s"), 400)
    # 100 + 50k MiB reaches 400Mi at k = 6, i.e. t = 360 s after the first sample.
    assert world.stats.oom_times[0][1] == 360


def test_an_unknown_model_parameter_is_rejected_with_its_path():
    spec = dict(LEAK, params={"chunk_mb": 5})
    with pytest.raises(InvalidInput, match=r"workloads\[0\]\.params\.chunk_mb"):
        world_after(scenario_with(spec), 15)


@pytest.mark.parametrize("shape", [(5, 300), (40, 1000), (300, 10), (1, 500)])
@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_a_running_total_row_by_row_has_the_bits_of_numpys_cumulative_sum(shape, dtype):
    from kubeskippy.simulator.workloads.base import running_total

    rng = np.random.default_rng(1)
    a = (rng.standard_normal(shape) * 1e6).astype(dtype)  # large and small terms: rounding shows
    expected = np.cumsum(a, axis=0, out=np.empty_like(a))  # in the input's dtype, as a block's counters
    kept = a.copy()
    fresh = running_total(a)
    np.testing.assert_array_equal(a, kept)  # without ``out``, the input is left alone
    assert fresh.tobytes() == expected.tobytes() and fresh.dtype == expected.dtype
    in_place = running_total(a, out=a)
    assert in_place is a and a.tobytes() == expected.tobytes()


@pytest.mark.parametrize("width", [3, 300])
@pytest.mark.parametrize("chunked", [False, True])
def test_renewal_times_are_the_sequential_sums_a_loop_would_make_wide_or_narrow(width, chunked):
    """Times E[j+1] = E[j] + length, added one step after another (the per-tick code's order),
    bit for bit — also when columns are wide enough to be summed row by row, and when drawn in
    doubling chunks (the times do not depend on the chunking)."""
    from kubeskippy.simulator.workloads.base import renewal_times

    rng = np.random.default_rng(2)
    start = rng.uniform(0, 1000, width)
    table = rng.uniform(0.1, 9.9, (4096, width))  # fractional lengths: rounding shows

    def lengths(j0, n):
        return table[j0:j0 + n]

    kwargs = {"chunk": 4, "ended": lambda E: np.zeros(E.shape[1], dtype=bool)} if chunked else {}
    E = renewal_times(start, lengths, 1200.0, 0.1, **kwargs)
    assert (E[-1] > 1200.0).all() and E.shape[1] == width
    for c in range(width):
        expected = [float(start[c])]
        for j in range(len(E) - 1):
            expected.append(expected[-1] + float(table[j, c]))
        assert E[:, c].tolist() == expected


@pytest.mark.parametrize("shared_from", [0, 2048])
def test_the_part_of_each_tick_a_container_ran_is_the_per_tick_formula_bit_for_bit(monkeypatch, shared_from):
    """``spans`` computes ticks after every start once per tick; the values must be the
    per-tick code's max(T − max(Tprev, started), 0) for every cell, whatever the starts (before
    the grid, inside it, on a tick, after it, never)."""
    from types import SimpleNamespace

    from kubeskippy.simulator.workloads import base
    from kubeskippy.simulator.workloads.base import spans

    monkeypatch.setattr(base, "SPANS_SHARED_MIN", shared_from)  # 0: every grid takes the shared ticks
    rng = np.random.default_rng(3)
    for trial in range(400):
        W, r = int(rng.integers(1, 30)), int(rng.integers(1, 12))
        T = np.sort(rng.choice(np.arange(0.0, 1500.0, 15.0), W, replace=False)) + rng.choice([0.0, 0.25])
        Tprev = np.concatenate([[T[0] - 15.0], T[:-1]])
        started = rng.uniform(T[0] - 60.0, T[-1] + 30.0, r)
        if trial % 5 == 0:
            started[rng.integers(0, r)] = rng.choice(Tprev)  # exactly on a previous tick
        if trial % 7 == 0:
            started[rng.integers(0, r)] = np.nan  # never started
        expected = np.maximum(T[:, None] - np.maximum(Tprev[:, None], started[None, :]), 0.0)
        got = spans(SimpleNamespace(started=started), np.arange(r), T, Tprev)
        assert got.shape == expected.shape and got.tobytes() == expected.tobytes(), trial


def test_changes_seen_by_one_tick_are_counted_as_on_any_grid_of_ticks():
    """``visible_counts`` on a one-tick grid (a probe's) counts the times at or before the tick
    directly; it must give what the general form gives — the first tick at or after each time,
    counted per column — including times exactly on the tick, ±inf and NaN padding."""
    from kubeskippy.simulator.workloads import base
    from kubeskippy.simulator.workloads.base import visible_counts

    def by_search(times, T):  # the general form, written out: a histogram of first seeing ticks
        B, (m, r) = len(T), times.shape
        first = np.searchsorted(T, times.ravel(), side="left").reshape(m, r)
        return np.stack([(first <= k).sum(axis=0) for k in range(B)])

    rng = np.random.default_rng(5)
    for trial in range(200):
        m, r = int(rng.integers(1, 80)), int(rng.integers(1, 40))
        times = np.sort(rng.choice(np.arange(0.0, 300.0, 5.0), (m, r)), axis=0)
        pad = rng.random((m, r)) < 0.2
        times[pad] = rng.choice([np.inf, np.nan, -np.inf], int(pad.sum()))
        T = np.array([float(rng.choice([times[0, 0] if np.isfinite(times[0, 0]) else 100.0, 150.0, 152.5]))])
        got = visible_counts(times, T)
        assert got.shape == (1, r) and got.dtype == np.int64, trial
        np.testing.assert_array_equal(got, by_search(times, T), err_msg=str(trial))
        wider = visible_counts(times, np.array([T[0], T[0] + 15.0]))  # the general path, for comparison
        np.testing.assert_array_equal(got[0], wider[0], err_msg=str(trial))
    assert base.visible_counts(np.zeros((0, 3)), np.array([1.0])).shape == (1, 3)


def test_renewal_times_by_column_draw_later_chunks_only_for_the_columns_that_need_them():
    """``by_column``: after the first chunk, ``lengths`` is asked for the columns still short of
    ``until`` and not ended, and nothing else; their times are the sequential sums bit for bit,
    and the other columns' later times are +inf (past ``until``, never processed)."""
    from kubeskippy.simulator.workloads.base import renewal_times

    rng = np.random.default_rng(5)
    r = 40
    start = rng.uniform(0, 100, r)
    table = rng.uniform(0.5, 9.5, (4096, r))
    table[:, :5] *= 0.05  # five columns need many more steps than the first chunk
    stop = np.zeros(r, dtype=bool)
    stop[5:8] = True  # three short columns end early (their process stopped)
    asked = []

    def lengths(j0, n, cols):
        asked.append(None if cols is None else cols.tolist())
        return table[j0:j0 + n] if cols is None else table[j0:j0 + n][:, cols]

    until = 300.0
    E = renewal_times(start, lengths, until, 0.5, chunk=128, ended=lambda E: stop, by_column=True)
    assert asked[0] is None and len(asked) > 2
    assert asked[1] == list(range(5))  # only the slow ones (the ended ones excluded) …
    assert all(set(cols) <= set(range(5)) for cols in asked[2:])  # … and fewer as they get there
    for c in range(r):
        expected = [float(start[c])]
        for j in range(len(E) - 1):
            expected.append(expected[-1] + float(table[j, c]))
        finite = E[:, c][np.isfinite(E[:, c])]
        assert finite.tolist() == expected[:len(finite)]
        assert np.isinf(E[len(finite):, c]).all()
        assert finite[-1] > until or stop[c]  # every column reaches past ``until`` unless it ended
    # drawn for every column, the same finite times
    full = renewal_times(start, lambda j0, n: table[j0:j0 + n], until, 0.5, chunk=128, ended=lambda E: stop)
    assert full.shape == E.shape
    drawn = np.isfinite(E)
    assert E[drawn].tobytes() == full[drawn].tobytes()


def test_a_chaos_monkey_over_a_long_grid_answers_what_it_answers_tick_by_tick():
    """Over a long grid the chaos monkey draws its stage changes in chunks, the later ones only
    for the columns still running (``by_column``); tick by tick (one-tick grids, one chunk
    each) it never does. Both must give the same memory, CPU, errors, latency, exits and scratch
    state — with incarnations that exit early and ones that never do (several chunks)."""
    from kubeskippy.simulator.workloads import chaos

    exiting = {"name": "chaos", "model": "chaos_monkey", "replicas": 40}
    inert = {"name": "inert", "model": "chaos_monkey", "replicas": 20, "params": {"crash_exits": 0, "restart_exits": 0}}
    world = world_after(scenario_with(exiting, inert, resolution="15s"), 15)
    tbl = world.table
    rows = tbl.live()
    model = world.model_list[int(tbl.model[rows[0]])]
    assert isinstance(model, chaos.ChaosMonkey)
    T = 15.0 * np.arange(2, 400)  # 100 min: the inert ones need several chunks of 48 changes
    Tprev = T - 15.0
    scratch = ("s0", "n0", "n1", "mkey", "mkey2")
    saved = {c: getattr(tbl, c).copy() for c in scratch}
    whole = model.run(tbl, rows, T, Tprev)
    state = {c: getattr(tbl, c)[rows].copy() for c in scratch}
    for c, v in saved.items():
        getattr(tbl, c)[:] = v
    ran = np.full(len(rows), len(T))  # ticks each ran, by the tick loop
    exit_at = np.full(len(rows), np.nan)
    up = np.arange(len(rows))
    for k in range(len(T)):
        one = model.run(tbl, rows[up], T[k:k + 1], Tprev[k:k + 1])
        for name in ("mem", "cpu_inc", "err", "lat"):
            assert getattr(one, name)[0].tobytes() == np.broadcast_to(getattr(whole, name), (len(T), len(rows)))[
                k, up].tobytes(), (name, k)
        gone = ~np.isnan(one.exit_at)
        exit_at[up[gone]], ran[up[gone]] = one.exit_at[gone], k + 1
        up = up[~gone]
    assert 0 < len(up) < len(rows)  # some exited, some ran through
    assert whole.exit_at.tobytes() == exit_at.tobytes()
    for c in scratch:
        assert getattr(tbl, c)[rows].tobytes() == state[c].tobytes(), c


def _laid_out_incarnations(world, *, restarts: int, t0: float):
    """The world's model (its live pods all run one), a function laying out afresh, starting at
    ``t0``, incarnations 0 … ``restarts`` − 1 of every live pod (a fresh table per call), and
    their columns in it."""
    from kubeskippy.simulator.world.block import _Chain

    rows = world.table.live()
    model = world.model_list[int(world.table.model[rows[0]])]
    src = np.repeat(rows, restarts)
    counts = np.tile(np.arange(restarts), len(rows)).astype(np.int64)
    return model, lambda: _Chain._lay_out(world, src, counts, np.full(len(src), t0)), np.arange(len(src))


@pytest.mark.parametrize("ahead", [15.0, 705.0, 14_385.0, 200_000.0])
def test_a_chaos_monkeys_first_exit_is_the_exit_its_run_answers(ahead):
    """``ChaosMonkey.first_exit`` (what the block's probes ask, on a one-tick grid) sums whole
    cycles instead of planning every stage change: for fresh incarnations of every restart
    count it must answer ``run``'s ``exit_at`` bit for bit — within a tick, 12 minutes and 4
    hours ahead (later cycles drawn in doubling chunks), and over two days for monkeys whose
    injections never exit (no exit) or only crash — and for incarnations already past a stage
    change (answered by ``run``)."""
    exiting = {"name": "chaos", "model": "chaos_monkey", "replicas": 20}
    crash_only = {"name": "crashy", "model": "chaos_monkey", "replicas": 10,
                  "params": {"restart_exits": 0, "interval": 40, "cooldown": 7, "crash_seconds": 13}}
    inert = {"name": "inert", "model": "chaos_monkey", "replicas": 5, "params": {"crash_exits": 0, "restart_exits": 0}}
    t0 = 3_000.0
    model, fresh, cols = _laid_out_incarnations(
        world_after(scenario_with(exiting, crash_only, inert, resolution="15s"), 15), restarts=12, t0=t0)
    T = np.array([t0 + ahead])
    Tprev = T - 15.0
    answered = model.first_exit(fresh(), cols, T, Tprev)
    expected = model.run(fresh(), cols, T, Tprev).exit_at
    assert answered.tobytes() == expected.tobytes()
    exited = ~np.isnan(expected)
    assert not exited[-60:].any()  # the inert monkeys never exit
    if ahead >= 705.0:
        assert exited.sum() > len(cols) // 2
    # past a stage change (scratch state moved on): the model's run answers them
    mt = fresh()
    model.run(mt, cols, np.array([t0 + 60.0]), np.array([t0 + 45.0]))
    live = np.flatnonzero(np.isnan(mt.exit_at[cols]))
    copy = {c: getattr(mt, c).copy() for c in ("s0", "n0", "n1", "exit_at")}
    later = np.array([t0 + 60.0 + ahead])
    answered = model.first_exit(mt, cols[live], later, later - 15.0)
    for c, v in copy.items():
        getattr(mt, c)[:] = v
    assert answered.tobytes() == model.run(mt, cols[live], later, later - 15.0).exit_at.tobytes()


@pytest.mark.parametrize("ahead", [15.0, 705.0, 14_385.0])
def test_a_memory_leaks_first_exit_is_the_oom_kill_its_run_answers(ahead):
    """``MemoryLeak.first_exit`` stops where ``run`` has found the OOM kill (no memory per tick,
    no scratch state): it must answer ``run``'s ``exit_at`` bit for bit, for fresh incarnations
    of every restart count and for ones part-way through their allocations, and leave the
    scratch state as it was."""
    t0 = 3_000.0
    model, fresh, cols = _laid_out_incarnations(
        world_after(scenario_with(dict(LEAK, replicas=10), resolution="15s"), 15), restarts=8, t0=t0)

    for since in (0.0, 200.0):  # fresh, and after 200 s of allocations
        mt = fresh()
        if since:
            model.run(mt, cols, np.array([t0 + since]), np.array([t0 + since - 15.0]))
        scratch = {c: getattr(mt, c)[cols].copy() for c in ("s0", "n0", "n1", "mem")}
        T = np.array([t0 + since + ahead])
        answered = model.first_exit(mt, cols, T, T - 15.0)
        for c, v in scratch.items():
            assert getattr(mt, c)[cols].tobytes() == v.tobytes(), c
        expected = model.run(mt, cols, T, T - 15.0).exit_at
        assert answered.tobytes() == expected.tobytes()
        assert (~np.isnan(expected)).any() == (ahead >= 705.0)


def test_a_long_renewal_is_drawn_in_chunks_sized_from_its_pace_not_the_worst_case():
    """Without ``chunk``, a span of many times ``min_length`` is drawn ``LONG_RENEWAL`` steps
    first, then as many as the pace so far needs: the same sequential sums as one draw of the
    worst case, with far fewer steps drawn (lengths average 50 times the bound here)."""
    from kubeskippy.simulator.workloads.base import LONG_RENEWAL, renewal_times

    rng = np.random.default_rng(5)
    start = rng.uniform(0, 50, 7)
    table = rng.uniform(0.1, 9.9, (8192, 7))
    asked: list[tuple[int, int]] = []

    def lengths(j0, n):
        asked.append((j0, n))
        return table[j0:j0 + n]

    E = renewal_times(start, lengths, 5_000.0, 0.1)
    assert asked[0] == (0, LONG_RENEWAL) and len(asked) >= 2
    assert (E[-1] > 5_000.0).all()
    assert len(E) < 2_000  # ≈ 1,000 steps needed (1,351 drawn); the worst case was 4,096 at once
    for c in range(7):
        expected = [float(start[c])]
        for j in range(len(E) - 1):
            expected.append(expected[-1] + float(table[j, c]))
        assert E[:, c].tolist() == expected
