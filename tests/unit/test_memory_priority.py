"""A memory record's priority (domain/memory.py): Neira's examples, its monotonicity in each argument, and
`rank_key`, the stored time-independent key whose order is the priority order at any moment."""
from __future__ import annotations

import itertools
import random

import pytest

from neira_factory.domain.memory import DAY_S, HALF_LIFE_DAYS, priority, priority_at, rank_key

NOW = 1_800_000_000.0  # epoch seconds


def test_neiras_examples():
    assert round(priority(0.9, 2, 50), 2) == 0.86
    assert round(priority(0.2, 60, 1), 2) == 0.05


def test_bounds_and_the_half_life():
    assert priority(1.0, 0, 10**12) == pytest.approx(1.0)
    assert priority(0.0, 0, 100) == 0.0
    assert priority(0.8, 0, 0) == 0.0  # never returned nor written: no demand
    assert priority(0.8, HALF_LIFE_DAYS, 3) == pytest.approx(priority(0.8, 0, 3) / 2)
    assert priority(2.0, -5, -1) == 0.0  # out-of-range arguments are clamped, not extrapolated
    assert priority(2.0, -5, 1) == priority(1.0, 0, 1) == 0.5


@pytest.mark.parametrize("low,high", [
    ((0.3, 10, 5), (0.6, 10, 5)),  # more credible
    ((0.5, 30, 5), (0.5, 3, 5)),  # more recent
    ((0.5, 10, 1), (0.5, 10, 9)),  # more in demand
])
def test_priority_grows_with_credibility_recency_and_demand(low, high):
    assert priority(*low) < priority(*high)


def test_monotone_over_a_grid():
    values = [0.05, 0.2, 0.5, 0.9, 1.0]
    days = [0, 1, 7, 60, 365]
    demands = [1, 2, 10, 1000]
    for c, d, n in itertools.product(values, days, demands):
        p = priority(c, d, n)
        assert 0.0 <= p <= 1.0
        assert priority(c, d + 1, n) < p
        assert priority(c, d, n + 1) > p
        if c < 1.0:
            assert priority(min(1.0, c + 0.05), d, n) > p


def test_priority_at_of_the_rank_key_is_the_priority():
    touched = NOW - 12.5 * DAY_S
    key = rank_key(0.7, 4, touched)
    assert priority_at(key, NOW) == pytest.approx(priority(0.7, 12.5, 4))
    assert priority_at(key, touched) == pytest.approx(priority(0.7, 0, 4))


def test_rank_key_orders_records_as_priority_does_at_any_time():
    rng = random.Random(17)
    records = [(rng.uniform(0.01, 1.0), rng.randint(1, 500), NOW - rng.uniform(0, 400) * DAY_S) for _ in range(200)]
    by_key = sorted(range(len(records)), key=lambda i: rank_key(*records[i]))
    for later_days in (0, 1, 30, 365, 3650):
        now = NOW + later_days * DAY_S
        by_priority = sorted(range(len(records)),
                             key=lambda i: priority(records[i][0], (now - records[i][2]) / DAY_S, records[i][1]))
        assert by_priority == by_key, f"{later_days} days later"


def test_a_fresh_low_credibility_record_can_outrank_an_old_credible_one_forever_after():
    old_credible = rank_key(0.9, 1, NOW - 200 * DAY_S)  # 0.45 then, about 0.045 now
    fresh_doubtful = rank_key(0.2, 1, NOW)  # 0.1 now
    assert fresh_doubtful > old_credible
    for days in (0, 10, 1000):
        now = NOW + days * DAY_S
        assert priority_at(fresh_doubtful, now) > priority_at(old_credible, now)


def test_eviction_takes_the_lowest_priority_first_whatever_the_age():
    from neira_factory.backends.memory_access import Throwaway, row_in
    from neira_factory.domain.memory import RecordIn

    store = Throwaway()
    # (id, credibility, days since written): the old credible record is below the fresh doubtful one
    cells = [("fresh-doubtful", 0.2, 0), ("old-credible", 0.9, 200), ("fresh-credible", 0.9, 0),
             ("middling", 0.5, 30), ("equal-a", 0.4, 10), ("equal-b", 0.4, 10)]
    with store.tx() as tx:
        for rid, credibility, days in cells:
            tx.memory.put("s", row_in(RecordIn(id=rid, description=rid, credibility=credibility), "auto"),
                          NOW - days * DAY_S)
        expected = sorted(cells, key=lambda c: priority(c[1], c[2], 1))  # ties: the first written goes first
        assert tx.memory.evict("s", 6) == []
        assert tx.memory.evict("s", 4) == [expected[0][0], expected[1][0]]
        assert tx.memory.evict("s", 1) == [c[0] for c in expected[2:5]]
        assert tx.memory.count("s") == 1 and tx.memory.get("s", "fresh-credible") is not None
        assert tx.memory.stores() == {"s": (1, 5)}
