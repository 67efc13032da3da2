"""What an LLM analyzer is configured with (read from the environment by ``analyze.config``).

A module of its own so that the analyze function on the rules, the default, does not define it:
a nine-field frozen dataclass costs ~6 M instructions of a cold start to create.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LLMSettings"]


@dataclass(frozen=True)
class LLMSettings:
    backend: str
    model: str
    url: str
    api_key: str | None = None
    api_version: str | None = None
    timeout: float = 20.0
    temperature: float = 0.1
    max_tokens: int = 800
    cache_ttl: float = 300.0
