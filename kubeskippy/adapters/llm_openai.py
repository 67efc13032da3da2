"""The OpenAI-compatible backend for the LLM analyzer, through the official ``openai`` client.

Works with OpenAI, Azure OpenAI (when an API version is configured) and servers that speak the
same chat-completions API: vLLM, llama.cpp's server, LM Studio. Structured output goes as
``response_format`` ``json_schema``. OpenAI's and Azure's strict mode reject ``minLength`` and
``maxLength``, so their wire copy drops them (the analyzer still validates the full schema);
self-hosted servers get the full schema, whose length limits their grammars enforce — that also
stops a small model from rambling. The client's own retries are off: the analyzer owns retries
and the time budget.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import openai

from ..errors import TemporaryError, api_error_for_status

__all__ = ["OpenAIChat", "wire_schema", "HOSTED"]

HOSTED = frozenset({"api.openai.com"})
"""Hosts whose strict structured output rejects length keywords (Azure is recognised by its API version)."""

_UNSUPPORTED_IN_STRICT = frozenset({"minLength", "maxLength"})


def wire_schema(schema: Any) -> Any:
    """A copy of ``schema`` without the keywords strict structured output rejects."""
    if isinstance(schema, dict):
        return {k: wire_schema(v) for k, v in schema.items() if k not in _UNSUPPORTED_IN_STRICT}
    if isinstance(schema, list):
        return [wire_schema(v) for v in schema]
    return schema


class OpenAIChat:
    """``ChatBackend`` for ``/v1/chat/completions``."""

    name = "openai"

    def __init__(self, *, model: str, base_url: str, api_key: str | None = None, api_version: str | None = None,
                 temperature: float = 0.1, max_tokens: int = 800) -> None:
        self.model = model
        self.base_url = base_url
        self.hosted = bool(api_version) or urlsplit(base_url).hostname in HOSTED
        self.temperature = temperature
        self.max_tokens = max_tokens
        key = api_key or "not-needed"  # local servers accept any key; the client insists on one
        if api_version:
            self._client: openai.OpenAI = openai.AzureOpenAI(azure_endpoint=base_url, api_key=key,
                                                             api_version=api_version, max_retries=0)
        else:
            self._client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0)

    @classmethod
    def from_settings(cls, settings: Any) -> "OpenAIChat":
        return cls(model=settings.model, base_url=settings.url, api_key=settings.api_key,
                   api_version=settings.api_version, temperature=settings.temperature, max_tokens=settings.max_tokens)

    def complete(self, messages: list[dict[str, str]], schema: dict, *, timeout: float) -> str:
        try:
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=self.temperature,  # type: ignore[arg-type]
                max_tokens=self.max_tokens, timeout=timeout,
                response_format={"type": "json_schema",
                                 "json_schema": {"name": "kubeskippy_diagnosis", "strict": True,
                                                 "schema": wire_schema(schema) if self.hosted else schema}},
            )
        except openai.APITimeoutError as e:
            raise TemporaryError(f"{self.base_url} did not answer within {timeout:.1f}s") from e
        except openai.APIStatusError as e:
            raise api_error_for_status(e.status_code, f"{self.base_url}: {e.message}") from e
        except openai.APIConnectionError as e:
            raise TemporaryError(f"{self.base_url} is unreachable: {e}") from e
        except (openai.OpenAIError, ValueError, TypeError) as e:  # unreadable body and the like
            raise TemporaryError(f"{self.base_url} sent an unreadable response: {e}") from e
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""
