"""The authorization matrix, generated from the OpenAPI document: EVERY write endpoint (any POST, PUT, PATCH
or DELETE that `app.openapi()` lists) × no token / read / write / admin × safe-mode off / on × the state of
the gate the endpoint depends on (open / locked, where it depends on one).

Each endpoint is mapped here to the policy decisions its request passes (`CASES`: action, and the gates
that decision names); the expected outcome of every combination comes from the policy table
`neira_factory.policy.rules.ACTIONS` through `authz_support.expected`. Only the allowed combinations
succeed (2xx), and every refusal is `{code, reason}` with the expected code (unauthorized /
insufficient_scope / safe_mode / capability_disabled), naming the capability or the required role.

An endpoint that the document lists and `CASES` does not map fails `test_every_write_endpoint_is_mapped`:
a new endpoint cannot be forgotten. tests/integration/test_api_authorization.py keeps its hand-written
matrix (reads included); this one is the generated, complete one for writes.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from authz_support import (
    MODULE_DRAFT,
    MODULE_QUARANTINED,
    MODULE_STABLE,
    ORGAN_CANARY,
    ORGAN_DRAFT,
    ORGAN_QUARANTINED,
    SCOPES,
    Step,
    World,
    expected,
    headers,
    make_template,
)
from fastapi.routing import APIRoute
from memory_support import ROUTE as MEMORY_ROUTE
from seeding import CANARY, DRAFT, QUARANTINED, STABLE, TRAINABLE
from support import make_settings

from neira_factory.api.app import create_app
from neira_factory.policy import ACTIONS
from neira_factory.services.bootstrap import build_services
from neira_factory.config.tokens import TokenRegistry

WRITE_METHODS = {"post", "put", "patch", "delete"}
NEW_NODE = {"id": "analysis.reverse.v2", "version": "0.2.0", "analysis_type": "reverse"}
NEW_MODULE = {"id": "factory.selector.v3", "version": "0.3.0", "analysis_type": "selector_weights"}
NEW_ORGAN = {"id": "organ.other.v1", "nodes": [STABLE], "channels": [{"name": "main", "nodes": [STABLE]}]}


@dataclass(frozen=True)
class Case:
    """One request to a write endpoint and the policy decisions it passes, in order."""

    method: str
    path: str  # the OpenAPI path template
    params: dict[str, str]  # path parameters ({run:done} / {run:waiting}: a seeded training run)
    body: Any
    steps: tuple[Step, ...]
    gate: str | None = None  # the gate the matrix opens and locks for this case
    name: str = ""
    before: Callable[[World, str | None], dict[str, Any]] | None = None  # prepares the body per caller

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.name}]" if self.name else "")


def confirm_token(world: World, scope: str | None) -> dict[str, Any]:
    """A plan made by the caller itself (read cannot get one: it uses an admin's, refused before the lookup)."""
    planner = scope if scope in ("write", "admin") else "admin"
    plan = world.client.post("/factory/commands", json={"text": "create node reverse"}, headers=headers(planner))
    assert plan.status_code == 200 and plan.json()["confirm_token"], plan.text
    return {"confirm_token": plan.json()["confirm_token"]}


def node_cases(prefix: str) -> list[Case]:
    p = f"/factory/{prefix}"
    node = f"{p}/{{node_id}}"
    return [
        Case("POST", f"{p}/dryrun", {}, NEW_NODE, (Step("nodes.dryrun"),)),
        Case("POST", p, {}, NEW_NODE, (Step("nodes.create", ("factory_adapter",)),), gate="factory_adapter"),
        Case("POST", p, {}, NEW_MODULE, (Step("nodes.create", ("factory_adapter", "self_edit")),), gate="self_edit",
             name="a factory module"),
        Case("POST", f"{node}/approve", {"node_id": DRAFT}, {"reason": "clean"}, (Step("nodes.approve"),)),
        Case("POST", f"{node}/approve", {"node_id": CANARY}, {"reason": "no traffic yet", "force": True},
             (Step("nodes.approve"), Step("nodes.force")), name="force"),
        Case("POST", f"{node}/approve", {"node_id": MODULE_DRAFT}, {}, (Step("nodes.approve", ("self_edit",)),),
             gate="self_edit", name="a factory module"),
        Case("POST", f"{node}/rollback", {"node_id": CANARY}, {"reason": "bad"}, (Step("nodes.rollback"),)),
        Case("POST", f"{node}/rollback", {"node_id": MODULE_STABLE}, {"reason": "bad"},
             (Step("nodes.rollback", ("self_edit",)),), gate="self_edit", name="a factory module"),
        Case("POST", f"{node}/disable", {"node_id": DRAFT}, {}, (Step("nodes.disable"),)),
        Case("POST", f"{node}/disable", {"node_id": MODULE_STABLE}, {}, (Step("nodes.disable", ("self_edit",)),),
             gate="self_edit", name="a factory module"),
        Case("POST", f"{node}/quarantine", {"node_id": DRAFT}, {"reason": "suspect"}, (Step("nodes.quarantine"),)),
        Case("POST", f"{node}/quarantine", {"node_id": MODULE_STABLE}, {"reason": "suspect"},
             (Step("nodes.quarantine", ("self_edit",)),), gate="self_edit", name="a factory module"),
        Case("POST", f"{node}/release", {"node_id": QUARANTINED}, {}, (Step("nodes.release"),)),
        Case("POST", f"{node}/release", {"node_id": MODULE_QUARANTINED}, {},
             (Step("nodes.release", ("self_edit",)),), gate="self_edit", name="a factory module"),
        Case("POST", f"{node}/run", {"node_id": DRAFT}, {"input": {"text": "abc"}}, (Step("nodes.run"),)),
    ]


CASES: list[Case] = [
    *node_cases("nodes"),
    *node_cases("cells"),
    Case("POST", "/factory/nodes/{node_id}/train", {"node_id": TRAINABLE},
         {"dataset": [{"input": {"text": "free win"}, "expected": "spam"}], "max_iterations": 1},
         (Step("training.start"),)),
    Case("POST", "/factory/cells/{node_id}/train", {"node_id": TRAINABLE},  # hidden from the document
         {"dataset": [{"input": {"text": "free win"}, "expected": "spam"}], "max_iterations": 1},
         (Step("training.start"),), name="Neira's alias, not in the document"),
    Case("PUT", "/capabilities/{name}", {"name": "factory_script"}, {"state": "experimental"},
         (Step("capabilities.set"),)),
    Case("POST", "/immune/safe-mode", {}, {"on": True}, (Step("safe_mode.set"),)),
    Case("POST", "/invoke/{route}", {"route": "analysis.mirror"}, {"input": {"text": "abc"}, "key": "k"},
         (Step("routes.invoke"),)),
    Case("POST", "/invoke/{route}", {"route": MEMORY_ROUTE}, {"input": {"op": "put", "record": {"description": "x"}}},
         (Step("memory.write", ("factory_memory",)),), gate="factory_memory", name="a memory put"),
    Case("POST", "/invoke/{route}", {"route": MEMORY_ROUTE}, {"input": {"op": "search", "query": "x"}},
         (Step("memory.read", ("factory_memory",)),), gate="factory_memory", name="a memory search"),
    Case("POST", "/memory/{route}/import", {"route": MEMORY_ROUTE}, [{"description": "imported"}],
         (Step("memory.write", ("factory_memory",)),), gate="factory_memory"),
    Case("POST", "/organs/build", {}, {"organ_template": NEW_ORGAN}, (Step("organs.dryrun", ("organs_builder",)),),
         gate="organs_builder", name="dry-run"),
    Case("POST", "/organs/build", {}, {"organ_template": NEW_ORGAN, "dryrun": False},
         (Step("organs.build", ("organs_builder",)),), gate="organs_builder", name="build"),
    Case("POST", "/organs/{organ_id}/run", {"organ_id": ORGAN_DRAFT}, {"input": {"text": "abc"}},
         (Step("nodes.run"),)),
    Case("DELETE", "/organs/{organ_id}/build", {"organ_id": ORGAN_DRAFT}, None, (Step("nodes.fail"),)),
    Case("POST", "/organs/{organ_id}/approve", {"organ_id": ORGAN_DRAFT}, {}, (Step("nodes.approve"),)),
    Case("POST", "/organs/{organ_id}/rollback", {"organ_id": ORGAN_CANARY}, {"reason": "bad"},
         (Step("nodes.rollback"),)),
    Case("POST", "/organs/{organ_id}/disable", {"organ_id": ORGAN_DRAFT}, {}, (Step("nodes.disable"),)),
    Case("POST", "/organs/{organ_id}/quarantine", {"organ_id": ORGAN_DRAFT}, {"reason": "suspect"},
         (Step("nodes.quarantine"),)),
    Case("POST", "/organs/{organ_id}/release", {"organ_id": ORGAN_QUARANTINED}, {}, (Step("nodes.release"),)),
    Case("POST", "/factory/commands", {}, {"text": "show capabilities"}, (Step("commands.plan"),)),
    Case("POST", "/factory/commands/confirm", {}, None,
         (Step("commands.confirm"), Step("nodes.create", ("factory_adapter",))), gate="factory_adapter",
         before=confirm_token),
    Case("POST", "/training/{run_id}/continue", {"run_id": "{run:waiting}"}, {}, (Step("training.decide"),)),
    Case("POST", "/training/{run_id}/approve", {"run_id": "{run:done}"}, {"reason": "ok"},
         (Step("training.decide"), Step("nodes.create", ("factory_adapter",))), gate="factory_adapter"),
    Case("POST", "/training/{run_id}/reject", {"run_id": "{run:done}"}, {}, (Step("training.decide"),)),
]


def _routes(app) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, through included routers too (FastAPI ≥0.16x includes them lazily)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI: included routes are plain routes of the app
        return [(r.path, set(r.methods or ())) for r in app.routes if isinstance(r, APIRoute)]
    return [(r.path, set(r.methods or ())) for r in iter_route_contexts(app.routes) if r.path]


def _app_routes() -> tuple[dict, set[tuple[str, str]]]:
    """The OpenAPI document, and every (method, path) the app routes (hidden ones included)."""
    with tempfile.TemporaryDirectory() as tmp:
        f = build_services(make_settings(Path(tmp)))
        try:
            app = create_app(f, TokenRegistry.load(f.settings))
            return app.openapi(), {(method, path) for path, methods in _routes(app) for method in methods}
        finally:
            f.db.dispose()


OPENAPI, ROUTED = _app_routes()
WRITE_ENDPOINTS = {(method.upper(), path) for path, ops in OPENAPI["paths"].items() for method in ops
                   if method in WRITE_METHODS}
# Write routes the OpenAPI document does not list: Neira's hidden alias has its case below; the admin UI's
# form posts (/admin/…) authenticate by a signed session + CSRF token, not by a bearer token, and go through
# the same services and PolicyEngine; tests/integration/test_admin_ui.py covers them.
HIDDEN_WRITES = {(m, p) for m, p in ROUTED if m.lower() in WRITE_METHODS} - WRITE_ENDPOINTS
UI_PREFIX = "/admin"


def test_every_write_endpoint_is_mapped():
    mapped = {(case.method, case.path) for case in CASES}
    assert len(WRITE_ENDPOINTS) >= 30, sorted(WRITE_ENDPOINTS)  # the document was read, not an empty one
    assert not WRITE_ENDPOINTS - mapped, f"write endpoints without a case: {sorted(WRITE_ENDPOINTS - mapped)}"
    known = WRITE_ENDPOINTS | HIDDEN_WRITES
    assert not mapped - known, f"cases for endpoints the API no longer has: {sorted(mapped - known)}"


def test_every_hidden_write_route_is_mapped_or_is_the_admin_ui():
    mapped = {(case.method, case.path) for case in CASES}
    forgotten = {(m, p) for m, p in HIDDEN_WRITES if not p.startswith(UI_PREFIX)} - mapped
    assert not forgotten, f"write routes outside the OpenAPI document without a case: {sorted(forgotten)}"


def test_every_write_action_of_the_policy_table_is_exercised():
    exercised = {step.action for case in CASES for step in case.steps}
    write_actions = {name for name, rule in ACTIONS.items() if rule.mutates or rule.scope != "read"}
    assert write_actions <= exercised, f"policy actions no write case passes: {sorted(write_actions - exercised)}"
    assert exercised <= set(ACTIONS)


COMBINATIONS = [
    pytest.param(case, safe_mode, gate_open,
                 id=f"{case.id}-{'safe-mode' if safe_mode else 'normal'}"
                    + ("" if case.gate is None else f"-{case.gate}-{'open' if gate_open else 'locked'}"))
    for case in CASES for safe_mode in (False, True) for gate_open in ((True,) if case.gate is None else (True, False))
]


@pytest.fixture(scope="session")
def template_factory(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    directory = tmp_path_factory.mktemp("authz-template")
    return directory, make_template(directory)


def _path(case: Case, world: World) -> str:
    params = {k: world.ids[v[5:-1]] if v.startswith("{run:") else v for k, v in case.params.items()}
    return case.path.format(**params)


def check(world: World, case: Case, scope: str | None, safe_mode: bool, gate_open: bool, body: Any) -> str | None:
    """One combination on `world` (already in its safe-mode and gate state); what went wrong, or None."""
    response = world.client.request(case.method, _path(case, world), json=body, headers=headers(scope))
    status, code = expected(case.steps, scope, safe_mode, world.gates)
    who = f"{scope or 'no token'}: {case.method} {_path(case, world)} -> {response.status_code} {response.text[:200]}"
    if status is None:
        return None if 200 <= response.status_code < 300 else f"{who} (expected success)"
    if response.status_code != status:
        return f"{who} (expected {status} {code})"
    refusal = response.json()
    if refusal.get("code") != code or not refusal.get("reason"):
        return f"{who} (expected code {code} with a reason)"
    if code == "capability_disabled" and refusal.get("capability") != case.gate:
        return f"{who} (expected capability {case.gate})"
    if code in ("insufficient_scope", "safe_mode") and refusal.get("required_role") not in ("write", "admin"):
        return f"{who} (expected required_role)"
    return None


@pytest.mark.parametrize("case,safe_mode,gate_open", COMBINATIONS)
def test_matrix(template_factory, tmp_path, case, safe_mode, gate_open):
    """No token, read, write, admin in turn on one copy of the seeded factory; a refusal changes nothing, so
    the next caller meets the same state; after a success (the state moved) the next caller gets a new copy."""
    directory, ids = template_factory
    problems: list[str] = []
    world: World | None = None
    try:
        for n, scope in enumerate(SCOPES):
            if world is None:
                world = World.copy_of(directory, ids, tmp_path / str(n))
                body = case.before(world, scope) if case.before else case.body
                world.put_in(safe_mode=safe_mode, gate=case.gate, gate_open=gate_open)
            else:
                body = case.body
            problems.append(check(world, case, scope, safe_mode, gate_open, body))
            succeeded = expected(case.steps, scope, safe_mode, world.gates)[0] is None
            if succeeded or case.before:
                world.close()
                world = None
    finally:
        if world is not None:
            world.close()
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)
