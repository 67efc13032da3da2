"""The audit trail: every io.kubeskippy.* event, dead letter and HealingAction transition as one
object, keyed ``YYYY/MM/DD/HH/<type>/<id>.json``, with its SHA-256 in the object's metadata.

Pure core: key scheme, record format, digests, the recorder, readers and stats, plus the local
and in-memory sinks. The S3 sink lives in :mod:`kubeskippy.adapters.s3_audit`.
"""

from ..lazy import lazy_attributes

# Each name loads its module on first use: the audit function records events (config, keys,
# digest, record, recorder, the sinks) and never reads them back, and importing the readers,
# stats and verification too cost its every cold start ~20 M instructions.
_HOME = {
    "AuditSinkConfig": "config", "LocalSinkConfig": "config", "ObjectLock": "config", "S3SinkConfig": "config",
    "parse_sink_config": "config",
    "DIGEST_KEY": "digest", "DigestCheck": "digest", "check_digest": "digest", "sha256_hex": "digest",
    "KeyParts": "keys", "audit_key": "keys", "hour_prefixes": "keys", "parse_key": "keys",
    "LocalDirectorySink": "local_sink", "MemorySink": "memory_sink",
    "AuditQuery": "reader", "StoredRecord": "reader", "find_objects": "reader", "load_record": "reader",
    "load_records": "reader",
    "AuditRecord": "record", "build_record": "record", "decode_body": "record",
    "Recorded": "recorder", "Recorder": "recorder",
    "AuditStats": "stats", "HealEpisode": "stats", "compute_stats": "stats",
    "VerifyReport": "verify", "verify_records": "verify",
}

__all__ = list(_HOME)

__getattr__, __dir__ = lazy_attributes(__name__, _HOME)
