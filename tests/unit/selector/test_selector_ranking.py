"""Ranking and decisions: states, preferences, type filters, io fit, explanations."""
from __future__ import annotations

from dataclasses import replace

import pytest
from selector_support import NORMALIZED_OUT, TEXT_IN, make_entry

from neira_factory.domain.errors import BadInput
from neira_factory.selector import SelectorIndex, SelectorQuery, SelectorWeights

QUERY = SelectorQuery(kind="analysis", node_type="text_normalize", input_schema=TEXT_IN, output_schema=NORMALIZED_OUT)


def ids(decision):
    return [c.id for c in decision.candidates]


def test_stable_beats_experimental(index_of):
    index = index_of(make_entry("analysis.text_normalize.a", "experimental"), make_entry("analysis.text_normalize.b", "stable"))
    decision = index.select(QUERY)
    assert decision.decision == "reuse"
    assert ids(decision) == ["analysis.text_normalize.b", "analysis.text_normalize.a"]
    assert decision.candidates[0].score > decision.candidates[1].score


def test_experimental_alone_is_reused(index_of):
    decision = index_of(make_entry("analysis.text_normalize.v1", "experimental")).select(QUERY)
    assert decision.decision == "reuse"
    assert decision.candidates[0].state == "experimental"


def test_prefer_id_wins_over_stable(index_of):
    index = index_of(make_entry("analysis.text_normalize.a", "stable"), make_entry("analysis.text_normalize.b", "experimental"))
    decision = index.select(replace(QUERY, prefer_id="analysis.text_normalize.b"))
    assert ids(decision)[0] == "analysis.text_normalize.b"
    assert "preferred id" in decision.candidates[0].explanation


def test_prefer_version_wins_over_newest(index_of):
    index = index_of(make_entry("analysis.text_normalize.v1", version="1.0.0"), make_entry("analysis.text_normalize.v2", version="2.0.0"))
    assert ids(index.select(QUERY))[0] == "analysis.text_normalize.v2"
    decision = index.select(replace(QUERY, prefer_version="1.0.0"))
    assert ids(decision)[0] == "analysis.text_normalize.v1"
    assert "preferred version" in decision.candidates[0].explanation


def test_newest_version_of_a_route_ranks_first(index_of):
    index = index_of(make_entry("analysis.text_normalize.v1", version="0.9.0"),
                     make_entry("analysis.text_normalize.v2", version="0.10.0-rc1"),
                     make_entry("analysis.text_normalize.v3", version="0.10.0"))
    decision = index.select(QUERY)
    assert ids(decision) == ["analysis.text_normalize.v3", "analysis.text_normalize.v1", "analysis.text_normalize.v2"]
    assert decision.candidates[0].explanation.endswith("newest of its route")


def test_blocked_types_are_excluded(index_of):
    index = index_of(make_entry("analysis.text_normalize.v1"), make_entry("analysis.text_clean.v1"))
    kind_only = SelectorQuery(kind="analysis", input_schema=TEXT_IN, prefer_id="analysis.text_normalize.v1",
                              blocked_types=frozenset({"text_normalize"}))
    assert ids(index.select(kind_only)) == ["analysis.text_clean.v1"]
    decision = index.select(replace(QUERY, blocked_types=frozenset({"text_normalize"})))
    assert decision.decision == "create"
    assert "type text_normalize is blocked" in decision.reason


def test_allowed_types_restrict(index_of):
    index = index_of(make_entry("analysis.text_normalize.v1"), make_entry("analysis.text_clean.v1"), make_entry("analysis.lang_detect.v1"))
    query = SelectorQuery(kind="analysis", allowed_types=frozenset({"text_clean", "lang_detect"}))
    assert ids(index.select(query)) == ["analysis.lang_detect.v1", "analysis.text_clean.v1"]
    assert index.select(replace(query, allowed_types=frozenset())).candidates == []


@pytest.mark.parametrize("state", ["draft", "canary", "deprecated", "rolled_back", "disabled", "quarantined", "failed"])
def test_only_experimental_or_stable_nodes_are_reused(index_of, state):
    decision = index_of(make_entry("analysis.text_normalize.v1", state)).select(QUERY)
    assert decision.decision == "create"
    assert decision.candidates == []
    assert decision.reason == "no stable or experimental analysis/text_normalize node fits the request"


def test_io_mismatch_is_excluded_with_its_reason(index_of):
    integer_text = {"type": "object", "properties": {"text": {"type": "integer"}}, "required": ["text"]}
    decision = index_of(make_entry("analysis.text_normalize.v1", input_schema=integer_text)).select(QUERY)
    assert decision.decision == "create"
    assert decision.candidates == []
    assert decision.reason == ("no stable or experimental analysis/text_normalize node fits the request "
                               "(e.g. analysis.text_normalize.v1: input: field 'text': produces string, needs integer)")
    other_output = {"type": "object", "properties": {"n": {}}}
    decision = index_of(make_entry("analysis.text_normalize.v2", output_schema=other_output)).select(QUERY)
    assert decision.candidates == []
    assert decision.reason.endswith("(e.g. analysis.text_normalize.v2: output: missing required field 'normalized')")


def test_io_that_fits_without_being_equal_is_reused_but_exact_io_ranks_higher(index_of):
    wider_in = {"type": "object", "properties": {"text": {"type": "string"}, "lang": {"type": "string"}}, "required": ["text"]}
    index = index_of(make_entry("analysis.text_normalize.a", input_schema=wider_in), make_entry("analysis.text_normalize.b"))
    decision = index.select(QUERY)
    assert decision.decision == "reuse"
    assert ids(decision) == ["analysis.text_normalize.b", "analysis.text_normalize.a"]
    assert "io fits exactly" in decision.candidates[0].explanation
    assert "io fits," in decision.candidates[1].explanation + ","


def test_explanation_is_one_line(index_of):
    decision = index_of(make_entry("analysis.text_normalize.v1")).select(replace(QUERY, prefer_id="analysis.text_normalize.v1"))
    assert decision.candidates[0].explanation == "stable analysis/text_normalize, io fits exactly, preferred id, newest of its route"
    assert decision.reason.startswith("reuse analysis.text_normalize.v1: stable analysis/text_normalize")


def test_kind_only_query_lists_candidates_but_creates_below_min_score(index_of):
    index = index_of(make_entry("analysis.text_normalize.v1"))
    decision = index.select(SelectorQuery(kind="analysis", input_schema=TEXT_IN))
    assert decision.decision == "create"
    assert ids(decision) == ["analysis.text_normalize.v1"]
    assert "< min_score 0.7" in decision.reason


def test_weights_drive_the_scores():
    weights = SelectorWeights(type_match=0.0, stable=0.0, experimental=0.5, min_score=0.75)
    index = SelectorIndex(weights)
    for entry in (make_entry("analysis.text_normalize.a", "stable"), make_entry("analysis.text_normalize.b", "experimental")):
        index.upsert(entry)
    decision = index.select(QUERY)
    assert ids(decision) == ["analysis.text_normalize.b", "analysis.text_normalize.a"]
    assert decision.candidates[0].score == pytest.approx(0.3 + 0.05 + 0.5 + 0.05)
    assert decision.decision == "reuse"
    assert SelectorIndex(SelectorWeights(min_score=5)).select(QUERY).decision == "create"


def test_limit_truncates_the_ranking_not_the_decision(index_of):
    index = index_of(*(make_entry(f"analysis.text_normalize.n{i}") for i in range(8)))
    decision = index.select(replace(QUERY, limit=3))
    assert ids(decision) == ["analysis.text_normalize.n0", "analysis.text_normalize.n1", "analysis.text_normalize.n2"]
    assert decision.decision == "reuse"


def test_other_kinds_and_types_are_not_candidates(index_of):
    index = index_of(make_entry("action.text_normalize.v1"), make_entry("analysis.text_clean.v1"))
    assert index.select(QUERY).decision == "create"
    assert index.select(SelectorQuery(kind="memory")).reason == "no stable or experimental memory node fits the request"


def test_limit_must_be_positive():
    with pytest.raises(BadInput):
        SelectorQuery(kind="analysis", limit=0)


def test_to_dict(index_of):
    decision = index_of(make_entry("analysis.text_normalize.v1")).select(QUERY)
    body = decision.to_dict()
    assert body["decision"] == "reuse"
    assert body["reason"] == decision.reason
    assert body["candidates"][0] == {
        "id": "analysis.text_normalize.v1", "version": "0.1.0", "state": "stable",
        "score": decision.candidates[0].score, "explanation": decision.candidates[0].explanation,
    }
