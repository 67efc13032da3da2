"""The audit trail: every io.kubeskippy.* event, dead letter and HealingAction transition as one
object, keyed ``YYYY/MM/DD/HH/<type>/<id>.json``, with its SHA-256 in the object's metadata.

Pure core: key scheme, record format, digests, the recorder, readers and stats, plus the local
and in-memory sinks. The S3 sink lives in :mod:`kubeskippy.adapters.s3_audit`.
"""

from .config import AuditSinkConfig, LocalSinkConfig, ObjectLock, S3SinkConfig, parse_sink_config
from .digest import DIGEST_KEY, DigestCheck, check_digest, sha256_hex
from .keys import KeyParts, audit_key, hour_prefixes, parse_key
from .local_sink import LocalDirectorySink
from .memory_sink import MemorySink
from .reader import AuditQuery, StoredRecord, find_objects, load_record, load_records
from .record import AuditRecord, build_record, decode_body
from .recorder import Recorded, Recorder
from .stats import AuditStats, HealEpisode, compute_stats
from .verify import VerifyReport, verify_records

__all__ = [
    "AuditSinkConfig", "LocalSinkConfig", "ObjectLock", "S3SinkConfig", "parse_sink_config",
    "DIGEST_KEY", "DigestCheck", "check_digest", "sha256_hex",
    "KeyParts", "audit_key", "hour_prefixes", "parse_key",
    "LocalDirectorySink", "MemorySink",
    "AuditQuery", "StoredRecord", "find_objects", "load_record", "load_records",
    "AuditRecord", "build_record", "decode_body",
    "Recorded", "Recorder",
    "AuditStats", "HealEpisode", "compute_stats",
    "VerifyReport", "verify_records",
]
