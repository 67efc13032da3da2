import pytest

from kubeskippy.detect.reading import ObjectReader
from kubeskippy.detect.selection import compile_selector

from .builders import deployment_with_pods, make_policy, node, owner, pod, workload, condition_trigger
from .fakes import FakeCluster


def selector(**kwargs):
    return compile_selector(make_policy(triggers=[condition_trigger()], **kwargs).spec.selector)


def selects(sel, obj, cluster=None):
    reader = ObjectReader(cluster or FakeCluster())
    return sel.selects(obj, lambda: reader.owner_chain(obj))


def test_empty_namespace_list_selects_every_namespace_including_kube_system():
    sel = selector()
    assert selects(sel, pod("a", "team-a"))
    assert selects(sel, pod("coredns-1", "kube-system"))


def test_namespace_list_restricts_namespaced_objects():
    sel = selector(namespaces=["team-a", "team-b"])
    assert selects(sel, pod("a", "team-a"))
    assert not selects(sel, pod("a", "team-c"))


def test_cluster_scoped_nodes_are_selected_only_by_all_namespace_policies():
    resources = [{"apiVersion": "v1", "kind": "Node"}]
    assert selects(selector(resources=resources), node("n1"))
    assert not selects(selector(resources=resources, namespaces=["default"]), node("n1"))


def test_kind_must_match_and_the_version_is_ignored():
    sel = selector(resources=[{"apiVersion": "apps/v1beta2", "kind": "Deployment"}])
    assert selects(sel, workload("Deployment", "web"))
    assert not selects(sel, workload("StatefulSet", "web"))
    assert not selects(selector(resources=[{"apiVersion": "example.com/v1", "kind": "Deployment"}]),
                       workload("Deployment", "web"))


@pytest.mark.parametrize("name, excluded", [
    pytest.param("web-canary", True, id="suffix-glob"),
    pytest.param("db-1", True, id="question-mark"),
    pytest.param("db-12", False, id="question-mark-is-one-char"),
    pytest.param("exact", True, id="plain-name"),
    pytest.param("web-1", False, id="not-matched"),
    pytest.param("EXACT", False, id="case-sensitive"),
])
def test_exclude_names_are_shell_globs(name, excluded):
    sel = selector(resources=[{"apiVersion": "v1", "kind": "Pod", "excludeNames": ["*-canary", "db-?", "exact"]}])
    assert selects(sel, pod(name)) is not excluded


def test_label_selector_with_match_expressions_applies_to_the_pod():
    sel = selector(match_labels={"app": "web"},
                   match_expressions=[{"key": "env", "operator": "NotIn", "values": ["dev"]}])
    assert selects(sel, pod("a", labels={"app": "web", "env": "prod"}))
    assert selects(sel, pod("a", labels={"app": "web"}))
    assert not selects(sel, pod("a", labels={"app": "web", "env": "dev"}))


def test_a_deployment_policy_selects_its_pods_through_the_owner_chain():
    objs = deployment_with_pods("web", 1, labels={"app": "web"})
    cluster = FakeCluster(objs)
    sel = selector(resources=[{"apiVersion": "apps/v1", "kind": "Deployment"}], match_labels={"app": "web"})
    assert selects(sel, objs[2], cluster)
    assert selects(sel, objs[1], cluster)  # the ReplicaSet too


def test_through_the_owner_chain_labels_and_excludes_apply_to_the_deployment():
    objs = deployment_with_pods("web", 1, labels={"app": "web"})
    objs[0]["metadata"]["labels"] = {"team": "x"}  # the Deployment's own labels differ from its pods'
    cluster = FakeCluster(objs)
    by_pod_label = selector(resources=[{"apiVersion": "apps/v1", "kind": "Deployment"}], match_labels={"app": "web"})
    by_deploy_label = selector(resources=[{"apiVersion": "apps/v1", "kind": "Deployment"}],
                               match_labels={"team": "x"})
    excluded = selector(resources=[{"apiVersion": "apps/v1", "kind": "Deployment", "excludeNames": ["web*"]}])
    assert not selects(by_pod_label, objs[2], cluster)
    assert selects(by_deploy_label, objs[2], cluster)
    assert not selects(excluded, objs[2], cluster)


def test_a_pod_without_owners_is_not_selected_by_a_deployment_policy():
    sel = selector(resources=[{"apiVersion": "apps/v1", "kind": "Deployment"}])
    assert not selects(sel, pod("bare"))


def test_statefulset_policy_selects_its_pods_but_not_a_deployments():
    cluster = FakeCluster([workload("StatefulSet", "db"), *deployment_with_pods("web", 1)])
    sel = selector(resources=[{"apiVersion": "apps/v1", "kind": "StatefulSet"}])
    db0 = pod("db-0", owners=[owner("StatefulSet", "db")])
    assert selects(sel, db0, cluster)
    assert not selects(sel, cluster.get("v1", "Pod", "web-abc-0", "default"), cluster)


def test_owner_chain_is_read_only_when_no_filter_matches_directly():
    cluster = FakeCluster(deployment_with_pods("web", 1))
    sel = selector(resources=[{"apiVersion": "v1", "kind": "Pod"}, {"apiVersion": "apps/v1", "kind": "Deployment"}])
    the_pod = cluster.get("v1", "Pod", "web-abc-0", "default")
    cluster.calls.clear()
    assert selects(sel, the_pod, cluster)
    assert cluster.calls == []
