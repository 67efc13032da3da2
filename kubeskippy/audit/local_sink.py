"""The embedded default sink: a directory tree mirroring the keys, metadata in a sidecar.

``<root>/2026/11/21/23/io.kubeskippy.plan/<id>.json`` holds the record and
``<id>.json.meta`` its metadata (JSON). Each file is written to a temporary name, flushed to disk
and renamed into place, so a reader never sees half a record. The sidecar is committed first and
the body last: the body's presence is what says "recorded", so a crash in between leaves a key
that the next delivery writes again rather than a body without its digest.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Mapping

from ..errors import APINotFound, FieldError, InvalidInput, PermanentError, TemporaryError
from ..ports import AuditObject

__all__ = ["LocalDirectorySink", "METADATA_SUFFIX"]

METADATA_SUFFIX = ".meta"


class LocalDirectorySink:
    """AuditSink over a local directory (created on first write)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.root = Path(path)

    def __repr__(self) -> str:
        return f"LocalDirectorySink({str(self.root)!r})"

    # -- the port ---------------------------------------------------------------------------

    def put(self, key: str, body: bytes, metadata: Mapping[str, str]) -> None:
        target = self._path(key)
        sidecar = target.with_name(target.name + METADATA_SUFFIX)
        meta_bytes = json.dumps({k.lower(): str(v) for k, v in metadata.items()}, sort_keys=True).encode()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomically(sidecar, meta_bytes)
            self._write_atomically(target, bytes(body))
            self._sync_directory(target.parent)
        except PermissionError as e:
            raise PermanentError(f"audit directory {self.root} is not writable: {e}") from e
        except OSError as e:
            raise TemporaryError(f"writing audit record {key} under {self.root} failed: {e}") from e

    def get(self, key: str) -> tuple[bytes, Mapping[str, str]]:
        target = self._path(key)
        try:
            body = target.read_bytes()
        except FileNotFoundError:
            raise APINotFound(404, f"no audit object {key!r} under {self.root}") from None
        except OSError as e:
            raise TemporaryError(f"reading audit record {key} under {self.root} failed: {e}") from e
        return body, self._read_metadata(target)

    def list(self, prefix: str = "") -> list[AuditObject]:
        """Objects whose key starts with ``prefix``, walking only the directory the prefix names."""
        base_dir = prefix.rpartition("/")[0]
        start = self.root / base_dir if base_dir else self.root
        if not start.is_dir():
            return []
        found: list[AuditObject] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.startswith(".") or name.endswith(METADATA_SUFFIX):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:  # removed while we walked
                    continue
                found.append(AuditObject(key=key, size=stat.st_size, metadata=self._read_metadata(path),
                                         last_modified=stat.st_mtime))
        return sorted(found, key=lambda o: o.key)

    # -- beyond the port ----------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        """A cheap probe for the recorder's first-write-wins check."""
        return self._path(key).is_file()

    # -- helpers ------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        bad = (not key or key.startswith("/") or "\\" in key or "\x00" in key
               or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
               or key.endswith(METADATA_SUFFIX))
        if bad:
            raise InvalidInput([FieldError("key", f"{key!r} is not a safe relative object key")], source="audit")
        return self.root.joinpath(*parts)

    def _read_metadata(self, target: Path) -> dict[str, str]:
        sidecar = target.with_name(target.name + METADATA_SUFFIX)
        try:
            loaded = json.loads(sidecar.read_bytes())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}

    @staticmethod
    def _write_atomically(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    @staticmethod
    def _sync_directory(path: Path) -> None:
        """Make the renames durable too (the directory entry is what a crash can lose)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
