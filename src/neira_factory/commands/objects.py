"""What a command is about: the one organ, node or capability its words name.

An organ, node or capability named outright wins; a library implementation
names its node ("обучи классификатор"); parts of a capability's name name it
("wasm factory", "сборщик органов"), and so does an organ for its gate
("включи голосовой орган" → organ_voice). Two names that fit, or none, fail
with NotUnderstood and what was probably meant. read_one and read_made read the
verbs whose command is just such an object (and options). A version may be named
relative to the others («последнюю версию», "the one before", «стабильную»): the
Intent then names the organ or the node's route, and the planner picks the version.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from ..domain.capabilities import BACKEND_GATES
from .lexicon import Context, node_impl, node_route, node_version
from .reader import Reader
from .vocabulary import Intent

Nouns = dict[str, list[int]]
_BUILDER = "organs_builder"  # the gate an organ noun alone names: building organs


def read_one(p: Reader, action: str, allowed: tuple[str, ...]) -> Intent:
    """A command about one organ or node and nothing else: approve, rollback, train."""
    p.understood["action"] = action
    version = p.versions()
    pick, state = p.qualifiers(action)
    target, name, version = resolve_object(p, allowed, action, version, relative=pick is not None)
    p.leftovers((target,))
    p.one_only()
    return Intent(action, p.lang, target, name, version, state=state, pick=pick, text=p.text)


def read_made(p: Reader, action: str, version: int | None) -> Intent:
    """A command that makes an organ (options allowed: "(grayscale)") or a node: create, update."""
    target, name, version = resolve_object(p, ("organ", "node"), action, version, option_ok=True)
    options = p.options() if target == "organ" else ()
    p.leftovers((target, "option") if target == "organ" else (target,))
    p.one_only()
    return Intent(action, p.lang, target, name, version, options=options, text=p.text)


def resolve_object(p: Reader, allowed: tuple[str, ...], action: str, version: int | None,
                   option_ok: bool = False, required: bool = True,
                   relative: bool = False) -> tuple[str | None, str | None, int | None]:
    """Find the one organ / node / capability the command is about.

    Returns (target, name, version) or (None, None, version) when nothing names
    an object and ``required`` is false; raises NotUnderstood when two
    different names fit, or when nothing fits and ``required``. ``relative``: the
    version is named relative to the others, so a node is named by its route."""
    if relative and version is not None:  # «последнюю версию v2»: two versions
        p.fail([f"v{version}"], [], p.msg("two_versions", versions=f"v{version}, {p.understood.get('pick')}"))
    target, name, version = _resolve(p, allowed, action, version, option_ok, required, relative)
    if relative and target == "node":
        name, version = node_route(name or ""), None
        p.understood.update(name=name, version=None)
    return target, name, version


def _resolve(p: Reader, allowed: tuple[str, ...], action: str, version: int | None, option_ok: bool,
             required: bool, relative: bool) -> tuple[str | None, str | None, int | None]:
    nouns = p.noun_targets()
    explicit = [t for t in ("organ", "node", "capability") if t in nouns and t in allowed]
    if len(explicit) > 1:
        p.understood["target"] = None
        idx = [i for t in explicit for i in nouns[t]]
        p.fail(p.words_of(idx), [], p.msg("ambiguous", words=" / ".join(p.words_of(idx)), names=", ".join(explicit)))
    kinds = tuple(explicit) if explicit else allowed
    named = _names(p, kinds, action == "create", relative)
    if explicit:
        p.understood["target"] = explicit[0]
    if named:
        return _named(p, nouns, named, action, version, relative)
    if "node" in kinds:
        found = _node_of_impl(p, nouns, None if relative else version, action == "create",
                              option_ok and "node" not in explicit)
        if found:
            return found
    if not required:
        return None, None, version
    for t in explicit:
        p.use_nouns(nouns, t)
    pool_kinds = kinds + (("impl",) if "node" in kinds else ())
    _unnamed(p, [i for i in p.content() if not p.items[i].in_parens],
             lambda words: p.synonym_suggestions(words, pool_kinds), p.name_pool(kinds))


def _names(p: Reader, kinds: tuple[str, ...], create: bool, route_ok: bool) -> dict[tuple[str, str], list[int]]:
    """The names of the wanted kinds among the words left: (target, name) → item indexes (a node's route too,
    with ``route_ok``: "analysis.echo")."""
    found: dict[tuple[str, str], list[int]] = {}
    for i in p.content():
        it = p.items[i]
        if it.in_parens:
            continue
        if "organ" in kinds:
            for v in it.vals("organ"):
                found.setdefault(("organ", v), []).append(i)
        if "node" in kinds:
            ids = it.vals("nodeid") if create else tuple(v for v in it.vals("nodeid") if route_ok and v in p.ctx.routes)
            for v in it.vals("node") + ids:
                found.setdefault(("node", v), []).append(i)
        if "capability" in kinds:
            for v in it.vals("cap"):
                found.setdefault(("capability", v), []).append(i)
    return found


def _named(p: Reader, nouns: Nouns, named: dict[tuple[str, str], list[int]], action: str,
           version: int | None, relative: bool) -> tuple[str, str, int | None]:
    """The one name found (two different ones are ambiguous), with its version checked."""
    if len(named) > 1:
        p.ambiguous(p.words_of(sorted({i for v in named.values() for i in v})), [n for (_, n) in named])
    (target, name), idx = next(iter(named.items()))
    if relative and target == "node" and node_version(name) is not None:  # «последнюю версию analysis.echo.v1»
        p.fail(p.words_of(idx), [node_route(name)],
               p.msg("two_versions", versions=f"{name}, {p.understood.get('pick')}"))
    p.used.update(idx)
    if target == "node" and not (action == "update" and version is not None):
        # "update analysis.echo.v1 to v2": the id is the current node, the version the new one
        nv = node_version(name)
        if nv is not None and version is not None and nv != version:
            p.fail([name, f"v{version}"], [name], p.msg("two_versions", versions=f"v{nv}, v{version}"))
        version = nv if nv is not None else version
    p.use_nouns(nouns, target)
    p.understood.update(target=target, name=name, version=version)
    known = p.ctx.vocab.organs.get(name) if target == "organ" else None
    if known and version is not None and version not in known and action not in ("create", "update"):
        # an existing organ at a version it never had: say which it has
        p.understood.pop("version", None)
        p.fail([f"v{version}"], [f"{name} v{v}" for v in known])
    return target, name, version


def _node_of_impl(p: Reader, nouns: Nouns, version: int | None, create: bool,
                  skip_options: bool) -> tuple[str, str, int | None] | None:
    """A library implementation names a node: "обучи классификатор", "create node normalize"."""
    impls: dict[str, list[int]] = {}
    for i in p.content():
        it = p.items[i]
        if it.in_parens or (skip_options and it.has("option")):
            continue
        for v in it.vals("impl"):
            impls.setdefault(v, []).append(i)
    if len(impls) > 1:
        p.ambiguous(p.words_of(sorted({i for v in impls.values() for i in v})), list(impls))
    if not impls:
        return None
    impl, idx = next(iter(impls.items()))
    node, alternatives = _node_for_impl(p.ctx, impl, version, create)
    if alternatives:
        p.understood["target"] = "node"
        if len({node_route(n) for n in alternatives}) == 1:
            p.understood.pop("version", None)
            p.fail(p.words_of(idx) + [f"v{version}"], alternatives)
        p.ambiguous(p.words_of(idx), alternatives)
    if node is None:
        return None
    p.used.update(idx)
    version = node_version(node) if version is None else version
    p.use_nouns(nouns, "node")
    p.understood.update(target="node", name=node, version=version)
    return "node", node, version


def _node_for_impl(ctx: Context, impl: str, version: int | None, create: bool) -> tuple[str | None, list[str]]:
    """The node playing `impl` (a new one when creating); else the nodes to choose from."""
    ids = [n for n in ctx.nodes if node_impl(n) == impl]
    routes = sorted({node_route(n) for n in ids})
    if len(routes) > 1:
        return None, [max((n for n in ids if node_route(n) == r), key=lambda n: node_version(n) or 0) for r in routes]
    if len(routes) == 1:
        route = routes[0]
        if version is not None:
            node = f"{route}.v{version}"
            if create or node in ctx.nodes:
                return node, []
            return None, sorted(ids)  # that version does not exist: say which do
        if create:
            return f"{route}.v{max(node_version(n) or 0 for n in ids) + 1}", []
        return max(ids, key=lambda n: node_version(n) or 0), []
    if create and (not ctx.impls or impl in ctx.impls):
        return f"analysis.{impl}.v{version or 1}", []
    return None, []


def resolve_capability(p: Reader) -> str:
    """The one capability gate the command is about, named outright, by parts of its name, or by its organ."""
    nouns = p.noun_targets()
    p.use_nouns(nouns, "capability")
    content = [i for i in p.content() if not p.items[i].in_parens]
    exact = {v: i for i in content for v in p.items[i].vals("cap")}
    if len(exact) > 1:
        p.ambiguous(p.words_of(exact.values()), list(exact))
    if exact:
        name, i = next(iter(exact.items()))
        p.used.add(i)
        p.use_nouns(nouns, "organ")
        return name
    by_parts = _capability_by_parts(p, nouns, content)
    if by_parts in BACKEND_GATES.values():  # «заблокируй скриптовые узлы»: the gate of the nodes it names
        p.use_nouns(nouns, "node")
    if by_parts:
        return by_parts
    # an organ's gate: "включи голосовой орган" → organ_voice
    organs = {v: i for i in content for v in p.items[i].vals("organ")}
    if len(organs) == 1:
        organ, i = next(iter(organs.items()))
        gate = _organ_gate(p.ctx, organ)
        if gate:
            p.used.add(i)
            p.use_nouns(nouns, "organ")
            return gate
    _unnamed(p, p.content(), lambda words: p.suggest(words, sorted(p.ctx.caps)), sorted(p.ctx.caps))


def _capability_by_parts(p: Reader, nouns: Nouns, content: list[int]) -> str | None:
    """Words that are parts of capability names: "wasm factory", "сборщик органов"."""
    part_idx = [i for i in content if p.items[i].has("cappart")]
    part_idx += [i for i in nouns.get("organ", ()) if i not in part_idx and p.items[i].has("cappart")]
    if not part_idx:
        return None
    if all(i in nouns.get("organ", ()) for i in part_idx):  # only the noun «орган» / "organ"
        if any(p.items[i].has("organ") for i in content):
            return None  # «включи орган эха»: that organ's gate
        if _BUILDER in p.ctx.caps:  # «заблокируй органы»: building organs
            p.used.update(part_idx)
            return _BUILDER
    options = [tuple(p.items[i].vals("cappart")) for i in part_idx]
    cands = [c for c, parts in p.ctx.cap_parts.items() if all(any(o in parts for o in opts) for opts in options)]
    exactly = [c for c in cands if len(p.ctx.cap_parts[c]) == len(options)]
    if len(cands) == 1 or len(exactly) == 1:
        p.used.update(part_idx)
        return cands[0] if len(cands) == 1 else exactly[0]
    if len(cands) > 1:
        unknown = [i for i in content if i not in part_idx and not p.items[i].has("organ")]
        if unknown:  # "фабрику марсиан": say both what is ambiguous and what is unknown
            p.fail(p.words_of(sorted(part_idx + unknown)), sorted(cands))
        p.ambiguous(p.words_of(sorted(part_idx)), sorted(cands))
    return None


def _organ_gate(ctx: Context, organ: str) -> str | None:
    gate = f"organ_{organ.replace('-', '_')}"
    if gate in ctx.caps:
        return gate
    prefixed = [c for c in ctx.caps if c.startswith(gate + "_")]
    return prefixed[0] if len(prefixed) == 1 else None


def _unnamed(p: Reader, left: list[int], close: Callable[[list[str]], list[str]], pool: list[str]) -> NoReturn:
    """Nothing names the object: fail with the words left and the names probably meant (else some known)."""
    words = p.words_of(left)
    suggestions = list(dict.fromkeys(n for i in left for n in p.items[i].ambiguous))
    suggestions += [s for s in close(words) if s not in suggestions]
    if not suggestions:
        suggestions = pool[:8]
    if words:
        p.fail(words, suggestions)
    p.fail([], suggestions, p.msg("no_name", names=", ".join(suggestions)))
