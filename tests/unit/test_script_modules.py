"""A script node's imports at run time (backends/script_modules.py): the stable script node of a route, bounded in
depth, cycles and size, and refused where policy says no."""
from __future__ import annotations

import pytest

from neira_factory.backends.base import ExecContext, ExecutionError, ResolvedNode
from neira_factory.backends.script import CompileCache, ScriptBackend
from neira_factory.backends.script_modules import MODULES
from neira_factory.domain.templates import NodeTemplate
from neira_factory.rhai.runtime.modules import MAX_MODULE_DEPTH


def node(route: str, source: str, **fields) -> NodeTemplate:
    kind = route.split(".")[1]
    return NodeTemplate(id=f"{route}.v1", version="0.1.0", analysis_type=kind, script={"source": source}, **fields)


def run(source: str, routes: dict[str, NodeTemplate], closed=frozenset()):
    ctx = ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None, closed=frozenset(closed),
                      stable=lambda route: ResolvedNode(routes[route], "stable") if route in routes else None)
    return ScriptBackend(CompileCache()).run(node("analysis.caller", source), {"n": 2}, ctx)


def failure(source: str, routes: dict[str, NodeTemplate], closed=frozenset()) -> ExecutionError:
    with pytest.raises(ExecutionError) as caught:
        run(source, routes, closed)
    return caught.value


UTIL = node("analysis.util", "export const K = 10; fn add(x) { x + global::K } fn run(input) { input }")
USE = 'import "analysis.util" as u; fn run(input) { u::add(input.n) + u::K }'


def test_a_script_uses_the_stable_script_node_of_a_route():
    assert run(USE, {"analysis.util": UTIL}) == 22
    assert run(USE, {"analysis.util": UTIL}) == 22  # from the module cache
    assert any(key[0] == "analysis.util.v1" for key in MODULES._items)


@pytest.mark.parametrize("routes,closed,words", [
    ({}, (), "no stable version"),
    ({"analysis.util": NodeTemplate(id="analysis.util.v1", version="0.1.0", analysis_type="util",
                                    adapter={"impl": "reverse"})}, (), "not a script node"),
    ({"analysis.util": UTIL}, ("factory_script",), "factory_script is off"),
])
def test_an_import_policy_refuses_fails_the_call(routes, closed, words):
    err = failure(USE, routes, closed)
    assert err.kind == "exception" and err.extra["error"] == "ErrorModuleNotFound" and words in err.reason


def test_only_literal_paths_and_open_self_edit_reach_a_module():
    dynamic = 'fn run(input) { import "analysis." + "util" as u; u::K }'
    assert "string literal" in failure(dynamic, {"analysis.util": UTIL}).reason
    factory = node("factory.selector", "export const K = 1;")
    err = failure('import "factory.selector" as f; fn run(input) { f::K }', {"factory.selector": factory},
                  closed={"self_edit"})
    assert "self_edit" in err.reason


def test_cycles_chains_and_huge_modules_fail_clearly():
    cycle = {"analysis.a": node("analysis.a", 'import "analysis.b" as b;'),
             "analysis.b": node("analysis.b", 'import "analysis.a" as a;')}
    err = failure('import "analysis.a" as a; fn run(input) { 1 }', cycle)
    assert err.kind == "limit" and err.extra["error"] == "ErrorTooManyModules" and "cyclic" in err.reason
    chain = {f"analysis.m{i}": node(f"analysis.m{i}", f'import "analysis.m{i + 1}" as n; export const v = n::v;')
             for i in range(MAX_MODULE_DEPTH + 1)}
    err = failure('import "analysis.m0" as m; fn run(input) { m::v }', chain)
    assert err.kind == "limit" and f"more than {MAX_MODULE_DEPTH} deep" in err.reason
    huge = {"analysis.util": node("analysis.util", "let x = 1;\n" * 5000)}  # past the engine's max_tokens
    err = failure(USE, huge)
    assert err.extra["error"] == "ErrorInModule" and "analysis.util" in err.reason, err.reason
