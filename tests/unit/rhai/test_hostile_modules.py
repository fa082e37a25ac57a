"""Hostile scripts against modules, `eval` and `!` calls (issue 20): a module is built once and
kept across runs (and, in the factory, across nodes), so nothing a run does to it may reach
another run; each row must end as it names, fast."""

from __future__ import annotations

import pytest

from neira_factory.rhai import Engine, Module, RhaiError, SourceModuleResolver
from neira_factory.rhai.modules import KeptModules, weight

LIMITS = dict(max_operations=100_000, timeout_ms=2000, max_string_size=1 << 16,
              max_array_size=4096, max_map_size=4096)

STATEFUL = {
    "counter": "let n = 0; let inc = || { n += 1; n }; export inc;",
    "store": "let s = []; let add = |x| { s.push(x); s.len }; export add;",
    "pair": "let s = []; let a = |x| s.push(x); let b = || s.len; export a; export b;",
    "nested": "let s = []; let a = |x| { s.push(x); s.len }; export const L = [a]; export const M = #{f: a};",
    "curried": "let s = []; let a = |x| { s.push(x); s.len }; let b = |f, x| f.call(x); export const B = b.curry(a);",
    "inner": "let s = []; let a = |x| { s.push(x); s.len }; let b = |x| a.call(x); export b;",
    "consts": "const K = [1]; fn bump() { global::K.push(1); global::K.len }",
    "alias": 'import "consts" as y; let g = || y::bump(); export g;',
    "itself": "let f = 0; let n = []; f = |k| { n.push(k); if k > 0 { f.call(k - 1) } else { n.len } }; export f;",
}


def engine(resolver):
    return Engine(**LIMITS).set_module_resolver(resolver)


@pytest.mark.parametrize("script, first", [
    ('import "counter" as m; m::inc.call()', 1),
    ('import "store" as m; m::add.call(1)', 1),
    ('import "pair" as m; m::a.call(1); m::b.call()', 1),
    ('import "nested" as m; m::L[0].call(1) + m::M.f.call(1)', 3),  # one run: one shared `s`
    ('import "curried" as m; m::B.call(1)', 1),
    ('import "inner" as m; m::b.call(1)', 1),
    ('import "alias" as m; m::g.call()', 2),  # the closure's module alias: the run's own copy of that module
    ('import "consts" as m; m::bump()', 2),
    ('import "itself" as m; m::f.call(3)', 4),
])
def test_a_module_closure_keeps_no_state_across_runs(script, first):
    resolver = SourceModuleResolver(STATEFUL)
    assert [engine(resolver).eval(script) for _ in range(3)] == [first] * 3


def test_a_run_cannot_fill_a_kept_module_for_the_next_runs():
    resolver = SourceModuleResolver(STATEFUL)
    with pytest.raises(RhaiError) as info:
        engine(resolver).run('import "store" as m; for i in 0..5000 { m::add.call(blob(10)); }')
    assert info.value.kind == "ErrorDataTooLarge"
    assert engine(resolver).eval('import "store" as m; m::add.call(1)') == 1


def test_a_module_function_cannot_change_its_constants_for_the_next_runs():
    resolver = SourceModuleResolver({"c": "const K = [1]; fn bump() { global::K.push(1); global::K.len } "
                                          "const N = [[1]]; fn nest() { global::N[0].push(2); global::N[0].len }"})
    assert [engine(resolver).eval('import "c" as m; m::bump()') for _ in range(2)] == [2, 2]
    assert [engine(resolver).eval('import "c" as m; m::nest()') for _ in range(2)] == [2, 2]


def test_a_module_obeys_the_importing_engines_language_options():
    from neira_factory.rhai import LanguageOptions
    resolver = SourceModuleResolver({"spin": "export const X = 1; loop {}"})
    with pytest.raises(RhaiError) as info:
        engine(resolver).run('import "spin" as m;')
    assert info.value.kind == "ErrorTooManyOperations"
    strict = Engine(options=LanguageOptions(allow_looping=False), **LIMITS).set_module_resolver(resolver)
    with pytest.raises(RhaiError) as info:
        strict.run('import "spin" as m;')
    assert info.value.kind == "ErrorInModule" and "loop" in info.value.message
    built = SourceModuleResolver({"m": "let i = 0; while i < 3 { i += 1; } export i;"})
    assert engine(built).eval('import "m" as m; m::i') == 3  # built, and kept, by a permissive engine
    strict.set_module_resolver(built)
    with pytest.raises(RhaiError) as info:
        strict.run('import "m" as m;')
    assert info.value.kind == "ErrorInModule"


def test_kept_modules_are_bounded_by_the_data_they_hold():
    big = 'let s = "x"; s.pad(60000, "y"); export s;'  # 60,000 characters: about 240 kB kept
    sources = {f"big{i}": big + f" export const I = {i};" for i in range(8)}
    sources["huge"] = 'let a = []; a.pad(4000, "0123456789"); export a;'  # over a quarter of the budget: not kept
    resolver = SourceModuleResolver(sources)
    resolver._built = KeptModules(64, max_bytes=1 << 20)
    for i in range(8):
        assert engine(resolver).eval(f'import "big{i}" as m; m::I + m::s.len') == i + 60_000
    assert resolver._built.bytes <= 1 << 20 and len(resolver._built._items) == 4
    assert engine(resolver).eval('import "huge" as m; m::a.len') == 4000
    assert all(key[0] != "huge" for key in resolver._built._items)
    assert weight(Module({"s": "x" * 10, "a": [1, 2]})) == 4 * 10 + 64 * 4  # the 2 values, a's 2 elements


def test_a_script_node_cannot_pass_state_to_the_next_call_through_a_module():
    from neira_factory.backends.base import ExecContext, ResolvedNode
    from neira_factory.backends.script import CompileCache, ScriptBackend
    from neira_factory.domain.templates import NodeTemplate

    def node(route, source):
        return NodeTemplate(id=f"{route}.v1", version="0.1.0", analysis_type=route.split(".")[1],
                            script={"source": source})

    shared = node("analysis.shared", "let seen = []; let note = |x| { seen.push(x); seen }; export note;")
    ctx = ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None,
                      stable=lambda route: ResolvedNode(shared, "stable") if route == "analysis.shared" else None)
    caller = node("analysis.caller", 'import "analysis.shared" as s; fn run(input) { s::note.call(input.secret) }')
    backend = ScriptBackend(CompileCache())
    assert backend.run(caller, {"secret": "a"}, ctx) == ["a"]
    assert backend.run(caller, {"secret": "b"}, ctx) == ["b"]  # not ["a", "b"]: the first call's input is gone


def factory_node(route, source, v=1, **fields):
    from neira_factory.domain.templates import NodeTemplate
    return NodeTemplate(id=f"{route}.v{v}", version=f"0.{v}.0", analysis_type=route.split(".")[1],
                        script={"source": source}, **fields)


def factory_run(caller, routes, closed=()):
    from neira_factory.backends.base import ExecContext, ResolvedNode
    from neira_factory.backends.script import CompileCache, ScriptBackend
    ctx = ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None, closed=frozenset(closed),
                      stable=lambda route: ResolvedNode(routes[route], "stable") if route in routes else None)
    return ScriptBackend(CompileCache()).run(caller, {}, ctx)


def test_a_kept_module_follows_the_stable_versions_of_what_it_imported():
    routes = {"analysis.mid": factory_node("analysis.mid", 'import "analysis.leaf" as l; fn get() { l::V }'),
              "analysis.leaf": factory_node("analysis.leaf", "export const V = 1;")}
    caller = factory_node("analysis.top", 'import "analysis.mid" as m; fn run(input) { [m::get(), m::l::V] }')
    assert factory_run(caller, routes) == [1, 1]
    routes["analysis.leaf"] = factory_node("analysis.leaf", "export const V = 2;", 2)  # a new stable version
    assert factory_run(caller, routes) == [2, 2]
    routes["analysis.leaf"] = factory_node("analysis.leaf", "export const V = 1;")  # rolled back
    assert factory_run(caller, routes) == [1, 1]


def test_a_kept_module_does_not_reach_a_factory_module_once_self_edit_is_closed():
    from neira_factory.backends.base import ExecutionError
    routes = {"analysis.via": factory_node("analysis.via", 'import "factory.secret" as x;'),
              "factory.secret": factory_node("factory.secret", "export const K = 42;")}
    caller = factory_node("analysis.top", 'import "analysis.via" as v; fn run(input) { v::x::K }')
    assert factory_run(caller, routes) == 42  # self_edit open: built and kept
    with pytest.raises(ExecutionError) as info:
        factory_run(caller, routes, closed={"self_edit"})
    assert "self_edit" in info.value.reason


@pytest.mark.parametrize("script", [
    'let s = "x"; s.pad(900, "y"); for i in 0..200 { eval(`let v${i} = s + i;`); }',  # 200 strings of 900
    'for i in 0..200 { eval(`let v${i} = []; v${i}.pad(100, i);`); }',  # 200 arrays of 100
    'let s = "x"; s.pad(900, "y"); fn f(i) { eval(`let w${i} = s + i;`); } for i in 0..200 { f!(i); }',
    'let s = "x"; s.pad(900, "y"); fn f(s) { for i in 0..200 { eval(`let w${i} = s + i;`); } } f(s);',
])
def test_variables_that_eval_defines_count_together_against_the_data_limits(script):
    engine = Engine(max_operations=10_000_000, max_string_size=10_000, max_array_size=10_000, max_map_size=10_000)
    with pytest.raises(RhaiError) as info:
        engine.run(script)
    assert info.value.kind == "ErrorDataTooLarge"


def test_a_lattice_of_imports_is_kept_as_its_distinct_modules():
    from neira_factory.backends.script_modules import MODULES
    width, depth = 3, 7  # each module imports the 3 of the next level: 3^7 paths, 21 modules
    routes = {}
    for level in range(depth):
        for i in range(width):
            below = "".join(f'import "analysis.l{level + 1}x{j}" as m{j}; ' for j in range(width))
            source = (below if level < depth - 1 else "") + "export const V = 1;"
            routes[f"analysis.l{level}x{i}"] = factory_node(f"analysis.l{level}x{i}", source)
    caller = factory_node("analysis.top", 'import "analysis.l0x0" as m; fn run(input) { m::V }',
                          limits={"timeout_ms": 30_000})  # building 21 modules on a busy machine
    assert factory_run(caller, routes) == 1
    kept = [extra for key, (_, _, extra) in MODULES._items.items() if key[0] == "analysis.l0x0.v1"]
    assert kept and len(kept[-1]) == width * (depth - 1)  # each module below, once
    assert factory_run(caller, routes) == 1


def test_importing_a_wide_module_again_and_again_is_charged_for_its_modules():
    from neira_factory.backends.base import ExecutionError
    from neira_factory.domain.templates import NodeTemplate
    routes = {f"analysis.d{i}": factory_node(f"analysis.d{i}", "export const V = 1;") for i in range(64)}
    hub = "".join(f'import "analysis.d{i}" as d{i}; ' for i in range(64))
    routes["analysis.hub"] = factory_node("analysis.hub", hub)
    caller = NodeTemplate(id="analysis.loop.v1", version="0.1.0", analysis_type="loop",
                          limits={"max_operations": 200_000},
                          script={"source": 'fn run(input) { for i in 0..2000 { import "analysis.hub" as h; } 1 }'})
    with pytest.raises(ExecutionError) as info:  # each import makes 65 modules the run's own, and checks 64 imports
        factory_run(caller, routes)
    assert info.value.kind == "limit" and info.value.extra["error"] == "ErrorTooManyOperations"


@pytest.mark.parametrize("source, script", [
    ('eval("let q = [];"); let f = || { q.push(1); q.len }; export f;', 'import "m" as m; m::f.call()'),
    ('fn g() { eval("let w = [];"); || { w.push(1); w.len } } export const H = g();', 'import "m" as m; m::H.call()'),
])
def test_a_closure_over_variables_that_eval_declared_keeps_no_state_across_runs(source, script):
    resolver = SourceModuleResolver({"m": source})
    assert [engine(resolver).eval(script) for _ in range(3)] == [1, 1, 1]
