"""A memory route for the tests of its API, CLI and admin page: its template, a stable version of it, and
records as JSON Lines."""
from __future__ import annotations

import json
from typing import Any

from seeding import to_stable

from neira_factory.domain.actors import SYSTEM
from neira_factory.services import fabricate

ROUTE, STORE = "memory.facts", "facts"


def memory_template(node_id: str = f"{ROUTE}.v1", store: str = STORE, capacity: int = 10_000) -> dict[str, Any]:
    return {"id": node_id, "version": "0.1.0", "memory_type": "knowledge", "backend": "memory",
            "memory": {"store": store, "capacity": capacity, "language": "en"},
            "limits": {"timeout_ms": 5000}}  # a write waits for the database's lock: room for a loaded test machine


def stable_memory(f, node_id: str = f"{ROUTE}.v1", **template: Any) -> str:
    """A stable memory node (draft → stable); its route."""
    fabricate.create(f.fabricate, SYSTEM, memory_template(node_id, **template))
    to_stable(f, node_id)
    return node_id.rsplit(".", 1)[0]


def facts(n: int, prefix: str = "fact") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}-{i}", "description": f"{prefix} number {i} about gravitation",
             "keywords": ["physics"], "credibility": 0.5 + (i % 5) / 10} for i in range(n)]


def jsonl(records: list[Any]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
