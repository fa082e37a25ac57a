"""Datasets: inline lists, JSON Lines text, a template's own examples; errors point at the culprit."""
import pytest

from neira_factory.domain.errors import BadInput
from neira_factory.domain.templates import Example
from neira_factory.training import datasets


def field_of(call):
    with pytest.raises(BadInput) as exc:
        call()
    return exc.value.extra.get("field"), exc.value.reason


def test_inline_examples():
    samples = datasets.from_items([{"input": {"text": "a"}, "expected": "x"}, {"input": 1, "expected": {"v": 2}}])
    assert [(s.input, s.expected) for s in samples] == [({"text": "a"}, "x"), (1, {"v": 2})]


@pytest.mark.parametrize("items,field", [
    ([], "dataset"),
    ({"input": 1}, "dataset"),
    ([{"input": 1}], "dataset.0.expected"),
    ([{"input": 1, "expected": "a"}, {"expected": "a"}], "dataset.1.input"),
    ([{"input": 1, "expected": "a", "label": "b"}], "dataset.0.label"),
    (["text"], "dataset.0"),
])
def test_inline_errors_name_the_field(items, field):
    assert field_of(lambda: datasets.from_items(items))[0] == field


def test_jsonl_with_comments_and_blank_lines_or_a_json_list():
    text = '# spam set\n{"input": {"text": "a"}, "expected": "x"}\n\n{"input": {"text": "b"}, "expected": "y"}\n'
    assert len(datasets.from_text(text)) == 2
    assert len(datasets.from_text('[{"input": 1, "expected": 2}]')) == 1


def test_jsonl_errors_name_the_line_and_never_quote_it():
    field, reason = field_of(lambda: datasets.from_text('{"input": 1, "expected": 2}\nSECRET-TOKEN-abc\n'))
    assert field == "dataset.file" and "line 2" in reason and "SECRET" not in reason
    field, reason = field_of(lambda: datasets.from_text('{"input": 1}\n'))
    assert "line 1" in reason and "expected" in reason
    assert field_of(lambda: datasets.from_text("\n# nothing\n"))[1] == "dataset.file: no examples"


def test_too_many_examples():
    items = [{"input": i, "expected": i} for i in range(datasets.MAX_EXAMPLES + 1)]
    assert "at most" in field_of(lambda: datasets.from_items(items))[1]


def test_template_examples_with_expected_only():
    samples = datasets.from_examples([Example(input=1, expected=2), Example(input=3)], "analysis.x.v1")
    assert [(s.input, s.expected) for s in samples] == [(1, 2)]
    field, reason = field_of(lambda: datasets.from_examples([Example(input=3)], "analysis.x.v1"))
    assert field == "dataset" and "analysis.x.v1" in reason


def test_jsonl_round_trip_is_canonical():
    samples = datasets.from_items([{"input": {"b": 1, "a": "ё"}, "expected": "x"}])
    content = datasets.to_jsonl(samples)
    assert datasets.from_text(content.decode()) == samples
    assert datasets.sha256(content) == datasets.sha256(datasets.to_jsonl(list(samples)))
