"""The action registry builds each action on first lookup, and still answers like the dict it was.

Why: a remediate process should load only the actions its plans use (docs/functions.md, "Cold
start"), without the lookup by type name changing for anyone.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from kubeskippy.remediate.actions import ACTIONS, Action, action_for

ROOT = Path(__file__).resolve().parents[2]
TYPE_NAMES = ["restart", "scale", "patch", "delete", "rollback", "raise_limit", "cordon", "cordon_drain",
              "quarantine", "diagnostics", "notify"]


def test_the_registry_lists_every_action_type():
    assert sorted(ACTIONS) == sorted(TYPE_NAMES) and len(ACTIONS) == len(TYPE_NAMES)


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_each_type_name_finds_the_action_that_declares_it_and_always_the_same_one(type_name):
    action = ACTIONS[type_name]
    assert isinstance(action, Action) and action.type_name == type_name
    assert action_for(type_name) is action and ACTIONS.get(type_name) is action and type_name in ACTIONS


def test_an_unknown_type_name_is_a_key_error():
    with pytest.raises(KeyError):
        action_for("reboot_the_cluster")
    assert ACTIONS.get("reboot_the_cluster") is None and "reboot_the_cluster" not in ACTIONS


def test_a_lookup_loads_only_that_actions_module():
    code = (
        "import sys\n"
        "import kubeskippy.services.remediate\n"
        "from kubeskippy.remediate.actions import action_for\n"
        "action_for('delete'); action_for('diagnostics')\n"
        "print(sorted(m.rsplit('.', 1)[-1] for m in sys.modules if m.startswith('kubeskippy.remediate.actions.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['base', 'delete', 'diagnostics']"
