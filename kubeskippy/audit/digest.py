"""Tamper evidence: the SHA-256 of a record's bytes travels with it as object metadata.

Anyone who rewrites a record without also rewriting ``x-amz-meta-sha256`` is caught by
``kubeskippy audit verify``; object lock (retention) is what stops the rewrite itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Mapping

__all__ = ["DIGEST_KEY", "sha256_hex", "DigestCheck", "check_digest"]

DIGEST_KEY = "sha256"
"""User-metadata key of the digest (``x-amz-meta-sha256`` on S3, the sidecar on disk)."""


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class DigestCheck:
    key: str
    status: Literal["ok", "mismatch", "missing"]
    expected: str | None
    actual: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def check_digest(key: str, body: bytes, metadata: Mapping[str, str]) -> DigestCheck:
    """Recompute the digest of ``body`` and compare it with the one recorded in ``metadata``.

    A record without a digest is reported as ``missing``: it was not written by the recorder, or
    its metadata was stripped, and either way it cannot be vouched for.
    """
    actual = sha256_hex(body)
    expected = metadata.get(DIGEST_KEY)
    if not expected:
        return DigestCheck(key, "missing", None, actual)
    status: Literal["ok", "mismatch"] = "ok" if expected.strip().lower() == actual else "mismatch"
    return DigestCheck(key, status, expected, actual)
