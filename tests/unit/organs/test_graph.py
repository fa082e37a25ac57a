"""organs.graph: an OrganTemplate checked as a typed, acyclic graph with bound roles."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from neira_factory.domain.report import Risk
from neira_factory.domain.shapes import parse_organ
from neira_factory.library import registry
from neira_factory.organs.graph import Member, Problem, role_bindings, validate

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NORMALIZE = "analysis.text_normalize.v1"
PHONEMES = "analysis.text_to_phonemes.v1"
ADAPTER = "analysis.speak_adapter.v1"

TEXT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
COUNT = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
ANY = {"type": "object"}


def library_member(node_id: str, node_type: str, state: str = "stable") -> Member:
    io = registry.io_schema(node_type)
    return Member(node_id, node_type, state, io["input"], io["output"])


def member(node_id: str, state: str = "stable", node_type: str | None = None,
           input_schema: dict | None = ANY, output_schema: dict | None = ANY) -> Member:
    return Member(node_id, node_type or node_id.split(".")[1], state, input_schema, output_schema)


def resolver(*members: Member):
    known = {m.id: m for m in members}
    return known.get


def voice_members(**states: str) -> list[Member]:
    return [library_member(NORMALIZE, "text_normalize", states.get("normalize", "stable")),
            library_member(PHONEMES, "text_to_phonemes", states.get("phonemes", "stable")),
            library_member(ADAPTER, "speak_adapter", states.get("adapter", "stable"))]


def organ(**fields) -> object:
    return parse_organ({"id": "organ.test.v1", **fields})


def codes(report) -> list[tuple[str, str, str]]:
    return [(p.code, p.severity, p.field) for p in report.problems]


def only(report, code: str) -> Problem:
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, report.problems
    return found[0]


# --- the voice organ -------------------------------------------------------------------------

def test_the_voice_example_is_clean_ordered_and_has_its_roles_bound():
    template = parse_organ(yaml.safe_load((EXAMPLES / "organ.voice.v1.yaml").read_text()))
    report = validate(template, resolver(*voice_members()))
    assert report.problems == [] and report.blocking == [] and report.ok
    assert report.missing == [] and report.type_errors == []
    assert report.graph["order"] == [NORMALIZE, PHONEMES, ADAPTER]
    assert report.graph["edges"] == [{"from": NORMALIZE, "to": PHONEMES, "channel": "speech"},
                                     {"from": PHONEMES, "to": ADAPTER, "channel": "speech"}]
    assert [(n["id"], n["state"], n["roles"]) for n in report.graph["nodes"]] == [
        (NORMALIZE, "stable", ["text_normalize"]), (PHONEMES, "stable", ["text_to_phonemes"]),
        (ADAPTER, "stable", ["speak_adapter"])]
    assert report.roles == {"text_normalize": NORMALIZE, "text_to_phonemes": PHONEMES, "speak_adapter": ADAPTER}
    assert role_bindings(template, report.members) == report.roles


def test_order_is_topological_and_otherwise_in_template_order():
    template = organ(nodes=["analysis.c.v1", "analysis.b.v1", "analysis.a.v1", "analysis.d.v1"],
                     channels=[{"name": "x", "nodes": ["analysis.a.v1", "analysis.b.v1"]},
                               {"name": "y", "nodes": ["analysis.d.v1", "analysis.c.v1"]}])
    report = validate(template, resolver(*(member(f"analysis.{n}.v1") for n in "abcd")))
    assert report.graph["order"] == ["analysis.a.v1", "analysis.b.v1", "analysis.d.v1", "analysis.c.v1"]
    assert report.problems == []


def test_resolve_is_asked_once_per_node():
    asked: list[str] = []
    known = {m.id: m for m in voice_members()}

    def resolve(node_id):
        asked.append(node_id)
        return known.get(node_id)

    template = organ(nodes=[NORMALIZE, PHONEMES], channels=[
        {"name": "a", "nodes": [NORMALIZE, PHONEMES]}, {"name": "b", "nodes": [NORMALIZE, PHONEMES]}])
    validate(template, resolve)
    assert asked == [NORMALIZE, PHONEMES]


# --- missing nodes ---------------------------------------------------------------------------

def test_a_missing_node_is_reported_where_nodes_lists_it():
    template = organ(roles=["text_normalize"], nodes=[NORMALIZE, "analysis.ghost.v1"],
                     channels=[{"name": "speech", "nodes": [NORMALIZE, "analysis.ghost.v1"]}])
    report = validate(template, resolver(*voice_members()))
    assert report.missing == ["analysis.ghost.v1"]
    problem = only(report, "missing_node")
    assert (problem.severity, problem.field, problem.node) == ("blocking", "nodes.1", "analysis.ghost.v1")
    assert "analysis.ghost.v1" in problem.message
    assert report.blocking == [problem]
    ghost = report.graph["nodes"][1]
    assert (ghost["id"], ghost["state"], ghost["type"]) == ("analysis.ghost.v1", "missing", None)


def test_a_missing_node_only_a_channel_names_is_reported_at_its_channel_position():
    template = organ(nodes=[NORMALIZE, PHONEMES],
                     channels=[{"name": "speech", "nodes": [NORMALIZE, PHONEMES]},
                               {"name": "extra", "nodes": [PHONEMES, "analysis.ghost.v1"]}])
    report = validate(template, resolver(*voice_members()))
    problem = only(report, "missing_node")
    assert (problem.field, problem.channel, problem.node) == ("channels.1.nodes.1", "extra", "analysis.ghost.v1")
    assert "'extra'" in problem.message
    assert only(report, "node_not_listed").field == "channels.1.nodes.1"


def test_nodes_from_channels_only_are_the_organs_nodes_without_warnings():
    template = organ(channels=[{"name": "speech", "nodes": [NORMALIZE, "analysis.ghost.v1"]}])
    report = validate(template, resolver(*voice_members()))
    assert codes(report) == [("missing_node", "blocking", "nodes.1")]  # the model listed them in `nodes`


# --- types -----------------------------------------------------------------------------------

def test_a_type_mismatch_names_the_channel_both_nodes_and_the_reason():
    template = organ(nodes=["analysis.count.v1", "analysis.speak.v1"],
                     channels=[{"name": "talk", "nodes": ["analysis.count.v1", "analysis.speak.v1"]}])
    report = validate(template, resolver(member("analysis.count.v1", output_schema=COUNT),
                                         member("analysis.speak.v1", input_schema=TEXT)))
    problem = only(report, "type_mismatch")
    assert report.type_errors == [problem]
    assert (problem.severity, problem.field, problem.channel, problem.node) == (
        "blocking", "channels.0.nodes.1", "talk", "analysis.speak.v1")
    assert "'talk'" in problem.message
    assert "analysis.count.v1" in problem.message and "analysis.speak.v1" in problem.message
    assert "missing required field 'text'" in problem.message


def test_library_schemas_that_do_not_fit_are_caught():
    again = "analysis.text_normalize.v2"  # needs `text`, gets only `normalized`
    template = organ(nodes=[NORMALIZE, again], channels=[{"name": "speech", "nodes": [NORMALIZE, again]}])
    report = validate(template, resolver(*voice_members(), library_member(again, "text_normalize")))
    problem = only(report, "type_mismatch")
    assert problem.field == "channels.0.nodes.1" and "missing required field 'text'" in problem.message


def test_unknown_schemas_are_not_compared():
    template = organ(nodes=["analysis.count.v1", "analysis.speak.v1"],
                     channels=[{"name": "talk", "nodes": ["analysis.count.v1", "analysis.speak.v1"]}])
    report = validate(template, resolver(member("analysis.count.v1", output_schema=None),
                                         member("analysis.speak.v1", input_schema=TEXT)))
    assert report.type_errors == [] and report.problems == []


# --- cycles ----------------------------------------------------------------------------------

def test_a_node_twice_in_one_channel_is_a_cycle_with_its_path():
    a, b = "analysis.a.v1", "analysis.b.v1"
    template = organ(nodes=[a, b], channels=[{"name": "loop", "nodes": [a, b, a]}])
    report = validate(template, resolver(member(a), member(b)))
    problem = only(report, "cycle")
    assert (problem.severity, problem.field, problem.channel, problem.node) == (
        "blocking", "channels.0.nodes.2", "loop", a)
    assert f"{a} → {b} → {a}" in problem.message and "'loop'" in problem.message
    assert report.graph["order"] == [a, b]  # every node appears once, even on a cycle


def test_a_cycle_across_two_channels_is_reported_at_the_channel_that_closes_it():
    a, b, c = "analysis.a.v1", "analysis.b.v1", "analysis.c.v1"
    template = organ(nodes=[a, b, c], channels=[{"name": "forth", "nodes": [a, b, c]},
                                                {"name": "back", "nodes": [c, a]}])
    report = validate(template, resolver(member(a), member(b), member(c)))
    problem = only(report, "cycle")
    assert (problem.field, problem.channel) == ("channels.1.nodes.1", "back")
    assert f"{a} → {b} → {c} → {a}" in problem.message


def test_a_node_feeding_itself_is_a_cycle():
    a = "analysis.a.v1"
    report = validate(organ(nodes=[a], channels=[{"name": "self", "nodes": [a, a]}]), resolver(member(a)))
    problem = only(report, "cycle")
    assert problem.field == "channels.0.nodes.1" and f"{a} → {a}" in problem.message


def test_each_separate_loop_is_reported_and_a_larger_loop_is_named():
    a, b, c, d = (f"analysis.{n}.v1" for n in "abcd")
    template = organ(nodes=[a, b, c, d], channels=[
        {"name": "one", "nodes": [a, b, a]},
        {"name": "two", "nodes": [c, d]},
        {"name": "three", "nodes": [d, c]},
        {"name": "four", "nodes": [b, c]}])  # joins nothing new: a→b→a and c→d→c stay apart
    report = validate(template, resolver(*(member(n) for n in (a, b, c, d))))
    cycles = [p for p in report.problems if p.code == "cycle"]
    assert [p.field for p in cycles] == ["channels.0.nodes.2", "channels.2.nodes.1"]
    figure_eight = organ(nodes=[a, b, c], channels=[{"name": "x", "nodes": [a, b, a, c, a]}])
    report = validate(figure_eight, resolver(*(member(n) for n in (a, b, c))))
    problem = only(report, "cycle")
    assert problem.field == "channels.0.nodes.4" and "loop through 3 nodes" in problem.message


def test_a_long_chain_is_checked_quickly():
    ids = [f"analysis.n{i}.v1" for i in range(3000)]
    channels = [{"name": f"c{i}", "nodes": ids[i:i + 2]} for i in range(len(ids) - 1)]
    report = validate(organ(nodes=ids, channels=channels), resolver(*(member(n) for n in ids)))
    assert report.problems == [] and report.graph["order"] == ids
    closed = organ(nodes=ids, channels=[*channels, {"name": "back", "nodes": [ids[-1], ids[0]]}])
    problem = only(validate(closed, resolver(*(member(n) for n in ids))), "cycle")
    assert problem.field == f"channels.{len(channels)}.nodes.1" and "loop" not in problem.message


# --- roles -----------------------------------------------------------------------------------

def test_a_role_no_node_has_is_unbound():
    template = organ(roles=["text_normalize", "translate"], nodes=[NORMALIZE],
                     channels=[{"name": "s", "nodes": [NORMALIZE]}])
    report = validate(template, resolver(*voice_members()))
    problem = only(report, "unbound_role")
    assert (problem.severity, problem.field) == ("blocking", "roles.translate")
    assert "'translate'" in problem.message
    assert report.roles == {"text_normalize": NORMALIZE}


def test_a_role_several_nodes_have_is_ambiguous():
    first, second = "analysis.text_normalize.v1", "analysis.text_normalize.v2"
    template = organ(roles=["text_normalize"], nodes=[first, second],
                     channels=[{"name": "s", "nodes": [first, second]}])
    report = validate(template, resolver(member(first, node_type="text_normalize"),
                                         member(second, node_type="text_normalize")))
    problem = only(report, "ambiguous_role")
    assert (problem.severity, problem.field) == ("blocking", "roles.text_normalize")
    assert first in problem.message and second in problem.message
    assert report.roles == {}


def test_a_role_dict_binds_explicitly_and_rejects_a_node_outside_the_organ():
    template = organ(roles={"speaker": ADAPTER, "reader": "analysis.ghost.v1"}, nodes=[NORMALIZE, ADAPTER],
                     channels=[{"name": "s", "nodes": [NORMALIZE, ADAPTER]}])
    report = validate(template, resolver(*voice_members()))
    problem = only(report, "unknown_role_node")
    assert (problem.severity, problem.field, problem.node) == ("blocking", "roles.reader", "analysis.ghost.v1")
    assert report.roles == {"speaker": ADAPTER}
    assert report.graph["nodes"][1]["roles"] == ["speaker"]


def test_a_role_listed_twice_is_a_warning():
    template = organ(roles=["text_normalize", "text_normalize"], nodes=[NORMALIZE],
                     channels=[{"name": "s", "nodes": [NORMALIZE]}])
    assert codes(validate(template, resolver(*voice_members()))) == [
        ("duplicate_role", "warning", "roles.text_normalize")]


# --- states and warnings ---------------------------------------------------------------------

@pytest.mark.parametrize("state", ["quarantined", "disabled"])
def test_a_quarantined_or_disabled_member_blocks(state):
    template = parse_organ(yaml.safe_load((EXAMPLES / "organ.voice.v1.yaml").read_text()))
    report = validate(template, resolver(*voice_members(phonemes=state)))
    problem = only(report, f"{state}_node")
    assert (problem.severity, problem.field, problem.node) == ("blocking", "nodes.1", PHONEMES)
    assert report.blocking == [problem]
    assert report.graph["nodes"][1]["state"] == state


def test_a_draft_member_is_a_warning():
    template = parse_organ(yaml.safe_load((EXAMPLES / "organ.voice.v1.yaml").read_text()))
    report = validate(template, resolver(*voice_members(adapter="draft")))
    assert codes(report) == [("draft_node", "warning", "nodes.2")]
    assert report.blocking == [] and report.ok


def test_a_node_no_channel_uses_is_a_warning():
    template = organ(nodes=[NORMALIZE, PHONEMES, ADAPTER], channels=[{"name": "s", "nodes": [NORMALIZE, PHONEMES]}])
    report = validate(template, resolver(*voice_members()))
    problem = only(report, "node_not_in_channel")
    assert (problem.severity, problem.field, problem.node) == ("warning", "nodes.2", ADAPTER)
    assert report.graph["order"] == [NORMALIZE, PHONEMES, ADAPTER]


def test_duplicates_are_warnings():
    template = organ(nodes=[NORMALIZE, NORMALIZE], channels=[{"name": "s", "nodes": [NORMALIZE]},
                                                             {"name": "s", "nodes": [NORMALIZE]}])
    report = validate(template, resolver(*voice_members()))
    assert codes(report) == [("duplicate_node", "warning", "nodes.1"),
                             ("duplicate_channel", "warning", "channels.1.name")]


def test_problems_come_in_template_order_and_become_risks():
    count, speak = "analysis.count.v1", "analysis.speak.v1"
    template = organ(roles=["nobody"], nodes=["analysis.ghost.v1", count, speak],
                     channels=[{"name": "s", "nodes": [count, speak, count]}])
    report = validate(template, resolver(member(count, "draft", output_schema=COUNT),
                                         member(speak, input_schema=TEXT)))
    assert [p.field for p in report.problems] == [
        "roles.nobody", "nodes.0", "nodes.0", "nodes.1", "channels.0.nodes.1", "channels.0.nodes.2"]
    assert [p.code for p in report.problems] == [
        "unbound_role", "missing_node", "node_not_in_channel", "draft_node", "type_mismatch", "cycle"]
    assert report.type_errors == [report.problems[4]]
    risk = report.problems[1].to_risk()
    assert isinstance(risk, Risk) and risk.to_dict() == {
        "code": "missing_node", "severity": "blocking", "message": report.problems[1].message, "field": "nodes.0"}
    assert report.risks()[0]["code"] == "unbound_role"
    assert "could not be resolved: analysis.ghost.v1" in report.problems[0].message
