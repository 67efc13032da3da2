"""Keep credentials inside the cluster: scrub everything that goes into an LLM prompt.

Two layers. :func:`redact_object` walks Kubernetes JSON and drops what is secret by position
(Secret data, env values, last-applied annotations, any key that names a credential).
:func:`redact_text` scrubs free text (event messages, log lines, container messages) for what
looks like a credential anywhere: PEM private keys, JWTs, bearer/basic authorization, URLs with
user info, cloud access keys and common token formats, ``key=value`` pairs whose key names a
secret, and long random-looking strings. It also removes invisible format characters (zero-width
spaces, bidi overrides) that could hide text from a human reviewer of the prompt.

Redaction errs on the side of removing too much: a diagnosis never needs a password.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["redact_text", "redact_object", "REDACTED", "SENSITIVE_KEY"]

REDACTED = "[REDACTED]"

SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|"
    r"credential|auth|session|cookie|signature|client[-_]?secret|connection[-_]?string|dsn",
    re.IGNORECASE,
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM blocks (also an unterminated one cut off by a log tail)
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)", re.DOTALL),
     "[REDACTED:private-key]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[REDACTED:jwt]"),
    (re.compile(r"(?i)\b(bearer|basic|digest|token)\s+[A-Za-z0-9._~+/=:-]{6,}"), r"\1 [REDACTED]"),
    (re.compile(r"(?i)(authorization|proxy-authorization|x-api-key|x-auth-token)(\"?\s*[:=]\s*\"?)[^\s\",;]+"), r"\1\2[REDACTED]"),
    # scheme://user:password@host  and  scheme://token@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@:]+(:[^/\s@]*)?@"), r"\1[REDACTED]@"),
    (re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), "[REDACTED:aws-key]"),
    (re.compile(r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\b|\bgithub_pat_[A-Za-z0-9_]{20,}"), "[REDACTED:token]"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "[REDACTED:token]"),
    (re.compile(r"\bsk-(proj-|ant-)?[A-Za-z0-9_-]{16,}"), "[REDACTED:token]"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}"), "[REDACTED:token]"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), "[REDACTED:token]"),
    # key=value, key: value, "key": "value" where the key names a secret
    (re.compile(
        r"(?i)([\w.-]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|"
        r"credential|client[-_]?secret|session[-_]?id|cookie|connection[-_]?string)[\w.-]*)"
        r"(\"?'?\s*(?:=|:)\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&\"'}]+)"),
     r"\1\2" + REDACTED),
    # long random-looking strings: mixed case and digits, 32+ chars (hex digests are left alone)
    (re.compile(r"(?<![A-Za-z0-9+/_=-])(?=[A-Za-z0-9+/_=-]*[a-z])(?=[A-Za-z0-9+/_=-]*[A-Z])(?=[A-Za-z0-9+/_=-]*[0-9])"
                r"[A-Za-z0-9+/_=-]{32,}"), "[REDACTED:high-entropy]"),
)


def _strip_invisible(text: str) -> str:
    """NFKC-normalise and drop format/control characters except newline and tab."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cf", "Cc", "Co", "Cs"))


def redact_text(text: str) -> str:
    """Scrub credentials out of free text (see the module docstring for what is matched)."""
    if not text:
        return text
    out = _strip_invisible(text)
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return out


def _redact_env(items: Any) -> Any:
    if not isinstance(items, list):
        return REDACTED
    out = []
    for item in items:
        if isinstance(item, dict):
            kept = {"name": redact_text(str(item.get("name", "")))}
            if "value" in item:
                kept["value"] = REDACTED
            if "valueFrom" in item:
                kept["valueFrom"] = "[reference]"
            out.append(kept)
    return out


def redact_object(obj: Any, _key: str = "") -> Any:
    """A deep copy of Kubernetes JSON with secrets removed (never mutates ``obj``)."""
    if isinstance(obj, dict):
        if obj.get("kind") == "Secret":
            meta = obj.get("metadata") or {}
            return {"kind": "Secret", "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace")},
                    "data": REDACTED}
        out: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k)
            if key == "env":
                out[key] = _redact_env(v)
            elif key in ("data", "stringData", "binaryData") and _key != "metadata":
                out[key] = REDACTED
            elif key == "kubectl.kubernetes.io/last-applied-configuration":
                out[key] = REDACTED
            elif SENSITIVE_KEY.search(key) and not isinstance(v, (dict, list)):
                out[key] = REDACTED
            else:
                out[redact_text(key)] = redact_object(v, key)
        return out
    if isinstance(obj, list):
        return [redact_object(v, _key) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj)
    return obj
