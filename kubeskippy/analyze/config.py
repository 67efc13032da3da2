"""Choosing the analyzer from the environment.

The choice is made by configuration alone, never by probing which backend answers at start:
a function that silently ran on the rules because the model server was slow to boot would hide
a misconfiguration. Runtime failures still fall back to the rules per analysis (see llm.py).

| variable                        | meaning                                            | default            |
|---------------------------------|----------------------------------------------------|--------------------|
| KUBESKIPPY_ANALYZER             | rules, ollama or openai                            | rules              |
| KUBESKIPPY_LLM_MODEL            | model name (required for ollama/openai)            |                    |
| KUBESKIPPY_LLM_URL              | server URL (OpenAI-compatible: the /v1 base URL)   | per backend        |
| KUBESKIPPY_LLM_API_KEY          | API key (openai; local servers accept any value)   |                    |
| KUBESKIPPY_LLM_API_VERSION      | set to use Azure OpenAI (URL = azure endpoint)     |                    |
| KUBESKIPPY_LLM_TIMEOUT          | seconds per analysis, retries included             | 20                 |
| KUBESKIPPY_LLM_TEMPERATURE      | sampling temperature                               | 0.1                |
| KUBESKIPPY_LLM_MAX_TOKENS       | answer length cap                                  | 800                |
| KUBESKIPPY_LLM_CACHE_TTL        | seconds an analysis is reused for equal findings   | 300                |

Backends are network clients and live in kubeskippy/adapters; they are loaded by module name
(``BACKENDS``) so the core never imports a network client.
"""

from __future__ import annotations

import importlib
import math
from typing import TYPE_CHECKING, Mapping

from ..clock import Clock, WallClock
from ..errors import FieldError, InvalidInput
from ..lazy import lazy_attributes
from .diagnosis import Analyzer
from .rules import RulesAnalyzer

if TYPE_CHECKING:
    from .llm_settings import LLMSettings

__all__ = ["LLMSettings", "BACKENDS", "DEFAULT_URLS", "llm_settings_from_env", "analyzer_from_config"]

BACKENDS = {
    "ollama": "kubeskippy.adapters.llm_ollama:OllamaChat",
    "openai": "kubeskippy.adapters.llm_openai:OpenAIChat",
}
DEFAULT_URLS = {"ollama": "http://127.0.0.1:11434", "openai": "https://api.openai.com/v1"}


# ``LLMSettings`` lives in ``llm_settings``, loaded only when a model is configured.
__getattr__, __dir__ = lazy_attributes(__name__, {"LLMSettings": "llm_settings"})


def _number(env: Mapping[str, str], key: str, default: float, lo: float, hi: float, errors: list[FieldError]) -> float:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not lo <= value <= hi:
        errors.append(FieldError(key, f"must be a number in [{lo:g}, {hi:g}], got {raw!r}"))
        return default
    return value


def llm_settings_from_env(env: Mapping[str, str]) -> LLMSettings | None:
    """None for the rules analyzer; otherwise validated settings (InvalidInput names each bad variable)."""
    backend = (env.get("KUBESKIPPY_ANALYZER") or "rules").strip().lower()
    if backend == "rules":
        return None
    errors: list[FieldError] = []
    if backend not in BACKENDS:
        raise InvalidInput([FieldError("KUBESKIPPY_ANALYZER", f"must be rules, ollama or openai, got {backend!r}")],
                           source="environment")
    model = (env.get("KUBESKIPPY_LLM_MODEL") or "").strip()
    if not model:
        errors.append(FieldError("KUBESKIPPY_LLM_MODEL", f"required when KUBESKIPPY_ANALYZER={backend}"))
    url = (env.get("KUBESKIPPY_LLM_URL") or DEFAULT_URLS[backend]).strip()
    if not url.startswith(("http://", "https://")):
        errors.append(FieldError("KUBESKIPPY_LLM_URL", f"must be an http(s) URL, got {url!r}"))
    api_key = env.get("KUBESKIPPY_LLM_API_KEY") or None
    if backend == "openai" and api_key is None and url == DEFAULT_URLS["openai"]:
        errors.append(FieldError("KUBESKIPPY_LLM_API_KEY", "required for api.openai.com"))
    timeout = _number(env, "KUBESKIPPY_LLM_TIMEOUT", 20.0, 0.1, 600.0, errors)
    temperature = _number(env, "KUBESKIPPY_LLM_TEMPERATURE", 0.1, 0.0, 2.0, errors)
    max_tokens = _number(env, "KUBESKIPPY_LLM_MAX_TOKENS", 800, 16, 32768, errors)
    cache_ttl = _number(env, "KUBESKIPPY_LLM_CACHE_TTL", 300.0, 0.0, 86400.0, errors)
    if errors:
        raise InvalidInput(errors, source="environment")
    from .llm_settings import LLMSettings

    return LLMSettings(backend=backend, model=model, url=url, api_key=api_key,
                       api_version=env.get("KUBESKIPPY_LLM_API_VERSION") or None, timeout=timeout,
                       temperature=temperature, max_tokens=int(max_tokens), cache_ttl=cache_ttl)


def _load_backend(settings: LLMSettings):
    module_name, _, class_name = BACKENDS[settings.backend].partition(":")
    return getattr(importlib.import_module(module_name), class_name).from_settings(settings)


def analyzer_from_config(env: Mapping[str, str], *, clock: Clock | None = None) -> Analyzer:
    """The analyzer the environment asks for (see the module docstring for the variables)."""
    settings = llm_settings_from_env(env)
    if settings is None:
        return RulesAnalyzer()
    # Imported here: the LLM path (prompt models, redaction patterns, the answer cache) is
    # not loaded by a function that runs on the rules.
    from .llm import LLMAnalyzer

    return LLMAnalyzer(_load_backend(settings), clock=clock or WallClock(), budget=settings.timeout,
                       cache_ttl=settings.cache_ttl)
