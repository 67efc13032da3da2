"""Which audit sink to use, read from the environment (the Knative service's env).

Every setting is named here once so the function, the CLI and the docs agree:

==================================  =======================================================
KUBESKIPPY_AUDIT_SINK               ``local`` (default) or ``s3``
KUBESKIPPY_AUDIT_DIR                local sink directory (default ``./kubeskippy-audit``)
KUBESKIPPY_AUDIT_S3_ENDPOINT        ``host:port`` or ``http(s)://host:port`` (required for s3)
KUBESKIPPY_AUDIT_S3_BUCKET          bucket (default ``kubeskippy-audit``)
KUBESKIPPY_AUDIT_S3_ACCESS_KEY      access key (falls back to AWS_ACCESS_KEY_ID)
KUBESKIPPY_AUDIT_S3_SECRET_KEY      secret key (falls back to AWS_SECRET_ACCESS_KEY)
KUBESKIPPY_AUDIT_S3_SECURE          ``true``/``false``; default from the URL scheme, else true
KUBESKIPPY_AUDIT_S3_REGION          region (optional)
KUBESKIPPY_AUDIT_S3_AUTO_CREATE     create the bucket when missing (default true)
KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE   ``GOVERNANCE`` or ``COMPLIANCE``; unset = no retention
KUBESKIPPY_AUDIT_OBJECT_LOCK_DAYS   retention in days (required with a mode)
==================================  =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping
from urllib.parse import urlsplit

from ..errors import FieldError, InvalidInput

__all__ = [
    "ENV",
    "ObjectLock",
    "LocalSinkConfig",
    "S3SinkConfig",
    "AuditSinkConfig",
    "parse_sink_config",
    "parse_object_lock",
]

ENV = {
    "sink": "KUBESKIPPY_AUDIT_SINK",
    "dir": "KUBESKIPPY_AUDIT_DIR",
    "endpoint": "KUBESKIPPY_AUDIT_S3_ENDPOINT",
    "bucket": "KUBESKIPPY_AUDIT_S3_BUCKET",
    "access_key": "KUBESKIPPY_AUDIT_S3_ACCESS_KEY",
    "secret_key": "KUBESKIPPY_AUDIT_S3_SECRET_KEY",
    "secure": "KUBESKIPPY_AUDIT_S3_SECURE",
    "region": "KUBESKIPPY_AUDIT_S3_REGION",
    "auto_create": "KUBESKIPPY_AUDIT_S3_AUTO_CREATE",
    "lock_mode": "KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE",
    "lock_days": "KUBESKIPPY_AUDIT_OBJECT_LOCK_DAYS",
}
DEFAULT_DIR = "kubeskippy-audit"
DEFAULT_BUCKET = "kubeskippy-audit"


@dataclass(frozen=True)
class ObjectLock:
    """Retention put on every record: GOVERNANCE (privileged users may lift it) or COMPLIANCE
    (nobody can delete or shorten it until ``days`` have passed)."""

    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    days: int


@dataclass(frozen=True)
class LocalSinkConfig:
    path: str


@dataclass(frozen=True)
class S3SinkConfig:
    endpoint: str
    """``host:port`` as the minio client wants it (no scheme)."""
    access_key: str
    secret_key: str
    bucket: str = DEFAULT_BUCKET
    secure: bool = True
    region: str | None = None
    object_lock: ObjectLock | None = None
    auto_create: bool = True


AuditSinkConfig = LocalSinkConfig | S3SinkConfig

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(env: Mapping[str, str], name: str, default: bool, errors: list[FieldError]) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    errors.append(FieldError(name, f"must be true or false, got {raw!r}"))
    return default


def parse_object_lock(mode: str | None, days: object, *, mode_field: str = "mode",
                      days_field: str = "days") -> ObjectLock | None:
    """An ObjectLock from loose input (env strings, a dict from a config file), or None."""
    if mode is None or str(mode).strip() == "":
        if days not in (None, ""):
            raise InvalidInput([FieldError(mode_field, "is required when a retention period is set")])
        return None
    errors: list[FieldError] = []
    upper = str(mode).strip().upper()
    if upper not in ("GOVERNANCE", "COMPLIANCE"):
        errors.append(FieldError(mode_field, f"must be GOVERNANCE or COMPLIANCE, got {mode!r}"))
    try:
        n = int(str(days).strip()) if not isinstance(days, bool) and days not in (None, "") else 0
    except ValueError:
        n = 0
    if n <= 0:
        errors.append(FieldError(days_field, f"must be a whole number of days above 0, got {days!r}"))
    if errors:
        raise InvalidInput(errors)
    return ObjectLock(mode=upper, days=n)  # type: ignore[arg-type]


def _endpoint(raw: str, errors: list[FieldError]) -> tuple[str, bool | None]:
    """(host:port, secure-from-scheme or None)."""
    name = ENV["endpoint"]
    if not raw:
        errors.append(FieldError(name, "is required when the audit sink is s3"))
        return "", None
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            errors.append(FieldError(name, f"must be host:port or http(s)://host:port, got {raw!r}"))
            return "", None
        return parts.netloc, parts.scheme == "https"
    if "/" in raw:
        errors.append(FieldError(name, f"must be host:port or http(s)://host:port, got {raw!r}"))
    return raw, None


def parse_sink_config(env: Mapping[str, str]) -> AuditSinkConfig:
    """Read the sink settings; InvalidInput names every bad variable at once."""
    kind = env.get(ENV["sink"], "").strip().lower() or "local"
    if kind == "local":
        return LocalSinkConfig(path=env.get(ENV["dir"], "").strip() or DEFAULT_DIR)
    if kind != "s3":
        raise InvalidInput([FieldError(ENV["sink"], f"must be local or s3, got {kind!r}")], source="audit config")
    errors: list[FieldError] = []
    endpoint, scheme_secure = _endpoint(env.get(ENV["endpoint"], "").strip(), errors)
    access_key = env.get(ENV["access_key"]) or env.get("AWS_ACCESS_KEY_ID") or ""
    secret_key = env.get(ENV["secret_key"]) or env.get("AWS_SECRET_ACCESS_KEY") or ""
    if not access_key:
        errors.append(FieldError(ENV["access_key"], "is required when the audit sink is s3"))
    if not secret_key:
        errors.append(FieldError(ENV["secret_key"], "is required when the audit sink is s3"))
    secure = _flag(env, ENV["secure"], True if scheme_secure is None else scheme_secure, errors)
    auto_create = _flag(env, ENV["auto_create"], True, errors)
    bucket = env.get(ENV["bucket"], "").strip() or DEFAULT_BUCKET
    try:
        lock = parse_object_lock(env.get(ENV["lock_mode"]), env.get(ENV["lock_days"]),
                                 mode_field=ENV["lock_mode"], days_field=ENV["lock_days"])
    except InvalidInput as e:
        errors.extend(e.errors)
        lock = None
    if errors:
        raise InvalidInput(errors, source="audit config")
    return S3SinkConfig(endpoint=endpoint, access_key=access_key, secret_key=secret_key, bucket=bucket,
                        secure=secure, region=env.get(ENV["region"], "").strip() or None,
                        object_lock=lock, auto_create=auto_create)
