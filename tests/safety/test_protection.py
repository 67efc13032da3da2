"""Protection is judged on live objects: the object, its owners, its namespace, and the policy."""

from __future__ import annotations

import pytest

from kubeskippy.devcluster import builders as b
from kubeskippy.errors import APIError, APINotFound
from kubeskippy.events.model import ObjectRef
from kubeskippy.policy.model import ResourceFilter
from kubeskippy.safety.config import SafetyConfig
from kubeskippy.safety.protection import marker_reason, protection_reason

from .cluster_fixtures import new_cluster, seed_deployment


def pod_ref(name: str, namespace: str = "prod") -> ObjectRef:
    return ObjectRef(api_version="v1", kind="Pod", name=name, namespace=namespace)


@pytest.fixture
def cluster():
    cluster = new_cluster()
    cluster.seed([b.namespace("prod")])
    return cluster


def test_an_ordinary_pod_is_not_protected(cluster):
    seed_deployment(cluster, "web")
    assert protection_reason(cluster, pod_ref("web-5d8f-0")) is None


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease"])
def test_system_namespaces_are_protected_by_default(cluster, namespace):
    cluster.seed([b.pod("coredns-1", namespace)])
    assert protection_reason(cluster, pod_ref("coredns-1", namespace)) == \
        f"Pod/{namespace}/coredns-1 is in protected namespace {namespace}"


def test_the_protected_namespaces_are_configurable(cluster):
    seed_deployment(cluster, "web")
    config = SafetyConfig(protected_namespaces=frozenset({"prod"}))
    assert "protected namespace prod" in protection_reason(cluster, pod_ref("web-5d8f-0"), config=config)
    cluster.seed([b.pod("coredns-1", "kube-system")])
    assert protection_reason(cluster, pod_ref("coredns-1", "kube-system"), config=config) is None


def test_protection_is_found_through_the_live_namespaces_labels_alone(cluster):
    ns = b.namespace("payments")
    ns["metadata"]["labels"] = {"kubeskippy.io/protected": "true"}
    cluster.seed([ns])
    seed_deployment(cluster, "ledger", "payments")
    reason = protection_reason(cluster, pod_ref("ledger-5d8f-1", "payments"))
    assert reason == "namespace Namespace/payments has label kubeskippy.io/protected=true"


def test_an_owners_healing_disabled_annotation_protects_its_pods(cluster):
    seed_deployment(cluster, "db", annotations={"kubeskippy.io/healing-disabled": "maintenance"})
    reason = protection_reason(cluster, pod_ref("db-5d8f-0"))
    assert reason == "owner Deployment/prod/db has annotation kubeskippy.io/healing-disabled='maintenance'"


def test_healing_disabled_false_does_not_protect(cluster):
    seed_deployment(cluster, "db", annotations={"kubeskippy.io/healing-disabled": "false"})
    assert protection_reason(cluster, pod_ref("db-5d8f-0")) is None


def test_the_object_is_read_live_so_a_label_added_a_moment_ago_counts(cluster):
    seed_deployment(cluster, "web")
    assert protection_reason(cluster, pod_ref("web-5d8f-0")) is None
    cluster.patch("v1", "Pod", "web-5d8f-0", "prod", {"metadata": {"labels": {"kubeskippy.io/protected": "true"}}})
    assert protection_reason(cluster, pod_ref("web-5d8f-0")) == "Pod/prod/web-5d8f-0 has label kubeskippy.io/protected=true"


def test_policy_protected_resources_protect_matching_names_and_their_pods(cluster):
    seed_deployment(cluster, "db-main")
    seed_deployment(cluster, "web")
    rules = [ResourceFilter(api_version="apps/v1", kind="Deployment", exclude_names=["db-*"])]
    reason = protection_reason(cluster, pod_ref("db-main-5d8f-0"), protected_resources=rules)
    assert reason == "owner Deployment/prod/db-main is protected by safetyRules.protectedResources[0] (name matches 'db-*')"
    assert protection_reason(cluster, pod_ref("web-5d8f-0"), protected_resources=rules) is None


def test_policy_protected_resources_without_names_protect_the_whole_kind(cluster):
    cluster.seed([b.statefulset("kafka", "prod")])
    seed_deployment(cluster, "web")
    rules = [ResourceFilter(api_version="apps/v1", kind="StatefulSet")]
    ref = ObjectRef(api_version="apps/v1", kind="StatefulSet", name="kafka", namespace="prod")
    assert "every StatefulSet is protected" in protection_reason(cluster, ref, protected_resources=rules)
    assert protection_reason(cluster, pod_ref("web-5d8f-0"), protected_resources=rules) is None


@pytest.mark.parametrize("api_version, protected", [("apps/v1", True), ("*", True), ("apps/v1beta1", False)])
def test_protected_resources_match_the_api_version_or_a_wildcard(cluster, api_version, protected):
    seed_deployment(cluster, "web")
    rules = [ResourceFilter(api_version=api_version, kind="Deployment", exclude_names=["web"])]
    assert (protection_reason(cluster, pod_ref("web-5d8f-0"), protected_resources=rules) is not None) is protected


def test_an_owner_that_is_gone_is_skipped(cluster):
    chain = seed_deployment(cluster, "web")
    cluster.delete("apps/v1", "Deployment", "web", "prod", propagation_policy="Orphan")
    assert chain["pods"]
    assert protection_reason(cluster, pod_ref("web-5d8f-0")) is None


def test_a_target_that_is_gone_is_not_found(cluster):
    with pytest.raises(APINotFound):
        protection_reason(cluster, pod_ref("nope"))


@pytest.mark.parametrize("failing", [r"/replicasets/", r"/deployments/", r"/api/v1/namespaces/prod$"])
def test_an_api_failure_while_looking_is_not_taken_for_unprotected(cluster, failing):
    seed_deployment(cluster, "web")
    fault = cluster.faults.inject(status=503, verbs=["get"], path=failing)
    with pytest.raises(APIError) as e:
        protection_reason(cluster, pod_ref("web-5d8f-0"))
    assert e.value.status == 503 and fault.hits == 1


@pytest.mark.parametrize("meta, protected", [
    ({"labels": {"kubeskippy.io/protected": "true"}}, True),
    ({"labels": {"kubeskippy.io/protected": "True"}}, True),
    ({"annotations": {"kubeskippy.io/protected": "true"}}, True),
    ({"labels": {"kubeskippy.io/protected": "false"}}, False),
    ({"annotations": {"kubeskippy.io/healing-disabled": ""}}, True),
    ({"annotations": {"kubeskippy.io/healing-disabled": "FALSE"}}, False),
    ({}, False),
])
def test_markers(meta, protected):
    assert (marker_reason({"kind": "Pod", "metadata": {"name": "p", "namespace": "n", **meta}}) is not None) is protected
