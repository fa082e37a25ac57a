"""`neira-factory say` against a real server: the plan and diff are shown, nothing is made without a
confirmation (no terminal, no --yes), and --yes makes the drafts."""
from __future__ import annotations

from e2e_support import run_cli
from support import TOKENS


def test_say_plans_asks_and_makes(start_server):
    server = start_server()
    reader = server.client("read")

    def say(*args: str, scope: str = "write"):
        return run_cli("say", *args, token=TOKENS[scope], url=server.url)

    refused = say("создай голосовой орган v1")
    assert refused.returncode == 1 and "confirmation_required" in refused.stderr
    assert "организ" not in refused.stdout and "organ.voice.v1" in refused.stdout  # the plan was shown
    assert reader.get("/organs").json() == []

    read_only = say("create voice organ v1", scope="read")
    assert read_only.returncode == 1 and "insufficient_scope" in read_only.stderr

    made = say("создай голосовой орган v1", "--yes")
    assert made.returncode == 0, made.stderr
    assert "organ.voice.v1" in made.stdout and "draft" in made.stdout
    assert [o["id"] for o in reader.get("/organs").json()] == ["organ.voice.v1"]

    status = say("Покажи статус способностей", scope="read")
    assert status.returncode == 0 and "factory_script" in status.stdout

    drafts = say("please list the draft organs", scope="read")  # a filtered listing; the words it skipped shown
    assert drafts.returncode == 0 and "organ.voice.v1" in drafts.stdout and "ignored: please, the" in drafts.stdout

    nonsense = say("asdf qwerty", "--yes")
    assert nonsense.returncode == 1 and "not_understood" in nonsense.stderr
