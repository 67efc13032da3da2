"""What analyze's first Finding needs, and what it no longer loads (docs/functions.md "Round 5" and
"Round 6"). Each cut is checked in a fresh interpreter doing the first event's work, and the
deferred path is checked to still work.

- Planning reads the learning record but never writes it, so the compare-and-swap loop
  (``kubeskippy.safety.cas`` with ``safety.memory_store``, ~10 M instructions) is not loaded;
  recording still goes through it (test_learning.py).
- The rules analyzer does not define ``LLMSettings`` (``analyze/llm_settings.py``, ~6 M).
- The crash-loop policy's custom-actions annotation (YAML flow style) is read without PyYAML
  (~83 M) and without compiling the custom-action keyword patterns (~3 M).
"""

import subprocess
import sys
from pathlib import Path

import yaml

from kubeskippy.analyze.config import LLMSettings, analyzer_from_config, llm_settings_from_env
from kubeskippy.analyze.rules import RulesAnalyzer
from kubeskippy.policy.action_kinds import action_kind
from kubeskippy.policy.model import HealingPolicy

ROOT = Path(__file__).resolve().parents[2]

# The demo crash-loop policy as the API returns it (its annotation is YAML flow style).
CRASHLOOP_POLICY = yaml.safe_load((ROOT / "demo" / "policies" / "crashloop-recovery.yaml").read_text())


def _fresh(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.strip().split("\n")


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
    assert _fresh(_READ_ONLY_USE)[:3] == ["False", "['recreate']", "[]"]


def test_the_rules_analyzer_starts_without_defining_the_llm_settings():
    lines = _fresh("import sys\n"
                   "from kubeskippy.analyze import config\n"
                   "print(type(config.analyzer_from_config({})).__name__)\n"
                   "print('LLMSettings' in vars(config), 'kubeskippy.analyze.llm_settings' in sys.modules)\n")
    assert lines == ["RulesAnalyzer", "False False"]


def test_the_llm_settings_are_still_read_and_importable_from_config():
    from kubeskippy.analyze import llm_settings

    settings = llm_settings_from_env({"KUBESKIPPY_ANALYZER": "ollama", "KUBESKIPPY_LLM_MODEL": "llama3"})
    assert LLMSettings is llm_settings.LLMSettings
    assert settings == LLMSettings(backend="ollama", model="llama3", url="http://127.0.0.1:11434")
    assert isinstance(analyzer_from_config({}), RulesAnalyzer)


_CRASHLOOP_KINDS = f"""
import sys
import kubeskippy.services.analyze
from kubeskippy.policy import action_kinds
from kubeskippy.policy.model import HealingPolicy

policy = HealingPolicy.model_validate({CRASHLOOP_POLICY!r})
print([action_kinds.action_kind(a, policy) for a in policy.spec.actions])
print(action_kinds.custom_params_for(policy, "capture-diagnostics"))
print("yaml" in sys.modules, action_kinds._keyword_patterns.cache_info().currsize)
"""


def test_the_crash_loop_policys_action_kinds_are_read_without_pyyaml_or_the_keyword_patterns():
    assert _fresh(_CRASHLOOP_KINDS) == ["['diagnostics', 'delete']", "{'custom': 'diagnostics'}", "False 0"]


def test_a_custom_action_without_a_declared_kind_is_still_named_by_its_keywords():
    policy = HealingPolicy.model_validate(CRASHLOOP_POLICY)
    undeclared = policy.spec.actions[0].model_copy(update={"name": "undo-release", "description": ""})
    assert action_kind(undeclared, policy) == "rollback"
