"""scripts/export_schemas.py: the committed schemas/ match the models, and --check catches drift."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from neira_factory.domain.templates import FabricationRequest, FactorySpec, NodeTemplate, OrganTemplate

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "export_schemas.py"
SCHEMAS = ROOT / "schemas"
MODELS = (NodeTemplate, FactorySpec, FabricationRequest, OrganTemplate)


def _load_script():
    spec = importlib.util.spec_from_file_location("neira_export_schemas", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


export = _load_script()


def test_committed_schemas_are_up_to_date():
    stale = export.stale(SCHEMAS)
    assert stale == [], f"stale schemas {stale}: run .venv/bin/python scripts/export_schemas.py"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_committed_file_equals_generated_schema(model):
    path = SCHEMAS / f"{model.__name__}.schema.json"
    text = path.read_text(encoding="utf-8")
    assert text == export.render(model)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # pretty, sorted keys
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert data["$id"].endswith(model.__name__)
    assert data["title"] == model.__name__
    assert data["additionalProperties"] is False


def test_schema_ids_are_distinct():
    ids = {json.loads((SCHEMAS / export.filename(m)).read_text())["$id"] for m in MODELS}
    assert len(ids) == len(MODELS)


def test_node_template_schema_is_the_validation_schema():
    schema = json.loads((SCHEMAS / "NodeTemplate.schema.json").read_text())
    assert sorted(schema["required"]) == ["id", "version"]
    for name in ("analysis_type", "action_type", "memory_type", "links", "confidence_threshold", "draft_content",
                 "metadata", "backend", "route", "io", "adapter", "script", "wasm", "memory", "params", "limits",
                 "examples", "rollout"):
        assert name in schema["properties"], name
    assert schema["properties"]["backend"]["anyOf"][0]["enum"] == ["adapter", "script", "wasm", "memory"]
    assert schema["$defs"]["Limits"]["properties"]["timeout_ms"]["exclusiveMinimum"] == 0


def test_organ_schema_lists_both_spellings_and_refuses_both_at_once():
    schema = json.loads((SCHEMAS / "OrganTemplate.schema.json").read_text())
    props = schema["properties"]
    assert props["nodes"]["items"] == props["cells"]["items"]
    assert props["channels"]["items"] == props["pathways"]["items"]
    assert {"not": {"required": ["nodes", "cells"]}} in schema["allOf"]
    assert {"not": {"required": ["channels", "pathways"]}} in schema["allOf"]


def test_request_and_spec_embed_the_node_template():
    for model in (FactorySpec, FabricationRequest):
        schema = json.loads((SCHEMAS / export.filename(model)).read_text())
        assert schema["properties"]["template"] == {"$ref": "#/$defs/NodeTemplate"}
        assert "NodeTemplate" in schema["$defs"]


def test_check_reports_a_stale_file(tmp_path, capsys):
    assert export.main(["--dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(export.filename(m) for m in MODELS)
    assert export.main(["--check", "--dir", str(tmp_path)]) == 0
    path = tmp_path / "OrganTemplate.schema.json"
    path.write_text(path.read_text().replace('"Cells"', '"Old cells"'))
    (tmp_path / "FactorySpec.schema.json").unlink()
    capsys.readouterr()
    assert export.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "OrganTemplate.schema.json" in err and "FactorySpec.schema.json" in err
    assert "NodeTemplate.schema.json" not in err
    assert export.main(["--dir", str(tmp_path)]) == 0
    assert export.stale(tmp_path) == []


def test_check_from_the_command_line():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
