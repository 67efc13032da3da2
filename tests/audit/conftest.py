"""Fixtures for the audit tests: the shared SeaweedFS server (slow tests only start it)."""

from tests.harness.s3 import seaweedfs  # noqa: F401  (re-exported as a fixture)
