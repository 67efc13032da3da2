"""Scenario 5's control: the RBAC the end-to-end scenarios run under really refuses. Each
function's ServiceAccount token, against the API double enforcing deploy/knative/rbac.yaml, may
do what its role grants and nothing else; without a token nothing is served. (Without this, "no
request was refused" in the scenarios could mean that nothing was checked.)"""

from __future__ import annotations

from typing import Iterator

import pytest

from kubeskippy.adapters.kubernetes import KubernetesCluster
from kubeskippy.devcluster import DevClusterServer, ObjectStore
from kubeskippy.devcluster.authz import service_account_user
from kubeskippy.devcluster.builders import configmap, pod
from kubeskippy.errors import KubeSkippyError

from .world import APPROVER, APPS_NAMESPACE, FEED_ACCOUNT, FUNCTION_ACCOUNTS, KUBESKIPPY_NAMESPACE, rbac_documents

pytestmark = pytest.mark.slow

TOKENS = {f"token-{name}": service_account_user(KUBESKIPPY_NAMESPACE, account)
          for name, account in {**FUNCTION_ACCOUNTS, "feed": FEED_ACCOUNT}.items()}
TOKENS[f"token-{APPROVER}"] = APPROVER


@pytest.fixture(scope="module")
def server() -> Iterator[DevClusterServer]:
    store = ObjectStore()
    store.create(pod("victim", APPS_NAMESPACE))
    store.create(pod("bystander", APPS_NAMESPACE))
    with DevClusterServer(store) as running:
        running.authorize_manifests(rbac_documents(), tokens=TOKENS)
        yield running


def status_of(server: DevClusterServer, token: str | None, call) -> int:
    """The HTTP status the double answered for ``call(cluster)`` made with ``token``."""
    client = server.api_client(token)
    try:
        cluster = KubernetesCluster(client, request_timeout=(2.0, 10.0))
        before = len(server.requests)
        try:
            call(cluster)
        except KubeSkippyError:
            pass
        return server.requests[before:][-1].status
    finally:
        client.close()


def get_pod(c):
    return c.get("v1", "Pod", "bystander", APPS_NAMESPACE)


def delete_pod(name):
    return lambda c: c.delete("v1", "Pod", name, APPS_NAMESPACE)


def create_configmap(namespace):
    return lambda c: c.create(configmap(f"probe-{namespace}", namespace, {"k": "v"}))


def list_healing_actions(c):
    return c.list("kubeskippy.io/v1alpha1", "HealingAction", KUBESKIPPY_NAMESPACE)


@pytest.mark.parametrize("token, call, expected", [
    pytest.param(None, get_pod, 401, id="no token: unauthorized"),
    pytest.param("token-nobody", get_pod, 401, id="unknown token: unauthorized"),
    pytest.param("token-detect", get_pod, 200, id="detect reads pods"),
    pytest.param("token-detect", delete_pod("bystander"), 403, id="detect may not delete a pod"),
    pytest.param("token-detect", create_configmap(KUBESKIPPY_NAMESPACE), 403, id="detect keeps no state"),
    pytest.param("token-analyze", create_configmap(KUBESKIPPY_NAMESPACE), 201, id="analyze keeps its learning"),
    pytest.param("token-analyze", create_configmap(APPS_NAMESPACE), 403, id="analyze only in its namespace"),
    pytest.param("token-analyze", delete_pod("bystander"), 403, id="analyze may not delete a pod"),
    pytest.param("token-audit", get_pod, 403, id="audit may not even read"),
    pytest.param("token-audit", list_healing_actions, 403, id="audit may not read HealingActions"),
    pytest.param("token-remediate", create_configmap(APPS_NAMESPACE), 403, id="remediate state only in its namespace"),
    pytest.param("token-remediate", delete_pod("victim"), 200, id="remediate deletes a pod"),
    pytest.param("token-feed", list_healing_actions, 200, id="the source watches HealingActions"),
    pytest.param("token-feed", delete_pod("bystander"), 403, id="the source only reads"),
    pytest.param(f"token-{APPROVER}", list_healing_actions, 200, id="an approver reads HealingActions"),
    pytest.param(f"token-{APPROVER}", get_pod, 403, id="an approver needs nothing else"),
])
def test_each_identity_gets_exactly_what_its_role_grants(server, token, call, expected):
    assert status_of(server, token, call) == expected
