"""TTLCache: read-through within the TTL, invalidation, no stale value kept from a load raced by an invalidation."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from neira_factory.runtime.cache import TTLCache

LONG_TTL_S = 60.0


class Loader:
    """A load function that counts its calls and returns `key:call-number`."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, key: str) -> str:
        self.calls[key] += 1
        return f"{key}:{self.calls[key]}"


def test_value_is_loaded_once_within_the_ttl():
    load = Loader()
    cache = TTLCache(load, LONG_TTL_S)
    assert [cache.get("a") for _ in range(5)] == ["a:1"] * 5
    assert load.calls == {"a": 1}


def test_keys_are_loaded_separately():
    load = Loader()
    cache = TTLCache(load, LONG_TTL_S)
    assert (cache.get("a"), cache.get("b"), cache.get("a")) == ("a:1", "b:1", "a:1")
    assert load.calls == {"a": 1, "b": 1}


def test_value_is_loaded_again_after_the_ttl():
    load = Loader()
    cache = TTLCache(load, 0.5)
    assert (cache.get("a"), cache.get("a")) == ("a:1", "a:1")
    time.sleep(0.8)
    assert cache.get("a") == "a:2"
    assert load.calls["a"] == 2


def test_zero_ttl_loads_every_time():
    load = Loader()
    cache = TTLCache(load, 0.0)
    assert [cache.get("a") for _ in range(3)] == ["a:1", "a:2", "a:3"]


def test_invalidate_key_reloads_that_key_only():
    load = Loader()
    cache = TTLCache(load, LONG_TTL_S)
    cache.get("a"), cache.get("b")
    cache.invalidate("a")
    assert cache.get("a") == "a:2"
    assert cache.get("b") == "b:1"
    assert load.calls == {"a": 2, "b": 1}


def test_invalidate_unknown_key_is_harmless():
    load = Loader()
    cache = TTLCache(load, LONG_TTL_S)
    cache.get("a")
    cache.invalidate("missing")
    assert cache.get("a") == "a:1"


def test_invalidate_all_reloads_every_key():
    load = Loader()
    cache = TTLCache(load, LONG_TTL_S)
    cache.get("a"), cache.get("b")
    cache.invalidate()
    assert (cache.get("a"), cache.get("b")) == ("a:2", "b:2")


def test_invalidation_during_the_load_means_the_value_is_not_kept():
    calls = []

    def load(key: str) -> str:
        calls.append(key)
        if len(calls) == 1:
            cache.invalidate(key)  # a change committed while this load was reading
        return f"{key}:{len(calls)}"

    cache = TTLCache(load, LONG_TTL_S)
    assert cache.get("a") == "a:1"  # the caller still gets what was loaded
    assert cache.get("a") == "a:2"  # but it was not kept
    assert cache.get("a") == "a:2"  # the next, unraced load is kept
    assert len(calls) == 2


def test_invalidate_all_during_the_load_means_the_value_is_not_kept():
    calls = []

    def load(key: str) -> str:
        calls.append(key)
        if len(calls) == 1:
            cache.invalidate()
        return f"{key}:{len(calls)}"

    cache = TTLCache(load, LONG_TTL_S)
    assert cache.get("a") == "a:1"
    assert cache.get("a") == "a:2"
    assert len(calls) == 2


def test_invalidation_from_another_thread_while_loading_is_not_lost():
    loading, release = threading.Event(), threading.Event()
    load = Loader()

    def slow_first(key: str) -> str:
        value = load(key)
        if load.calls[key] == 1:
            loading.set()
            assert release.wait(10)
        return value

    cache = TTLCache(slow_first, LONG_TTL_S)
    results = []
    reader = threading.Thread(target=lambda: results.append(cache.get("a")))
    reader.start()
    assert loading.wait(10)
    cache.invalidate("a")  # the value being loaded is already stale
    release.set()
    reader.join(10)
    assert not reader.is_alive()
    assert results == ["a:1"]
    assert cache.get("a") == "a:2"
    assert load.calls["a"] == 2


def test_load_error_propagates_and_caches_nothing():
    calls = []

    def load(key: str) -> str:
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return "fresh"

    cache = TTLCache(load, LONG_TTL_S)
    with pytest.raises(RuntimeError, match="database down"):
        cache.get("a")
    assert cache.get("a") == "fresh"
    assert cache.get("a") == "fresh"
    assert len(calls) == 2


def test_none_is_a_cached_value():
    calls = []

    def load(key: str) -> None:
        calls.append(key)

    cache = TTLCache(load, LONG_TTL_S)
    assert cache.get("a") is None and cache.get("a") is None
    assert calls == ["a"]


def test_full_cache_still_answers_every_key():
    load = Loader()
    cache = TTLCache(load, LONG_TTL_S, max_entries=2)
    values = [cache.get(k) for k in ("a", "b", "c", "a", "b", "c")]
    assert [v.split(":")[0] for v in values] == ["a", "b", "c", "a", "b", "c"]
    assert cache.get("c") == values[-1]  # the last loaded key is kept
