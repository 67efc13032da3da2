"""PolicySource reads HealingPolicies from the cluster as the JSON objects the API lists.

Why these tests: the cluster path once round-tripped every object through JSON text into the YAML
loader (importing PyYAML on every function's cold start); it now validates the objects directly
and must keep the same behaviour: valid policies apply, an invalid one is logged with the field
named and skipped, and the rest still apply.
"""

import logging
import subprocess
import sys
from pathlib import Path

import yaml

from kubeskippy.devcluster.memory_cluster import MemoryCluster
from kubeskippy.services.config import Lazy, PolicySource

ROOT = Path(__file__).resolve().parents[2]
DEMO_POLICIES = ROOT / "demo" / "policies"


def _cluster_with(*policies: dict) -> MemoryCluster:
    cluster = MemoryCluster()
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
    for policy in policies:
        cluster.create(policy)
    return cluster


def _demo_policies() -> list[dict]:
    docs = []
    for path in sorted(DEMO_POLICIES.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "HealingPolicy"]
    return docs


def test_the_demo_policies_read_from_the_cluster_equal_the_same_policies_read_from_files():
    demo = _demo_policies()
    for doc in demo:
        doc["metadata"]["namespace"] = "demo"
    from_cluster = PolicySource({}, Lazy(lambda: _cluster_with(*demo))).policies()
    assert len(from_cluster) == len(demo) > 0
    names = sorted(p.name for p in from_cluster)
    assert names == sorted(d["metadata"]["name"] for d in demo)


def test_an_invalid_policy_in_the_cluster_is_logged_with_its_field_and_skipped(caplog):
    good, bad = _demo_policies()[:2]
    for doc in (good, bad):
        doc["metadata"]["namespace"] = "demo"
    bad["spec"]["triggers"][0]["type"] = "telepathy"
    source = PolicySource({}, Lazy(lambda: _cluster_with(good, bad)))
    with caplog.at_level(logging.ERROR, logger="kubeskippy.services"):
        policies = source.policies()
    assert [p.name for p in policies] == [good["metadata"]["name"]]
    [record] = [r for r in caplog.records if r.getMessage() == "invalid policy skipped"]
    error = record.fields["error"]
    assert f"HealingPolicy demo/{bad['metadata']['name']}" in error
    assert "spec.triggers[0].type" in error


_READ_FROM_CLUSTER = """
import sys
from kubeskippy.devcluster.memory_cluster import MemoryCluster
from kubeskippy.services.config import Lazy, PolicySource
cluster = MemoryCluster()
cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
cluster.create({"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingPolicy",
                "metadata": {"name": "heal", "namespace": "demo"},
                "spec": {"selector": {"resources": [{"apiVersion": "v1", "kind": "Pod"}]},
                         "triggers": [{"name": "crash", "type": "condition",
                                       "conditionTrigger": {"type": "CrashLoopBackOff", "status": "True"}}],
                         "actions": [{"name": "restart", "type": "restart"}]}})
print([p.name for p in PolicySource({}, Lazy(lambda: cluster)).policies()], "yaml" in sys.modules)
"""


def test_reading_policies_from_the_cluster_does_not_import_pyyaml():
    out = subprocess.run([sys.executable, "-c", _READ_FROM_CLUSTER], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['heal'] False"


class _Counting:
    """The cluster, counting the reads PolicySource makes."""

    def __init__(self, inner) -> None:
        self.inner, self.gets, self.lists = inner, 0, 0

    def get(self, *args, **kwargs):
        self.gets += 1
        return self.inner.get(*args, **kwargs)

    def list(self, *args, **kwargs):
        self.lists += 1
        return self.inner.list(*args, **kwargs)


def _demo_in_cluster() -> tuple[_Counting, list[dict]]:
    demo = _demo_policies()
    for doc in demo:
        doc["metadata"]["namespace"] = "demo"
    return _Counting(_cluster_with(*demo)), demo


def test_one_policy_by_key_is_read_alone_and_kept_for_the_ttl():
    cluster, demo = _demo_in_cluster()
    name = demo[0]["metadata"]["name"]
    source = PolicySource({"KUBESKIPPY_POLICY_TTL_SECONDS": "3600"}, Lazy(lambda: cluster))
    assert source.get(f"demo/{name}").name == name
    assert source.get(f"demo/{name}").name == name
    assert (cluster.gets, cluster.lists) == (1, 0)  # one GET, no list, no second read within the ttl
    assert source.get("demo/no-such-policy") is None and source.get("demo/no-such-policy") is None
    assert cluster.gets == 2  # a missing policy is remembered for the ttl too


def test_after_the_ttl_one_policy_is_read_again():
    cluster, demo = _demo_in_cluster()
    source = PolicySource({"KUBESKIPPY_POLICY_TTL_SECONDS": "0"}, Lazy(lambda: cluster))
    key = f"demo/{demo[0]['metadata']['name']}"
    source.get(key)
    source.get(key)
    assert (cluster.gets, cluster.lists) == (2, 0)


def test_keys_asked_for_once_do_not_pile_up_past_the_ttl():
    """Every event may name another policy (or one that does not exist): stale keys are dropped
    once the cache holds enough of them, fresh ones kept."""
    from kubeskippy.services import config

    cluster, demo = _demo_in_cluster()
    source = PolicySource({"KUBESKIPPY_POLICY_TTL_SECONDS": "0"}, Lazy(lambda: cluster))
    for i in range(3 * config._KEYS_BEFORE_PRUNING):
        source.get(f"demo/missing-{i}")
    assert len(source._one) <= config._KEYS_BEFORE_PRUNING
    fresh = PolicySource({"KUBESKIPPY_POLICY_TTL_SECONDS": "3600"}, Lazy(lambda: cluster))
    for i in range(config._KEYS_BEFORE_PRUNING + 10):
        fresh.get(f"demo/missing-{i}")
    assert len(fresh._one) == config._KEYS_BEFORE_PRUNING + 10  # within the ttl nothing is dropped
    gets = cluster.gets
    fresh.get("demo/missing-0")
    assert cluster.gets == gets


def test_while_the_whole_set_is_fresh_it_answers_a_key_without_another_read():
    cluster, demo = _demo_in_cluster()
    source = PolicySource({"KUBESKIPPY_POLICY_TTL_SECONDS": "3600"}, Lazy(lambda: cluster))
    assert len(source.policies()) == len(demo)
    assert source.get(f"demo/{demo[1]['metadata']['name']}").name == demo[1]["metadata"]["name"]
    assert source.get("bare-name") is None  # no namespace: looked up in the set
    assert (cluster.gets, cluster.lists) == (0, 1)


def test_an_invalid_policy_read_by_key_is_logged_with_its_field_and_not_applied(caplog):
    cluster, demo = _demo_in_cluster()
    bad = demo[0]
    bad["spec"]["triggers"][0]["type"] = "telepathy"
    cluster.inner.replace({**cluster.inner.get("kubeskippy.io/v1alpha1", "HealingPolicy", bad["metadata"]["name"],
                                               "demo"), "spec": bad["spec"]})
    source = PolicySource({}, Lazy(lambda: cluster))
    with caplog.at_level(logging.ERROR, logger="kubeskippy.services"):
        assert source.get(f"demo/{bad['metadata']['name']}") is None
    [record] = [r for r in caplog.records if r.getMessage() == "invalid policy skipped"]
    assert "spec.triggers[0].type" in record.fields["error"]
