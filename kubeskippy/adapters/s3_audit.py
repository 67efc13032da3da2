"""The AuditSink port over S3 (MinIO, SeaweedFS, AWS) through the ``minio`` client.

Error policy, so the audit function answers the Broker correctly:

- transient (connection refused, timeouts, 5xx, SlowDown) -> :class:`TemporaryError` /
  :class:`APIError`: the function answers 5xx, the Broker redelivers, nothing is lost;
- missing object -> :class:`APINotFound`;
- permanent (AccessDenied, bad keys, NoSuchBucket with auto-create off, a bucket without object
  lock when retention is configured) -> :class:`S3AuditRefused`, a PermanentError naming the
  S3 error code and what to fix.

The minio client's own retries are cut to a few quick ones: the Broker is the retry loop, and a
function stuck in backoff holds a request open for nothing.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping, TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.helpers import check_bucket_name
from minio.retention import Retention

from ..audit.config import AuditSinkConfig, LocalSinkConfig, ObjectLock, parse_object_lock, parse_sink_config
from ..audit.local_sink import LocalDirectorySink
from ..clock import Clock, WallClock
from ..errors import (APIError, APINotFound, FieldError, InvalidInput, KubeSkippyError, PermanentError,
                      TemporaryError)
from ..ports import AuditObject, AuditSink

__all__ = ["S3AuditSink", "S3AuditRefused", "sink_from_config", "sink_for"]

T = TypeVar("T")

_META_PREFIX = "x-amz-meta-"
_NOT_FOUND = {"NoSuchKey", "NoSuchVersion"}
_TRANSIENT = {"InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout", "OperationAborted",
              "XMinioServerNotInitialized", "RequestTimeTooSkewed"}
_ALREADY_THERE = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


class S3AuditRefused(PermanentError):
    """S3 refused in a way a retry cannot fix; ``code`` is the S3 error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


class S3AuditSink:
    """Audit records as objects in one bucket, created (with object lock if configured) on the
    first write when missing."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = True,
        region: str | None = None,
        object_lock: ObjectLock | Mapping[str, object] | None = None,
        *,
        auto_create: bool = True,
        clock: Clock | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 15.0,
        retries: int = 2,
        list_workers: int = 8,
    ) -> None:
        if isinstance(object_lock, Mapping):
            object_lock = parse_object_lock(object_lock.get("mode"), object_lock.get("days"),  # type: ignore[arg-type]
                                            mode_field="object_lock.mode", days_field="object_lock.days")
        try:
            check_bucket_name(bucket, strict=True)
        except ValueError as e:
            raise InvalidInput([FieldError("bucket", f"{e}: 3-63 lowercase letters, digits, dots or hyphens")],
                               source="s3 audit sink") from None
        self.endpoint, self.bucket, self.object_lock = endpoint, bucket, object_lock
        self.auto_create = auto_create
        self._clock = clock or WallClock()
        self._list_workers = max(1, list_workers)
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=max(10, self._list_workers),
            retries=urllib3.Retry(total=retries, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504],
                                  raise_on_status=False),  # the last answer reaches minio, status and all
        )
        try:
            self._client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure,
                                 region=region, http_client=http)
        except ValueError as e:
            raise InvalidInput([FieldError("endpoint", f"{e} (expected host:port)")], source="s3 audit sink") from None
        self._bucket_ready = False

    def __repr__(self) -> str:
        return f"S3AuditSink(endpoint={self.endpoint!r}, bucket={self.bucket!r})"

    # -- the port ---------------------------------------------------------------------------

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        self._ensure_bucket()
        try:
            self._call(lambda: self._put(key, body, metadata), f"writing {key}")
        except S3AuditRefused as e:
            if e.code != "NoSuchBucket" or not self.auto_create:
                raise
            self._bucket_ready = False  # deleted under us: create it again, then write once more
            self._ensure_bucket()
            self._call(lambda: self._put(key, body, metadata), f"writing {key}")

    def get(self, key: str) -> tuple[bytes, Mapping[str, str]]:
        def fetch() -> tuple[bytes, Mapping[str, str]]:
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read(), _user_metadata(response.headers)
            finally:
                response.close()
                response.release_conn()

        return self._call(fetch, f"reading {key}")

    def list(self, prefix: str = "") -> list[AuditObject]:
        """ListObjectsV2, then one HEAD per object (in parallel) for its metadata: S3 listings
        carry no user metadata (MinIO's ``metadata=true`` extension is not portable)."""
        names = self._call(lambda: [o.object_name for o in self._client.list_objects(
            self.bucket, prefix=prefix or None, recursive=True) if not o.is_dir and o.object_name],
            f"listing {prefix or '/'}")
        if not names:
            return []
        with ThreadPoolExecutor(max_workers=min(self._list_workers, len(names))) as pool:
            heads = list(pool.map(self._head, names))
        return sorted((h for h in heads if h is not None), key=lambda o: o.key)

    # -- beyond the port ----------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        """HEAD the key: the recorder's first-write-wins probe without downloading a body."""
        return self._head(key) is not None

    def versions(self, key: str) -> list[str]:
        """Version ids stored under ``key``; exactly one means nothing rewrote it."""
        return self._call(lambda: [o.version_id or "null" for o in self._client.list_objects(
            self.bucket, prefix=key, recursive=True, include_version=True) if o.object_name == key],
            f"listing versions of {key}")

    def ensure_bucket(self) -> None:
        """Create the bucket if needed and check it can honour the configured retention."""
        self._ensure_bucket()

    # -- helpers ------------------------------------------------------------------------------

    def _put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        retention = None
        if self.object_lock is not None:
            until = datetime.fromtimestamp(self._clock.now(), tz=timezone.utc) + timedelta(days=self.object_lock.days)
            retention = Retention(GOVERNANCE if self.object_lock.mode == "GOVERNANCE" else COMPLIANCE, until)
        self._client.put_object(self.bucket, key, io.BytesIO(body), len(body), content_type="application/json",
                                metadata=dict(metadata), retention=retention)

    def _head(self, key: str) -> AuditObject | None:
        try:
            stat = self._call(lambda: self._client.stat_object(self.bucket, key), f"reading metadata of {key}")
        except APINotFound:
            return None
        modified = stat.last_modified.timestamp() if stat.last_modified else 0.0
        return AuditObject(key=key, size=stat.size or 0, metadata=_user_metadata(stat.metadata or {}),
                           last_modified=modified)

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        exists = self._call(lambda: self._client.bucket_exists(self.bucket), f"checking bucket {self.bucket}")
        if not exists:
            if not self.auto_create:
                raise S3AuditRefused("NoSuchBucket", f"bucket {self.bucket!r} does not exist at {self.endpoint} "
                                     "and auto-create is off; create it or set KUBESKIPPY_AUDIT_S3_AUTO_CREATE=true")
            try:
                self._client.make_bucket(self.bucket, object_lock=self.object_lock is not None)
            except S3Error as e:
                if e.code not in _ALREADY_THERE:  # another replica won the race: fine
                    raise self._translate(e, f"creating bucket {self.bucket}") from e
            except (MinioException, urllib3.exceptions.HTTPError, OSError) as e:
                raise self._translate(e, f"creating bucket {self.bucket}") from e
        if self.object_lock is not None:
            self._check_object_lock()
        self._bucket_ready = True

    def _check_object_lock(self) -> None:
        try:
            self._client.get_object_lock_config(self.bucket)
        except S3Error as e:
            if e.code == "ObjectLockConfigurationNotFoundError":
                raise S3AuditRefused(e.code, f"bucket {self.bucket!r} was created without object lock, so "
                                     f"{self.object_lock.mode} retention cannot be applied; use a bucket "  # type: ignore[union-attr]
                                     "created with object lock or unset KUBESKIPPY_AUDIT_OBJECT_LOCK_MODE") from e
            raise self._translate(e, f"reading the object-lock configuration of {self.bucket}") from e
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as e:
            raise self._translate(e, f"reading the object-lock configuration of {self.bucket}") from e

    def _call(self, operation: Callable[[], T], action: str) -> T:
        try:
            return operation()
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as e:
            raise self._translate(e, action) from e
        except ValueError as e:  # the client refused an argument before sending anything
            raise S3AuditRefused("InvalidArgument", f"{action} in s3://{self.bucket}: {e}") from e

    def _translate(self, error: Exception, action: str) -> KubeSkippyError:
        where = f"{action} in s3://{self.bucket} at {self.endpoint}"
        if isinstance(error, S3Error):
            code = error.code or "Unknown"
            status = getattr(error.response, "status", 0) or 0
            if code in _NOT_FOUND:
                return APINotFound(404, f"{where}: {code}")
            if code == "NoSuchBucket":
                return S3AuditRefused(code, f"{where}: the bucket does not exist")
            if code in _TRANSIENT or status >= 500:
                return APIError(status or 503, f"{where}: {code}: {error.message}; the record will be retried")
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return S3AuditRefused(code, f"{where}: check the credentials and the bucket policy "
                                      f"({error.message})")
            return S3AuditRefused(code, f"{where}: {error.message}")
        if isinstance(error, ServerError):
            if error.status_code >= 500:
                return APIError(error.status_code, f"{where}: {error}; the record will be retried")
            return S3AuditRefused(str(error.status_code), f"{where}: {error}")
        if isinstance(error, InvalidResponseError):
            status = getattr(error, "_code", 0) or 0
            if status >= 500 or status == 0:
                return APIError(status or 502, f"{where}: {error}")
            return S3AuditRefused(str(status), f"{where}: {error}")
        return TemporaryError(f"{where} failed: {type(error).__name__}: {error}; the record will be retried")


def _user_metadata(headers: Mapping[str, str]) -> dict[str, str]:
    """``x-amz-meta-*`` headers, lower-cased and without the prefix (as the recorder wrote them)."""
    return {k.lower()[len(_META_PREFIX):]: v for k, v in headers.items() if k.lower().startswith(_META_PREFIX)}


def sink_for(config: AuditSinkConfig, *, clock: Clock | None = None) -> AuditSink:
    """The sink a parsed configuration describes."""
    if isinstance(config, LocalSinkConfig):
        return LocalDirectorySink(config.path)
    return S3AuditSink(config.endpoint, config.access_key, config.secret_key, config.bucket, config.secure,
                       config.region, config.object_lock, auto_create=config.auto_create, clock=clock)


def sink_from_config(env: Mapping[str, str], *, clock: Clock | None = None) -> AuditSink:
    """The sink the environment asks for (see :mod:`kubeskippy.audit.config` for the variables)."""
    return sink_for(parse_sink_config(env), clock=clock)
