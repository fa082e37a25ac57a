"""A memory node's input (domain/memory.py `parse_op`): each op's model, and a BadOp naming the field for
anything else — a record without a description, a record over 64 KiB, an unknown op (which lists the ops)."""
from __future__ import annotations

import json

import pytest

from neira_factory.domain.memory import (
    MAX_RECORD_BYTES,
    OPS,
    READ_OPS,
    WRITE_OPS,
    BadOp,
    ForgetOp,
    GetOp,
    PushMetricsOp,
    PutOp,
    SearchOp,
    op_of,
    parse_op,
)


def bad(data) -> BadOp:
    with pytest.raises(BadOp) as caught:
        parse_op(data)
    return caught.value


def test_each_op_parses_to_its_model_with_the_defaults():
    put = parse_op({"op": "put", "record": {"description": "Вода кипит при 100 °C"}})
    assert isinstance(put, PutOp)
    assert (put.record.id, put.record.type, put.record.credibility, put.record.keywords) == (None, "fact", 0.5, [])
    assert isinstance(parse_op({"op": "get", "id": "a"}), GetOp)
    search = parse_op({"op": "search", "query": "вода"})
    assert isinstance(search, SearchOp) and (search.limit, search.type) == (10, None)
    assert isinstance(parse_op({"op": "forget", "id": "a"}), ForgetOp)
    assert isinstance(parse_op({"op": "push_metrics", "id": "a", "demand": 3}), PushMetricsOp)
    assert set(OPS) == set(READ_OPS) | set(WRITE_OPS) and not set(READ_OPS) & set(WRITE_OPS)


def test_a_record_without_a_description_names_the_field():
    error = bad({"op": "put", "record": {"type": "fact", "keywords": ["x"]}})
    assert error.field == "record.description"
    assert "record.description" in error.reason and "required" in error.reason.lower()
    assert bad({"op": "put", "record": {"description": ""}}).field == "record.description"
    assert bad({"op": "put"}).field == "record"


def test_a_record_over_64_kib_is_refused():
    two_byte_letters = "я" * (MAX_RECORD_BYTES // 2 + 10)  # fewer characters than the limit, more bytes
    assert len(two_byte_letters) < MAX_RECORD_BYTES
    error = bad({"op": "put", "record": {"description": two_byte_letters}})
    assert error.field == "record" and "64 KiB" in error.reason
    error = bad({"op": "put", "record": {"description": "x", "metadata": {"blob": "y" * MAX_RECORD_BYTES}}})
    assert error.field == "record"
    assert bad({"op": "put", "record": {"description": "x" * (MAX_RECORD_BYTES + 1)}}).field == "record.description"


def test_a_record_just_under_the_limit_is_taken():
    record = {"description": "x"}
    record["description"] = "x" * (MAX_RECORD_BYTES - len(json.dumps(record)) + 1)
    assert len(json.dumps(record).encode()) == MAX_RECORD_BYTES
    assert isinstance(parse_op({"op": "put", "record": record}), PutOp)


@pytest.mark.parametrize("op", ["remember", "", "PUT", None, 7, [], {"x": 1}])
def test_an_unknown_op_lists_the_ops(op):
    error = bad({"op": op})
    assert error.field == "op"
    assert "unknown op" in error.reason and all(name in error.reason for name in OPS)
    assert op_of({"op": op}) is None


@pytest.mark.parametrize("data", [None, [], "put", {}, {"record": {"description": "x"}}])
def test_an_input_without_an_op_lists_the_ops(data):
    error = bad(data)
    assert error.field == "op" and all(name in error.reason for name in OPS)


@pytest.mark.parametrize("data,field", [
    ({"op": "get"}, "id"),
    ({"op": "search", "query": "x", "limit": 0}, "limit"),
    ({"op": "search", "query": "x", "limit": 101}, "limit"),
    ({"op": "search", "query": ""}, "query"),
    ({"op": "search", "query": "x", "extra": 1}, "extra"),
    ({"op": "put", "record": {"description": "x", "credibility": 1.5}}, "record.credibility"),
    ({"op": "put", "record": {"description": "x", "id": "two words"}}, "record.id"),
    ({"op": "put", "record": {"description": "x", "keywords": ["k" * 501]}}, "record.keywords"),
    ({"op": "put", "record": {"description": "x", "colour": "red"}}, "record.colour"),
    ({"op": "push_metrics", "id": "a", "credibility": float("nan")}, "credibility"),
    ({"op": "push_metrics", "id": "a", "demand": -1}, "demand"),
])
def test_a_bad_field_is_named(data, field):
    error = bad(data)
    assert error.field == field and error.reason.startswith(f"{field}:")


def test_op_of_names_a_known_op_only():
    assert [op_of({"op": op}) for op in OPS] == list(OPS)
    assert op_of("put") is None and op_of({"op": "nope"}) is None
