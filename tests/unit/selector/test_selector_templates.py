"""query_for / entry_for: from a NodeTemplate to what the selector reads."""
from __future__ import annotations

from selector_support import NORMALIZED_OUT, TEXT_IN

from neira_factory.domain.templates import NodeTemplate
from neira_factory.selector import SelectorIndex, entry_for, query_for

TEMPLATE = NodeTemplate.model_validate({
    "id": "analysis.text_normalize.v2", "version": "0.2.0", "analysis_type": "text_normalize",
    "io": {"input": TEXT_IN, "output": NORMALIZED_OUT},
})


def test_query_for_takes_kind_type_io_and_prefers_the_template_id():
    query = query_for(TEMPLATE, limit=2, blocked_types=frozenset({"x"}))
    assert (query.kind, query.node_type, query.prefer_id, query.limit) == ("analysis", "text_normalize", TEMPLATE.id, 2)
    assert (query.input_schema, query.output_schema) == (TEXT_IN, NORMALIZED_OUT)
    assert query.blocked_types == frozenset({"x"})
    assert query_for(TEMPLATE, prefer_id=None).prefer_id is None


def test_entry_for_uses_the_route_and_state():
    entry = entry_for(TEMPLATE, "stable")
    assert (entry.id, entry.route, entry.version, entry.kind, entry.node_type, entry.state) == (
        "analysis.text_normalize.v2", "analysis.text_normalize", "0.2.0", "analysis", "text_normalize", "stable")


def test_a_registered_template_is_reused_for_its_own_request():
    index = SelectorIndex()
    index.upsert(entry_for(TEMPLATE, "experimental"))
    decision = index.select(query_for(TEMPLATE))
    assert decision.decision == "reuse"
    assert decision.candidates[0].explanation == (
        "experimental analysis/text_normalize, io fits exactly, preferred id, newest of its route")
