"""A log-bucketed, mergeable histogram of non-negative values (ms, operation counts, bytes).

Bucket `i` holds the values in (MIN_VALUE * GROWTH**(i-1), MIN_VALUE * GROWTH**i];
bucket 0 also holds everything at or below MIN_VALUE, zeros included. Quantiles
report a bucket's upper bound, so an estimate never under-reports and over-reports
by less than GROWTH - 1 (10%). Counts are sparse, so a histogram stores and merges
cheaply as a JSON object.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import ceil, log

MIN_VALUE = 1e-3
GROWTH = 1.1
_SCALE = 1 / MIN_VALUE
_INV_LOG_GROWTH = 1 / log(GROWTH)


def bucket_of(value: float) -> int:
    """The index of the bucket that holds `value`."""
    if value <= MIN_VALUE:
        if value < 0:
            raise ValueError(f"a histogram holds non-negative values, not {value!r}")
        return 0
    try:
        return ceil(log(value * _SCALE) * _INV_LOG_GROWTH)
    except (ValueError, OverflowError):  # NaN or infinity
        raise ValueError(f"a histogram holds finite values, not {value!r}") from None


def upper_bound(index: int) -> float:
    """The largest value bucket `index` holds: the value a quantile in it reports."""
    return MIN_VALUE * GROWTH**index


class Histogram:
    """Counts of values per log bucket, with quantile estimates."""

    __slots__ = ("_count", "_counts")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._count = 0

    def add(self, value: float, n: int = 1) -> None:
        """Record `value` `n` times (the hot path of every invocation)."""
        if n < 1:
            raise ValueError(f"n must be positive, not {n}")
        index = bucket_of(value)
        self._counts[index] = self._counts.get(index, 0) + n
        self._count += n

    @property
    def count(self) -> int:
        return self._count

    def merge(self, other: Histogram) -> None:
        """Add every observation of `other` to this histogram."""
        for index, n in other._counts.items():
            self._counts[index] = self._counts.get(index, 0) + n
        self._count += other._count

    @classmethod
    def merged(cls, items: Iterable[Histogram]) -> Histogram:
        total = cls()
        for item in items:
            total.merge(item)
        return total

    def quantile(self, q: float) -> float | None:
        """The upper bound of the bucket holding the q-th observation; None when empty."""
        if not 0 <= q <= 1:
            raise ValueError(f"a quantile is in [0, 1], not {q!r}")
        if not self._count:
            return None
        rank = max(1, ceil(q * self._count))
        seen = 0
        for index in sorted(self._counts):
            seen += self._counts[index]
            if seen >= rank:
                break
        return upper_bound(index)

    def to_dict(self) -> dict[str, int]:
        """Bucket index (as a string, for JSON) -> count."""
        return {str(index): self._counts[index] for index in sorted(self._counts)}

    @classmethod
    def from_dict(cls, data: Mapping[str, int] | None) -> Histogram:
        histogram = cls()
        for key, n in (data or {}).items():
            if int(n) > 0:
                histogram._counts[int(key)] = int(n)
                histogram._count += int(n)
        return histogram

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return self._counts == other._counts

    def __repr__(self) -> str:
        return f"Histogram(count={self._count}, buckets={self.to_dict()})"
