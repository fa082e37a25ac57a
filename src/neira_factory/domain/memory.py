"""Memory cells: what a record holds, what a memory node's input may say, and a record's priority.

Priority follows Neira's shape `priority = f(credibility, recency_days, demand)`:

    priority = credibility × 2^(−recency_days / 60) × demand / (demand + 1)

credibility is in [0, 1]; recency halves the priority every 60 days since the record was last updated or
used; demand counts the times the record was written or returned (a new record has demand 1), and saturates.
So f(0.9, 2, 50) = 0.86 and f(0.2, 60, 1) = 0.05, Neira's examples.

Since log(priority) = log(credibility × demand/(demand+1)) − recency_days·ln2/60, the order of two records by
priority never changes as time passes: `rank_key` (that log, measured from the epoch instead of from now) is
stored with each record, and eviction takes the lowest rank_key first without recomputing anything.
"""
from __future__ import annotations

import json
import math
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import json_values

HALF_LIFE_DAYS = 60.0
DAY_S = 86_400.0
MAX_RECORD_BYTES = 64 * 1024  # a record as JSON (UTF-8)
MIN_CREDIBILITY = 1e-6  # log(0) has no order: a record of credibility 0 ranks as this
READ_OPS = ("get", "search")
WRITE_OPS = ("put", "forget", "push_metrics")
OPS = ("put", "get", "search", "forget", "push_metrics")
MAX_LIMIT = 100
DEFAULT_CREDIBILITY = 0.5


def priority(credibility: float, recency_days: float, demand: float) -> float:
    """Neira's f(credibility, recency_days, demand), in [0, 1]."""
    credibility = min(1.0, max(0.0, credibility))
    demand = max(0.0, demand)
    return credibility * 2.0 ** (-max(0.0, recency_days) / HALF_LIFE_DAYS) * demand / (demand + 1.0)


def rank_key(credibility: float, demand: float, touched_at: float) -> float:
    """A time-independent key with the order of `priority` (touched_at: epoch seconds of the last update or use)."""
    c = max(MIN_CREDIBILITY, min(1.0, credibility))
    d = max(1e-9, demand)
    return math.log(c * d / (d + 1.0)) + touched_at / DAY_S * math.log(2) / HALF_LIFE_DAYS


def priority_at(key: float, now: float) -> float:
    """The priority a record with `rank_key` `key` has at `now` (epoch seconds)."""
    return min(1.0, math.exp(key - now / DAY_S * math.log(2) / HALF_LIFE_DAYS))


def _no_nul(value: Any) -> Any:
    """PostgreSQL's text and JSONB hold no NUL character: one in any text of an input is refused on either
    database (bad input, not the store's error)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str) and "\x00" in v:
            raise ValueError("a NUL character (\\u0000) is not allowed")
        if isinstance(v, dict):
            stack.extend(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return value


def _visible(value: str) -> str:
    """An id or type: no control or format characters (NUL, a right-to-left override, a zero-width space), so
    what the admin UI shows is what is stored."""
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise ValueError("control and format characters (e.g. U+0000, U+200B, U+202E) are not allowed")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Name = Annotated[str, AfterValidator(_visible)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecordIn(Strict):
    """What a `put` writes: Neira's memory cell."""

    id: Name | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\s]+$")
    type: Name = Field(default="fact", min_length=1, max_length=50, description="fact, rule, concept, …")
    description: Text = Field(min_length=1, max_length=MAX_RECORD_BYTES)
    keywords: list[Text] = Field(default_factory=list, max_length=100)
    links: list[Text] = Field(default_factory=list, max_length=100)
    credibility: float = Field(default=DEFAULT_CREDIBILITY, ge=0, le=1, allow_inf_nan=False)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("keywords", "links")
    @classmethod
    def _short(cls, value: list[str]) -> list[str]:
        if any(len(v) > 500 for v in value):
            raise ValueError("each entry is at most 500 characters")
        return value

    @field_validator("metadata")
    @classmethod
    def _plain(cls, value: dict[str, Any]) -> dict[str, Any]:
        found = json_values.problem(value, "metadata")  # NaN, a lone surrogate, too deep: the store cannot hold it
        if found is not None:
            raise ValueError(f"{found[0]}: {found[1]}")
        return _no_nul(value)


RecordId = Annotated[Text, Field(min_length=1, max_length=200)]  # get/forget: any id a put could have stored


class PutOp(Strict):
    op: Literal["put"]
    record: RecordIn


class GetOp(Strict):
    op: Literal["get"]
    id: RecordId


class SearchOp(Strict):
    op: Literal["search"]
    query: str = Field(min_length=1, max_length=2000)
    limit: int = Field(default=10, ge=1, le=MAX_LIMIT)
    type: Text | None = Field(default=None, min_length=1, max_length=50)


class ForgetOp(Strict):
    op: Literal["forget"]
    id: RecordId


class PushMetricsOp(Strict):
    op: Literal["push_metrics"]
    id: RecordId
    credibility: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    demand: int | None = Field(default=None, ge=0, le=10**9)


OP_MODELS: dict[str, type[Strict]] = {"put": PutOp, "get": GetOp, "search": SearchOp, "forget": ForgetOp,
                                      "push_metrics": PushMetricsOp}


class BadOp(ValueError):
    """A memory node's input it cannot take; `field` names what is wrong."""

    def __init__(self, reason: str, field: str):
        super().__init__(reason)
        self.reason = reason
        self.field = field


def op_of(data: Any) -> str | None:
    """The op an input asks for, when it names a known one."""
    op = data.get("op") if isinstance(data, dict) else None
    return op if isinstance(op, str) and op in OP_MODELS else None  # a list or an object is no op (nor hashable)


def parse_op(data: Any) -> Strict:
    """The input as its op's model; BadOp naming the field on anything else (an unknown op lists the ops)."""
    if not isinstance(data, dict) or "op" not in data:
        raise BadOp(f"a memory node's input is an object with an `op`: one of {', '.join(OPS)}", "op")
    if op_of(data) is None:
        raise BadOp(f"unknown op {data['op']!r}; the ops are: {', '.join(OPS)}", "op")
    try:
        parsed = OP_MODELS[data["op"]].model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise BadOp(f"{where}: {error['msg']}", where) from None
    if isinstance(parsed, PutOp):
        size = len(json.dumps(data["record"], ensure_ascii=False).encode())
        if size > MAX_RECORD_BYTES:
            raise BadOp(f"record: {size} bytes as JSON; a record is at most {MAX_RECORD_BYTES} bytes (64 KiB)",
                        "record")
    return parsed
