"""The optional LLM interpreter's client: one structured-output chat call per command, to Ollama (`POST
/api/chat`, `format` = the JSON schema) or to an OpenAI-compatible server (`POST /v1/chat/completions`,
`response_format` = a strict json_schema), with the providers' official clients. The composition root builds it
once (`from_settings`) when NEIRA_LLM_PROVIDER is set; without it there is none and the rule parser is alone.

`ask` never raises for what a model or its server does: its Reply says what happened, `answered` (with the
parsed JSON), `bad_json`, `refused` (OpenAI's `refusal`, or an empty answer), `timeout` or `error`
(unreachable, an HTTP error, an answer not in the protocol). The model is sent the system prompt and the
user's sentence, nothing else; what it answers is only read (commands/llm.py), never acted on.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from ..config import Settings

log = logging.getLogger(__name__)

SCHEMA_NAME = "intent"


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

    def __init__(self, model: str) -> None:
        self.model = model

    def ask(self, system: str, text: str, schema: dict[str, Any]) -> Reply:
        """The model's answer to `text`, which must follow `schema`."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
        try:
            content, refusal = self._chat(messages, schema)
        except self.timeouts as exc:
            return Reply("timeout", detail=str(exc) or type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - whatever the server does, the command is only not understood
            log.warning("the %s model %s could not be asked", self.provider, self.model, exc_info=True)
            return Reply("error", detail=f"{type(exc).__name__}: {exc}"[:300])
        if refusal or not (content or "").strip():
            return Reply("refused", detail=refusal or "the model answered nothing")
        try:
            return Reply("answered", json.loads(content))
        except ValueError:
            return Reply("bad_json", detail=content[:300])

    def _chat(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> tuple[str | None, str | None]:
        """(the answer's text, the model's refusal)."""
        raise NotImplementedError


class OllamaClient(LLMClient):
    provider = "ollama"

    def __init__(self, model: str, base_url: str | None, api_key: str | None, timeout_s: float) -> None:
        import httpx
        import ollama

        super().__init__(model)
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

        super().__init__(model)
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
