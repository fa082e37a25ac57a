"""The LLM interpreter in a real server: NEIRA_LLM_* in `serve`'s environment turn it on, a sentence the rules
cannot read reaches the (fake) model, and `neira-factory say` shows that the model read it."""
from __future__ import annotations

from e2e_support import run_cli
from llm_support import OLLAMA_PATH, FakeLLM, answer_of
from support import TOKENS


def test_serve_reads_the_llm_settings_and_say_shows_the_model_read_the_command(start_server):
    with FakeLLM() as fake:
        fake.reply(answer_of({"action": "status", "target": "capabilities"}))
        server = start_server(env={"NEIRA_LLM_PROVIDER": "ollama", "NEIRA_LLM_BASE_URL": fake.url,
                                   "NEIRA_LLM_MODEL": "fake-model", "NEIRA_LLM_TIMEOUT_S": "5"})
        shown = run_cli("say", "Zeig mir alle Fähigkeiten", token=TOKENS["read"], url=server.url)
        assert shown.returncode == 0, shown.stderr
        assert "read by the model ollama/fake-model" in shown.stdout and "factory_script" in shown.stdout
        assert [(path, body["model"], body["messages"][-1]["content"]) for path, body in fake.requests] == [
            (OLLAMA_PATH, "fake-model", "Zeig mir alle Fähigkeiten")]
