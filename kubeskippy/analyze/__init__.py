"""Analysis: explain a finding and propose guarded, ordered actions from its policy.

Finding → :class:`Planner` (context through the ports → analyzer → guard → learning) → Plan.
The rules analyzer is the embedded default; LLM backends are chosen by configuration
(:func:`analyzer_from_config`) and always fall back to the rules.
"""

from .config import analyzer_from_config, llm_settings_from_env
from .context import AnalysisContext, ContextConfig, ContextGatherer, ContextQueries
from .diagnosis import Analyzer, Diagnosis, Suggestion
from .guard import GuardConfig, GuardResult, guard
from .learning import EffectivenessStore, LearningConfig
from .llm import ChatBackend, LLMAnalyzer
from .planner import Planner, plan_id_for
from .rules import RulesAnalyzer

__all__ = [
    "Analyzer", "AnalysisContext", "ChatBackend", "ContextConfig", "ContextGatherer", "ContextQueries", "Diagnosis",
    "EffectivenessStore", "GuardConfig", "GuardResult", "LLMAnalyzer", "LearningConfig", "Planner", "RulesAnalyzer",
    "Suggestion", "analyzer_from_config", "guard", "llm_settings_from_env", "plan_id_for",
]
