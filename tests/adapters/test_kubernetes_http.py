"""KubernetesCluster over the standard-library transport (the functions' path): the devcluster over
real HTTP, a TLS server with its own CA, and the in-cluster service-account settings."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kubeskippy.adapters import kubernetes_http
from kubeskippy.adapters.kubernetes import KubernetesCluster
from kubeskippy.adapters.kubernetes_http import ApiServerConnection, TokenFile, in_cluster_settings
from kubeskippy.clock import ManualClock
from kubeskippy.devcluster import ObjectStore
from kubeskippy.devcluster.builders import configmap, container, deployment, pdb, pod
from kubeskippy.devcluster.server import DevClusterServer
from kubeskippy.errors import APIConflict, APIError, APINotFound, APITooManyRequests, InvalidInput, TemporaryError
from kubeskippy.ports import Cluster

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server():
    with DevClusterServer(ObjectStore(ManualClock(1_700_000_000), seed=13)) as srv:
        yield srv


@pytest.fixture
def cluster(server):
    cluster = KubernetesCluster.for_url(server.url, request_timeout=(2.0, 5.0))
    yield cluster
    cluster.api_client.close()


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the Cluster port over the devcluster -------------------------------------------------------

@pytest.mark.slow
def test_the_standard_library_transport_satisfies_the_cluster_port_with_plain_dicts(cluster):
    assert isinstance(cluster, Cluster) and isinstance(cluster.api_client, ApiServerConnection)
    created = cluster.create(configmap("a", data={"k": "1"}, labels={"team": "x"}))
    assert cluster.get("v1", "ConfigMap", "a", "default") == created
    listed = cluster.list("v1", "ConfigMap", "default", label_selector="team in (x, y)")
    assert [(o["metadata"]["name"], o["kind"], o["apiVersion"]) for o in listed] == [("a", "ConfigMap", "v1")]
    created["data"]["k"] = "2"
    assert cluster.replace(created)["data"] == {"k": "2"}
    assert cluster.delete("v1", "ConfigMap", "a", "default") is None
    with pytest.raises(APINotFound) as missing:
        cluster.get("v1", "ConfigMap", "a", "default")
    assert 'configmaps "a" not found' in str(missing.value) and missing.value.payload["reason"] == "NotFound"


@pytest.mark.slow
def test_conflicts_patches_subresources_and_dry_runs_behave_as_with_the_official_client(cluster):
    first = cluster.create(configmap("a"))
    with pytest.raises(APIConflict) as exists:
        cluster.create(configmap("a"))
    assert exists.value.payload["reason"] == "AlreadyExists"
    cluster.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    with pytest.raises(APIConflict):
        cluster.replace(first)
    cluster.create(deployment("web", replicas=2, containers=[container("app"), container("side")]))
    out = cluster.patch("apps/v1", "Deployment", "web", "default",
                        {"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}},
                        patch_type="strategic")
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["app"]
    out = cluster.patch("apps/v1", "Deployment", "web", "default",
                        [{"op": "replace", "path": "/spec/replicas", "value": 3}], patch_type="json")
    assert out["spec"]["replicas"] == 3
    assert cluster.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 9}},
                         dry_run=True)["spec"]["replicas"] == 9
    scale = cluster.patch("apps/v1", "Deployment", "web", "default", {"spec": {"replicas": 4}}, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4
    assert cluster.get("apps/v1", "Deployment", "web", "default")["spec"]["replicas"] == 4


@pytest.mark.slow
def test_evictions_logs_and_delete_options_reach_the_server(server, cluster):
    server.store.load([pod(f"web-{i}", labels={"app": "web"}, node="n1", phase="Running", ready=True,
                           containers=[container("app"), container("side")]) for i in range(2)])
    server.store.set_log("default", "web-0", "x\ny\nz\n", container="side")
    assert cluster.logs("web-0", "default", container="side", tail_lines=1) == "z\n"
    cluster.create(pdb("web", match_labels={"app": "web"}, min_available=2))
    with pytest.raises(APITooManyRequests) as blocked:
        cluster.evict("web-0", "default")
    assert blocked.value.payload["details"]["causes"][0]["reason"] == "DisruptionBudget"
    cluster.delete("policy/v1", "PodDisruptionBudget", "web", "default")
    cluster.evict("web-0", "default", grace_period_seconds=0)
    cluster.delete("v1", "Pod", "web-1", "default", propagation_policy="Background", dry_run=True)
    assert [p["metadata"]["name"] for p in cluster.list("v1", "Pod", "default")] == ["web-1"]


@pytest.mark.slow
def test_server_errors_carry_retry_after_and_timeouts_and_refusals_are_temporary(server, cluster):
    cluster.create(configmap("a"))
    server.faults.inject(status=503, retry_after=2, verbs=["patch"])
    with pytest.raises(APIError) as caught:
        cluster.patch("v1", "ConfigMap", "a", "default", {"data": {"x": "1"}})
    assert caught.value.status == 503 and caught.value.delay == 2.0 and isinstance(caught.value, TemporaryError)
    server.faults.inject(delay=1.5, count=None, verbs=["get"])
    slow = KubernetesCluster(cluster.api_client, request_timeout=0.2)
    with pytest.raises(TemporaryError) as timed_out:
        slow.get("v1", "ConfigMap", "a", "default")
    assert not isinstance(timed_out.value, APIError) and isinstance(timed_out.value.__cause__, OSError)
    with pytest.raises(TemporaryError) as refused:
        KubernetesCluster.for_url(f"http://127.0.0.1:{dead_port()}").list("v1", "Pod", "default")
    assert isinstance(refused.value.__cause__, ConnectionRefusedError)


@pytest.mark.slow
def test_a_kept_alive_connection_the_server_dropped_is_replaced_once_but_a_fresh_one_is_not(server, cluster):
    cluster.list("v1", "Pod", "default")  # leaves a kept-alive connection in the pool
    server.faults.inject(drop=True, count=1, verbs=["list"])
    assert cluster.list("v1", "Pod", "default") == []
    server.faults.inject(drop=True, count=1, verbs=["list"])
    fresh = KubernetesCluster.for_url(server.url)
    with pytest.raises(TemporaryError):
        fresh.list("v1", "Pod", "default")


@pytest.mark.slow
def test_bearer_tokens_reach_the_server_and_bad_input_sends_nothing(server):
    server.authorize({"reader": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}]})
    reader = KubernetesCluster.for_url(server.url, token="reader")
    assert reader.list("v1", "Pod", "default") == []
    with pytest.raises(APIError) as denied:
        reader.get("v1", "Pod", "p", "default")
    assert denied.value.status == 403 and server.requests[-1].user == "reader"
    count = len(server.requests)
    with pytest.raises(InvalidInput):
        reader.get("example.com/v1", "Widget", "w", "default")
    assert len(server.requests) == count


@pytest.mark.slow
def test_concurrent_requests_from_threads_each_get_their_answer(cluster):
    for i in range(8):
        cluster.create(configmap(f"c{i}", data={"i": str(i)}))
    answers: dict[int, str] = {}

    def read(i: int) -> None:
        for _ in range(10):
            answers[i] = cluster.get("v1", "ConfigMap", f"c{i}", "default")["data"]["i"]

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {i: str(i) for i in range(8)}


def test_a_url_that_is_not_http_is_invalid_input():
    with pytest.raises(InvalidInput):
        KubernetesCluster.for_url("ftp://example.com")


def test_the_request_target_keeps_a_path_prefix_and_encodes_spaces_as_percent_20():
    conn = ApiServerConnection(kubernetes_http.ApiServerSettings("https://rancher.example/k8s/clusters/c-1/"))
    assert conn.target("/api/v1/pods", [("labelSelector", "app in (a, b)")]) == \
        "/k8s/clusters/c-1/api/v1/pods?labelSelector=app%20in%20%28a%2C%20b%29"


# --- TLS --------------------------------------------------------------------------------------------

def _certificates(where: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for 127.0.0.1: (ca.crt, server.crt, server.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test-ca")).issuer_name(name("test-ca"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("kubernetes")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = where / "ca.crt", where / "server.crt", where / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class _TLSApiServer:
    """An HTTPS server answering every GET with a ConfigMap and noting each Authorization header."""

    def __init__(self, cert: Path, key: Path) -> None:
        seen = self.authorizations = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                seen.append(self.headers.get("Authorization"))
                body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "x", "namespace": "default"}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tls_server(tmp_path):
    ca, cert, key = _certificates(tmp_path)
    srv = _TLSApiServer(cert, key)
    srv.ca = ca
    yield srv
    srv.stop()


@pytest.mark.slow
def test_tls_is_verified_against_the_given_ca_and_the_token_is_sent(tls_server):
    trusted = KubernetesCluster.for_url(tls_server.url, token="t0k", ca_file=str(tls_server.ca))
    assert trusted.get("v1", "ConfigMap", "x", "default")["metadata"]["name"] == "x"
    assert tls_server.authorizations == ["Bearer t0k"]
    with pytest.raises(TemporaryError) as untrusted:
        KubernetesCluster.for_url(tls_server.url).get("v1", "ConfigMap", "x", "default")
    assert isinstance(untrusted.value.__cause__, ssl.SSLError)
    unverified = KubernetesCluster.for_url(tls_server.url, verify=False)
    assert unverified.get("v1", "ConfigMap", "x", "default")["kind"] == "ConfigMap"


# --- in a pod ---------------------------------------------------------------------------------------

def _service_account(where: Path, ca: bytes = b"-----BEGIN CERTIFICATE-----\n", token: str = "sa-token\n") -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "token").write_text(token)
    (where / "ca.crt").write_bytes(ca)
    return where


def test_in_cluster_settings_read_the_service_account_like_the_official_client(tmp_path):
    sa = _service_account(tmp_path / "sa")
    settings = in_cluster_settings(str(sa), {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"})
    assert settings.url == "https://10.96.0.1:443" and settings.ca_file == str(sa / "ca.crt")
    assert settings.bearer_token() == "sa-token"
    v6 = in_cluster_settings(str(sa), {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"})
    assert v6.url == "https://[fd00::1]:443"


@pytest.mark.parametrize("env, token, ca", [
    ({}, "t", b"ca"),
    ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": ""}, "t", b"ca"),
    ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "", b"ca"),
    ({"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "t", b""),
])
def test_outside_a_pod_or_without_a_usable_service_account_there_are_no_in_cluster_settings(tmp_path, env, token, ca):
    assert in_cluster_settings(str(_service_account(tmp_path / "sa", ca=ca, token=token)), env) is None
    assert in_cluster_settings(str(tmp_path / "missing"), env) is None


def test_a_rotated_service_account_token_is_read_again_after_a_minute(tmp_path):
    path = tmp_path / "token"
    path.write_text("first")
    now = [0.0]
    token = TokenFile(str(path), monotonic=lambda: now[0])
    assert token() == "first"
    path.write_text("second")
    now[0] = 59.0
    assert token() == "first"
    now[0] = 60.0
    assert token() == "second"
    path.write_text("")  # mid-rotation: keep the last good token
    now[0] = 120.0
    assert token() == "second"


@pytest.mark.slow
def test_from_environment_in_a_pod_uses_the_service_account_over_tls(tls_server, tmp_path, monkeypatch):
    sa = _service_account(tmp_path / "sa", ca=tls_server.ca.read_bytes(), token="pod-token")
    host, port = tls_server.url.removeprefix("https://").split(":")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    monkeypatch.setattr(kubernetes_http, "SERVICE_ACCOUNT_DIR", str(sa))
    cluster = KubernetesCluster.from_environment()
    assert isinstance(cluster.api_client, ApiServerConnection)
    assert cluster.get("v1", "ConfigMap", "x", "default")["metadata"]["name"] == "x"
    assert tls_server.authorizations == ["Bearer pod-token"]


@pytest.mark.slow
def test_the_functions_path_never_imports_the_kubernetes_package(server):
    """The point of the standard-library transport: the four services and a request through the
    adapter leave ``kubernetes`` (and urllib3) unimported, so no cold start pays for them."""
    code = (
        "import sys\n"
        "import kubeskippy.serving, kubeskippy.services.detect, kubeskippy.services.analyze\n"
        "import kubeskippy.services.remediate, kubeskippy.services.audit\n"
        "from kubeskippy.services.config import cluster_from_config\n"
        f"cluster = cluster_from_config({{'KUBESKIPPY_KUBE_URL': {server.url!r}}}).get()\n"
        "assert cluster.list('v1', 'Pod', 'default') == []\n"
        "print(sorted(m for m in ('kubernetes', 'urllib3') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
