"""The Ollama backend for the LLM analyzer, through the official ``ollama`` client.

Structured output: the answer's JSON Schema goes in ``format``, so the server constrains the
model to it; the analyzer still parses strictly. Library errors become KubeSkippy errors with
their cause chained: an HTTP status → :func:`api_error_for_status`, no connection or a timeout →
:class:`TemporaryError`. Each call gets its own client with the remaining time budget as timeout.
"""

from __future__ import annotations

from typing import Any

import httpx
import ollama

from ..errors import TemporaryError, api_error_for_status

__all__ = ["OllamaChat"]


class OllamaChat:
    """``ChatBackend`` for an Ollama server (``/api/chat``)."""

    name = "ollama"

    def __init__(self, *, model: str, host: str, temperature: float = 0.1, max_tokens: int = 800,
                 headers: dict[str, str] | None = None) -> None:
        self.model = model
        self.host = host
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.headers = headers

    @classmethod
    def from_settings(cls, settings: Any) -> "OllamaChat":
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else None
        return cls(model=settings.model, host=settings.url, temperature=settings.temperature,
                   max_tokens=settings.max_tokens, headers=headers)

    def complete(self, messages: list[dict[str, str]], schema: dict, *, timeout: float) -> str:
        try:
            with ollama.Client(host=self.host, timeout=timeout, headers=self.headers) as client:
                response = client.chat(model=self.model, messages=messages, format=schema, stream=False,
                                       options={"temperature": self.temperature, "num_predict": self.max_tokens})
        except ollama.ResponseError as e:
            raise api_error_for_status(e.status_code, f"ollama at {self.host}: {e.error}") from e
        except httpx.TimeoutException as e:
            raise TemporaryError(f"ollama at {self.host} did not answer within {timeout:.1f}s") from e
        except (ConnectionError, httpx.HTTPError) as e:
            raise TemporaryError(f"ollama at {self.host} is unreachable: {e}") from e
        except (ValueError, TypeError, KeyError) as e:  # a body that is not an Ollama chat response
            raise TemporaryError(f"ollama at {self.host} sent an unreadable response: {e}") from e
        return (response.message.content or "") if response.message else ""
