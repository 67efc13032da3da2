"""Analysis: explain a finding and propose guarded, ordered actions from its policy.

Finding → :class:`Planner` (context through the ports → analyzer → guard → learning) → Plan.
The rules analyzer is the embedded default; LLM backends are chosen by configuration
(:func:`analyzer_from_config`) and always fall back to the rules.
"""

from ..lazy import lazy_attributes
from typing import TYPE_CHECKING

# Eager, unlike the rest: ``guard`` names both a submodule and the function exported here, and
# importing the submodule later would rebind the package attribute to the module. The planner
# needs guard anyway.
from .guard import GuardConfig, GuardResult, guard

if TYPE_CHECKING:  # the names below, for type checkers; at run time they load on first use
    from .config import analyzer_from_config, llm_settings_from_env
    from .context import AnalysisContext, ContextConfig, ContextGatherer, ContextQueries
    from .diagnosis import Analyzer, Diagnosis, Suggestion
    from .learning import EffectivenessStore, LearningConfig
    from .llm import ChatBackend, LLMAnalyzer
    from .planner import Planner, plan_id_for
    from .rules import RulesAnalyzer

# Where each public name lives. Loaded on first use so that importing one submodule (the
# analyze function imports config and planner) does not load the LLM path with it.
_HOMES = {
    "analyzer_from_config": "config", "llm_settings_from_env": "config",
    "AnalysisContext": "context", "ContextConfig": "context", "ContextGatherer": "context",
    "ContextQueries": "context",
    "Analyzer": "diagnosis", "Diagnosis": "diagnosis", "Suggestion": "diagnosis",
    "EffectivenessStore": "learning", "LearningConfig": "learning",
    "ChatBackend": "llm", "LLMAnalyzer": "llm",
    "Planner": "planner", "plan_id_for": "planner",
    "RulesAnalyzer": "rules",
}


# Submodules the package used to load eagerly, still reachable as attributes.
_SUBMODULES = {"cache", "config", "context", "diagnosis", "learning", "llm", "planner", "preferences",
               "prompt", "quantities", "redact", "rules", "suggest", "trends"}


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, _SUBMODULES)


__all__ = [
    "Analyzer", "AnalysisContext", "ChatBackend", "ContextConfig", "ContextGatherer", "ContextQueries", "Diagnosis",
    "EffectivenessStore", "GuardConfig", "GuardResult", "LLMAnalyzer", "LearningConfig", "Planner", "RulesAnalyzer",
    "Suggestion", "analyzer_from_config", "guard", "llm_settings_from_env", "plan_id_for",
]
