"""The random streams are pinned: speed-ups may not change which numbers a decision draws."""

from __future__ import annotations

import numpy as np

from kubeskippy.simulator import randomness

KEYS = np.array([randomness.derive_key(1, "pod", "demo-apps", "web", k) for k in range(3)], dtype=np.uint64)


def test_keys_derive_from_identity_parts_the_same_way_on_every_run():
    assert KEYS.tolist() == [5380987764257008447, 6144913836864523897, 9535541572138490374]


def test_draws_equal_the_values_the_first_version_of_the_simulator_drew():
    # Values recorded from the simulator before it was optimised (per-call mixing, errstate):
    # common random numbers across versions mean a scenario keeps its incidents.
    assert randomness.uniform(KEYS, 1, np.array([0, 5, 1000])).tolist() == \
        [0.16168157722283727, 0.47770312820667715, 0.05407249695577909]
    assert randomness.uniform(KEYS, 102, 7).tolist() == [0.10461709976326028, 0.7807044036424196, 0.7244787574597698]
    assert randomness.mix64(KEYS).tolist() == [9238600092702775616, 17895800945024009294, 6658631938146556734]


def test_a_premixed_key_draws_what_the_key_draws_for_that_purpose():
    counters = np.arange(50) * 7919
    keys = np.repeat(KEYS, 50)[:50]
    assert np.array_equal(randomness.uniform_premixed(randomness.premix(keys, 2), counters),
                          randomness.uniform(keys, 2, counters))
    assert not np.array_equal(randomness.uniform_premixed(randomness.premix(keys, 3), counters),
                              randomness.uniform(keys, 2, counters))


def test_a_grid_of_draws_equals_each_keys_draws_one_counter_at_a_time():
    """Counters shaped (C, 1) against keys (r,) broadcast to a new array; counters already (C, r)
    are drawn in place: both are the draws of one key and one counter."""
    premixed = randomness.premix(KEYS, 1)
    column = np.arange(6)[:, None] * 1000
    full = column + np.arange(3)[None, :]
    for counters in (column, full):
        grid = randomness.uniform_premixed(premixed, counters)
        assert grid.shape == (6, 3)
        for i in range(6):
            for k in range(3):
                one = randomness.uniform(KEYS[k:k + 1], 1, int(np.broadcast_to(counters, (6, 3))[i, k]))
                assert grid[i, k] == one[0]
    assert randomness.uniform_premixed(premixed, full)[5].tolist() == \
        randomness.uniform(KEYS, 1, np.array([5000, 5001, 5002])).tolist()


def test_a_uid_is_two_derived_keys_formatted_as_a_uuid_and_does_not_change():
    import uuid

    from kubeskippy.simulator.randomness import derive_key
    from kubeskippy.simulator.world.naming import uid_for

    for parts in [(1, "pod", "default", "web-abc12-xyz34", 7), (0, "node", "sim-node-1"), (2**40,)]:
        high, low = derive_key("uid", *parts), derive_key("uid2", *parts)
        assert uid_for(*parts) == str(uuid.UUID(int=(high << 64) | low))
    assert uid_for(1, "pod", "default", "web-abc12-xyz34", 7) == "18630ba8-ef84-2b11-adaf-82fa013af959"  # reports stay the same across versions


def test_keys_and_uids_of_parts_joined_ahead_are_the_ones_of_the_parts():
    """Pods are named with their shared identity parts joined once per batch; the keys, names
    and uids must be what ``derive_key``/``uid_for`` give for the separate parts."""
    from kubeskippy.simulator.randomness import derive_key, key_of_joined, key_prefix
    from kubeskippy.simulator.scenario import parse_scenario
    from kubeskippy.simulator.world.naming import safe_suffix, uid_for, uid_of_joined
    from kubeskippy.simulator.world.world import World

    for parts in [(1, "demo-apps", "web", 7), (12, "pod", "ns", "api", 0), (3,)]:
        assert key_of_joined(key_prefix(*parts[:-1]) + str(parts[-1])) == derive_key(*parts)
        assert uid_of_joined(key_prefix(*parts[:-1]) + str(parts[-1])) == uid_for(*parts)
    spec = {"name": "names", "duration": "1m", "workloads": [{"name": "web", "model": "steady", "replicas": 3}]}
    world = World(parse_scenario(spec), 5)
    world.add_workloads()
    tbl = world.table
    for serial, pod in world.pods.items():
        row = world.row_of[serial]
        ordinal = int(tbl.ordinal[row])
        rs = world.replicasets[int(tbl.rs[row])]
        assert pod.name == f"{rs.name}-{safe_suffix(derive_key(5, pod.namespace, 'web', ordinal))}"
        assert pod.uid == uid_for(5, "pod", pod.namespace, pod.name, serial)
        assert int(tbl.pkey[row]) == derive_key(5, "pod", pod.namespace, "web", ordinal)
    assert len(world.pods) == 3
