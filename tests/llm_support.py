"""A fake LLM server for the LLM interpreter's tests: a real HTTP server on 127.0.0.1 that speaks the two chat
protocols as documented, Ollama's `POST /api/chat` (stream false) and OpenAI's `POST /v1/chat/completions`, records
every request, and answers what the test scripts: the message's content (valid or bad JSON), a refusal, a delay,
a body trickled a byte at a time, or an HTTP error (whose body echoes the request's Authorization header, as
some servers do). No model runs.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

OLLAMA_PATH, OPENAI_PATH = "/api/chat", "/v1/chat/completions"
TRICKLED = 16  # bytes of a trickled body sent one at a time


def answer_of(intent: dict[str, Any]) -> dict[str, Any]:
    """A model's whole answer for `intent`: every field of the schema, the unnamed ones null or empty."""
    return {"action": None, "target": None, "name": None, "version": None, "options": [], "steps": [],
            "state": None, **intent}


class FakeLLM:
    """Answers every chat request with the scripted reply (`reply`); `requests` holds (path, JSON body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.content: str | None = "{}"
        self.refusal: str | None = None
        self.delay_s = 0.0
        self.trickle_s = 0.0
        self.status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append((self.path, body))
                time.sleep(fake.delay_s)
                reply = fake.reply_for(self.path, body)
                if reply[0] != 200:  # each protocol's error body, echoing the credentials
                    said = f"{reply[1]['error']} (authorization: {self.headers.get('Authorization')})"
                    reply = reply[0], {"error": {"message": said} if self.path == OPENAI_PATH else said}
                data = json.dumps(reply[1]).encode()
                try:
                    self.send_response(reply[0])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.send(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def send(self, data: bytes) -> None:
                """The body at once, or its first TRICKLED bytes one at a time, trickle_s apart (each read
                of the client's gets a byte well within its timeout)."""
                if fake.trickle_s:
                    for byte in data[:TRICKLED]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(fake.trickle_s)
                    data = data[TRICKLED:]
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def reply(self, content: str | dict[str, Any] | None = None, *, refusal: str | None = None,
              delay_s: float = 0.0, status: int = 200, trickle_s: float = 0.0) -> None:
        """What the next requests get: `content` (a dict is sent as its JSON text), a refusal, after a delay,
        its body trickled."""
        self.content = json.dumps(content) if isinstance(content, dict) else content
        self.refusal, self.delay_s, self.status, self.trickle_s = refusal, delay_s, status, trickle_s

    def reply_for(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.status != 200:
            return self.status, {"error": "scripted failure"}
        if path == OLLAMA_PATH:  # Ollama has no refusal field: a refusing model answers nothing
            return 200, {"model": body.get("model"), "created_at": "2025-01-01T00:00:00Z", "done": True,
                         "done_reason": "stop", "message": {"role": "assistant",
                                                            "content": "" if self.refusal else self.content or ""}}
        if path == OPENAI_PATH:
            message = {"role": "assistant", "content": None if self.refusal else self.content,
                       "refusal": self.refusal}
            return 200, {"id": "chatcmpl-test", "object": "chat.completion", "created": 1735689600,
                         "model": body.get("model"), "choices": [{"index": 0, "message": message, "logprobs": None,
                                                                  "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return 404, {"error": f"no route {path}"}

    def base_url(self, provider: str) -> str:
        """NEIRA_LLM_BASE_URL for `provider`: OpenAI's clients take the URL up to /v1."""
        return f"{self.url}/v1" if provider == "openai" else self.url

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
