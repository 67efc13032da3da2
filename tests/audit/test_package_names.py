"""kubeskippy.audit's names load their modules on first use: the audit function records events and
never loads the readers, stats or verification the CLI uses."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kubeskippy.audit as audit


def test_the_audit_service_loads_no_reader_stats_or_verification_module():
    code = ("import sys, kubeskippy.services.audit; "
            "print(sorted(m for m in sys.modules if m.startswith('kubeskippy.audit.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for module in ("reader", "stats", "verify", "memory_sink"):
        assert f"'kubeskippy.audit.{module}'" not in loaded
    assert "'kubeskippy.audit.recorder'" in loaded


def test_every_public_name_resolves_and_an_unknown_one_is_an_attribute_error():
    for name in audit.__all__:
        assert getattr(audit, name) is not None
    assert set(audit.__all__) <= set(dir(audit))
    assert audit.verify_records.__module__ == "kubeskippy.audit.verify"
    with pytest.raises(AttributeError, match="no attribute 'read_everything'"):
        audit.read_everything
