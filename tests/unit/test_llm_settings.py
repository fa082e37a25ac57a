"""The LLM interpreter's settings: NEIRA_LLM_* read into Settings (the key never in a repr; an unknown provider or
a provider without a model stops the start), and the client the composition root builds from them: none without
NEIRA_LLM_PROVIDER, else the provider's, with the model, URL and timeout given."""
from __future__ import annotations

import pytest

from neira_factory.config import LLM_PROVIDERS, Settings
from neira_factory.services.llm_client import CLIENTS, OllamaClient, OpenAIClient, from_settings

KEY = "sk-test-key-never-shown"
LLM_VARS = ("NEIRA_LLM_PROVIDER", "NEIRA_LLM_BASE_URL", "NEIRA_LLM_MODEL", "NEIRA_LLM_API_KEY", "NEIRA_LLM_TIMEOUT_S")


@pytest.fixture
def env(monkeypatch):
    for name in (*LLM_VARS, "LLM_PROVIDER", "LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_a_provider_there_is_no_model(env):
    env.setenv("LLM_PROVIDER", "ollama")  # Neira's shim's own variables do not turn it on here
    env.setenv("LLM_MODEL", "qwen")
    settings = Settings.from_env()
    assert settings.llm_provider is None and from_settings(settings) is None


def test_the_variables_are_read_and_the_key_is_never_shown(env):
    env.setenv("NEIRA_LLM_PROVIDER", " OpenAI ")
    env.setenv("NEIRA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    env.setenv("NEIRA_LLM_MODEL", "gpt-test")
    env.setenv("NEIRA_LLM_API_KEY", KEY)
    env.setenv("NEIRA_LLM_TIMEOUT_S", "7")
    settings = Settings.from_env()
    assert (settings.llm_provider, settings.llm_base_url, settings.llm_model, settings.llm_api_key,
            settings.llm_timeout_s) == ("openai", "http://127.0.0.1:9/v1", "gpt-test", KEY, 7)
    assert KEY not in repr(settings)
    client = from_settings(settings)
    assert isinstance(client, OpenAIClient) and (client.provider, client.model) == ("openai", "gpt-test")
    assert str(client.client.base_url).rstrip("/") == "http://127.0.0.1:9/v1" and client.client.api_key == KEY
    assert client.client.timeout == 7 and client.client.max_retries == 0


def test_the_timeout_defaults_to_20_seconds_and_ollama_gets_the_settings(env):
    env.setenv("NEIRA_LLM_PROVIDER", "ollama")
    env.setenv("NEIRA_LLM_MODEL", "qwen2.5")
    env.setenv("NEIRA_LLM_BASE_URL", "http://127.0.0.1:9")
    env.setenv("NEIRA_LLM_API_KEY", KEY)
    settings = Settings.from_env()
    assert settings.llm_timeout_s == 20
    client = from_settings(settings)
    assert isinstance(client, OllamaClient) and client.model == "qwen2.5"
    http = client.client._client
    assert str(http.base_url).rstrip("/") == "http://127.0.0.1:9" and http.timeout.read == 20
    assert http.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(("values", "message"), [
    ({"NEIRA_LLM_PROVIDER": "claude", "NEIRA_LLM_MODEL": "m"}, "NEIRA_LLM_PROVIDER must be one of ollama, openai"),
    ({"NEIRA_LLM_PROVIDER": "ollama"}, "NEIRA_LLM_MODEL is required with NEIRA_LLM_PROVIDER"),
    ({"NEIRA_LLM_PROVIDER": "ollama", "NEIRA_LLM_MODEL": "m", "NEIRA_LLM_TIMEOUT_S": "0"},
     "NEIRA_LLM_TIMEOUT_S must be a positive integer"),
])
def test_a_bad_setting_stops_the_start(env, values, message):
    for name, value in values.items():
        env.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings.from_env()


def test_every_provider_has_a_client():
    assert set(CLIENTS) == set(LLM_PROVIDERS) and all(CLIENTS[p].provider == p for p in LLM_PROVIDERS)
