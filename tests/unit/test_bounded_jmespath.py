"""domain/bounded_jmespath: expressions that ask for exponential work are stopped by a bound — quickly and
without the memory — and every ordinary expression gives what plain jmespath gives."""
from __future__ import annotations

import time
import tracemalloc

import jmespath
import pytest
from jmespath.exceptions import JMESPathError

from neira_factory.domain import bounded_jmespath as bj
from neira_factory.domain import deadlines

pytestmark = pytest.mark.usefixtures("quiet_gc")  # tests/conftest.py: timed bounds

TEN = "[" + ",".join(["@"] * 10) + "]"
DATA = {"a": list(range(10)), "s": "x" * 100, "o": {"k": 1}, "people": [{"name": "Ann", "age": 31},
                                                                         {"name": "Bob", "age": 25}]}
BUDGET_S, MARGIN_S = 0.5, 0.5  # a search given a node's deadline stops within it, give or take the margin
PEAK_BYTES = 100 * 1024 * 1024  # what a stopped bomb may have held (unbounded, they hold gigabytes)
FLAT = "@" + f"|{TEN}[]" * 7  # the bomb: 10^7 elements


def stopped(expression: str, data=DATA) -> bj.LimitExceeded:
    """The search's LimitExceeded under a deadline BUDGET_S away, checked to have come within it."""
    started = time.monotonic()
    with pytest.raises(bj.LimitExceeded) as caught:
        bj.search(bj.parse(expression), data, deadline=started + BUDGET_S)
    assert time.monotonic() - started < BUDGET_S + MARGIN_S, expression
    return caught.value


@pytest.mark.parametrize("expression", [
    FLAT,
    "@" + f"|{TEN}[]" * 12,
    "@" + "|[@,@]" * 60,  # no flatten: shared references, 2^60 times the input as JSON
    "@" + "|{a:@,b:@,c:@,d:@,e:@,f:@,g:@,h:@,i:@,j:@}" * 9,  # objects
    "o" + "|*.[@,@,@,@]|{k: @}" * 14,  # value projections
    "to_string(@" + "|[@,@]" * 21 + ")",  # 2^21 times the input as text
    "length(to_string(@" + "|[@,@]" * 17 + "))",
    "join(to_string(@" + f"|{TEN}" * 4 + "), [s,s,s,s,s,s,s,s,s,s])",  # a separator of over a million characters, nine times
    "join(',', @" + f"|{TEN}[]" * 5 + "|[*].s)",
    "sort(@" + f"|{TEN}[]" * 7 + "|[*].s)",
    "reverse(@" + f"|{TEN}[]" * 7 + ")",
    "merge(@" + "|{a:@,b:@,c:@,d:@,e:@,f:@,g:@,h:@,i:@,j:@}" * 8 + ")",
    "sort_by(@" + f"|{TEN}[]" * 7 + ", &s)",
    "max_by(@" + f"|{TEN}[]" * 7 + ", &length(s))",
    "values(@" + "|{a:@,b:@,c:@,d:@,e:@,f:@,g:@,h:@,i:@,j:@}" * 8 + ")",
    "(@" + "|[@,@]" * 24 + ") == (@" + "|[@,@]" * 24 + ")",
    "contains(@" + "|[@,@]" * 24 + ", s)",
])
def test_values_too_big_to_build_are_a_limit(expression):
    error = stopped(expression)
    assert error.kind == "limit" and "characters as JSON" in error.reason, error.reason


@pytest.mark.parametrize("expression", [
    "a" + f"|[*].{TEN}|[]" * 8,  # projections of projections
    "a" + f"[*].{TEN}" * 7,
    "a" + f"|[?@ >= `0`].{TEN}|[]" * 8,  # filter projections
    "map(&[@,@,@,@,@,@,@,@,@,@], " * 8 + "a" + ")" * 8,
])
def test_projection_bombs_stop_at_a_bound_or_the_deadline(expression):
    assert stopped(expression).kind in ("limit", "timeout")


@pytest.mark.parametrize("expression", [FLAT, "@" + f"|{TEN}[]" * 8, "to_string(@" + "|[@,@]" * 21 + ")",
                                        "a" + f"|[*].{TEN}|[]" * 8])
def test_a_stopped_bomb_held_little_memory(expression):
    tracemalloc.start()
    try:
        with pytest.raises(bj.LimitExceeded):
            bj.search(bj.parse(expression), DATA, deadline=time.monotonic() + 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"held {peak} bytes"


def test_many_values_each_under_the_cap_exhaust_the_work_budget():
    # each element becomes a string of ~1.5 M characters (under the cap); twenty of them are past the budget
    data = {"a": ["x" * 150] * 20}
    error = stopped("a[*].to_string(@" + f"|{TEN}" * 4 + ")", data)
    assert error.kind == "limit" and "work" in error.reason, error.reason


def test_a_search_past_its_deadline_is_a_timeout():
    with pytest.raises(bj.LimitExceeded) as caught:
        bj.search(bj.parse("a[*].[@, @]"), DATA, deadline=time.monotonic() - 0.001)
    error = caught.value
    assert error.kind == "timeout" and "deadline" in error.reason


def test_a_slow_search_stops_at_its_deadline():
    data = {"a": list(range(100_000))}
    started = time.monotonic()
    with pytest.raises(bj.LimitExceeded) as caught:
        bj.search(bj.parse("a[*].[@, @][*].to_string(@)"), data, deadline=time.monotonic() + 0.02)
    assert caught.value.kind == "timeout" and time.monotonic() - started < 0.5


def test_the_calls_deadline_is_the_deadline_of_searches_given_none():
    parsed = bj.parse("a[*].[@, @]")
    with deadlines.scope(time.monotonic() - 1):
        with pytest.raises(bj.LimitExceeded) as caught:
            bj.search(parsed, DATA)
        assert caught.value.kind == "timeout"
        assert bj.search(parsed, DATA, deadline=time.monotonic() + 1)[0] == [0, 0]  # a given one wins
    assert bj.search(parsed, DATA)[0] == [0, 0]  # outside: the default budget


@pytest.mark.parametrize("expression", [
    "a" + ".a" * 500,  # too long
    "!" * 300 + "a",  # nests too deeply
    "!" * 600 + "a",  # past Python's recursion in the parser
    "|".join(["a"] * 100),  # pipes nest
    "[" * 70 + "a" + "]" * 70,
])
def test_long_or_deep_expressions_are_refused_at_parse(expression):
    with pytest.raises(bj.LimitExceeded) as caught:
        bj.parse(expression)
    assert isinstance(caught.value, JMESPathError) and caught.value.kind == "limit"
    assert str(bj.MAX_EXPRESSION_CHARS) in caught.value.reason or str(bj.MAX_NESTING) in caught.value.reason


def test_a_bad_expression_is_still_a_jmespath_error():
    with pytest.raises(JMESPathError):
        bj.parse("a[")
    with pytest.raises(JMESPathError):
        bj.search(bj.parse("length(@)"), 5)


@pytest.mark.parametrize("expression", [
    "a", "a[2]", "a[-1]", "a[1:4]", "a[::-1]", "o.k", "people[*].name", "people[?age > `30`].name",
    "people[].{n: name, a: age}", "sort_by(people, &age)[*].name", "max_by(people, &age).name",
    "{n: length(a), s: sum(a), avg: avg(a), m: max(a), first: a[0]}", "join(', ', people[*].name)",
    "to_string(o)", "merge(o, {x: `2`})", "keys(o)", "values(o)", "not_null(missing, o.k)", "type(s)",
    "a[?@ > `5`] | [0]", "[a[0], o.k, 'lit']", "*.k", "contains(a, `3`)", "reverse(a)", "a[] | length(@)",
    "people[0].name == 'Ann' && a[0] == `0`", "!missing", "map(&name, people)", "starts_with(s, 'x')",
    "`[1, 2, {\"x\": 3}]`", "length(s)", "to_array(s)", "floor(`1.5`)", "sort(people[*].name)",
    "people[*].[name, age][]", "a[*] | [?@ < `3`]",
])
def test_ordinary_expressions_give_what_jmespath_gives(expression):
    assert bj.search(bj.parse(expression), DATA) == jmespath.search(expression, DATA)


def test_a_big_input_passes_through_unmeasured_and_built_values_up_to_the_cap_are_fine():
    big = {"text": "y" * (bj.MAX_VALUE_CHARS + 10), "items": [{"n": i} for i in range(10_000)]}
    assert bj.search(bj.parse("text"), big) is big["text"]  # selected, not built: no bound to break
    assert len(bj.search(bj.parse("items[*].n"), big)) == 10_000
    assert len(bj.search(bj.parse("{a: items, b: items}"), big)["b"]) == 10_000
    assert stopped("[text, text]", big).kind == "limit"  # built: counted twice
