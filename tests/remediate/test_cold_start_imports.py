"""remediate's usual first event is a Plan, which needs nothing from the intake package: the
ApiServerSource decoder (and with ``kubeskippy.ingest`` Alertmanager's wire models, ~15 M
instructions of a cold start; docs/functions.md "Round 5") is loaded by the first HealingAction
update instead."""

import subprocess
import sys
from pathlib import Path

from kubeskippy.ingest.apiserver import apiserver_event
from kubeskippy.services.remediate import RemediateService

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_remediate_service_does_not_import_the_intake_package():
    code = ("import sys\n"
            "import kubeskippy.services.remediate\n"
            "print(sorted(m for m in sys.modules if m.startswith('kubeskippy.ingest')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_healing_action_event_is_still_decoded_by_the_remediate_service():
    # A deleted HealingAction needs no API read: decoded, then nothing to do.
    service = RemediateService({"KUBESKIPPY_KUBE_URL": "http://127.0.0.1:9", "KUBESKIPPY_POLICY_SOURCE": "cluster"})
    gone = {"apiVersion": "kubeskippy.io/v1alpha1", "kind": "HealingAction",
            "metadata": {"name": "recreate-1", "namespace": "kubeskippy", "uid": "u1", "resourceVersion": "7"}}
    assert list(service.handle(apiserver_event("delete", gone, id="ha-deleted"))) == []
