"""A synchronous decision run on the loop: every read it makes is awaited, then it runs again."""

from __future__ import annotations

import pytest

from kubeskippy.errors import APINotFound, TemporaryError
from kubeskippy.services.read_replay import (NOT_DECIDED, ReadNeeded, ReplayedReads, decide_reading_on_loop,
                                            replay_fanout)


class Reads:
    """Async reads over a dict, counting the calls; a missing object is a 404."""

    def __init__(self, objects: dict, fail: Exception | None = None) -> None:
        self.objects, self.fail, self.calls = objects, fail, []

    async def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", kind, name))
        if self.fail:
            raise self.fail
        if (kind, name) not in self.objects:
            raise APINotFound(404, f"{kind} {name} not found")
        return self.objects[(kind, name)]

    async def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self.calls.append(("list", kind, label_selector))
        return [o for (k, _), o in self.objects.items() if k == kind]


def owners(cluster) -> list[str]:
    """A decision that reads a chain: Pod → ReplicaSet → Deployment, and lists Events."""
    rs = cluster.get("apps/v1", "ReplicaSet", "web-1", "ns")
    try:
        deployment = cluster.get("apps/v1", "Deployment", rs["owner"], "ns")["name"]
    except APINotFound:
        deployment = "gone"
    rs["name"] = "mutated"  # a decision may change what it read: the next run must not see it
    return [deployment, *(e["name"] for e in cluster.list("v1", "Event", "ns"))]


OBJECTS = {("ReplicaSet", "web-1"): {"name": "web-1", "owner": "web"}, ("Deployment", "web"): {"name": "web"},
           ("Event", "e1"): {"name": "e1"}}


async def test_each_read_is_awaited_once_and_the_decision_ends_with_every_answer():
    reads = Reads(OBJECTS)
    assert await decide_reading_on_loop(owners, reads, max_reads=6) == ["web", "e1"]
    assert reads.calls == [("get", "ReplicaSet", "web-1"), ("get", "Deployment", "web"), ("list", "Event", None)]


async def test_a_failed_read_is_an_answer_raised_again_where_the_decision_made_it():
    reads = Reads({("ReplicaSet", "web-1"): {"name": "web-1", "owner": "old"}})
    assert await decide_reading_on_loop(owners, reads, max_reads=6) == ["gone"]
    with pytest.raises(TemporaryError):
        await decide_reading_on_loop(owners, Reads({}, fail=TemporaryError("no answer")), max_reads=6)


async def test_more_reads_than_allowed_or_no_reads_at_all_leave_it_undecided():
    assert await decide_reading_on_loop(owners, Reads(OBJECTS), max_reads=2) is NOT_DECIDED
    assert await decide_reading_on_loop(owners, None, max_reads=6) is NOT_DECIDED
    assert await decide_reading_on_loop(lambda cluster: "no reads", None, max_reads=0) == "no reads"


def test_replayed_reads_answer_copies_raise_for_new_reads_and_offer_no_writes():
    answers = {("get", "v1", "Pod", "p", "ns"): {"metadata": {"name": "p"}}}
    cluster = ReplayedReads(answers)
    first = cluster.get("v1", "Pod", "p", "ns")
    first["metadata"]["name"] = "changed"
    assert cluster.get("v1", "Pod", "p", "ns") == {"metadata": {"name": "p"}}
    with pytest.raises(ReadNeeded) as need:
        cluster.list("v1", "Event", "ns", field_selector="involvedObject.name=p")
    assert need.value.key == ("list", "v1", "Event", "ns", None, "involvedObject.name=p")
    with pytest.raises(AttributeError, match="not a read"):
        cluster.delete  # noqa: B018 - the attribute access is what is tested


async def test_reads_a_fan_out_asks_for_together_are_awaited_in_one_round():
    runs: list[int] = []

    def both(cluster) -> list[str]:
        runs.append(len(runs))
        rs, deployment = replay_fanout([lambda: cluster.get("apps/v1", "ReplicaSet", "web-1", "ns"),
                                        lambda: cluster.get("apps/v1", "Deployment", "web", "ns")])
        return [rs["name"], deployment["name"]]

    reads = Reads(OBJECTS)
    assert await decide_reading_on_loop(both, reads, max_reads=6) == ["web-1", "web"]
    assert len(runs) == 2  # one run that asked for both reads, one that had both answers
    assert sorted(reads.calls) == [("get", "Deployment", "web"), ("get", "ReplicaSet", "web-1")]
    assert await decide_reading_on_loop(both, Reads(OBJECTS), max_reads=1) is NOT_DECIDED  # two > one allowed


def test_a_fan_out_raises_the_first_other_error_in_call_order():
    def boom():
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        replay_fanout([lambda: 1, boom, lambda: (_ for _ in ()).throw(KeyError("second"))])
    assert replay_fanout([lambda: 1, lambda: 2]) == [1, 2]
