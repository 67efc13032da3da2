"""An analyzer that asks a language model, and falls back to the rules whenever it cannot.

The model is reached through a :class:`ChatBackend` (adapters/llm_ollama.py, adapters/llm_openai.py);
this module owns everything that does not depend on the vendor: the redacted prompt, the debug
log of the exact prompt, strict parsing, one retry, the time budget and the cache. The result is
a :class:`Diagnosis` like any other, and the guard checks it like any other.

Failure policy: malformed output → one retry that tells the model what was wrong; a transport
fault (HTTP 5xx, refused connection, timeout) → one retry if the budget allows; then the rules
analyzer answers and ``Diagnosis.notes`` says why. Fallback answers are cached for a shorter
time (``fallback_ttl``) so an outage does not make every finding wait for a timeout.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Callable, Protocol, runtime_checkable

from ..clock import Clock
from ..errors import KubeSkippyError
from ..policy.model import HealingPolicy
from .cache import TTLCache, analysis_key
from .context import AnalysisContext
from .diagnosis import Analyzer, Diagnosis
from .prompt import ANSWER_SCHEMA, AnswerError, build_messages, parse_answer
from .rules import RulesAnalyzer

__all__ = ["ChatBackend", "LLMAnalyzer", "PROMPT_LOGGER"]

log = logging.getLogger(__name__)
PROMPT_LOGGER = "kubeskippy.analyze.prompt"
_prompt_log = logging.getLogger(PROMPT_LOGGER)


@runtime_checkable
class ChatBackend(Protocol):
    """One chat completion with structured output. Raises TemporaryError (or a subclass) for
    transport faults and timeouts; returns the model's text otherwise."""

    name: str
    model: str

    def complete(self, messages: list[dict[str, str]], schema: dict, *, timeout: float) -> str: ...


class LLMAnalyzer:
    """Ask ``backend``; on any failure within ``budget`` seconds let ``fallback`` answer."""

    def __init__(self, backend: ChatBackend, *, clock: Clock, budget: float = 20.0, fallback: Analyzer | None = None,
                 cache_ttl: float = 300.0, fallback_ttl: float = 30.0, cache: TTLCache[Diagnosis] | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.name = backend.name
        self.clock = clock
        self.budget = budget
        self.fallback = fallback or RulesAnalyzer()
        self.fallback_ttl = fallback_ttl
        self.cache = cache if cache is not None else TTLCache(clock, ttl=cache_ttl)
        self._monotonic = monotonic
        self.calls = 0  # model calls made (for tests and metrics)

    def analyze(self, context: AnalysisContext, policy: HealingPolicy) -> Diagnosis:
        key = analysis_key(context.finding, f"{policy.namespace}/{policy.name}", f"{self.name}:{self.backend.model}")
        diagnosis, hit = self.cache.get_or_compute(key, lambda: self._analyze_uncached(context, policy))
        if not hit:
            return diagnosis
        # Same workload and evidence, maybe another pod: aim pod-level steps at this finding's pod.
        first_target = diagnosis.source_target
        suggestions = tuple(
            replace(s, target=context.finding.target) if s.target is not None and first_target is not None
            and s.target == first_target else s
            for s in diagnosis.suggestions)
        return Diagnosis(root_cause=diagnosis.root_cause, suggestions=suggestions, analyzer=diagnosis.analyzer,
                         notes=(*diagnosis.notes, "cached"), source_target=context.finding.target)

    def _analyze_uncached(self, context: AnalysisContext, policy: HealingPolicy) -> tuple[Diagnosis, float | None]:
        messages = build_messages(context, policy)
        _prompt_log.debug("prompt for finding %s to %s/%s:\n%s", context.finding.id, self.name, self.backend.model,
                          "\n".join(f"[{m['role']}] {m['content']}" for m in messages))
        deadline = self._monotonic() + self.budget
        problems: list[str] = []
        for attempt in range(2):
            remaining = deadline - self._monotonic()
            if remaining <= 0.05:
                problems.append(f"time budget of {self.budget:g}s used up")
                break
            try:
                self.calls += 1
                text = self.backend.complete(messages, ANSWER_SCHEMA, timeout=remaining)
            except KubeSkippyError as e:
                problems.append(f"attempt {attempt + 1}: {e}")
                log.warning("%s analysis of finding %s failed (%s); %s", self.name, context.finding.id, e,
                            "retrying once" if attempt == 0 else "the rules analyzer answers instead")
                continue
            try:
                root, suggestions = parse_answer(text, context)
            except AnswerError as e:
                problems.append(f"attempt {attempt + 1}: malformed answer, {e}")
                log.warning("%s answered finding %s with a malformed answer (%s); %s", self.name, context.finding.id,
                            e, "asking once more" if attempt == 0 else "the rules analyzer answers instead")
                messages = [*messages, {"role": "assistant", "content": text[:2000]},
                            {"role": "user", "content": f"That answer was invalid ({e}). Reply again with only a "
                                                        "JSON object that matches the schema."}]
                continue
            return Diagnosis(root_cause=root, suggestions=tuple(suggestions), analyzer=self.name,
                             notes=(f"model {self.backend.model}",), source_target=context.finding.target), None
        fallback = self.fallback.analyze(context, policy)
        notes = (*fallback.notes, f"fallback from {self.name}: {'; '.join(problems)}")
        return Diagnosis(root_cause=fallback.root_cause, suggestions=fallback.suggestions,
                         analyzer=fallback.analyzer, notes=notes, source_target=context.finding.target), self.fallback_ttl
