import pytest

from kubeskippy.detect.conditions import condition_hits

from .builders import T0, condition, container, node, pod, workload


def hits(obj, type_="Ready", status="False", duration=120.0):
    return condition_hits(obj, type_, status, duration, T0)


@pytest.mark.parametrize("since, held", [
    pytest.param(T0 - 119.999, False, id="just-short"),
    pytest.param(T0 - 120, True, id="just-met"),
    pytest.param(T0 - 3600, True, id="long-held"),
])
def test_condition_duration_is_measured_from_last_transition_time(since, held):
    p = pod("a", conditions=[condition("Ready", "False", since)])
    assert bool(hits(p)) is held


def test_condition_status_must_match_case_insensitively():
    p = pod("a", conditions=[condition("Ready", "False", T0 - 600)])
    assert hits(p, status="false")
    assert not hits(p, status="True")


def test_a_condition_without_transition_time_holds_only_for_zero_duration():
    p = pod("a", conditions=[condition("Ready", "False", None)])
    assert not hits(p, duration=60)
    [hit] = hits(p, duration=0)
    assert hit.since is None


def test_an_absent_condition_never_holds():
    assert hits(pod("a"), type_="PodScheduled", status="False", duration=0) == []


def test_node_pressure_conditions():
    n = node("n1", conditions=[condition("MemoryPressure", "True", T0 - 300, reason="KubeletHasInsufficientMemory")])
    [hit] = hits(n, "MemoryPressure", "True", 60)
    assert hit.reason == "KubeletHasInsufficientMemory" and hit.since == T0 - 300


def test_deployment_conditions():
    d = workload("Deployment", "web", conditions=[condition("Available", "False", T0 - 200)])
    assert hits(d, "Available", "False", 120)


def test_crash_loop_back_off_is_held_since_containers_ready_turned_false():
    p = pod("a", conditions=[condition("ContainersReady", "False", T0 - 130), condition("Ready", "False", T0 - 500)],
            containers=[container(ready=False, waiting="CrashLoopBackOff", last_terminated="Error",
                                  last_finished=T0 - 5)])
    [hit] = hits(p, "CrashLoopBackOff", "True", 120)
    assert (hit.where, hit.state, hit.since) == ("container app", "waiting", T0 - 130)
    assert hits(p, "CrashLoopBackOff", "True", 131) == []


def test_waiting_reason_falls_back_to_pod_start_time():
    p = pod("a", start=T0 - 50, containers=[container(ready=False, waiting="ImagePullBackOff")])
    assert hits(p, "ImagePullBackOff", "True", 50)[0].since == T0 - 50
    assert hits(p, "ImagePullBackOff", "True", 51) == []


@pytest.mark.parametrize("reason", ["ErrImagePull", "CreateContainerConfigError", "ImagePullBackOff"])
def test_other_waiting_reasons_count_as_conditions(reason):
    p = pod("a", containers=[container(ready=False, waiting=reason)])
    assert hits(p, reason, "True", 0)


def test_terminated_reason_is_held_since_finished_at():
    p = pod("a", containers=[container(ready=False, terminated="OOMKilled", finished=T0 - 30)])
    [hit] = hits(p, "OOMKilled", "True", 30)
    assert (hit.state, hit.since) == ("terminated", T0 - 30)


def test_last_state_oom_killed_counts_only_while_the_container_is_not_ready():
    down = pod("a", containers=[container(ready=False, waiting="CrashLoopBackOff", last_terminated="OOMKilled",
                                          last_finished=T0 - 10)])
    recovered = pod("b", containers=[container(ready=True, last_terminated="OOMKilled", last_finished=T0 - 10)])
    [hit] = hits(down, "OOMKilled", "True", 0)
    assert (hit.state, hit.since) == ("lastState.terminated", T0 - 10)
    assert hits(recovered, "OOMKilled", "True", 0) == []


def test_init_container_reasons_count_too():
    p = pod("a")
    p["status"]["initContainerStatuses"] = [container("init", ready=False, terminated="Error", finished=T0 - 5)]
    assert hits(p, "Error", "True", 0)[0].where == "container init"


def test_every_breaching_container_is_a_hit():
    p = pod("a", containers=[container("a", ready=False, waiting="CrashLoopBackOff"),
                             container("b", ready=False, waiting="CrashLoopBackOff"), container("c")])
    assert [h.where for h in hits(p, "CrashLoopBackOff", "True", 0)] == ["container a", "container b"]


@pytest.mark.parametrize("status", ["False", "Unknown"])
def test_a_container_reason_with_status_other_than_true_never_holds(status):
    assert hits(pod("a", containers=[container()]), "CrashLoopBackOff", status, 0) == []


def test_container_reasons_apply_to_pods_only():
    d = workload("Deployment", "web")
    assert hits(d, "CrashLoopBackOff", "True", 0) == []
