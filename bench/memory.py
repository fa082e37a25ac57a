"""Benchmark of a memory node: search at 100,000 records against the same full-text query run directly on the
same database, and put throughput.

Setup: a factory on SQLite in a temp var dir (`harness.factory_settings`), the memory node
`memory.bench.v1` (capacity 1,000,000) walked to stable, then `--records` synthetic records imported through
the node's store (`MemoryAccess.import_batch`, batches of 1,000: the bulk-import path, timed). Each record
says a few real Russian nouns (pymorphy3's dictionary), inflected at random, and a few of 5,000 made-up
Latin words, so posting lists are long for the Russian words and short for the others.

Search: `--queries` queries, each two words of one record (its first Russian noun in another inflection, and
one of its Latin words), limit 10. The factory side is `services.invoke.invoke(f.invoke, SYSTEM,
"memory.bench", {"op": "search", ...})`: policy, routing, the watchdog's worker hop, normalisation, the store's
query, ranking with priority, usage counting, output checks, statistics and metrics. The direct side is the
same SQL statement (`store.memory.search_sql`), with the query's terms already normalised, on a plain
`sqlite3` connection to the same database file, fetching all rows. The two alternate query by query, after a
warm-up; every factory answer is checked (the record the query was made from is among the results).

Put: `--puts` single puts through `invoke` (each its own write transaction, with its event), as records/s.

Prints the import rate, p50/p99 of both searches, put throughput, then the ratio (factory / direct p50;
goal ≤ 1.5, and factory p99 < 20 ms) last.

Run: `.venv/bin/python bench/memory.py [--records N] [--queries Q] [--puts P] [--seed S]`
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import harness

ROUTE = "memory.bench"
NODE = {"id": f"{ROUTE}.v1", "version": "0.1.0", "memory_type": "knowledge", "backend": "memory",
        "memory": {"store": "bench", "capacity": 1_000_000, "language": "auto"}}
RATIO_GOAL, P99_GOAL_MS = 1.5, 20.0
LATIN = "bcdfghklmnprstvz"
VOWELS = "aeiou"


def nouns(count: int) -> list[str]:
    """Common Russian nouns in their normal form, from pymorphy3's dictionary: each one whose every form reads
    back as it (so a query's form meets a record's), no names or places."""
    from neira_factory.library.text_search import morph, russian

    found: list[str] = []
    for prefix in "бвгдзклмнпрстфхчш":
        taken = 0
        for word, tag, normal, *_ in morph().iter_known_word_parses(prefix):
            if (tag.POS != "NOUN" or word != normal or len(word) < 5 or not word.isalpha() or word in found
                    or {"Name", "Surn", "Patr", "Geox", "Orgn", "Abbr"} & set(tag.grammemes)):
                continue
            if all(russian(form.word) == word for form in morph().parse(word)[0].lexeme):
                found.append(word)
                taken += 1
                if taken > count // 17:
                    break
    return found[:count]


def inflect(word: str, rng: random.Random) -> str:
    from neira_factory.library.text_search import morph

    forms = [f.word for f in morph().parse(word)[0].lexeme]
    return rng.choice(forms) if forms else word


def made_up(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(LATIN) + rng.choice(VOWELS) for _ in range(rng.randint(3, 4))))
    return sorted(words)


def corpus(records: int, rng: random.Random) -> tuple[list[dict], list[tuple[str, str]]]:
    """(records, [(query, id of the record it was made from)])."""
    russian, latin = nouns(400), made_up(rng, 5000)
    made, queries = [], []
    for i in range(records):
        ru = rng.sample(russian, 3)
        la = rng.sample(latin, 4)
        words = [inflect(w, rng) for w in ru] + la
        rng.shuffle(words)
        made.append({"id": f"r{i}", "type": "fact", "description": " ".join(words),
                     "credibility": round(rng.random(), 2)})
        queries.append((f"{inflect(ru[0], rng)} {la[0]}", f"r{i}"))
    return made, queries


def stable_memory(f) -> None:
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.services import fabricate, lifecycle

    fabricate.create(f.fabricate, SYSTEM, NODE)
    lifecycle.transition(f.lifecycle, SYSTEM, NODE["id"], "approve")
    for _ in range(2):
        lifecycle.transition(f.lifecycle, SYSTEM, NODE["id"], "approve", force=True, reason="first version")


def load(f, records: list[dict]) -> float:
    """Import the records (batches of 1,000); records/s."""
    from neira_factory.domain.memory import RecordIn

    access = f.runtime.backends.get("memory").access
    began = time.perf_counter()
    for start in range(0, len(records), 1000):
        batch = [RecordIn.model_validate(r) for r in records[start:start + 1000]]
        access.import_batch("bench", batch, actor="bench", capacity=1_000_000, language="auto", source="bench")
    return len(records) / (time.perf_counter() - began)


def searches(f, db_file: Path, queries: list[tuple[str, str]], warmup: int) -> tuple[list[float], list[float]]:
    """ms per search: (factory, direct), alternating."""
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.library.text_search import terms
    from neira_factory.services.invoke import invoke
    from neira_factory.store.memory import match_expression, search_sql

    direct_db = sqlite3.connect(db_file)
    sql = search_sql(postgres=False, by_type=False)
    factory_ms, direct_ms, missed = [], [], 0
    for n, (query, wanted) in enumerate(queries):
        match = match_expression(list(dict.fromkeys(terms(query)))[:32], postgres=False)
        began = time.perf_counter()
        answer = invoke(f.invoke, SYSTEM, ROUTE, {"op": "search", "query": query, "limit": 10})
        middle = time.perf_counter()
        rows = direct_db.execute(sql, {"match": match, "store": "bench", "n": 40}).fetchall()
        ended = time.perf_counter()
        missed += wanted not in {r["id"] for r in answer["output"]["results"]}
        if not rows:
            raise SystemExit(f"the direct query found nothing for {query!r}")
        if n >= warmup:
            factory_ms.append((middle - began) * 1000)
            direct_ms.append((ended - middle) * 1000)
    if missed > len(queries) // 100:
        raise SystemExit(f"{missed} of {len(queries)} searches missed the record they were made from")
    return factory_ms, direct_ms


def puts(f, count: int, rng: random.Random) -> float:
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.services.invoke import invoke

    began = time.perf_counter()
    for i in range(count):
        answer = invoke(f.invoke, SYSTEM, ROUTE, {"op": "put", "record": {
            "description": f"новая запись номер {i} {rng.random()}", "credibility": 0.5}})
        assert answer["output"]["version"] == 1
    return count / (time.perf_counter() - began)


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--puts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    from neira_factory.services.bootstrap import build_services

    rng = random.Random(args.seed)
    records, queries = corpus(args.records, rng)
    with tempfile.TemporaryDirectory(prefix="neira-bench-memory-") as tmp:
        settings = harness.factory_settings(Path(tmp))
        f = build_services(settings)
        stable_memory(f)
        rate = load(f, records)
        print(f"import: {args.records} records at {rate:,.0f} records/s (batches of 1,000)")
        asked = rng.sample(queries, min(args.queries, len(queries)))
        factory, direct = searches(f, Path(settings.database_url.removeprefix("sqlite:///")), asked, warmup=100)
        for label, ms in (("factory search", factory), ("direct FTS5   ", direct)):
            print(f"{label}: p50 {pct(ms, 50):6.2f} ms  p99 {pct(ms, 99):6.2f} ms  ({len(ms)} queries)")
        print(f"put: {puts(f, args.puts, rng):,.0f} puts/s through invoke (one transaction each)")
        f.db.dispose()
    ratio = pct(factory, 50) / pct(direct, 50)
    p99 = pct(factory, 99)
    print(f"ratio (factory / direct p50): {ratio:.2f}  (goal ≤ {RATIO_GOAL}; factory p99 {p99:.2f} ms, goal < "
          f"{P99_GOAL_MS} ms)")


if __name__ == "__main__":
    main()
