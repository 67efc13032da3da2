"""A scripted LLM server on 127.0.0.1: answers Ollama's /api/chat and OpenAI's
/v1/chat/completions with queued replies, and records every request body it received.

Each reply is a ``Reply``: the assistant's content (wrapped in the right envelope), or a raw
body and status (for 500s and broken envelopes), after an optional delay (for timeouts).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None  # the assistant's message text
    status: int = 200
    raw: str | None = None  # a body sent as is (instead of an envelope)
    delay: float = 0.0


def answer(root_cause: str, confidence: float, actions: list[dict] | None = None, explanation: str = "because") -> str:
    """A valid answer document as the model would write it."""
    return json.dumps({"root_cause": root_cause, "confidence": confidence, "explanation": explanation,
                       "actions": [{"params": None, "reason": "", **a} for a in (actions or [])]})


class ScriptedLLM:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.default = Reply(content=answer("unknown", 0.1))
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def start(self) -> "ScriptedLLM":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def prompts(self) -> list[str]:
        """The user-message text of every request, in order."""
        return [next(m["content"] for m in r["messages"] if m["role"] == "user") for r in self.requests]

    def _next(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if self.replies else self.default

    def _handler(self):
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with llm._lock:
                    llm.requests.append(body)
                    llm.paths.append(self.path)
                reply = llm._next()
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    payload = reply.raw
                elif self.path.endswith("/api/chat"):
                    payload = json.dumps({"model": body.get("model"), "created_at": "2024-01-01T00:00:00Z",
                                          "message": {"role": "assistant", "content": reply.content}, "done": True})
                elif self.path.endswith("/chat/completions"):
                    payload = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                                          "model": body.get("model"),
                                          "choices": [{"index": 0, "finish_reason": "stop",
                                                       "message": {"role": "assistant", "content": reply.content}}],
                                          "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = payload.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler
