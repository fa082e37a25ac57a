"""Neira's factory CLI protocol against a real `neira-factory serve`, with Neira's files as they are.

tests/neira_shim/factory_cli.mjs makes the requests Neira's `scripts/factory-shim/index.mjs` makes, with
Node's fetch (bearer token, JSON bodies): dryrun-cell, create-cell --hitl, approve-cell with no body,
organ-build with and without --dryrun, organ-status. tests/fixtures/neira holds cells and organs in
Neira's own shapes; every organ case walks the cells it needs, then the organ, on a fresh server started as
the README says: with the examples loaded, some of which hold Neira's ids (the voice cells, the echo, reverse
and voice organs). An untouched example draft yields to Neira's file of its id.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e_support import Server, base_env
from support import ROOT, TOKENS

FIXTURES = ROOT / "tests" / "fixtures" / "neira"
SHIM = ROOT / "tests" / "neira_shim" / "factory_cli.mjs"
VOICE_CELLS = ["analysis.text_normalize.v1", "analysis.text_to_phonemes.v1", "analysis.speak_adapter.v1"]
# organ file -> the cells it needs, in link order (action.speak_adapter.v1 links analysis.speak_adapter.v1)
CASES = {
    "organs/organ.echo.v1.json": ["analysis.echo_adapter.v1"],
    "organs/older/organ.echo.v1.json": ["analysis.echo_adapter.v1"],
    "organs/organ.reverse.v1.json": ["analysis.reverse_adapter.v1"],
    "organs/organ.voice.v1.json": [*VOICE_CELLS, "action.speak_adapter.v1"],
    "organs/older/organ.voice.v1.json": VOICE_CELLS,
}
# the fields Neira's schemas allow (schemas/v1/*cell-template.schema.json, schemas/organ-template.schema.json)
CELL_FIELDS = {"id", "version", "analysis_type", "action_type", "links", "confidence_threshold", "draft_content",
               "metadata"}
ORGAN_FIELDS = {"id", "version", "roles", "cells", "nodes", "pathways", "channels", "policies"}
PATHWAY_FIELDS = {"name", "description", "cells"}


def read(relative: str) -> dict:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def shim(server: Server, *args: str) -> dict:
    """One command of the CLI; it must exit 0. Its answer's body."""
    done = run_shim(server, *args)
    assert done.returncode == 0, (f"`{' '.join(args)}` failed ({done.returncode}):\n{done.stderr}\n"
                                  f"server log:\n{server.stderr()[-4000:]}")
    answer = json.loads(done.stdout)
    assert answer["step"] == args[0] and 200 <= answer["status"] < 300, answer
    return answer["body"]


def run_shim(server: Server, *args: str) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "Node.js is not installed: ./scripts/setup.sh installs the `nodejs` package"
    env = base_env(FACTORY_BASE_URL=server.url, FACTORY_TOKEN=TOKENS["write"])
    return subprocess.run([node, str(SHIM), *args], cwd=FIXTURES, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_every_fixture_is_in_neiras_shape_and_driven_by_a_case():
    cells = {f"cells/{p.name}" for p in (FIXTURES / "cells").glob("*.json")}
    organs = {str(p.relative_to(FIXTURES)) for p in (FIXTURES / "organs").rglob("*.json")}
    assert organs == set(CASES)
    assert cells == {f"cells/{c}.json" for needed in CASES.values() for c in needed}
    for relative in sorted(cells):
        cell = read(relative)
        assert set(cell) <= CELL_FIELDS and isinstance(cell["metadata"]["schema"], str), relative
        assert ("analysis_type" in cell) != ("action_type" in cell), relative
        assert relative == f"cells/{cell['id']}.json"
    for relative in sorted(organs):
        organ = read(relative)
        assert set(organ) <= ORGAN_FIELDS and {"id", "roles"} <= set(organ), relative
        assert all(set(p) <= PATHWAY_FIELDS for p in organ.get("pathways", organ.get("channels", []))), relative
        assert Path(relative).name == f"{organ['id']}.json"


@pytest.mark.parametrize("organ_file", sorted(CASES))
def test_neiras_factory_cli_walks_cells_and_builds_the_organ(start_server, organ_file):
    server = start_server(examples=True)
    reader = server.client("read")

    def holder(node_id: str) -> str | None:
        """Who made the version of this id (None: there is none)."""
        found = reader.get(f"/factory/nodes/{node_id}")
        return found.json()["created_by"] if found.status_code == 200 else None

    for cell_id in CASES[organ_file]:
        spec = f"cells/{cell_id}.json"
        before = holder(cell_id)
        assert before in (None, "examples")
        checked = shim(server, "dryrun-cell", "--spec", spec)
        assert checked["report"]["id"] == cell_id and holder(cell_id) == before  # a dry-run makes nothing
        assert [r["code"] for r in checked["report"]["risks"] if r.get("field") == "id"] == (
            ["replaces_example"] if before else [])
        created = shim(server, "create-cell", "--spec", spec, "--hitl")
        assert (created["id"], created["state"]) == (cell_id, "draft")
        approved = shim(server, "approve-cell", "--id", cell_id, "--yes")
        assert (approved["state"], approved["previous"], approved["forced"]) == ("canary", "draft", False)
        detail = reader.get(f"/factory/nodes/{cell_id}").json()
        assert detail["state"] == "canary" and detail["created_by"] == "writer"
        assert detail["template"]["metadata"] == read(spec)["metadata"]

    organ = read(organ_file)
    members = organ.get("cells") or organ["nodes"]
    dry = shim(server, "organ-build", "--template", organ_file, "--dryrun")
    assert (dry["state"], dry["organ_id"]) == ("dry_run", None)
    assert dry["report"]["missing"] == [] and dry["report"]["graph"]["order"] == members
    assert not [r for r in dry["report"]["risks"] if r["severity"] == "blocking"], dry["report"]["risks"]
    before = holder(organ["id"])
    assert before in (None, "examples") and holder(organ["id"]) == before  # a dry-run makes nothing

    built = shim(server, "organ-build", "--template", organ_file)
    assert (built["state"], built["organ_id"]) == ("draft", organ["id"])
    assert organ["id"] in [o["id"] for o in reader.get("/organs").json()] and holder(organ["id"]) == "writer"
    stored = reader.get(f"/factory/nodes/{organ['id']}").json()["template"]
    assert stored["nodes"] == members and stored["policies"]["stage"] == "draft"
    pathways = organ.get("pathways") or organ.get("channels") or []
    assert [(c["name"], c.get("description")) for c in stored["channels"]] == [
        (p["name"], p.get("description")) for p in pathways]  # Neira's pathway notes are kept

    status = shim(server, "organ-status", "--id", organ["id"])
    assert (status["id"], status["state"]) == (organ["id"], "draft")
    assert [(n["id"], n["state"]) for n in status["nodes"]] == [(m, "canary") for m in members]
    assert status["metrics"]["requests"] == 0


def test_the_cli_names_the_failing_step_on_a_refusal_or_an_unexpected_body(start_server):
    server = start_server()
    spec = "cells/analysis.echo_adapter.v1.json"
    shim(server, "create-cell", "--spec", spec, "--hitl")

    again = run_shim(server, "create-cell", "--spec", spec, "--hitl")  # a second create of one id: 409
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.startswith("FAILED create-cell: HTTP 409") and '"code": "conflict"' in again.stderr

    checked = run_shim(server, "dryrun-cell", "--spec", spec)  # 200, but the report is not ok
    assert checked.returncode == 1
    assert checked.stderr.startswith("FAILED dryrun-cell: unexpected body: ok is true"), checked.stderr

    missing = run_shim(server, "organ-status", "--id", "organ.nowhere.v1")
    assert missing.returncode == 1 and missing.stderr.startswith("FAILED organ-status: HTTP 404"), missing.stderr
