"""What a run maximises (or minimises): accuracy, macro F1, mean squared error, exact-match rate, mean
reciprocal rank.

Each example's run gives an output (or an error); the objective compares it with `expected`:

* with a `field` (a JMESPath expression), the field of the output is compared with `expected` when
  that is a scalar, or with the same field of `expected` when that is an object;
* without one, a scalar `expected` is compared with the output itself when the output is a scalar,
  else with the output's `label` (accuracy, f1, exact_match) or `value` (mse) — what classifiers and
  scorers return; an object `expected` is compared with the whole output.

`exact_match` counts an example right when what it is compared with matches `expected` the way a
dry-run checks a template's examples: every key of an object `expected` is in the output with that
value (recursively; extra output keys are fine), anything else is equal. `accuracy` gives partial
credit: each example scores the share of `expected`'s fields (its leaves; a scalar `expected` is one)
that match, and the metric is the mean — for a classifier's label both are the plain rate of right
answers. `f1` is the macro average over the labels seen (each label: 2·TP / (2·TP + FP + FN)); an
object label is compared on `expected`'s keys. `mse` is the mean of squared differences (over every
number of an object `expected`), and needs every example to give a number.

`mrr` ranks: the output's `field` (default `results[*].id`, what a memory node's search returns) is a list,
best first, and an example scores 1/k when the k-th entry is `expected` (an id, or an object the entry
contains), 0 when none is; the metric is the mean. Accuracy at 1 is `exact_match` with field
`results[0].id`.

An example whose run failed counts as wrong (for mse it makes the whole evaluation fail); an
iteration in which no example could be compared at all is an evaluation error.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from jmespath.exceptions import JMESPathError

from ..domain import bounded_jmespath
from ..domain.errors import BadInput

MAX_FAILURES = 20  # per iteration, the failures kept (the count is exact)


@dataclass(frozen=True)
class Objective:
    name: str
    maximize: bool
    default_key: str  # the output's key a scalar `expected` is compared with


OBJECTIVES = {
    "accuracy": Objective("accuracy", True, "label"),
    "f1": Objective("f1", True, "label"),
    "exact_match": Objective("exact_match", True, "label"),
    "mse": Objective("mse", False, "value"),
    "mrr": Objective("mrr", True, "results"),
}
MRR_FIELD = "results[*].id"  # mrr's `field` when none is named: a memory search's ids, best first


def objective(name: str) -> Objective:
    try:
        return OBJECTIVES[name]
    except KeyError:
        raise BadInput(f"objective: one of {sorted(OBJECTIVES)}", field="objective") from None


def compile_field(expression: str | None):
    if expression is None:
        return None
    try:
        return bounded_jmespath.parse(expression)
    except JMESPathError as exc:
        raise BadInput(f"field: bad JMESPath {expression!r}: {exc}", field="field") from None


@dataclass(frozen=True)
class Result:
    """One example's run."""

    index: int
    input: Any
    expected: Any
    output: Any = None
    error: str | None = None


@dataclass
class Score:
    metric: float | None  # None: the evaluation failed (see `error`)
    error: str | None = None
    failed: int = 0  # examples wrong, failed or not comparable
    failures: list[dict[str, Any]] = field(default_factory=list)  # the first MAX_FAILURES of them


class Uncomparable(Exception):
    """The output (or `expected`) does not have what the comparison needs."""


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _field(compiled, value: Any, where: str) -> Any:
    """The `field` of `value` (a bounded search); Uncomparable when it finds nothing or fails."""
    try:
        found = bounded_jmespath.search(compiled, value)
    except JMESPathError as exc:
        raise Uncomparable(f"`field` {compiled.expression!r} fails on {where}: {exc}") from None
    if found is None:
        raise Uncomparable(f"`field` {compiled.expression!r} finds nothing in {where}")
    return found


def truth_of(expected: Any, compiled) -> Any:
    if compiled is not None and isinstance(expected, dict):
        return _field(compiled, expected, "expected")
    return expected


def predicted_of(output: Any, expected: Any, compiled, obj: Objective) -> Any:
    if compiled is not None:
        return _field(compiled, output, "the output")
    if _scalar(expected) and isinstance(output, dict):
        if obj.default_key not in output:
            raise Uncomparable(f"the output has no `{obj.default_key}` to compare a scalar expected with; "
                               "name a `field`")
        return output[obj.default_key]
    return output


def same(a: Any, b: Any) -> bool:
    """Deep equality; numbers compare by value (1 == 1.0), booleans only with booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _number(a) and _number(b):
        return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def contains(expected: Any, got: Any) -> bool:
    """`expected` ⊆ `got`: objects by their keys (recursively), everything else by `same`."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(k in got and contains(v, got[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(got, list) and len(got) == len(expected)
                and all(contains(e, g) for e, g in zip(expected, got, strict=True)))
    return same(expected, got)


def _project(got: Any, like: Any) -> Any:
    """`got` cut down to the keys of `like` (so extra output keys make no new label)."""
    if isinstance(like, dict) and isinstance(got, dict):
        return {k: _project(got[k], v) for k, v in like.items() if k in got}
    return got


def label(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _leaves(value: Any, path: tuple = ()) -> list[tuple[tuple, float]]:
    if _number(value):
        return [(path, float(value))]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return []


def _at(value: Any, path: tuple) -> Any:
    for step in path:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    return value


def squared_error(truth: Any, predicted: Any) -> float:
    if _number(truth):
        if not _number(predicted):
            raise Uncomparable(f"mse needs a number; got {label(predicted)[:80]}")
        difference = float(predicted) - float(truth)
        return difference * difference  # inf on overflow (`** 2` would raise)
    leaves = _leaves(truth)
    if not leaves:
        raise Uncomparable("mse needs a number in expected")
    total = 0.0
    for path, t in leaves:
        p = _at(predicted, path)
        if not _number(p):
            where = ".".join(str(s) for s in path)
            raise Uncomparable(f"mse: the output has no number at {where}")
        difference = float(p) - t
        total += difference * difference
    return total / len(leaves)


def _failure(r: Result, got: Any = None, error: str | None = None) -> dict[str, Any]:
    return {"index": r.index, "input": r.input, "expected": r.expected, "got": got, "error": error}


def score(obj: Objective, compiled, results: list[Result]) -> Score:
    """The metric of one iteration, with its failures."""
    if not results:
        return Score(None, "no examples")
    if obj.name == "mse":
        return _mse(compiled, results)
    if obj.name == "f1":
        return _f1(obj, compiled, results)
    if obj.name == "mrr":
        return _mean(results, partial(_reciprocal_rank, compiled or compile_field(MRR_FIELD)),
                     lambda credit: f"reciprocal rank {credit:.3g}")

    def credit(r: Result) -> float:
        truth = truth_of(r.expected, compiled)
        predicted = predicted_of(r.output, r.expected, compiled, obj)
        return _share(truth, predicted) if obj.name == "accuracy" else float(contains(truth, predicted))

    return _mean(results, credit)


def _mean(results: list[Result], credit_of: Callable[[Result], float],
          miss: Callable[[float], str | None] = lambda credit: None) -> Score:
    """The mean credit of the examples (a failed or uncomparable one scores 0), with the failures: each
    example with less than full credit, and why (its error, why it could not be compared, or `miss`)."""
    total, compared, failures, failed, first_problem = 0.0, 0, [], 0, None
    for r in results:
        problem, credit = r.error, 0.0
        if problem is None:
            try:
                credit = credit_of(r)
                compared += 1
            except Uncomparable as exc:
                problem = str(exc)
        total += credit
        if credit < 1:
            failed += 1
            first_problem = first_problem or problem
            if len(failures) < MAX_FAILURES:
                failures.append(_failure(r, r.output, problem or miss(credit)))
    if compared == 0:
        return Score(None, f"no example could be compared: {first_problem}", failed, failures)
    return Score(total / len(results), None, failed, failures)


def _reciprocal_rank(ranks, r: Result) -> float:
    """1/k when the k-th entry of the output's ranked list is `expected` (an object: contained in it), else 0."""
    ranked = _field(ranks, r.output, "the output")
    if not isinstance(ranked, list):
        raise Uncomparable(f"mrr needs a list at `{ranks.expression}`; got {label(ranked)[:80]}")
    return next((1 / k for k, got in enumerate(ranked, 1) if contains(r.expected, got)), 0.0)


def _fields(value: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """An object's leaves (a list or a scalar is one leaf; so is an empty object)."""
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _fields(v, (*path, k))]
    return [(path, value)]


def _share(truth: Any, predicted: Any) -> float:
    """The share of `truth`'s fields that `predicted` has, with the same values."""
    fields = _fields(truth)
    return sum(contains(v, _at(predicted, path)) for path, v in fields) / len(fields)


def _f1(obj: Objective, compiled, results: list[Result]) -> Score:
    truths: list[str] = []
    preds: list[str | None] = []
    failures, failed, first_problem = [], 0, None
    for r in results:
        problem, pred, truth = r.error, None, None
        try:
            truth_value = truth_of(r.expected, compiled)
            truth = label(truth_value)
            if problem is None:
                pred = label(_project(predicted_of(r.output, r.expected, compiled, obj), truth_value))
        except Uncomparable as exc:
            problem = str(exc)
        if truth is not None:
            truths.append(truth)
            preds.append(pred)
        if pred is None or pred != truth:
            failed += 1
            first_problem = first_problem or problem
            if len(failures) < MAX_FAILURES:
                failures.append(_failure(r, r.output, problem))
    if all(p is None for p in preds):
        return Score(None, f"no example could be compared: {first_problem}", failed, failures)
    labels = set(truths) | {p for p in preds if p is not None}
    per_label = []
    for c in sorted(labels):
        tp = sum(1 for t, p in zip(truths, preds, strict=True) if t == c and p == c)
        fp = sum(1 for t, p in zip(truths, preds, strict=True) if p == c and t != c)
        fn = sum(1 for t, p in zip(truths, preds, strict=True) if t == c and p != c)
        per_label.append(2 * tp / (2 * tp + fp + fn))
    return Score(sum(per_label) / len(per_label), None, failed, failures)


def _mse(compiled, results: list[Result]) -> Score:
    obj = OBJECTIVES["mse"]
    errors: list[tuple[float, Result]] = []
    problems: list[tuple[Result, str]] = []
    for r in results:
        if r.error is not None:
            problems.append((r, r.error))
            continue
        try:
            truth = truth_of(r.expected, compiled)
            errors.append((squared_error(truth, predicted_of(r.output, r.expected, compiled, obj)), r))
        except Uncomparable as exc:
            problems.append((r, str(exc)))
    if problems:
        failures = [_failure(r, r.output, why) for r, why in problems[:MAX_FAILURES]]
        return Score(None, f"{len(problems)} of {len(results)} examples gave no number (mse needs every one): "
                           f"{problems[0][1]}", len(problems), failures)
    misses = sorted(((se, r) for se, r in errors if se > 0), key=lambda x: -x[0])
    failures = [_failure(r, r.output, f"squared error {se:.6g}") for se, r in misses[:MAX_FAILURES]]
    mse = sum(se for se, _ in errors) / len(errors)
    if not math.isfinite(mse):
        return Score(None, "the mean squared error overflowed", len(misses), failures)
    return Score(mse, None, len(misses), failures)

