"""Re-reading the trail and recomputing every digest: ``kubeskippy audit verify``."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ports import AuditSink
from .digest import DigestCheck
from .reader import AuditQuery, find_objects, load_records

__all__ = ["VerifyReport", "verify_records"]


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[DigestCheck] = field(default_factory=list)
    """Records whose digest did not match or was missing, in key order."""
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    """(key, why) for bodies that match their digest but are not audit records of ours."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "ok": self.ok,
            "problems": [{"key": p.key, "status": p.status, "expected": p.expected, "actual": p.actual}
                         for p in self.problems],
            "unreadable": [{"key": k, "error": why} for k, why in self.unreadable],
        }


def verify_records(sink: AuditSink, query: AuditQuery = AuditQuery()) -> VerifyReport:
    """Check every record matching ``query``. The digest is compared with the metadata returned by
    the same GET as the body, so a listing taken earlier cannot mask a later rewrite."""
    report = VerifyReport()
    for stored in load_records(sink, find_objects(sink, query)):
        report.checked += 1
        check = stored.digest
        if not check.ok:
            report.problems.append(check)
        elif stored.record is None:
            report.unreadable.append((stored.key, stored.error))
    return report
