"""The S3 sink against a real S3 server (SeaweedFS on loopback).

The first test proves the server does what the trail relies on (object lock, versioning,
retention, legal hold, user metadata), so a failure elsewhere points at our code, not the server.
"""

from __future__ import annotations

import io
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from minio.commonconfig import GOVERNANCE
from minio.error import S3Error
from minio.retention import Retention
from typer.testing import CliRunner

from kubeskippy.adapters.s3_audit import S3AuditRefused, S3AuditSink
from kubeskippy.audit.config import ObjectLock
from kubeskippy.audit.reader import AuditQuery, find_objects, load_records
from kubeskippy.audit.recorder import Recorder
from kubeskippy.audit.stats import compute_stats
from kubeskippy.audit.verify import verify_records
from kubeskippy.cli.main import app
from kubeskippy.clock import ManualClock
from kubeskippy.errors import APINotFound, TemporaryError
from kubeskippy.events import types as t
from kubeskippy.ports import AuditSink
from tests.harness.s3 import SeaweedFS, start_seaweedfs

from .events import OTHER_POD, T0, dead_letter, finding, finding_event, healing_story

pytestmark = pytest.mark.slow


def sink_on(server: SeaweedFS, bucket: str, **kwargs) -> S3AuditSink:
    return S3AuditSink(server.endpoint, server.access_key, server.secret_key, bucket, False, "us-east-1", **kwargs)


def test_seaweedfs_supports_object_lock_versioning_retention_legal_hold_and_metadata(seaweedfs):
    client, bucket = seaweedfs.client(), seaweedfs.unique_bucket("proof")
    client.make_bucket(bucket, object_lock=True)
    assert client.get_bucket_versioning(bucket).status == "Enabled"
    until = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    first = client.put_object(bucket, "k.json", io.BytesIO(b"one"), 3, metadata={"sha256": "abc"},
                              retention=Retention(GOVERNANCE, until))
    stat = client.stat_object(bucket, "k.json")
    assert stat.metadata["x-amz-meta-sha256"] == "abc"
    retention = client.get_object_retention(bucket, "k.json")
    assert (retention.mode, retention.retain_until_date) == (GOVERNANCE, until)
    client.enable_object_legal_hold(bucket, "k.json")
    assert client.is_object_legal_hold_enabled(bucket, "k.json")
    second = client.put_object(bucket, "k.json", io.BytesIO(b"two"), 3)
    versions = [o.version_id for o in client.list_objects(bucket, recursive=True, include_version=True)]
    assert sorted(versions) == sorted([first.version_id, second.version_id])
    with pytest.raises(S3Error) as refused:
        client.remove_object(bucket, "k.json", version_id=first.version_id)
    assert refused.value.code == "AccessDenied"
    response = client.get_object(bucket, "k.json", version_id=first.version_id)
    try:
        assert response.read() == b"one"
    finally:
        response.close()
        response.release_conn()


def test_the_sink_creates_a_missing_bucket_with_object_lock_and_retains_each_record(seaweedfs):
    bucket = seaweedfs.unique_bucket("lock")
    clock = ManualClock(time.time())
    sink = sink_on(seaweedfs, bucket, object_lock=ObjectLock("GOVERNANCE", 2), clock=clock)
    assert isinstance(sink, AuditSink)
    key = Recorder(sink, clock).record(finding_event(finding(at=T0)))
    client = seaweedfs.client()
    assert client.get_bucket_versioning(bucket).status == "Enabled"
    retention = client.get_object_retention(bucket, key)
    expected = datetime.fromtimestamp(int(clock.now()), tz=timezone.utc) + timedelta(days=2)
    assert retention.mode == GOVERNANCE
    assert abs((retention.retain_until_date - expected).total_seconds()) < 1.0


def test_records_land_with_their_metadata_and_read_back_whole(seaweedfs):
    bucket = seaweedfs.unique_bucket("meta")
    sink = sink_on(seaweedfs, bucket)
    clock = ManualClock(T0)
    recorder = Recorder(sink, clock)
    event = healing_story("fp-web", start=T0, heal_after=None)[1]  # the plan
    key = recorder.record(event)
    [listed] = sink.list()
    assert listed.key == key
    assert listed.metadata["policy"] == "shop/memory-guard"
    assert listed.metadata["target"] == "Pod/shop/web-7d4-abc"
    assert listed.metadata["plan-id"] == event["id"]
    body, meta = sink.get(key)
    assert json.loads(body)["event"] == event
    assert dict(meta) == dict(listed.metadata)
    with pytest.raises(APINotFound):
        sink.get(key.replace(".json", "-missing.json"))
    assert not sink.exists(key.replace(".json", "-missing.json"))


def test_verify_detects_an_object_overwritten_with_its_old_metadata(seaweedfs):
    bucket = seaweedfs.unique_bucket("tamper")
    sink = sink_on(seaweedfs, bucket)
    recorder = Recorder(sink, ManualClock(T0))
    for event in healing_story("fp-web", start=T0, heal_after=60):
        recorder.record(event)
    assert verify_records(sink).ok
    [victim] = find_objects(sink, AuditQuery(type=t.OUTCOME))
    body, meta = sink.get(victim.key)
    forged = body.replace(b'"executed"', b'"dry_run"')
    seaweedfs.client().put_object(bucket, victim.key, io.BytesIO(forged), len(forged), metadata=dict(meta))
    report = verify_records(sink)
    assert report.checked == 4
    assert [(p.key, p.status) for p in report.problems] == [(victim.key, "mismatch")]


def test_listing_filters_and_stats_work_over_s3(seaweedfs):
    bucket = seaweedfs.unique_bucket("ls")
    sink = sink_on(seaweedfs, bucket)
    recorder = Recorder(sink, ManualClock(T0))
    for event in healing_story("fp-web", start=T0, heal_after=45):
        recorder.record(event)
    for event in healing_story("fp-cart", start=T0 + 7200, heal_after=None, target=OTHER_POD):
        recorder.record(event)
    recorder.record(dead_letter(finding_event(finding("fp-x", at=T0 + 7300)), code="502"))
    assert len(find_objects(sink, AuditQuery())) == 8
    assert len(find_objects(sink, AuditQuery(target="shop/cart-55f-xyz"))) == 3
    assert len(find_objects(sink, AuditQuery(start=T0 + 7000, end=T0 + 8000))) == 4
    assert len(find_objects(sink, AuditQuery(start=T0 + 7000, end=T0 + 8000, kind="dead_letter"))) == 1
    stats = compute_stats(load_records(sink, find_objects(sink, AuditQuery())))
    assert dict(stats.actions) == {("restart", "executed"): 2}
    assert (stats.heal.healed, stats.heal.open, stats.heal.max) == (1, 1, 45.0)
    assert dict(stats.dead_letters) == {(t.FINDING, "502"): 1}


def test_the_cli_reads_and_verifies_an_s3_trail(seaweedfs):
    bucket = seaweedfs.unique_bucket("cli")
    sink = sink_on(seaweedfs, bucket)
    recorder = Recorder(sink, ManualClock(T0))
    for event in healing_story("fp-web", start=T0, heal_after=45):
        recorder.record(event)
    env = {"KUBESKIPPY_AUDIT_SINK": "s3", "KUBESKIPPY_AUDIT_S3_ENDPOINT": f"http://{seaweedfs.endpoint}",
           "KUBESKIPPY_AUDIT_S3_ACCESS_KEY": seaweedfs.access_key,
           "KUBESKIPPY_AUDIT_S3_SECRET_KEY": seaweedfs.secret_key, "KUBESKIPPY_AUDIT_S3_REGION": "us-east-1"}
    runner = CliRunner()
    listed = runner.invoke(app, ["audit", "ls", "--bucket", bucket, "--type", t.VERIFICATION, "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    [verification] = json.loads(listed.output)
    assert runner.invoke(app, ["audit", "verify", "--bucket", bucket], env=env).exit_code == 0
    seaweedfs.client().put_object(bucket, verification["key"], io.BytesIO(b"{}"), 2,
                                  metadata={"sha256": verification["metadata"]["sha256"]})
    assert runner.invoke(app, ["audit", "verify", "--bucket", bucket], env=env).exit_code == 1


def test_wrong_permissions_are_a_permanent_refusal(seaweedfs):
    bucket = seaweedfs.unique_bucket("perm")
    seaweedfs.client().make_bucket(bucket)
    reader = S3AuditSink(seaweedfs.endpoint, *seaweedfs.reader_credentials, bucket, False, "us-east-1")
    with pytest.raises(S3AuditRefused) as refused:
        Recorder(reader, ManualClock(T0)).record(finding_event(finding(at=T0)))
    assert refused.value.code == "AccessDenied"
    assert "credentials" in str(refused.value)


def test_a_missing_bucket_is_refused_when_auto_create_is_off(seaweedfs):
    sink = sink_on(seaweedfs, seaweedfs.unique_bucket("nob"), auto_create=False)
    with pytest.raises(S3AuditRefused) as refused:
        Recorder(sink, ManualClock(T0)).record(finding_event(finding(at=T0)))
    assert refused.value.code == "NoSuchBucket"


def test_retention_on_a_bucket_without_object_lock_is_refused_with_the_fix(seaweedfs):
    bucket = seaweedfs.unique_bucket("nolock")
    seaweedfs.client().make_bucket(bucket)
    sink = sink_on(seaweedfs, bucket, object_lock=ObjectLock("COMPLIANCE", 1))
    with pytest.raises(S3AuditRefused) as refused:
        sink.ensure_bucket()
    assert refused.value.code == "ObjectLockConfigurationNotFoundError"
    assert "KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE" in str(refused.value)


def test_s3_down_is_temporary_and_retried_records_land_exactly_once():
    server = start_seaweedfs()  # its own server: this test stops it
    try:
        sink = sink_on(server, "trail", object_lock=ObjectLock("GOVERNANCE", 1), connect_timeout=1.0, retries=1)
        clock = ManualClock(time.time())
        recorder = Recorder(sink, clock)
        events = healing_story("fp-web", start=T0, heal_after=30)
        recorder.record(events[0])  # the bucket exists before the outage
        server.stop()
        for event in events:
            started = time.monotonic()
            with pytest.raises(TemporaryError):
                recorder.record(event)
            assert time.monotonic() - started < 10.0, "a dead S3 must fail fast, not hang the function"
        server.start()
        for _ in range(2):  # the Broker redelivers, maybe more than once
            for event in events:
                recorder.record(event)
        keys = [o.key for o in sink.list()]
        assert len(keys) == len(events)
        assert sorted(keys) == sorted({recorder.write(e).key for e in events})
        assert all(len(sink.versions(key)) == 1 for key in keys)
        assert verify_records(sink).ok
    finally:
        server.close()
