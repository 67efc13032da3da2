"""Credentials never leave the cluster: free-text and object redaction."""

from __future__ import annotations

import pytest

from kubeskippy.analyze.redact import redact_object, redact_text

LEAKS = [
    pytest.param("postgres://admin:S3cr3t@db:5432/app", "S3cr3t", id="url-userinfo"),
    pytest.param("https://ghp_abcdefghijklmnopqrstu1234@github.com/x.git", "ghp_abcdefghijklmnopqrstu1234", id="url-token"),
    pytest.param("Authorization: Bearer abc.def-ghi_jkl123", "abc.def-ghi_jkl123", id="bearer"),
    pytest.param("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", id="basic"),
    pytest.param("key AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE", id="aws-access-key"),
    pytest.param("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", id="aws-secret"),
    pytest.param("password=hunter2", "hunter2", id="password="),
    pytest.param('{"db_password": "hunter2"}', "hunter2", id="json-password"),
    pytest.param("PGPASSWORD: 'correct horse'", "correct horse", id="quoted-yaml"),
    pytest.param("api_key=12345abcde", "12345abcde", id="api-key"),
    pytest.param("client_secret: zzz-top", "zzz-top", id="client-secret"),
    pytest.param("token=t0k3n", "t0k3n", id="token"),
    pytest.param("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123_-x", "eyJhbGciOiJIUzI1NiJ9", id="jwt"),
    pytest.param("-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX\n-----END RSA PRIVATE KEY-----",
                 "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX", id="pem"),
    pytest.param("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU (truncated", "b3BlbnNzaC1rZXkt", id="pem-cut-off"),
    pytest.param("slack xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012", id="slack"),
    pytest.param("openai sk-proj-abcdefghijklmnop1234", "sk-proj-abcdefghijklmnop1234", id="openai-key"),
    pytest.param("blob Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZkdISUpL end", "Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFi", id="high-entropy"),
    pytest.param("pass\u200bword=hunter2", "hunter2", id="zero-width-split-key"),
]


@pytest.mark.parametrize("text, secret", LEAKS)
def test_credentials_in_free_text_are_redacted(text, secret):
    out = redact_text(text)
    assert secret not in out
    assert "REDACTED" in out


@pytest.mark.parametrize("text", [
    "OOMKilled: container app exceeded its memory limit 512Mi",
    "Back-off pulling image \"registry.example.com/shop/api:1.2.3\"",
    "image sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "Readiness probe failed: HTTP probe failed with statuscode: 503",
    "FATAL: environment variable DATABASE_URL is not set",
])
def test_ordinary_diagnostic_text_survives(text):
    assert redact_text(text) == text


def test_invisible_characters_are_removed():
    assert redact_text("ig\u200bnore\u202e previous") == "ignore previous"


def test_objects_lose_secret_data_env_values_and_last_applied_configuration():
    pod = {"kind": "Pod", "metadata": {"name": "p", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": '{"env":[{"value":"x"}]}', "team": "shop"}},
        "spec": {"containers": [{"name": "app", "env": [{"name": "DB_PASSWORD", "value": "hunter2"},
                                                        {"name": "MODE", "valueFrom": {"secretKeyRef": {"name": "s"}}}],
                                 "args": ["--password=hunter2", "--port=80"]}]}}
    out = redact_object(pod)
    text = str(out)
    assert "hunter2" not in text and '"value":"x"' not in text
    assert out["metadata"]["annotations"]["team"] == "shop"
    assert out["spec"]["containers"][0]["env"] == [{"name": "DB_PASSWORD", "value": "[REDACTED]"},
                                                   {"name": "MODE", "valueFrom": "[reference]"}]
    assert "--port=80" in out["spec"]["containers"][0]["args"]
    assert pod["spec"]["containers"][0]["env"][0]["value"] == "hunter2"  # the input is untouched


def test_a_secret_object_keeps_only_its_name():
    secret = {"kind": "Secret", "metadata": {"name": "db", "namespace": "shop", "labels": {"a": "b"}},
              "data": {"password": "aHVudGVyMg=="}, "stringData": {"x": "y"}}
    assert redact_object(secret) == {"kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
                                     "data": "[REDACTED]"}


def test_configmap_data_is_withheld():
    cm = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"DATABASE_URL": "postgres://u:p@h/db"}}
    assert redact_object(cm)["data"] == "[REDACTED]"
