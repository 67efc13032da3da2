"""Choosing the sink from the environment: defaults, S3 settings, and every bad variable named."""

from __future__ import annotations

import pytest

from kubeskippy.adapters.s3_audit import S3AuditSink, sink_from_config
from kubeskippy.audit.config import LocalSinkConfig, ObjectLock, S3SinkConfig, parse_sink_config
from kubeskippy.audit.local_sink import LocalDirectorySink
from kubeskippy.errors import InvalidInput

S3_ENV = {"KUBESKIPPY_AUDIT_SINK": "s3", "KUBESKIPPY_AUDIT_S3_ENDPOINT": "http://127.0.0.1:9000",
          "KUBESKIPPY_AUDIT_S3_ACCESS_KEY": "ak", "KUBESKIPPY_AUDIT_S3_SECRET_KEY": "sk"}


def test_the_default_is_a_local_directory():
    assert parse_sink_config({}) == LocalSinkConfig(path="kubeskippy-audit")
    assert parse_sink_config({"KUBESKIPPY_AUDIT_DIR": "/var/audit"}) == LocalSinkConfig(path="/var/audit")


def test_s3_settings_are_read_with_the_scheme_deciding_tls():
    config = parse_sink_config({**S3_ENV, "KUBESKIPPY_AUDIT_S3_BUCKET": "trail",
                                "KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE": "compliance",
                                "KUBESKIPPY_AUDIT_OBJECT_LOCK_DAYS": "30"})
    assert config == S3SinkConfig(endpoint="127.0.0.1:9000", access_key="ak", secret_key="sk", bucket="trail",
                                  secure=False, region=None, object_lock=ObjectLock("COMPLIANCE", 30))


def test_a_bare_endpoint_defaults_to_tls_and_aws_credentials_are_a_fallback():
    config = parse_sink_config({"KUBESKIPPY_AUDIT_SINK": "s3", "KUBESKIPPY_AUDIT_S3_ENDPOINT": "minio:9000",
                                "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s",
                                "KUBESKIPPY_AUDIT_S3_AUTO_CREATE": "false"})
    assert (config.endpoint, config.secure, config.access_key, config.auto_create) == ("minio:9000", True, "a", False)


def test_every_bad_variable_is_named_at_once():
    with pytest.raises(InvalidInput) as caught:
        parse_sink_config({"KUBESKIPPY_AUDIT_SINK": "s3", "KUBESKIPPY_AUDIT_S3_SECURE": "maybe",
                           "KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE": "FOREVER", "KUBESKIPPY_AUDIT_OBJECT_LOCK_DAYS": "-1"})
    assert [e.path for e in caught.value.errors] == [
        "KUBESKIPPY_AUDIT_S3_ENDPOINT", "KUBESKIPPY_AUDIT_S3_ACCESS_KEY", "KUBESKIPPY_AUDIT_S3_SECRET_KEY",
        "KUBESKIPPY_AUDIT_S3_SECURE", "KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE", "KUBESKIPPY_AUDIT_OBJECT_LOCK_DAYS"]


@pytest.mark.parametrize("env, field", [
    ({"KUBESKIPPY_AUDIT_SINK": "ftp"}, "KUBESKIPPY_AUDIT_SINK"),
    ({**S3_ENV, "KUBESKIPPY_AUDIT_S3_ENDPOINT": "http://host:9000/path"}, "KUBESKIPPY_AUDIT_S3_ENDPOINT"),
    ({**S3_ENV, "KUBESKIPPY_AUDIT_OBJECT_LOCK_DAYS": "7"}, "KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE"),
], ids=["unknown-sink", "endpoint-with-path", "days-without-mode"])
def test_inconsistent_settings_are_refused(env, field):
    with pytest.raises(InvalidInput) as caught:
        parse_sink_config(env)
    assert field in [e.path for e in caught.value.errors]


def test_sink_from_config_builds_the_named_sink(tmp_path):
    assert isinstance(sink_from_config({"KUBESKIPPY_AUDIT_DIR": str(tmp_path)}), LocalDirectorySink)
    s3 = sink_from_config(S3_ENV)
    assert isinstance(s3, S3AuditSink) and s3.bucket == "kubeskippy-audit" and s3.object_lock is None


def test_the_s3_sink_accepts_object_lock_as_a_dict_and_checks_it():
    sink = S3AuditSink("127.0.0.1:1", "a", "s", "bkt", False, None, {"mode": "governance", "days": 3})
    assert sink.object_lock == ObjectLock("GOVERNANCE", 3)
    with pytest.raises(InvalidInput) as caught:
        S3AuditSink("127.0.0.1:1", "a", "s", "bkt", False, None, {"mode": "GOVERNANCE", "days": 0})
    assert [e.path for e in caught.value.errors] == ["object_lock.days"]


def test_an_invalid_bucket_name_is_invalid_input_naming_the_bucket():
    with pytest.raises(InvalidInput) as caught:
        S3AuditSink("127.0.0.1:1", "a", "s", "Audit_Trail", False)
    assert [e.path for e in caught.value.errors] == ["bucket"]


def test_an_endpoint_the_client_cannot_use_is_invalid_input_naming_the_endpoint():
    with pytest.raises(InvalidInput) as caught:
        S3AuditSink("127.0.0.1:9000/extra", "a", "s", "bkt", False)
    assert [e.path for e in caught.value.errors] == ["endpoint"]
