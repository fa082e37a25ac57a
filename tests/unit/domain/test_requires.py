"""`requires`: the shape of each entry is checked where it is written (422 naming `requires.N`), the list is
bounded, an entry said twice is refused, every node has the implicit metrics and immune, and a template that
declares nothing keeps the stored document (and so the digest) it had before the field existed."""
from __future__ import annotations

import pytest

from neira_factory.domain.errors import BadInput
from neira_factory.domain.integrations import MAX_REQUIRES, Requirement, declared
from neira_factory.domain.shapes import parse_fabrication

BASE = {"id": "analysis.needs.v1", "version": "0.1.0", "analysis_type": "needs"}


def parsed(requires, **wrap):
    body = {**BASE, "requires": requires}
    return parse_fabrication({"template": body, **wrap} if wrap else body).template


def refused(requires) -> BadInput:
    with pytest.raises(BadInput) as caught:
        parsed(requires)
    return caught.value


def test_each_kind_is_read_into_its_kind_and_target():
    template = parsed(["metrics", "immune", "memory:memory.facts", "node:analysis.echo.v1", "node:analysis.echo",
                       "capability:factory_memory"])
    assert [(r.kind, r.target) for r in map(Requirement.parse, template.requires)] == [
        ("metrics", None), ("immune", None), ("memory", "memory.facts"), ("node", "analysis.echo.v1"),
        ("node", "analysis.echo"), ("capability", "factory_memory")]
    assert template.to_document()["requires"] == template.requires


@pytest.mark.parametrize(("entry", "says"), [
    ("database:main", "unknown kind 'database'"), ("", "unknown kind ''"), ("Metrics", "unknown kind 'Metrics'"),
    ("node:", "node needs a target: node:ID"), ("memory:", "memory needs a target: memory:ROUTE"),
    ("capability:", "capability needs a target"), ("metrics:x", "metrics takes no target"),
    ("immune:", "immune takes no target"), ("node:Analysis.X", "node:ID takes an id or route"),
    ("node:echo", "node:ID takes an id or route"), ("memory:memory.facts\x00", "memory:ROUTE takes an id or route"),
    ("capability:Self-Edit", "capability:NAME takes a gate name"), ("capability:" + "a" * 65, "takes a gate name")])
def test_a_bad_entry_is_a_422_naming_its_place(entry, says):
    error = refused(["metrics", entry])
    assert error.status == 422 and error.extra["field"] == "requires.1", error.body()
    assert says in error.reason


def test_the_field_is_named_under_the_wrapper_the_body_used():
    with pytest.raises(BadInput) as caught:
        parsed(["node:"], reason="why")
    assert caught.value.extra["field"] == "template.requires.0"


@pytest.mark.parametrize("value", ["metrics", {"node": "analysis.echo.v1"}, [1], [None], [["metrics"]]])
def test_anything_but_a_list_of_strings_is_refused(value):
    field = refused(value).extra["field"]
    assert field in ("requires", "requires.0"), field


def test_the_list_is_bounded_and_an_entry_said_twice_is_refused():
    most = [f"node:analysis.n{i}.v1" for i in range(MAX_REQUIRES)]
    assert len(parsed(most).requires) == MAX_REQUIRES
    assert refused([*most, "metrics"]).extra["field"] == "requires"
    twice = refused(["node:analysis.a.v1", "metrics", "node:analysis.a.v1"])
    assert twice.extra["field"] == "requires" and "requires.2 repeats requires.0" in twice.reason


def test_metrics_and_immune_are_implicit_unless_declared():
    assert [(str(r), implicit) for r, implicit in declared([])] == [("metrics", True), ("immune", True)]
    assert [(str(r), implicit) for r, implicit in declared(["capability:self_edit", "immune"])] == [
        ("metrics", True), ("capability:self_edit", False), ("immune", False)]


def test_a_template_without_requires_stores_the_same_document_as_before():
    template = parse_fabrication(BASE).template
    assert template.requires == [] and "requires" not in template.to_document()
    assert "requires" in parsed(["metrics"]).to_document()


@pytest.mark.parametrize("entry", ["x" * 100_000, "node:" + "a" * 100_000, "capability:" + "a" * 100_000])
def test_an_entry_is_bounded_before_it_is_read_and_never_echoed_whole(entry):
    error = refused(["metrics", entry])
    assert error.status == 422 and error.extra["field"] == "requires.1", error.body()
    assert len(str(error.body())) < 1000  # the 422 does not carry the entry back
