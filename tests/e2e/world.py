"""One running KubeSkippy for the end-to-end tests: every process real except Kubernetes.

What runs: the API double (:class:`DevClusterServer`) with its controller reconciling in a
background thread (the kube-controller-manager and kubelet of this world), RBAC enforced from
deploy/knative/rbac.yaml with one bearer token per ServiceAccount, the local broker and the four
functions as func-python processes (:class:`Mesh`), the ApiServerSource-shaped feed watching the
double, and the audit function writing to a real S3 server (SeaweedFS) when one is given.

HealingPolicies are objects in the double (KUBESKIPPY_POLICY_SOURCE=cluster), read by the
functions through the API as on a cluster.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

import httpx
import yaml

from kubeskippy.clock import to_rfc3339, OffsetClock
from kubeskippy.devcluster import Controller, DevClusterServer, ObjectStore
from kubeskippy.devcluster.api import RequestRecord
from kubeskippy.devcluster.authz import service_account_user
from kubeskippy.devcluster.builders import container, deployment
from kubeskippy.events.cloudevents import CloudEvent, encode
from kubeskippy.mesh.broker import DeliveryRecord
from kubeskippy.mesh.feed import ApiServerFeed
from kubeskippy.mesh.runner import Mesh

__all__ = [
    "REPO",
    "KUBESKIPPY_NAMESPACE",
    "APPS_NAMESPACE",
    "FUNCTION_ACCOUNTS",
    "FEED_ACCOUNT",
    "APPROVER",
    "ShiftedClock",
    "ControllerLoop",
    "S3Target",
    "World",
    "wait_until",
    "demo_policy",
    "scenario_deployment",
    "rbac_documents",
    "approver_documents",
    "AuditEntry",
    "read_audit",
    "PING_TYPE",
]

REPO = Path(__file__).resolve().parents[2]
KUBESKIPPY_NAMESPACE = "kubeskippy"
APPS_NAMESPACE = "demo-apps"

FUNCTION_ACCOUNTS = {name: f"kubeskippy-{name}" for name in ("detect", "analyze", "remediate", "audit")}
"""Function → its ServiceAccount in deploy/knative/rbac.yaml."""
FEED_ACCOUNT = "kubeskippy-apiserversource"
APPROVER = "alice"
"""A person allowed to approve HealingActions (granted by :func:`approver_documents`)."""

PING_TYPE = "dev.knative.sources.ping"
PING_SOURCE = f"/apis/v1/namespaces/{KUBESKIPPY_NAMESPACE}/pingsources/kubeskippy-sweep"

T = TypeVar("T")


def wait_until(condition: Callable[[], T], *, timeout: float, what: str | Callable[[], str],
               interval: float = 0.02) -> T:
    """Poll until ``condition()`` is truthy and return it; fail naming ``what`` after ``timeout``
    (a callable ``what`` is asked only then, so diagnostics show the state at the failure)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


ShiftedClock = OffsetClock  # the wall clock plus a settable offset


class ControllerLoop:
    """Run :meth:`Controller.settle` every ``interval`` seconds in a thread, as the control plane
    would: deleted pods of a ReplicaSet come back, new pods start, statuses follow."""

    def __init__(self, controller: Controller, interval: float = 0.05) -> None:
        self.controller = controller
        self.interval = interval
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="devcluster-controller", daemon=True)

    def start(self) -> "ControllerLoop":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.controller.settle()
            except Exception as e:  # noqa: BLE001 - recorded; the test checks loop.errors
                self.errors.append(e)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class S3Target:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str

    def env(self) -> dict[str, str]:
        return {
            "KUBESKIPPY_AUDIT_SINK": "s3",
            "KUBESKIPPY_AUDIT_S3_ENDPOINT": self.endpoint,
            "KUBESKIPPY_AUDIT_S3_BUCKET": self.bucket,
            "KUBESKIPPY_AUDIT_S3_ACCESS_KEY": self.access_key,
            "KUBESKIPPY_AUDIT_S3_SECRET_KEY": self.secret_key,
            "KUBESKIPPY_AUDIT_S3_SECURE": "false",
            "KUBESKIPPY_AUDIT_S3_REGION": "us-east-1",
        }

    def client(self):  # -> minio.Minio
        from minio import Minio

        return Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key, secure=False,
                     region="us-east-1")


def rbac_documents() -> list[dict]:
    """deploy/knative/rbac.yaml as shipped, plus a ClusterRole for people who approve."""
    shipped = [d for d in yaml.safe_load_all((REPO / "deploy/knative/rbac.yaml").read_text()) if d]
    return shipped + approver_documents(APPROVER)


def approver_documents(user: str) -> list[dict]:
    """What a cluster admin grants a person who approves: read HealingActions, write their status."""
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "e2e-healingaction-approver"},
         "rules": [{"apiGroups": ["kubeskippy.io"], "resources": ["healingactions"], "verbs": ["get", "list"]},
                   {"apiGroups": ["kubeskippy.io"], "resources": ["healingactions/status"],
                    "verbs": ["get", "update", "patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "e2e-healingaction-approver"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "e2e-healingaction-approver"},
         "subjects": [{"kind": "User", "name": user}]},
    ]


def demo_policy(name: str, **spec_changes: Any) -> dict:
    """A demo policy from demo/policies, with top-level spec fields replaced (e.g. safetyRules)."""
    doc = yaml.safe_load((REPO / "demo/policies" / f"{name}.yaml").read_text())
    doc["spec"].update(spec_changes)
    return doc


def scenario_deployment(name: str, scenario: str, *, replicas: int = 1, memory_limit: str = "256Mi") -> dict:
    """A Deployment in demo-apps whose pods carry the demo label kubeskippy.io/scenario."""
    labels = {"app": name, "kubeskippy.io/scenario": scenario}
    app = container("app", "ghcr.io/kubeskippy/demo-workload:0.1",
                    resources={"requests": {"memory": "64Mi", "cpu": "50m"},
                               "limits": {"memory": memory_limit, "cpu": "500m"}})
    return deployment(name, APPS_NAMESPACE, replicas=replicas, labels=labels, containers=[app])


@dataclass
class World:
    """The double, its controller loop, the mesh and the feed, started together.

    ``tokens`` map each function (and ``feed``, and the approver) to a bearer token, ``users``
    each token to the user RBAC sees; ``rbac`` switches the double's authorization on (from
    :func:`rbac_documents`).
    """

    log_dir: Path
    s3: S3Target | None = None
    rbac: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    per_function_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    feed: bool = True
    """Run the ApiServerSource-shaped feed (off: the test posts API events itself)."""
    clock: ShiftedClock = field(default_factory=ShiftedClock)

    def __post_init__(self) -> None:
        self.store = ObjectStore(self.clock)
        self.server = DevClusterServer(self.store)
        self.controller = Controller(self.store)
        self.loop = ControllerLoop(self.controller)
        self.tokens = {name: f"token-{name}" for name in FUNCTION_ACCOUNTS}
        self.tokens["feed"] = "token-feed"
        self.tokens[APPROVER] = f"token-{APPROVER}"
        self.users = {f"token-{name}": service_account_user(KUBESKIPPY_NAMESPACE, account)
                      for name, account in FUNCTION_ACCOUNTS.items()}
        self.users["token-feed"] = service_account_user(KUBESKIPPY_NAMESPACE, FEED_ACCOUNT)
        self.users[f"token-{APPROVER}"] = APPROVER
        self.mesh: Mesh | None = None
        self.watcher: ApiServerFeed | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, *, policies: Iterable[dict] = (), objects: Iterable[dict] = (),
              objects_age: float = 900.0) -> "World":
        """Create ``policies`` and ``objects`` (stamped ``objects_age`` seconds old: workloads that
        have been running for a while), settle the cluster, then start the mesh and the feed."""
        self.server.start()
        if self.rbac:
            self.server.authorize_manifests(rbac_documents(), tokens=self.users)
        namespaces = [{"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": KUBESKIPPY_NAMESPACE}},
                      {"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": APPS_NAMESPACE, "labels": {"kubeskippy.io/enabled": "true"}}}]
        self.add(*namespaces, *policies, *objects, age=objects_age)
        self.loop.start()
        common = {"KUBESKIPPY_KUBE_URL": self.server.url, "KUBESKIPPY_POLICY_SOURCE": "cluster",
                  "KUBESKIPPY_NAMESPACE": KUBESKIPPY_NAMESPACE, **self.extra_env}
        per_function = {name: {"KUBESKIPPY_KUBE_TOKEN": self.tokens[name], **self.per_function_env.get(name, {})}
                        for name in FUNCTION_ACCOUNTS}
        if self.s3 is not None:
            per_function["audit"].update(self.s3.env())
        self.mesh = Mesh(REPO, self.log_dir, env=common, per_function_env=per_function)
        self.mesh.start()
        if not self.feed:
            return self
        self._feed_client = self.server.api_client(self.tokens["feed"])
        self.watcher = ApiServerFeed(self._feed_client, self.mesh.server.url, watch_timeout=5).start()
        return self

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self._feed_client.close()
        if self.mesh is not None:
            self.mesh.stop()
        self.loop.stop()
        self.server.stop()

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- driving the world --------------------------------------------------------------------

    def add(self, *objects: dict, age: float = 900.0) -> None:
        """Create objects and let the controller settle them, stamped ``age`` seconds old."""
        with self.store.lock, self.clock.shifted(-age):
            for obj in objects:
                self.store.create(obj)
            self.controller.settle()

    def pods(self, app: str) -> list[dict]:
        return self.store.list("v1", "Pod", APPS_NAMESPACE, label_selector=f"app={app}")

    def crash_loop(self, pod: dict, *, for_seconds: float = 120.0, last_reason: str = "Error",
                   exit_code: int = 1) -> dict:
        """Put ``pod`` in CrashLoopBackOff, stamped as if it had been so for ``for_seconds``."""
        meta = pod["metadata"]
        with self.store.lock, self.clock.shifted(-for_seconds):
            return self.controller.crash_pod(meta["namespace"], meta["name"], last_reason=last_reason,
                                             exit_code=exit_code)

    def oom_killed_earlier(self, pod: dict, *, ran_for: float, ago: float) -> dict:
        """One status write: the container was OOM-killed ``ago`` seconds ago after running
        ``ran_for`` seconds, and has been running (Ready) since — a leak's history, written at
        once so the feed never shows an in-between state."""
        meta = pod["metadata"]
        with self.store.lock:
            current = self.store.get("v1", "Pod", meta["name"], meta["namespace"])
            status = copy.deepcopy(current["status"])
            now = self.clock.now()
            restarted = to_rfc3339(now - ago)
            for cs in status["containerStatuses"]:
                cs["lastState"] = {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                                  "startedAt": to_rfc3339(now - ago - ran_for),
                                                  "finishedAt": restarted}}
                cs["state"] = {"running": {"startedAt": restarted}}
                cs["restartCount"] = cs.get("restartCount", 0) + 1
                cs["ready"] = cs["started"] = True
            for condition in status["conditions"]:
                if condition["type"] in ("Ready", "ContainersReady"):
                    condition["lastTransitionTime"] = restarted
            return self.store.replace({**current, "status": status}, subresource="status")

    def post(self, event: Any) -> float:
        """Post a CloudEvent to the broker's ingress (K_SINK); returns the wall time it was sent."""
        assert self.mesh is not None
        headers, body = encode(event, mode="binary")
        sent = time.time()
        response = httpx.post(self.mesh.server.url, headers=headers, content=body, timeout=10)
        assert response.status_code == 202, response.text
        return sent

    def tick(self) -> float:
        """The PingSource sweep's event (detect sweeps, remediate verifies and expires approvals)."""
        event = CloudEvent({"specversion": "1.0", "id": uuid.uuid4().hex, "type": PING_TYPE,
                            "source": PING_SOURCE, "datacontenttype": "application/json"},
                           {"sweep": "all"})
        return self.post(event)

    def duplicating(self, copies: int):
        """``with world.duplicating(3):`` every event reaches every subscriber three times."""
        assert self.mesh is not None
        return duplicated_ingress(self.mesh, copies)

    def wait_idle(self, timeout: float = 30.0) -> None:
        assert self.mesh is not None
        self.mesh.wait_idle(timeout)

    # -- what happened ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self.server.requests

    def requests_by(self, function: str) -> list[RequestRecord]:
        user = self.users[self.tokens[function]]
        return [r for r in self.requests if r.user == user]

    def denied(self) -> list[RequestRecord]:
        """Requests the double refused for want of a token or a permission."""
        return [r for r in self.requests if r.status in (401, 403)]

    def events(self, event_type: str) -> list[Any]:
        """CloudEvents of ``event_type`` the broker accepted (from functions, the feed or tests)."""
        assert self.mesh is not None
        return [e for e in list(self.mesh.broker.accepted) if e["type"] == event_type]

    def payloads(self, event_type: str) -> list[dict]:
        return [_data(e) for e in self.events(event_type)]

    def deliveries(self) -> list[DeliveryRecord]:
        assert self.mesh is not None
        return list(self.mesh.broker.records)

    def dead_letters(self) -> list[Any]:
        assert self.mesh is not None
        return list(self.mesh.broker.dead_letters)

    def healing_actions(self) -> list[dict]:
        return self.store.list("kubeskippy.io/v1alpha1", "HealingAction", KUBESKIPPY_NAMESPACE)

    def function_log(self, name: str) -> str:
        assert self.mesh is not None
        path = self.mesh.functions[name].log_path
        return path.read_text(errors="replace") if path and path.exists() else ""

    def diagnostics(self) -> str:
        """Everything worth reading when a scenario fails: logs tails, dead letters, refusals."""
        parts = [f"denied requests: {self.denied()}",
                 f"dead letters: {[dict(d.get_attributes()) for d in self.dead_letters()]}",
                 f"controller errors: {self.loop.errors}"]
        for name in FUNCTION_ACCOUNTS:
            parts.append(f"--- {name} log (tail) ---\n" + "\n".join(self.function_log(name).splitlines()[-25:]))
        return "\n".join(parts)


def _data(event: Any) -> dict:
    data = event.get_data()
    return json.loads(data) if isinstance(data, (bytes, bytearray, str)) else data


@contextmanager
def duplicated_ingress(mesh: Mesh, copies: int) -> Iterator[None]:
    """Meanwhile the broker delivers every event it accepts ``copies`` times, concurrently: the
    at-least-once delivery of Knative at its most repetitive (function replies included)."""
    broker = mesh.broker
    original = broker.ingest

    async def ingest_many(event: Any) -> None:
        for _ in range(copies):
            await original(event)

    broker.ingest = ingest_many  # type: ignore[method-assign]
    try:
        yield
    finally:
        del broker.ingest  # back to the class's method


@dataclass(frozen=True)
class AuditEntry:
    """One object in the audit bucket, read back through the production S3 sink."""

    key: str
    type: str
    id: str
    metadata: Mapping[str, str]
    record: dict

    @property
    def event(self) -> dict:
        return self.record["event"]


def read_audit(s3: S3Target) -> list[AuditEntry]:
    """Every record in the bucket (empty when the bucket does not exist yet)."""
    from kubeskippy.adapters.s3_audit import S3AuditSink
    from kubeskippy.audit.keys import parse_key
    from kubeskippy.audit.record import decode_body

    sink = S3AuditSink(s3.endpoint, s3.access_key, s3.secret_key, s3.bucket, secure=False, region="us-east-1",
                       auto_create=False)
    if not s3.client().bucket_exists(s3.bucket):
        return []
    entries = []
    for obj in sink.list(""):
        parts = parse_key(obj.key)
        assert parts is not None, f"an object the audit function did not name: {obj.key}"
        body, metadata = sink.get(obj.key)
        entries.append(AuditEntry(obj.key, parts.type, parts.id, metadata, decode_body(body)))
    return entries
