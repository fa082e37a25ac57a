"""regex_extract and its guards against hostile patterns."""

from __future__ import annotations

import time

import pytest

from neira_factory.library import ImplError
from neira_factory.library.extract import MAX_MATCHES, MAX_PATTERN_SIZE, expanded_size


def test_regex_extract_whole_match_by_default(call):
    out = call("regex_extract", {"text": "a1 b22 c333"}, {"pattern": r"\d+"})
    assert out == {"matches": ["1", "22", "333"], "match": "1", "truncated": False}


def test_regex_extract_named_group_and_flags(call):
    params = {"pattern": r"заказ\s+№(?P<id>\d+)", "group": "id", "flags": "i"}
    out = call("regex_extract", {"text": "ЗАКАЗ №17 и заказ №42"}, params)
    assert out["matches"] == ["17", "42"]


def test_regex_extract_numbered_group_given_as_text(call):
    out = call("regex_extract", {"text": "x=1, y=2"}, {"pattern": r"(\w)=(\d)", "group": "2"})
    assert out["matches"] == ["1", "2"]


def test_regex_extract_no_match_is_null(call):
    assert call("regex_extract", {"text": "abc"}, {"pattern": r"\d"}) == {
        "matches": [],
        "match": None,
        "truncated": False,
    }


def test_regex_extract_caps_the_matches(call):
    out = call("regex_extract", {"text": "a" * (MAX_MATCHES + 10)}, {"pattern": "a"})
    assert len(out["matches"]) == MAX_MATCHES
    assert out["truncated"] is True


def test_regex_extract_stops_catastrophic_backtracking(call):
    started = time.monotonic()
    with pytest.raises(ImplError) as caught:
        call("regex_extract", {"text": "a" * 40 + "b"}, {"pattern": r"(a|aa)+$"})
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("params", "field", "needle"),
    [
        ({"pattern": "[a"}, "params.pattern", "bad pattern: unterminated character set"),
        ({"pattern": "(a"}, "params.pattern", "unbalanced parentheses"),
        ({}, "params.pattern", "non-empty"),
        ({"pattern": "a", "flags": "q"}, "params.flags", "ims"),
        ({"pattern": "a", "flags": 1}, "params.flags", "ims"),
        ({"pattern": "(a)", "group": 2}, "params.group", "no group"),
        ({"pattern": "(a)", "group": "name"}, "params.group", "no group"),
        ({"pattern": "(a)", "group": [1]}, "params.group", "group number or name"),
        ({"pattern": 5}, "params.pattern", "non-empty"),
    ],
)
def test_regex_extract_bad_params(call, params, field, needle):
    with pytest.raises(ImplError) as caught:
        call("regex_extract", {"text": "aaa"}, params)
    assert caught.value.code == "bad_params"
    assert caught.value.field == field
    assert needle in caught.value.reason


@pytest.mark.parametrize(
    ("pattern", "size"),
    [
        (r"\d{4}-\d{2}", 7),
        (r"(ab){3}c", 7),
        (r"(?:ab){3}c", 13),
        (r"[a-z(]{10}", 10),
        (r"\({10}", 10),
        (r"a(?#(((){5}", 6),
        ("((a{100}){100}){100}", 1_000_000),
        ("(?:[ab]{1000}){1000}", 1_002_000),
        ("(a", None),
        ("a)", None),
    ],
)
def test_expanded_size(pattern, size):
    assert expanded_size(pattern) == size


@pytest.mark.parametrize("pattern", ["((a{100}){100}){100}", "(?:(?:a{1000}){1000}){10}", "(?:\\w{1000}?){1000}"])
def test_patterns_that_unroll_too_far_are_refused_before_compiling(call, pattern):
    started = time.monotonic()
    with pytest.raises(ImplError) as caught:
        call("regex_extract", {"text": "aaa"}, {"pattern": pattern})
    assert caught.value.code == "bad_params"
    assert str(MAX_PATTERN_SIZE) in caught.value.reason
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("pattern", ["(?x)(?:a{1000}#)\n){1000}", "(?ix:a)", "(?V1)[[a]--[b]]"])
def test_verbose_and_v1_patterns_are_refused(call, pattern):
    with pytest.raises(ImplError) as caught:
        call("regex_extract", {"text": "a"}, {"pattern": pattern})
    assert caught.value.code == "bad_params"
    assert "not supported" in caught.value.reason


def test_inline_comments_and_classes_with_parens_still_work(call):
    out = call("regex_extract", {"text": "f(x) g(y)"}, {"pattern": r"(?#name)(\w)[(](\w)\)", "group": 2})
    assert out["matches"] == ["x", "y"]
