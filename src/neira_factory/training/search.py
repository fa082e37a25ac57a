"""The search over a node's tunable params: a generator that proposes param sets and is told each
one's metric (ask/tell), so the caller owns evaluation, persistence and stopping.

* A param with `choices`, a boolean, or a `step` (or integer) range of at most GRID_MAX values is a
  **grid**: every value is tried.
* A continuous range `[min, max]` (or a stepped one with more values) is searched by a **coarse
  scan** of COARSE evenly spaced points, then **golden-section search** in the bracket around the
  best of them, down to a resolution of `step` or (max − min) / 200. The scan makes it robust to
  objectives that are not unimodal or are flat in places (accuracy against a threshold is a step
  function), where a bare golden-section search could walk away from the optimum.
* Several params are searched by **coordinate search**: one param at a time, the others held at
  the best values so far; rounds repeat (continuous brackets halving each round) until a round
  improves nothing.

The first param set proposed is the node's current one (the baseline). The search is deterministic:
given the same metrics it proposes the same sets, which is what lets an interrupted run resume by
replaying its recorded iterations. Already-seen param sets are never proposed twice.
"""
from __future__ import annotations

import json
import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from ..domain.errors import BadInput
from ..domain.templates import ParamSpec

GRID_MAX = 11  # a stepped range with at most this many values is tried value by value
COARSE = 5  # points of the first scan of a continuous range
RESOLUTION = 200  # a continuous range is resolved to (max - min) / RESOLUTION
MAX_ROUNDS = 8  # coordinate-search rounds over several params
INVPHI = (math.sqrt(5) - 1) / 2

Ask = Generator[dict[str, Any], "float | None", str]


@dataclass(frozen=True)
class Dimension:
    """One searched param: a grid of `values`, or a continuous range [lo, hi] (snapped to `step`)."""

    name: str
    values: tuple[Any, ...] | None = None
    lo: float = 0.0
    hi: float = 0.0
    step: float | None = None
    integer: bool = False

    @property
    def grid(self) -> bool:
        return self.values is not None

    @property
    def xtol(self) -> float:
        return self.step if self.step else (self.hi - self.lo) / RESOLUTION

    def snap(self, x: float) -> float | int:
        x = min(self.hi, max(self.lo, x))
        if self.step:
            x = self.lo + round((x - self.lo) / self.step) * self.step
            x = min(self.hi, max(self.lo, x))
        return round(x) if self.integer else round(x, 12)

    def start(self, value: Any) -> Any:
        """The node's current value, as a point of this dimension (the nearest one, or the middle)."""
        if self.grid:
            for v in self.values:
                if _same_value(v, value):
                    return v
            if _real(value) and all(_real(v) for v in self.values):
                return min(self.values, key=lambda v: abs(v - value))
            return self.values[0]
        return self.snap(value if _real(value) else (self.lo + self.hi) / 2)

    def describe(self) -> dict[str, Any]:
        if self.grid:
            return {"kind": "grid", "values": list(self.values)}
        return {"kind": "continuous", "min": self.lo, "max": self.hi, "step": self.step, "integer": self.integer,
                "resolution": self.xtol}


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _same_value(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (_real(a) and _real(b) and a == b)


def _integral(value: Any) -> bool:
    return value is None or (_real(value) and float(value).is_integer())


def dimension(name: str, spec: ParamSpec) -> Dimension:
    where = f"params.{name}"
    if spec.choices is not None:
        values: list[Any] = []
        for choice in spec.choices:
            if not any(_same_value(choice, v) and type(choice) is type(v) for v in values):
                values.append(choice)
        if not values:
            raise BadInput(f"{where}: `choices` is empty", field="params", param=name)
        return Dimension(name, tuple(values))
    if isinstance(spec.value, bool) and spec.min is None and spec.max is None:
        return Dimension(name, (False, True))
    if spec.min is None or spec.max is None:
        raise BadInput(f"{where}: a tunable param needs `min` and `max` (with an optional `step`), or `choices`, "
                       "to be searched", field="params", param=name)
    lo, hi = float(spec.min), float(spec.max)
    integer = isinstance(spec.value, int) and not isinstance(spec.value, bool) and all(
        _integral(v) for v in (spec.min, spec.max, spec.step))
    step = spec.step or (1.0 if integer else None)
    if step:
        count = math.floor((hi - lo) / step + 1e-9) + 1
        if count <= GRID_MAX:
            base = Dimension(name, None, lo, hi, step, integer)
            return Dimension(name, tuple(base.snap(lo + k * step) for k in range(count)), lo, hi, step, integer)
    if hi == lo:
        return Dimension(name, (int(lo) if integer else lo,), lo, hi, step, integer)
    return Dimension(name, None, lo, hi, step, integer)


def build_space(params: dict[str, ParamSpec], names: list[str] | None) -> list[Dimension]:
    """The dimensions of a run: the named params (each must be a tunable param of the node), or all
    tunable ones."""
    tunable = [n for n, spec in params.items() if spec.tunable]
    if names is None:
        if not tunable:
            raise BadInput("params: the node has no tunable params (declare one in the template's `params` with "
                           "`tunable: true` and `min`/`max` or `choices`)", field="params")
        names = tunable
    for name in names:
        if name not in params:
            raise BadInput(f"params: {name!r} is not a param of the node; its params: {sorted(params) or 'none'}",
                           field="params", param=name)
        if not params[name].tunable:
            raise BadInput(f"params: {name!r} is not tunable; tunable: {tunable or 'none'}", field="params",
                           param=name)
    return [dimension(name, params[name]) for name in names]


def key(params: dict[str, Any]) -> str:
    """A param set's identity (for memos and replay)."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


class CoordinateSearch:
    """`run()` yields param sets (only the searched params) and is sent each one's metric: a number,
    or None when the evaluation failed. It returns why it ended (`exhausted`)."""

    def __init__(self, dims: list[Dimension], current: dict[str, Any], maximize: bool):
        self.dims = dims
        self.maximize = maximize
        self.x = {d.name: d.start(current.get(d.name)) for d in dims}
        self.best = math.inf
        self.seen: dict[str, float] = {}

    def loss(self, metric: float | None) -> float:
        if metric is None or not math.isfinite(metric):
            return math.inf
        return -metric if self.maximize else metric

    def _probe(self, candidate: dict[str, Any]) -> Generator[dict[str, Any], float | None, float]:
        k = key(candidate)
        if k not in self.seen:
            metric = yield dict(candidate)
            self.seen[k] = self.loss(metric)
            if self.seen[k] < self.best:
                self.best, self.x = self.seen[k], dict(candidate)
        return self.seen[k]

    def _at(self, dim: Dimension, value: Any) -> Generator[dict[str, Any], float | None, float]:
        return (yield from self._probe({**self.x, dim.name: dim.snap(value) if not dim.grid else value}))

    def run(self) -> Ask:
        yield from self._probe(dict(self.x))
        for round_ in range(1, MAX_ROUNDS + 1):
            before = self.best
            for dim in self.dims:
                if dim.grid:
                    for value in dim.values:
                        yield from self._at(dim, value)
                elif round_ == 1:
                    yield from self._scan_and_refine(dim)
                else:
                    width = (dim.hi - dim.lo) / (2 ** (round_ + 1))
                    p = self.x[dim.name]
                    yield from self._golden(dim, max(dim.lo, p - width), min(dim.hi, p + width))
            if len(self.dims) == 1 or not self.best < before:
                break
        return "exhausted"

    def _scan_and_refine(self, dim: Dimension) -> Generator[dict[str, Any], float | None, None]:
        points = sorted({dim.snap(dim.lo + (dim.hi - dim.lo) * k / (COARSE - 1)) for k in range(COARSE)})
        for point in points:
            yield from self._at(dim, point)
        p = self.x[dim.name]
        known = sorted({*points, p})
        below = [v for v in known if v < p]
        above = [v for v in known if v > p]
        yield from self._golden(dim, below[-1] if below else dim.lo, above[0] if above else dim.hi)

    def _golden(self, dim: Dimension, a: float, b: float) -> Generator[dict[str, Any], float | None, None]:
        """Golden-section search for the smallest loss on [a, b] along `dim`."""
        tol = dim.xtol
        if b - a <= tol:
            return
        c, d = b - INVPHI * (b - a), a + INVPHI * (b - a)
        fc = yield from self._at(dim, c)
        fd = yield from self._at(dim, d)
        for _ in range(200):  # the bracket shrinks by 0.618 a step: far fewer are ever needed
            if b - a <= tol:
                return
            best_is_left = self.x[dim.name] <= (a + b) / 2
            if fc < fd or (fc == fd and best_is_left):
                b, d, fd = d, c, fc
                c = b - INVPHI * (b - a)
                fc = yield from self._at(dim, c)
            else:
                a, c, fc = c, d, fd
                d = a + INVPHI * (b - a)
                fd = yield from self._at(dim, d)
