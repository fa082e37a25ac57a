"""Memory nodes on SQLite and on PostgreSQL, in process: search quality on a labelled corpus of Russian and
English facts, credibility breaking ties, capacity and eviction, retention, persistence across a restart, two
replicas on one store (the hot-record cache dropped by the other's writes), usage, and the lifecycle writing
nothing where it must not (dry-run, a draft's run, a shadow) and deleting nothing (rollback, disable,
quarantine)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError

from neira_factory.backends.base import ExecutionError
from neira_factory.domain.actors import Actor
from neira_factory.domain.errors import Forbidden
from neira_factory.domain.memory import DAY_S
from neira_factory.services import fabricate, invoke, lifecycle, nodes
from neira_factory.services.bootstrap import Services, build_services
from neira_factory.store import tables as t

from support import make_settings

ADMIN, WRITER, READER = Actor("admin", "admin"), Actor("writer", "write"), Actor("reader", "read")
ROUTE, V1, V2 = "memory.facts", "memory.facts.v1", "memory.facts.v2"

# ---- the labelled corpus: (id, fact) and (query, the id it must find first) --------------------------------

RU_FACTS = [
    ("ru-newton", "Закон всемирного тяготения сформулировал Исаак Ньютон в 1687 году."),
    ("ru-fleming", "Александр Флеминг открыл пенициллин в 1928 году."),
    ("ru-moscow", "Москва является столицей Российской Федерации с 1918 года."),
    ("ru-water", "Вода кипит при температуре 100 градусов Цельсия на уровне моря."),
    ("ru-photosynthesis", "Фотосинтез превращает солнечный свет, воду и углекислый газ в глюкозу и кислород."),
    ("ru-baikal", "Байкал — самое глубокое озеро на планете."),
    ("ru-peter", "Пётр Первый основал Санкт-Петербург в 1703 году."),
    ("ru-chess", "Шахматы пришли в Европу из Индии через Персию."),
    ("ru-heart", "Человеческое сердце бьётся около ста тысяч раз в сутки."),
    ("ru-gagarin", "Юрий Гагарин первым полетел в космос 12 апреля 1961 года."),
    ("ru-bears", "Бурые медведи впадают в спячку зимой."),
    ("ru-tolstoy", "Лев Толстой написал роман «Война и мир»."),
    ("ru-eiffel", "Эйфелеву башню построили в Париже к Всемирной выставке 1889 года."),
    ("ru-bees", "Пчёлы собирают нектар и производят мёд."),
    ("ru-volga", "Самая длинная река Европы — Волга."),
    ("ru-caffeine", "Кофеин содержится в кофе, чае и какао."),
    ("ru-mendeleev", "Менделеев создал периодическую таблицу химических элементов."),
    ("ru-tiger", "Амурский тигр — самая крупная из диких кошек."),
    ("ru-steel", "Сталь получают из железа, добавляя в него углерод."),
    ("ru-volcano", "Ключевская Сопка — самый высокий действующий вулкан Евразии."),
    ("ru-ohm", "Закон Ома связывает силу тока, напряжение и сопротивление."),  # near misses for some queries
    ("ru-second-law", "Второй закон Ньютона связывает силу, массу и ускорение тела."),
]
RU_QUERIES = [
    ("законы тяготения", "ru-newton"),
    ("учёный, открывший пенициллин", "ru-fleming"),
    ("столица России — Москва", "ru-moscow"),
    ("при какой температуре кипит вода", "ru-water"),
    ("как получается глюкоза при фотосинтезе", "ru-photosynthesis"),
    ("самые глубокие озёра планеты", "ru-baikal"),
    ("кем основан Петербург", "ru-peter"),
    ("откуда пришла игра шахмат", "ru-chess"),
    ("сколько раз бьются сердца", "ru-heart"),
    ("первые полёты в космос", "ru-gagarin"),
    ("спячка медведей", "ru-bears"),
    ("кто написал романы о войне и мире", "ru-tolstoy"),
    ("когда построена Эйфелева башня", "ru-eiffel"),
    ("производство мёда пчёлами", "ru-bees"),
    ("длинные реки Европы", "ru-volga"),
    ("в каком напитке содержится кофеин", "ru-caffeine"),
    ("таблицы химических элементов", "ru-mendeleev"),
    ("крупные дикие кошки", "ru-tiger"),
    ("сталь из железа", "ru-steel"),
    ("действующие вулканы", "ru-volcano"),
]
EN_FACTS = [
    ("en-newton", "Isaac Newton formulated the law of universal gravitation in 1687."),
    ("en-fleming", "Alexander Fleming discovered penicillin in 1928."),
    ("en-water", "Water boils at 100 degrees Celsius at sea level."),
    ("en-photosynthesis", "Photosynthesis converts sunlight, water and carbon dioxide into glucose and oxygen."),
    ("en-baikal", "Lake Baikal is the deepest lake on the planet."),
    ("en-everest", "Mount Everest is the highest mountain above sea level."),
    ("en-heart", "The human heart beats about one hundred thousand times a day."),
    ("en-bees", "Honey bees collect nectar and produce honey."),
    ("en-gagarin", "Yuri Gagarin became the first human to fly into space, in 1961."),
    ("en-tolstoy", "Leo Tolstoy wrote the novel War and Peace."),
    ("en-eiffel", "The Eiffel Tower was built in Paris for the World's Fair of 1889."),
    ("en-amazon", "The Amazon is the largest rainforest on Earth."),
    ("en-caffeine", "Caffeine is found in coffee, tea and cocoa."),
    ("en-mendeleev", "Dmitri Mendeleev created the periodic table of chemical elements."),
    ("en-steel", "Steel is made from iron by adding carbon."),
    ("en-light", "Light travels at about 300,000 kilometres per second in a vacuum."),
    ("en-octopus", "Octopuses have three hearts and blue blood."),
    ("en-bats", "Bats navigate in the dark using echolocation."),
    ("en-wall", "The Great Wall of China is more than 20,000 kilometres long."),
    ("en-antibiotics", "Antibiotics kill bacteria but do not work against viruses."),
    ("en-waves", "Gravitational waves were first detected in 2015."),  # near misses for some queries
    ("en-cradle", "Newton's cradle shows the laws of conservation of momentum and energy."),
]
EN_QUERIES = [
    ("gravitational laws", "en-newton"),
    ("who discovered penicillin", "en-fleming"),
    ("boiling waters", "en-water"),
    ("converting sunlight into glucose", "en-photosynthesis"),
    ("the deepest lakes", "en-baikal"),
    ("highest mountains", "en-everest"),
    ("how often do human hearts beat", "en-heart"),
    ("bees producing honey", "en-bees"),
    ("first humans flying in space", "en-gagarin"),
    ("the novels of Tolstoy", "en-tolstoy"),
    ("building the Eiffel towers", "en-eiffel"),
    ("largest rainforests", "en-amazon"),
    ("drinks containing caffeine", "en-caffeine"),
    ("periodic tables of elements", "en-mendeleev"),
    ("carbon added to steels", "en-steel"),
    ("light travelling in vacuums", "en-light"),
    ("octopus hearts", "en-octopus"),
    ("bats navigating in darkness", "en-bats"),
    ("walls of China", "en-wall"),
    ("an antibiotic against a virus", "en-antibiotics"),
]


# ---- helpers ----------------------------------------------------------------------------------------------

@pytest.fixture
def replicas(db_url, tmp_path) -> Iterator[Callable[..., Services]]:
    """make(name="replica-a", **settings): a factory on the test's one database, as the replica `name`."""
    made: list[Services] = []

    def make(name: str = "replica-a", **overrides: Any) -> Services:
        made.append(build_services(make_settings(tmp_path / name, db_url, replica=name, **overrides)))
        return made[-1]

    yield make
    for f in made:
        f.tail.stop()
        f.db.dispose()


def doc(node_id: str = V1, version: str = "0.1.0", **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "version": version, "memory_type": "knowledge", "backend": "memory",
            "memory": {"store": "facts"}, "limits": {"timeout_ms": 5000},  # room for a loaded test machine
            **extra}


def stable(f: Services, body: dict[str, Any]) -> str:
    """Create the node and walk it to stable (admin force: a first version has no traffic to analyse)."""
    fabricate.create(f.fabricate, ADMIN, body)
    for _ in range(3):
        lifecycle.transition(f.lifecycle, ADMIN, body["id"], "approve", force=True, reason="memory test")
    return body["id"]


def call(f: Services, data: dict[str, Any], route: str = ROUTE, actor: Actor = WRITER) -> dict[str, Any]:
    return invoke.invoke(f.invoke, actor, route, data)["output"]


def put(f: Services, rid: str, description: str, route: str = ROUTE, **record: Any) -> dict[str, Any]:
    return call(f, {"op": "put", "record": {"id": rid, "description": description, **record}}, route)


def search(f: Services, query: str, route: str = ROUTE, **extra: Any) -> list[str]:
    return [r["id"] for r in call(f, {"op": "search", "query": query, **extra}, route)["results"]]


def get(f: Services, rid: str, route: str = ROUTE) -> dict[str, Any] | None:
    return call(f, {"op": "get", "id": rid}, route)["record"]


def stored(f: Services, store: str = "facts") -> dict[str, dict[str, Any]]:
    """The store's rows by id, read from the database."""
    with f.read() as uow:
        rows = uow.conn.execute(t.memory_records.select().where(t.memory_records.c.store == store)).all()
    return {row.rid: dict(row._mapping) for row in rows}


def counters(f: Services, store: str = "facts") -> tuple[int, int]:
    with f.read() as uow:
        return uow.memory.stores().get(store, (0, 0))


def sample(f: Services, line: str) -> float:
    """One sample of /metrics by its name and labels (0.0 when absent)."""
    for shown in f.metrics.exposition().decode().splitlines():
        if shown.startswith(line + " "):
            return float(shown.rsplit(" ", 1)[1])
    return 0.0


def top1_misses(f: Services, route: str, queries: list[tuple[str, str]]) -> list[tuple[str, str, list[str]]]:
    misses = []
    for query, expected in queries:
        found = search(f, query, route, limit=3)
        if found[:1] != [expected]:
            misses.append((query, expected, found))
    return misses


# ---- search -----------------------------------------------------------------------------------------------

def test_inflected_and_paraphrased_queries_find_their_fact_first(replicas):
    f = replicas()
    stable(f, doc("memory.ru.v1", memory={"store": "ru", "language": "ru"}))
    stable(f, doc("memory.en.v1", memory={"store": "en", "language": "en"}))
    stable(f, doc("memory.mixed.v1", memory={"store": "mixed"}))  # language auto, both corpora in one store
    for rid, fact in RU_FACTS:
        put(f, rid, fact, "memory.ru")
        put(f, rid, fact, "memory.mixed")
    for rid, fact in EN_FACTS:
        put(f, rid, fact, "memory.en")
        put(f, rid, fact, "memory.mixed")
    assert counters(f, "ru")[0] == counters(f, "en")[0] == 22 and counters(f, "mixed")[0] == 44

    assert top1_misses(f, "memory.ru", RU_QUERIES) == []
    assert top1_misses(f, "memory.en", EN_QUERIES) == []
    assert top1_misses(f, "memory.mixed", RU_QUERIES + EN_QUERIES) == []
    assert search(f, "квантовая хромодинамика", "memory.mixed") == []  # nothing matches: nothing is returned
    assert search(f, "и в на the of", "memory.mixed") == []  # only stop words: nothing to search


def test_of_two_equally_relevant_records_the_more_credible_ranks_first(replicas):
    f = replicas()
    stable(f, doc())
    text = "Скорость света в вакууме около трёхсот тысяч километров в секунду"
    put(f, "doubtful", text, credibility=0.3)  # written first: were the scores equal, it would come first
    put(f, "credible", text, credibility=0.9)
    put(f, "other", "Звук в воздухе распространяется со скоростью около 340 метров в секунду")
    results = call(f, {"op": "search", "query": "скорость света"})["results"]
    assert [r["id"] for r in results][:2] == ["credible", "doubtful"]
    assert results[0]["score"] > results[1]["score"]
    assert results[0]["record"]["priority"] > results[1]["record"]["priority"]

    call(f, {"op": "push_metrics", "id": "doubtful", "credibility": 1.0})
    assert search(f, "скорость света")[:2] == ["doubtful", "credible"]


def test_search_by_type_and_limit(replicas):
    f = replicas()
    stable(f, doc())
    put(f, "rule-1", "Правило: перед сваркой проверь углерод в стали", type="rule")
    put(f, "fact-1", "Сталь содержит углерод")
    put(f, "fact-2", "Углерод — химический элемент")
    assert search(f, "углерод", type="rule") == ["rule-1"]
    assert len(search(f, "углерод", limit=2)) == 2 and set(search(f, "углерод")) == {"rule-1", "fact-1", "fact-2"}


def test_accents_and_yo_do_not_matter_on_either_database(replicas):
    f = replicas()
    stable(f, doc())
    put(f, "cafe", "Crème brûlée at the Café de Flore")
    put(f, "korolev", "Сергей Королёв — главный конструктор ракеты Р-7")
    assert search(f, "creme brulee cafe") == ["cafe"] and search(f, "CAFÉ") == ["cafe"]
    assert search(f, "конструктор Королев") == ["korolev"] and search(f, "Королёва") == ["korolev"]


def test_a_long_query_stops_at_the_deadline_on_either_database(replicas):
    f = replicas()
    slow = ("SELECT pg_sleep(30)" if not f.db.is_sqlite else  # seconds, were they not stopped
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c")
    with pytest.raises(OperationalError), f.read() as uow, uow.memory.until(time.monotonic() + 0.05):
        uow.conn.execute(text(slow))  # PostgreSQL: the cancel itself, not the aborted transaction's next statement
    if f.db.is_sqlite:
        return
    with f.read() as uow:  # a block that ends in time leaves the session's limit as it was
        limit = uow.conn.execute(text("SHOW statement_timeout")).scalar()
        with uow.memory.until(time.monotonic() + 60):
            assert uow.conn.execute(text("SHOW statement_timeout")).scalar() != limit
        assert uow.conn.execute(text("SHOW statement_timeout")).scalar() == limit


# ---- capacity and retention -------------------------------------------------------------------------------

def test_beyond_capacity_the_lowest_priority_records_are_evicted_and_counted(replicas):
    f = replicas()
    stable(f, doc(memory={"store": "facts", "capacity": 3}))
    for rid, credibility in [("a", 0.9), ("b", 0.1), ("c", 0.5)]:
        put(f, rid, f"запись {rid}", credibility=credibility)
    assert set(stored(f)) == {"a", "b", "c"} and counters(f) == (3, 0)

    put(f, "d", "запись d", credibility=0.2)  # b (0.1) is the lowest
    assert set(stored(f)) == {"a", "c", "d"}
    put(f, "e", "запись e", credibility=0.8)  # then d (0.2)
    assert set(stored(f)) == {"a", "c", "e"} and counters(f) == (3, 2)

    put(f, "f", "запись f", credibility=0.05)  # lower than every record kept: it goes itself
    assert set(stored(f)) == {"a", "c", "e"} and get(f, "f") is None
    call(f, {"op": "push_metrics", "id": "c", "credibility": 0.01})  # now c is the lowest
    put(f, "g", "запись g", credibility=0.6)
    assert set(stored(f)) == {"a", "e", "g"} and counters(f) == (3, 4)
    assert sample(f, 'memory_evictions_total{store="facts"}') == 4.0
    assert sample(f, 'memory_records{store="facts"}') == 3.0
    with f.read() as uow:
        evicted = [e for _, e, _ in uow.event_log.after(0, 1000) if e.type == "memory.evicted"]
    assert [e.data["ids"] for e in evicted] == [["b"], ["d"], ["f"], ["c"]]


def test_a_version_of_a_record_is_no_new_record(replicas):
    f = replicas()
    stable(f, doc(memory={"store": "facts", "capacity": 2}))
    assert put(f, "a", "первая версия") == {"id": "a", "version": 1}
    assert put(f, "a", "вторая версия", credibility=0.7) == {"id": "a", "version": 2}
    put(f, "b", "другая запись")
    assert counters(f) == (2, 0)
    record = get(f, "a")
    assert (record["version"], record["description"], record["credibility"]) == (2, "вторая версия", 0.7)
    assert record["usage"]["demand"] == 3  # two writes and this get
    assert search(f, "первая") == [] and search(f, "вторая") == ["a"]  # the index follows the new version


def test_concurrent_puts_of_one_id_make_one_version_each(replicas):
    f = replicas()
    stable(f, doc(memory={"store": "facts", "capacity": 4}))

    def writer(n: int) -> list[int]:
        return [put(f, "same", f"версия {n}.{i}")["version"] for i in range(8)]

    with ThreadPoolExecutor(4) as pool:
        versions = [v for batch in pool.map(writer, range(4)) for v in batch]
        firsts = list(pool.map(lambda n: put(f, "new", f"новая {n}")["version"], range(4)))
    assert sorted(versions) == list(range(1, 33)) and sorted(firsts) == [1, 2, 3, 4]
    assert stored(f)["same"]["version"] == stored(f)["same"]["demand"] == 32
    assert counters(f) == (2, 0)


def test_records_not_touched_for_retention_days_are_pruned_and_audited(replicas):
    f = replicas()
    stable(f, doc(memory={"store": "facts", "retention_days": 30}))
    stable(f, doc("memory.forever.v1", memory={"store": "forever"}))  # no retention: kept until evicted
    for rid in ("old-1", "old-2", "old-used", "fresh"):
        put(f, rid, f"запись {rid}")
    put(f, "ancient", "запись без срока", "memory.forever")
    with f.write() as uow:  # forty days ago
        uow.conn.execute(update(t.memory_records).where(t.memory_records.c.rid.in_(
            ["old-1", "old-2", "old-used", "ancient"])).values(touched_at=t.memory_records.c.touched_at - 40 * DAY_S))
    assert get(f, "old-used") is not None
    f.flush_stats()  # its use renews it

    assert f.supervisor.prune_memory(time.time()) == 2
    assert set(stored(f)) == {"old-used", "fresh"} and set(stored(f, "forever")) == {"ancient"}
    assert counters(f) == (2, 0)
    with f.read() as uow:
        (entry,) = uow.audit.list(action="memory.prune")
    assert (entry.actor, entry.resource) == ("watchdog", "memory:facts")
    assert entry.after["records"] == 2 and entry.after["node"] == V1
    assert get(f, "old-1") is None
    assert f.supervisor.prune() >= 0 and set(stored(f)) == {"old-used", "fresh"}  # nothing more is due


# ---- persistence and replicas -----------------------------------------------------------------------------

def test_records_survive_a_restart(replicas):
    first = replicas()
    stable(first, doc(memory={"store": "facts", "capacity": 10}))
    put(first, "newton", "Закон всемирного тяготения Ньютона", credibility=0.9)
    put(first, "newton", "Закон всемирного тяготения Исаака Ньютона", credibility=0.9)
    put(first, "boil", "Вода кипит при ста градусах")
    first.tail.stop()
    first.db.dispose()

    again = replicas()
    record = get(again, "newton")
    assert (record["version"], record["description"], record["credibility"]) == (
        2, "Закон всемирного тяготения Исаака Ньютона", 0.9)
    assert search(again, "законы тяготения") == ["newton"] and counters(again) == (2, 0)
    assert put(again, "newton", "третья версия") == {"id": "newton", "version": 3}


def test_two_replicas_write_and_read_one_store_and_drop_each_others_cached_records(replicas):
    a = replicas("replica-a")
    b = replicas("replica-b")
    stable(a, doc())
    put(a, "x", "Первая версия записи о кометах")
    assert get(b, "x")["version"] == 1  # b reads a's write, and caches the record
    put(a, "x", "Вторая версия записи о кометах")
    assert get(b, "x")["version"] == 1  # b's cached copy: b has not yet read a's event
    assert b.tail.catch_up() >= 1
    record = get(b, "x")
    assert (record["version"], record["description"]) == (2, "Вторая версия записи о кометах")

    put(b, "y", "Запись второй реплики о кометах")
    assert set(search(a, "кометы")) == {"x", "y"}
    assert get(a, "y")["version"] == 1  # cached on a
    assert call(b, {"op": "forget", "id": "y"}) == {"forgotten": True}
    assert a.tail.catch_up() >= 1
    assert get(a, "y") is None and counters(a) == counters(b) == (1, 0)


def test_a_record_read_before_a_write_is_not_cached_after_it(replicas):
    f = replicas()
    stable(f, doc())
    put(f, "x", "первая версия")
    access = f.supervisor.f.memory
    since = access.generation
    with f.read() as uow:
        old = uow.memory.get("facts", "x")  # a get reads the row ...
    put(f, "x", "вторая версия")  # ... a put commits meanwhile ...
    access.keep("facts", old, since)  # ... and the get would cache what it read
    assert access.cached("facts", "x") is None
    assert get(f, "x")["version"] == 2


# ---- usage ------------------------------------------------------------------------------------------------

def test_returned_records_gain_demand_when_the_statistics_are_flushed(replicas):
    f = replicas()
    stable(f, doc())
    put(f, "hit", "Марс — четвёртая планета от Солнца")
    put(f, "miss", "Венера — вторая планета от Солнца")
    usage = get(f, "hit")["usage"]
    assert usage["demand"] == 2 and usage["used_at"] is not None  # the write, and this get (not yet flushed)
    f.flush_stats()
    before = stored(f)
    for _ in range(3):
        assert search(f, "четвёртая планета")[0] == "hit"
    assert stored(f)["hit"]["demand"] == before["hit"]["demand"]  # a read does not write ...
    f.flush_stats()
    after = stored(f)
    assert after["hit"]["demand"] == before["hit"]["demand"] + 3  # ... its use is written with the statistics
    assert after["hit"]["rank_key"] > before["hit"]["rank_key"] and after["hit"]["used_at"] is not None
    assert after["miss"]["demand"] == before["miss"]["demand"] + 3  # returned too, lower
    assert get(f, "hit")["usage"]["demand"] == after["hit"]["demand"] + 1  # not the cached, older demand


def test_a_shadow_reads_the_store_but_neither_writes_nor_counts_usage(replicas):
    f = replicas()
    stable(f, doc())
    fabricate.create(f.fabricate, WRITER, doc(V2, "0.2.0", rollout={"mode": "shadow"},
                                              params={"priority_weight": {"value": 5.0}}))
    lifecycle.transition(f.lifecycle, WRITER, V2, "approve", reason="shadow")
    assert put(f, "x", "Луна — спутник Земли", credibility=0.9) == {"id": "x", "version": 1}
    put(f, "y", "Спутник Юпитера Ганимед больше Меркурия", credibility=0.2)
    f.runtime.shadows.drain()
    assert counters(f) == (2, 0) and get(f, "x")["version"] == 1  # the shadow's copy of the put never ran
    f.flush_stats()
    before = {rid: row["demand"] for rid, row in stored(f).items()}
    for _ in range(4):
        invoke.invoke(f.invoke, READER, ROUTE, {"op": "search", "query": "спутник"})
    f.runtime.shadows.drain()
    f.flush_stats()
    after = {rid: row["demand"] for rid, row in stored(f).items()}
    assert after == {rid: demand + 4 for rid, demand in before.items()}  # the stable version's uses only
    compared = sum(sample(f, f'factory_shadow_comparisons_total{{outcome="{o}",route="{ROUTE}"}}')
                   for o in ("match", "mismatch"))
    assert compared == 4 + 1  # the searches and the get; no put or forget is mirrored


# ---- writing nothing where nothing may be written ---------------------------------------------------------

def test_a_dry_run_writes_nothing_to_the_shared_store(replicas):
    f = replicas()
    stable(f, doc())
    put(f, "kept", "Запись, которая уже есть в хранилище")
    examples = [
        {"input": {"op": "put", "record": {"id": "new", "description": "Закон всемирного тяготения Ньютона"}}},
        {"input": {"op": "put", "record": {"id": "kept", "description": "Перезаписанная запись"}},
         "expected": {"id": "kept", "version": 1}},  # a throwaway store: the shared record is not seen
        {"input": {"op": "search", "query": "законы тяготения"}, "expected": {"results": [{"id": "new"}]}},
        {"input": {"op": "forget", "id": "new"}, "expected": {"forgotten": True}},
    ]
    result = fabricate.dry_run(f.fabricate, WRITER, doc(V2, "0.2.0", examples=examples))
    assert [e["ok"] for e in result.report["examples"]] == [True] * 4, result.report["examples"]
    assert set(stored(f)) == {"kept"} and counters(f) == (1, 0)
    assert get(f, "kept")["description"] == "Запись, которая уже есть в хранилище"
    with f.read() as uow:
        assert uow.audit.list(action="memory.forget") == []

    tiny = doc(V2, "0.2.0", memory={"store": "facts", "capacity": 1}, examples=examples[:2])
    assert fabricate.dry_run(f.fabricate, WRITER, tiny).ok is True  # the second put evicts in the throwaway store
    assert sample(f, 'memory_evictions_total{store="facts"}') == 0.0 and counters(f) == (1, 0)


def test_a_drafts_run_reads_the_store_and_writes_nothing(replicas):
    f = replicas()
    stable(f, doc())
    put(f, "kept", "Озеро Байкал содержит пятую часть пресной воды планеты")
    f.flush_stats()
    demand = stored(f)["kept"]["demand"]
    fabricate.create(f.fabricate, WRITER, doc(V2, "0.2.0"))
    run = nodes.run_node(f.nodes, WRITER, V2, {"op": "put", "record": {"id": "draft", "description": "черновик"}})
    assert run.dry_run is True and run.output == {"id": "draft", "version": 1}
    run = nodes.run_node(f.nodes, WRITER, V2, {"op": "search", "query": "пресная вода Байкала"})
    assert [r["id"] for r in run.output["results"]] == ["kept"]
    assert nodes.run_node(f.nodes, WRITER, V2, {"op": "forget", "id": "kept"}).output == {"forgotten": False}
    f.flush_stats()
    assert set(stored(f)) == {"kept"} and stored(f)["kept"]["demand"] == demand  # no usage counted either


@pytest.mark.parametrize("action", ["rollback", "disable", "quarantine"])
def test_taking_the_stable_version_out_deletes_no_record(replicas, action):
    f = replicas()
    stable(f, doc())
    for i in range(5):
        put(f, f"r{i}", f"запись номер {i}")
    before = stored(f)
    lifecycle.transition(f.lifecycle, ADMIN, V1, action, reason="memory test")
    assert stored(f) == before and counters(f) == (5, 0)
    stable(f, doc(V2, "0.2.0"))  # the next version of the route finds them in the shared store
    assert get(f, "r3")["description"] == "запись номер 3"


def test_a_capacity_or_retention_that_is_not_a_positive_number_is_a_blocking_risk(replicas):
    f = replicas()
    bad = [({"capacity": 0}, "bad_capacity"), ({"capacity": -5}, "bad_capacity"),
           ({"capacity": 2.5}, "bad_capacity"), ({"retention_days": 0}, "bad_retention"),
           ({"retention_days": -1}, "bad_retention")]
    for memory, code in bad:
        result = fabricate.dry_run(f.fabricate, WRITER, doc(memory={"store": "facts", **memory}))
        risks = [(r["code"], r["severity"]) for r in result.report["risks"]]
        assert result.ok is False and (code, "blocking") in risks, (memory, risks)
    good = fabricate.dry_run(f.fabricate, WRITER, doc(memory={"store": "facts", "capacity": 10,
                                                              "retention_days": 0.5}))
    assert good.ok is True
    assert not {"bad_capacity", "bad_retention"} & {r["code"] for r in good.report["risks"]}


# ---- scopes and bad input, in process ---------------------------------------------------------------------

def test_reads_need_the_read_scope_and_writes_the_write_scope(replicas):
    f = replicas()
    stable(f, doc())
    put(f, "x", "запись")
    assert call(f, {"op": "get", "id": "x"}, actor=READER)["record"]["id"] == "x"
    assert call(f, {"op": "search", "query": "запись"}, actor=READER)["results"][0]["id"] == "x"
    for data in ({"op": "put", "record": {"description": "y"}}, {"op": "forget", "id": "x"},
                 {"op": "push_metrics", "id": "x", "credibility": 1.0}):
        with pytest.raises(Forbidden) as refused:
            call(f, data, actor=READER)
        assert refused.value.code == "insufficient_scope"
    assert set(stored(f)) == {"x"}


def test_bad_input_is_a_422_naming_the_field(replicas):
    f = replicas()
    stable(f, doc())
    for data, field in [({"op": "put", "record": {"type": "fact"}}, "record.description"),
                        ({"op": "put", "record": {"description": "я" * 40_000}}, "record"),
                        ({"op": "remember"}, "op"), ({"op": ["put"]}, "op")]:
        with pytest.raises(ExecutionError) as failed:
            call(f, data)
        body = failed.value.body()
        assert (failed.value.status, body["field"], body["kind"]) == (422, field, "bad_input"), body
        assert body["ops"] == ["put", "get", "search", "forget", "push_metrics"]
    assert counters(f) == (0, 0)


def test_the_hot_record_cache_keeps_small_records_only(factory):
    from neira_factory.backends.memory_access import HOT_MAX_CHARS

    access = factory.runtime.backends.get("memory").access
    small = {"rid": "s", "type": "fact", "description": "x", "keywords": [], "links": [], "credibility": 0.5,
             "metadata": {}}
    large = {**small, "rid": "l", "metadata": {"blob": "y" * HOT_MAX_CHARS}}
    for row in (small, large):
        access.keep("store", row, access.generation)
    assert access.cached("store", "s") is small
    assert access.cached("store", "l") is None
