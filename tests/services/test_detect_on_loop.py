"""detect decides ApiServerSource events on its event loop, awaiting their reads there; a worker thread only when it must.

The world is the devcluster over HTTP (a crash-looping pod and a healthy one, the demo policy);
``asyncio.to_thread`` is watched to see where each event was decided, and every answer is
compared with the synchronous ``handle`` (the path everything took before).
"""

from __future__ import annotations

from typing import Iterator

import pytest
import yaml

from kubeskippy.events.cloudevents import parse_http, encode
from kubeskippy.ingest.apiserver import apiserver_event
from kubeskippy.services import detect as detect_service
from kubeskippy.services.detect import DetectService
from tests.harness.crashloop_world import DEMO_POLICY, NAMESPACE, Cluster


@pytest.fixture(scope="module")
def world() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.server.stop()


@pytest.fixture
def threads(monkeypatch) -> list[str]:
    """The type of every event handed to a worker thread."""
    seen: list[str] = []
    real = detect_service.asyncio.to_thread

    async def watched(fn, event, *args):
        seen.append(event["type"])
        return await real(fn, event, *args)

    monkeypatch.setattr(detect_service.asyncio, "to_thread", watched)
    return seen


def service(world: Cluster, ttl: str | None = None) -> DetectService:
    """Policies from the demo file, or (``ttl``) from the cluster, re-read after ``ttl`` seconds."""
    if ttl is None:
        return DetectService({"KUBESKIPPY_KUBE_URL": world.server.url, "KUBESKIPPY_POLICY_SOURCE": "files",
                              "KUBESKIPPY_POLICY_FILES": str(DEMO_POLICY)})
    if world.store.find("kubeskippy.io/v1alpha1", "HealingPolicy", "crashloop-recovery", NAMESPACE) is None:
        world.store.create(yaml.safe_load(DEMO_POLICY.read_text()))
    return DetectService({"KUBESKIPPY_KUBE_URL": world.server.url, "KUBESKIPPY_POLICY_SOURCE": "cluster",
                          "KUBESKIPPY_POLICY_TTL_SECONDS": ttl})


def update(obj: dict, event_id: str):
    return parse_http(*encode(apiserver_event("update", obj, id=event_id)))


def ids(events) -> list[tuple[str, str]]:
    return [(e["type"], e["id"]) for e in events]


async def test_a_healthy_pods_update_is_dismissed_on_the_loop_once_the_policies_are_read(world, threads):
    detect = service(world)
    first = await detect.handle_async(update(world.healthy, "h1"))  # reads the policies: a thread
    second = await detect.handle_async(update(world.healthy, "h2"))
    assert first == second == [] == detect.handle(update(world.healthy, "h2"))
    assert threads == ["dev.knative.apiserver.resource.update"]


async def test_a_crash_looping_pods_owners_are_read_on_the_loop_with_the_same_finding_as_handle(world, threads):
    detect = service(world)
    await detect.handle_async(update(world.healthy, "warm"))
    threads.clear()
    findings = await detect.handle_async(update(world.crashing, "c1"))
    assert ids(findings) == ids(detect.handle(update(world.crashing, "c1")))
    assert [e["type"] for e in findings] == ["io.kubeskippy.finding"]
    assert findings[0].get_data()["owner_chain"][-1]["kind"] == "Deployment"  # its owners were read
    assert threads == []


async def test_without_reads_on_the_loop_an_event_that_reads_is_decided_in_a_thread(world, threads, monkeypatch):
    detect = service(world)
    await detect.handle_async(update(world.healthy, "warm"))
    threads.clear()
    monkeypatch.setattr(detect, "loop_reads", lambda: None)  # as with a kubeconfig: the official client
    assert await detect.handle_async(update(world.healthy, "h3")) == []
    findings = await detect.handle_async(update(world.crashing, "c2"))
    assert ids(findings) == ids(detect.handle(update(world.crashing, "c2")))
    assert threads == ["dev.knative.apiserver.resource.update"]  # only the event that reads


async def test_while_the_policies_are_due_for_a_re_read_every_event_goes_to_a_thread(world, threads):
    detect = service(world, ttl="0")
    for i in range(3):
        assert await detect.handle_async(update(world.healthy, f"d{i}")) == []
    assert len(threads) == 3
    fresh = service(world, ttl="30")
    for i in range(3):
        assert await fresh.handle_async(update(world.healthy, f"f{i}")) == []
    assert len(threads) == 4  # the first read the policies; the next two were decided on the loop


async def test_a_normal_event_no_policy_counts_is_dismissed_on_the_loop(world, threads):
    detect = service(world)
    await detect.handle_async(update(world.healthy, "warm"))
    threads.clear()
    normal = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "x.1", "namespace": NAMESPACE},
              "reason": "Pulled", "type": "Normal", "count": 1,
              "involvedObject": {"kind": "Pod", "name": world.healthy["metadata"]["name"], "namespace": NAMESPACE}}
    event = parse_http(*encode(apiserver_event("add", normal, id="n1")))
    assert await detect.handle_async(event) == [] == detect.handle(event)
    assert threads == []


async def test_while_a_worker_thread_holds_the_detectors_lock_the_loop_does_not_wait_for_it(world, threads):
    detect = service(world)
    await detect.handle_async(update(world.healthy, "warm"))
    threads.clear()
    with detect._lock:  # as a worker recompiling the policies would
        assert detect.current_detector() is None
    assert detect.current_detector() is not None
