"""Objectives: what is compared with what (field, label/value defaults, subsets), and each metric's value."""
import math

import pytest

from neira_factory.domain.errors import BadInput
from neira_factory.training.objectives import (
    MAX_FAILURES,
    OBJECTIVES,
    Result,
    compile_field,
    contains,
    objective,
    same,
    score,
)


def results(pairs, errors=None):
    errors = errors or {}
    return [Result(i, {"i": i}, expected, got, errors.get(i)) for i, (expected, got) in enumerate(pairs)]


def run(name, pairs, field=None, errors=None):
    return score(OBJECTIVES[name], compile_field(field), results(pairs, errors))


def test_a_scalar_expected_is_compared_with_the_outputs_label():
    s = run("accuracy", [("spam", {"label": "spam", "confidence": 0.9}), ("ham", {"label": "spam"}),
                         ("ham", {"label": "ham"}), ("spam", {"label": "ham"})])
    assert s.metric == 0.5 and s.failed == 2
    assert [f["index"] for f in s.failures] == [1, 3]
    assert s.failures[0] == {"index": 1, "input": {"i": 1}, "expected": "ham", "got": {"label": "spam"}, "error": None}


def test_a_scalar_output_is_compared_as_it_is():
    assert run("exact_match", [(3, 3), (3, 3.0), (1, True)]).metric == pytest.approx(2 / 3)


def test_a_dict_expected_is_contained_in_the_output_and_accuracy_gives_partial_credit():
    pairs = [({"label": "a", "lang": "en"}, {"label": "a", "lang": "ru", "confidence": 0.7}),
             ({"label": "b", "meta": {"n": 1}}, {"label": "b", "meta": {"n": 1, "m": 2}, "confidence": 0.1})]
    assert run("exact_match", pairs).metric == 0.5
    assert run("accuracy", pairs).metric == pytest.approx((1 / 2 + 1) / 2)
    labels = [({"label": "a"}, {"label": "a", "confidence": 0.7}), ({"label": "b"}, {"label": "c"})]
    assert run("accuracy", labels).metric == run("exact_match", labels).metric == 0.5


def test_field_picks_a_jmespath_of_the_output_and_of_a_dict_expected():
    pairs = [("x", {"result": {"tag": "x"}}), ({"result": {"tag": "y"}}, {"result": {"tag": "y", "n": 1}})]
    assert run("accuracy", pairs, field="result.tag").metric == 1.0


def test_an_output_without_the_compared_key_cannot_be_compared_and_says_so():
    s = run("accuracy", [("spam", {"kind": "spam"}), ("ham", {"kind": "ham"})])
    assert s.metric is None and "no `label`" in s.error and "field" in s.error
    s = run("accuracy", [("spam", {"kind": "spam"})], field="nothing.here")
    assert s.metric is None and "finds nothing" in s.error


def test_failed_runs_count_as_wrong_and_all_failed_is_an_evaluation_error():
    s = run("accuracy", [("a", None), ("a", {"label": "a"})], errors={0: "timeout: too slow"})
    assert s.metric == 0.5 and s.failures[0]["error"] == "timeout: too slow"
    s = run("accuracy", [("a", None)], errors={0: "exception: boom"})
    assert s.metric is None and "boom" in s.error


def test_macro_f1_over_the_labels_seen():
    # truth a a b b ; predicted a b b b: a: tp1 fp0 fn1 -> 2/3 ; b: tp2 fp1 fn0 -> 4/5
    pairs = [("a", {"label": "a"}), ("a", {"label": "b"}), ("b", {"label": "b"}), ("b", {"label": "b"})]
    assert run("f1", pairs).metric == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert run("f1", [("a", {"label": "a"}), ("b", {"label": "b"})]).metric == 1.0


def test_f1_a_failed_example_is_a_false_negative_of_its_class():
    s = run("f1", [("a", None), ("a", {"label": "a"})], errors={0: "exception: x"})
    assert s.metric == pytest.approx(2 / 3) and s.failed == 1


def test_f1_on_dict_labels_ignores_extra_output_keys():
    pairs = [({"label": "a"}, {"label": "a", "confidence": 0.3}), ({"label": "b"}, {"label": "b", "confidence": 1})]
    assert run("f1", pairs).metric == 1.0


def test_mse_on_numbers_value_and_dict_leaves():
    assert run("mse", [(1.0, 2.0), (0.0, 0.0)]).metric == pytest.approx(0.5)
    assert run("mse", [(1.0, {"value": 3.0})]).metric == pytest.approx(4.0)
    s = run("mse", [({"x": 1, "y": {"z": 2}}, {"x": 2, "y": {"z": 4}, "other": "s"})])
    assert s.metric == pytest.approx((1 + 4) / 2)
    assert s.failures[0]["error"].startswith("squared error")


def test_mse_needs_every_example_to_give_a_number():
    s = run("mse", [(1.0, 1.0), (1.0, {"value": "n/a"})])
    assert s.metric is None and "1 of 2" in s.error
    assert run("mse", [(1.0, None)], errors={0: "timeout: x"}).metric is None
    assert run("mse", [(1e300, -1e300)]).metric is None  # overflow is an error, not inf


def test_failures_are_capped_but_counted():
    s = run("accuracy", [("a", {"label": "b"})] * (MAX_FAILURES + 5))
    assert s.failed == MAX_FAILURES + 5 and len(s.failures) == MAX_FAILURES and s.metric == 0.0


def test_equality_rules():
    assert same(1, 1.0) and not same(1, True) and not same("1", 1)
    assert same({"a": [1, 2]}, {"a": [1.0, 2]}) and not same({"a": 1}, {"a": 1, "b": 2})
    assert contains({"a": 1}, {"a": 1, "b": 2}) and not contains({"a": 1, "b": 2}, {"a": 1})
    assert contains([{"a": 1}], [{"a": 1, "z": 0}]) and not contains([1], [1, 2])
    assert not math.isnan(run("accuracy", [("a", {"label": "a"})]).metric)


def test_bad_objective_and_field_are_422_naming_the_field():
    with pytest.raises(BadInput) as exc:
        objective("r2")
    assert exc.value.extra["field"] == "objective"
    with pytest.raises(BadInput) as exc:
        compile_field("label[")
    assert exc.value.extra["field"] == "field"


def search(*ids):
    return {"results": [{"id": i, "score": 1.0} for i in ids]}


def test_mrr_scores_the_reciprocal_rank_of_the_expected_id_in_a_memory_search():
    s = run("mrr", [("a", search("a", "b")), ("a", search("b", "c", "a")), ("z", search("a")), ("a", search())])
    assert s.metric == pytest.approx((1 + 1 / 3 + 0 + 0) / 4)
    assert s.failed == 3 and [f["index"] for f in s.failures] == [1, 2, 3]
    assert OBJECTIVES["mrr"].maximize


def test_mrr_takes_a_field_naming_the_ranked_list_and_an_object_expected_as_a_subset_of_an_entry():
    pairs = [({"id": "a"}, {"hits": [{"id": "b"}, {"id": "a"}]})]
    assert run("mrr", pairs, field="hits").metric == 0.5


def test_mrr_on_outputs_without_a_list_cannot_be_compared():
    s = run("mrr", [("a", {"results": "a"}), ("a", {"label": "a"})])
    assert s.metric is None and "no example could be compared" in s.error


def test_accuracy_at_1_is_exact_match_on_the_first_result():
    assert run("exact_match", [("a", search("a", "b")), ("a", search("b", "a"))], field="results[0].id").metric == 0.5
