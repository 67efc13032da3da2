"""Package hygiene: the public names, and no network client pulled in by the double."""

from __future__ import annotations

import subprocess
import sys

import kubeskippy.devcluster as devcluster


def test_every_public_name_is_exported_and_importable():
    assert set(devcluster.__all__) == {"ObjectStore", "WatchEvent", "WatchFilter", "ListResult", "Controller",
                                       "MemoryCluster", "DevClusterServer", "Faults", "Fault"}
    for name in devcluster.__all__:
        assert getattr(devcluster, name) is not None


def test_importing_the_devcluster_loads_no_network_client_or_simulator():
    code = ("import sys, kubeskippy.devcluster; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('kubernetes', 'urllib3', 'httpx', 'minio', 'simpy', 'prometheus_api_client')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
