#!/usr/bin/env python3
"""Write the JSON Schemas of the descriptor models into schemas/<Model>.schema.json.

    .venv/bin/python scripts/export_schemas.py          # (re)write the files
    .venv/bin/python scripts/export_schemas.py --check  # exit 1 and list stale files

The schemas are pydantic's validation-mode schemas (what a client may send) of
NodeTemplate, FactorySpec, FabricationRequest and OrganTemplate, with `$schema`
and `$id` added. A field that has an alias and also accepts its own name
(OrganTemplate's `nodes`/`cells`, `channels`/`pathways`) is listed under both
names, and giving both is refused, as the model does. Rules that live in the
models' validators (id syntax, exactly one *_type, a script/wasm payload for
that backend, organs needing nodes) are not expressed: see docs/descriptors.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from neira_factory.domain.templates import (  # noqa: E402
    FabricationRequest,
    FactorySpec,
    NodeTemplate,
    OrganTemplate,
)

MODELS: tuple[type[BaseModel], ...] = (NodeTemplate, FactorySpec, FabricationRequest, OrganTemplate)
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:neira-factory:schema:"
DEFAULT_DIR = ROOT / "schemas"


def filename(model: type[BaseModel]) -> str:
    return f"{model.__name__}.schema.json"


def _add_field_names(model: type[BaseModel], schema: dict[str, Any]) -> None:
    """List aliased fields under their own names too, when the model accepts both spellings."""
    if not model.model_config.get("populate_by_name"):
        return
    properties = schema.get("properties", {})
    pairs = []
    for name, field in model.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
        if alias and alias != name and alias in properties and name not in properties:
            properties[name] = copy.deepcopy(properties[alias])
            properties[name]["title"] = name.replace("_", " ").title()
            pairs.append((name, alias))
    if pairs:
        schema["properties"] = dict(sorted(properties.items()))
        schema.setdefault("allOf", []).extend({"not": {"required": [name, alias]}} for name, alias in pairs)


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    _add_field_names(model, schema)
    return {"$schema": SCHEMA_DIALECT, "$id": f"{ID_PREFIX}{model.__name__}", **schema}


def render(model: type[BaseModel]) -> str:
    return json.dumps(schema_of(model), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name → the text it should hold."""
    return {filename(model): render(model) for model in MODELS}


def stale(directory: Path = DEFAULT_DIR) -> list[str]:
    """Files that are missing or differ from what the models give now."""
    found = []
    for name, text in rendered().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            found.append(name)
    return found


def write(directory: Path = DEFAULT_DIR) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a file is stale")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="output directory (default: schemas/)")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.dir)
        for name in bad:
            print(f"stale: {args.dir / name}", file=sys.stderr)
        if bad:
            print("run: .venv/bin/python scripts/export_schemas.py", file=sys.stderr)
            return 1
        print(f"{len(MODELS)} schemas up to date")
        return 0
    written = write(args.dir)
    for name in written:
        print(f"wrote {args.dir / name}")
    if not written:
        print(f"{len(MODELS)} schemas up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
