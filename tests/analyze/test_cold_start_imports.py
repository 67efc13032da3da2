"""Planning a Finding reads the learning record but never writes it, so analyze's cold start does
not load the compare-and-swap loop (``kubeskippy.safety.cas`` with ``safety.memory_store``, ~10 M
instructions; docs/functions.md "Round 5"). Recording still goes through it (test_learning.py)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_READ_ONLY_USE = """
import sys
import kubeskippy.services.analyze
from kubeskippy.analyze.learning import EffectivenessStore
from kubeskippy.clock import ManualClock
from kubeskippy.events.model import ObjectRef, PlannedAction


class OneRecordStore:  # a VersionedStore with nothing stored yet
    def read(self, name):
        return None


store = EffectivenessStore(OneRecordStore(), ManualClock(0.0))
web = ObjectRef(api_version="apps/v1", kind="Deployment", name="web", namespace="shop")
pod = ObjectRef(api_version="v1", kind="Pod", name="web-1", namespace="shop")
print(store.note_finding(web, "crash_loop"))
ordering = store.order([PlannedAction(action="recreate", type="delete", target=pod, reason="x")], ["delete"], web,
                       "crash_loop")
print([a.action for a in ordering.actions])
print(sorted(m for m in sys.modules if m.startswith("kubeskippy.safety.")))
"""


def test_planning_with_the_learning_record_does_not_import_the_compare_and_swap_loop():
    out = subprocess.run([sys.executable, "-c", _READ_ONLY_USE], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.split("\n")[:3] == ["False", "['recreate']", "[]"]
