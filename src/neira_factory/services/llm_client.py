"""The optional LLM interpreter's client: one structured-output chat call per command, to Ollama (`POST
/api/chat`, `format` = the JSON schema) or to an OpenAI-compatible server (`POST /v1/chat/completions`,
`response_format` = a strict json_schema), with the providers' official clients. The composition root builds it
once (`from_settings`) when NEIRA_LLM_PROVIDER is set; without it there is none and the rule parser is alone.

`ask` never raises for what a model or its server does: its Reply says what happened, `answered` (with the
parsed JSON), `bad_json` (not JSON, a key twice, nested past what Python reads, or longer than MAX_ANSWER),
`refused` (OpenAI's `refusal`, or an empty answer), `timeout` or `error` (unreachable, an HTTP error, an answer
not in the protocol). The clients' timeout bounds each read; `ask` bounds the whole call by the same time (a
server that trickles bytes would hold a command for ever), in a thread of its own, at most IN_FLIGHT at once.
The API key never appears in a Reply's detail or the log. The model is sent the system prompt and the user's
sentence, nothing else; what it answers is only read (commands/llm.py), never acted on.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..config import Settings

log = logging.getLogger(__name__)

SCHEMA_NAME = "intent"
MAX_ANSWER = 20_000  # characters: an Intent's JSON is a few hundred
IN_FLIGHT = 4  # calls to the model at once; one past its deadline holds its place until its server lets go


@dataclass(frozen=True)
class Reply:
    """What one call came to."""

    outcome: str  # answered | bad_json | refused | timeout | error
    answer: Any = None  # the parsed JSON, when answered
    detail: str = ""


class LLMClient:
    """One provider's chat endpoint; a subclass makes the call and names the exceptions that are timeouts."""

    provider = ""
    timeouts: tuple[type[BaseException], ...] = ()

    def __init__(self, model: str, api_key: str | None = None, timeout_s: float = 20) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self._secret = api_key
        self._slots = threading.BoundedSemaphore(IN_FLIGHT)

    def ask(self, system: str, text: str, schema: dict[str, Any]) -> Reply:
        """The model's answer to `text`, which must follow `schema`, within timeout_s in all."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
        deadline = time.monotonic() + self.timeout_s
        if not self._slots.acquire(timeout=self.timeout_s):
            return Reply("timeout", detail=f"{IN_FLIGHT} earlier calls to the model are still waiting for it")
        answers: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
        threading.Thread(target=self._call, args=(messages, schema, answers), daemon=True, name="llm-call").start()
        try:
            (content, refusal), failed = answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return Reply("timeout", detail=f"no whole answer within {self.timeout_s:g} s")
        if isinstance(failed, self.timeouts):
            return Reply("timeout", detail=self._said(str(failed) or type(failed).__name__))
        if failed is not None:  # whatever the server did, the command is only not understood
            detail = self._said(f"{type(failed).__name__}: {failed}")
            log.warning("the %s model %s could not be asked: %s", self.provider, self.model, detail)
            return Reply("error", detail=detail[:300])
        if refusal or not (content or "").strip():
            return Reply("refused", detail=self._said(refusal or "the model answered nothing"))
        return _parsed(content)

    def _call(self, messages: list[dict[str, str]], schema: dict[str, Any], answers: queue.Queue) -> None:
        """One chat call, its answer or its exception put for `ask` (which may have stopped waiting)."""
        try:
            answers.put((self._chat(messages, schema), None))
        except Exception as exc:  # noqa: BLE001 - handed to ask, which says what it came to
            answers.put(((None, None), exc))
        finally:
            self._slots.release()

    def _said(self, detail: str) -> str:
        """A detail without the API key (a server may echo the request's headers in its error)."""
        return detail.replace(self._secret, "***") if self._secret else detail

    def _chat(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> tuple[str | None, str | None]:
        """(the answer's text, the model's refusal)."""
        raise NotImplementedError


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once (json.loads would keep the last of two silently)."""
    found = dict(pairs)
    if len(found) < len(pairs):
        twice = sorted(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)
        raise ValueError(f"keys given twice: {', '.join(twice)}")
    return found


def _parsed(content: str) -> Reply:
    """The answer's JSON, read strictly: a key given twice, nesting deeper than Python reads (RecursionError)
    or more than MAX_ANSWER characters are bad_json, not a guess or a 500."""
    if len(content) > MAX_ANSWER:
        return Reply("bad_json", detail=f"{len(content)} characters, more than the {MAX_ANSWER} an Intent needs")
    try:
        return Reply("answered", json.loads(content, object_pairs_hook=_unique))
    except (ValueError, RecursionError) as exc:
        return Reply("bad_json", detail=f"{exc}: {content[:200]}")


class OllamaClient(LLMClient):
    provider = "ollama"

    def __init__(self, model: str, base_url: str | None, api_key: str | None, timeout_s: float) -> None:
        import httpx
        import ollama

        super().__init__(model, api_key, timeout_s)
        headers = {"authorization": f"Bearer {api_key}"} if api_key else None
        self.client = ollama.Client(host=base_url, timeout=timeout_s, headers=headers)
        self.timeouts = (httpx.TimeoutException,)

    def _chat(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> tuple[str | None, str | None]:
        response = self.client.chat(model=self.model, messages=messages, format=schema, stream=False,
                                    options={"temperature": 0})
        return response.message.content, None


class OpenAIClient(LLMClient):
    provider = "openai"

    def __init__(self, model: str, base_url: str | None, api_key: str | None, timeout_s: float) -> None:
        import openai

        super().__init__(model, api_key, timeout_s)
        # a local OpenAI-compatible server wants no key; the client wants one all the same
        self.client = openai.OpenAI(api_key=api_key or "unset", base_url=base_url, timeout=timeout_s, max_retries=0)
        self.timeouts = (openai.APITimeoutError,)

    def _chat(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> tuple[str | None, str | None]:
        completion = self.client.chat.completions.create(
            model=self.model, messages=messages, temperature=0,
            response_format={"type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "schema": schema,
                                                                    "strict": True}})
        message = completion.choices[0].message
        return message.content, message.refusal


CLIENTS: dict[str, type[OllamaClient] | type[OpenAIClient]] = {"ollama": OllamaClient, "openai": OpenAIClient}


def from_settings(settings: Settings) -> LLMClient | None:
    """The configured model's client; None without NEIRA_LLM_PROVIDER."""
    if not settings.llm_provider:
        return None
    kind = CLIENTS[settings.llm_provider]
    return kind(settings.llm_model or "", settings.llm_base_url, settings.llm_api_key, settings.llm_timeout_s)
