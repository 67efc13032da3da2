"""Names and uids the way Kubernetes forms them, but deterministic.

A what-if report must be identical for the same seed, so nothing here uses uuid4 or the wall
clock: names come from content (the pod-template-hash from the template, as the Deployment
controller does) and from ordinals.
"""

from __future__ import annotations

import json

from ..randomness import derive_key, key_of_joined

__all__ = ["ALPHABET", "safe_suffix", "template_hash", "uid_for", "uid_of_joined"]

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""The API server's safe-encoding alphabet for generated names (no vowels, no 0/1/3)."""


def safe_suffix(key: int, length: int = 5) -> str:
    out = []
    for _ in range(length):
        key, r = divmod(key, len(ALPHABET))
        out.append(ALPHABET[r])
    return "".join(out)


def template_hash(template: dict) -> str:
    """pod-template-hash: same template → same ReplicaSet name (so a rollback reuses the old one)."""
    return safe_suffix(derive_key(json.dumps(template, sort_keys=True, separators=(",", ":"))), 10)


def uid_for(*parts: object) -> str:
    """A uid from identity parts, formatted as ``str(uuid.UUID(int=...))`` formats it (two 64-bit
    keys, the first the high half), without building a UUID object (one per pod)."""
    return uid_of_joined("\x1f".join(map(str, parts)))


def uid_of_joined(joined: str) -> str:
    """``uid_for`` of parts already joined with ``"\x1f"`` (see ``randomness.key_prefix``)."""
    h = "%016x%016x" % (key_of_joined("uid\x1f" + joined), key_of_joined("uid2\x1f" + joined))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
