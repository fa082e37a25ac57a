"""The index: upsert, remove, state changes, threads, and agreement with a linear scan."""
from __future__ import annotations

import sys
import threading
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from selector_support import NORMALIZED_OUT, TEXT_IN, make_entry

from neira_factory.selector import (
    NodeEntry,
    SelectorIndex,
    SelectorQuery,
    SelectorWeights,
)
from neira_factory.selector.matching import why_not
from neira_factory.selector.ranking import decide

QUERY = SelectorQuery(kind="analysis", node_type="text_normalize", input_schema=TEXT_IN, output_schema=NORMALIZED_OUT)


def test_upsert_adds_and_len_counts_every_state(index_of):
    index = index_of(make_entry("analysis.text_normalize.v1", "draft"), make_entry("analysis.text_normalize.v2", "stable"))
    assert len(index) == 2
    assert [c.id for c in index.select(QUERY).candidates] == ["analysis.text_normalize.v2"]


def test_upsert_replaces_by_id(index_of):
    entry = make_entry("analysis.text_normalize.v1")
    index = index_of(entry)
    index.upsert(replace(entry, output_schema={"type": "object", "properties": {"other": {}}}))
    assert len(index) == 1
    assert index.select(QUERY).decision == "create"
    index.upsert(entry)
    assert index.select(QUERY).decision == "reuse"


def test_state_changes_come_through_upsert(index_of):
    draft = make_entry("analysis.text_normalize.v1", "draft")
    index = index_of(draft)
    assert index.select(QUERY).decision == "create"
    for state, decision in [("canary", "create"), ("experimental", "reuse"), ("stable", "reuse"),
                            ("deprecated", "create"), ("quarantined", "create"), ("stable", "reuse")]:
        index.upsert(replace(draft, state=state))
        assert index.select(QUERY).decision == decision, state
    assert len(index) == 1


def test_open_and_non_object_outputs_stay_plausible(index_of):
    index = index_of(make_entry("analysis.text_normalize.open", output_schema={"type": "object"}),
                     make_entry("analysis.text_normalize.other", output_schema={"type": "object", "properties": {"x": {}}}),
                     make_entry("analysis.text_normalize.str", output_schema={"type": "string", "properties": {"x": {}}}))
    either = {**NORMALIZED_OUT, "type": ["object", "string"]}
    assert [c.id for c in index.select(replace(QUERY, output_schema=either)).candidates] == [
        "analysis.text_normalize.open", "analysis.text_normalize.str"]


def test_inputs_requiring_declared_fields_stay_plausible(index_of):
    def needs(*fields):
        return {"type": "object", "properties": {f: {"type": "string"} for f in fields}, "required": list(fields)}

    index = index_of(make_entry("analysis.text_normalize.none", input_schema={"type": "object"}),
                     make_entry("analysis.text_normalize.one", input_schema=needs("text")),
                     make_entry("analysis.text_normalize.both", input_schema=needs("text", "lang")),
                     make_entry("analysis.text_normalize.more", input_schema=needs("text", "lang", "x")))
    query = replace(QUERY, input_schema=needs("text", "lang"))
    assert sorted(c.id for c in index.select(query).candidates) == [
        "analysis.text_normalize.both", "analysis.text_normalize.none", "analysis.text_normalize.one"]


def test_remove(index_of):
    index = index_of(make_entry("analysis.text_normalize.v1"), make_entry("analysis.text_normalize.v2", "draft"))
    index.remove("analysis.text_normalize.v1")
    index.remove("analysis.text_normalize.v2")
    index.remove("analysis.unknown.v1")
    assert len(index) == 0
    assert index.select(QUERY).decision == "create"
    assert index.select(SelectorQuery(kind="analysis")).candidates == []


def test_concurrent_upserts_and_selects():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, inside loops over the index
    index = SelectorIndex()
    errors: list[BaseException] = []
    # many small io groups, so a select iterates dicts that writers resize
    schemas = [{"type": "object", "properties": {f"f{k}": {}}} for k in range(50)]

    def writer(n: int) -> None:
        try:
            for i in range(150):
                index.upsert(make_entry(f"analysis.text_normalize.w{n}x{i}", "stable", input_schema=schemas[i % 50]))
                if i % 2:
                    index.remove(f"analysis.text_normalize.w{n}x{i - 1}")
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(60):
                index.select(SelectorQuery(kind="analysis", input_schema={"type": "object"}))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)] + [threading.Thread(target=reader) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    assert errors == []
    assert len(index) == 3 * 75


# Random registries: the index decides exactly as a scan over all nodes with the same matching.
_FIELDS = ["text", "normalized", "lang", "tokens"]
_schemas = st.builds(
    lambda props, req, typ: {"type": "object", "properties": {p: {"type": typ} for p in props}, "required": sorted(req & props)},
    st.sets(st.sampled_from(_FIELDS), max_size=3), st.sets(st.sampled_from(_FIELDS), max_size=2),
    st.sampled_from(["string", "integer"]),
) | st.sampled_from([{"type": "object"}, {"type": "string"}, {"type": ["object", "null"]}, {}])
_entries = st.builds(
    lambda n, kind, typ, state, ver, i, o: NodeEntry(f"{kind}.{typ}.v{n}", f"{kind}.{typ}", f"0.{ver}.0", kind, typ, state, i, o),
    st.integers(1, 30), st.sampled_from(["analysis", "analysis", "action"]), st.sampled_from(["a", "a", "b", "c"]),
    st.sampled_from(["draft", "experimental", "stable", "stable"]), st.integers(0, 3), _schemas, _schemas,
)
_queries = st.builds(
    SelectorQuery, kind=st.sampled_from(["analysis", "action"]), node_type=st.sampled_from([None, "a", "b"]),
    input_schema=st.none() | _schemas, output_schema=st.none() | _schemas,
    blocked_types=st.sampled_from([frozenset(), frozenset(), frozenset({"b"})]),
    allowed_types=st.sampled_from([None, None, frozenset({"a", "b"})]),
    prefer_id=st.none() | st.sampled_from(["analysis.a.v1", "action.b.v2"]), limit=st.integers(1, 4),
)


@settings(max_examples=300)
@given(st.lists(_entries, max_size=25), _queries)
def test_index_decides_like_a_linear_scan(entries, query):
    index = SelectorIndex()
    registry: dict[str, NodeEntry] = {}
    for entry in entries:
        index.upsert(entry)
        registry[entry.id] = entry
    fitting = [e for e in registry.values() if why_not(e, query) is None]
    expected = decide(query, fitting, None, SelectorWeights())
    got = index.select(query)
    assert (got.decision, got.candidates) == (expected.decision, expected.candidates)


def _random_registry(rng, count: int) -> list[NodeEntry]:
    """Many nodes of one kind, a third of them with open io, several versions per route."""
    def schema():
        if rng.random() < 0.35:
            return {"type": "object"}
        fields = rng.sample(_FIELDS, rng.randint(1, 3))
        return {"type": "object", "properties": {f: {"type": rng.choice(["string", "integer"])} for f in fields},
                "required": fields[:rng.randint(0, 2)]}

    states = ["stable", "stable", "experimental", "draft"]
    return [NodeEntry(f"analysis.{typ}.r{i // 3}.v{i % 3}", f"analysis.{typ}.r{i // 3}", f"0.{rng.randint(0, 2)}.0",
                      "analysis", typ, rng.choice(states), schema(), schema())
            for i in range(count) for typ in [rng.choice("abc")]]


def test_large_registries_decide_like_a_linear_scan():
    """Past a few hundred nodes, open queries walk the bucket's own order instead of sorting plausible nodes."""
    import random

    rng = random.Random(20)
    entries = _random_registry(rng, 600)
    index = SelectorIndex()
    for entry in entries:
        index.upsert(entry)
    registry = {e.id: e for e in entries}
    for entry in entries[::7]:  # state changes and removals keep the bucket's orders in step
        registry[entry.id] = replace(entry, state="experimental" if entry.state == "stable" else "stable")
        index.upsert(registry[entry.id])
    for entry in entries[::11]:
        index.remove(entry.id)
        del registry[entry.id]
    open_object = {"type": "object"}
    shapes = [(e, node_type, io) for e in entries[::25] for node_type in (None, e.node_type)
              for io in ((open_object, open_object), (None, open_object), (e.input_schema, None),
                         (e.input_schema, e.output_schema), (None, None))]
    walked = 0
    for i, (e, node_type, (io_in, io_out)) in enumerate(shapes):
        limit = i % 5 + 1
        query = SelectorQuery(kind="analysis", node_type=node_type, input_schema=io_in, output_schema=io_out, limit=limit,
                              prefer_id=e.id if limit == 2 else None, prefer_version="0.1.0" if limit == 3 else None,
                              blocked_types=frozenset({"c"}) if limit == 4 else frozenset())
        fitting = [e for e in registry.values() if why_not(e, query) is None]
        expected = decide(query, fitting, None, SelectorWeights())
        got = index.select(query)
        assert (got.decision, got.candidates) == (expected.decision, expected.candidates), query
        walked += len(fitting) > 100
    assert walked > len(shapes) // 4  # many queries had far more fitting nodes than they rank
