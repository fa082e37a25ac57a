"""Benchmark of the control plane: create + approve transitions per second through the HTTP API, on SQLite
and on PostgreSQL, with one and with two replicas.

Each run starts fresh: a new SQLite file, or a new database on the PostgreSQL server. A replica is the real
app (`create_app` over `build_services`, the bench's write token) under uvicorn with the harness's settings
(`bench/harness.py`: one worker, log_level="warning", no access log, the fastest loop and http
implementation), each in its own process with its own var dir, all on the one database: two replicas on
SQLite are two processes on one SQLite file (WAL; every write transaction starts with BEGIN IMMEDIATE, so
writers take the single write lock one at a time). `--clients` client processes (client i talks to replica
i % replicas) each warm up, wait at a barrier, then make `--requests` units: a unit is `POST /factory/nodes`
(a new adapter node with one example, so the dry-run runs it; 201: the none → draft transition) and
`POST /factory/nodes/{id}/approve` (200: draft → canary), every answer checked.

Figures per run: transitions/s over the timed window (two per unit), create and approve latency p50, and what
bounds it, measured over the timed window (the verdict printed takes the first that holds: a replica's core
≥ 80% busy, lock wait ≥ 50% of SQL time, machine ≥ 80% busy, PostgreSQL ≥ 0.8 cores, else latency):
- server CPU: CPU seconds of the replica processes per transition, and how busy each replica's one core was
  (a replica serves Python on one core at a time: near 100% means the replica is CPU-bound);
- SQL: wall time inside the database driver's execute per transition (measured in each replica by SQLAlchemy
  events; it includes waiting for the GIL behind the replica's other threads), and of it the lock wait: the time
  in `BEGIN IMMEDIATE` (SQLite's single write lock) or in `pg_advisory_xact_lock` (PostgreSQL: the audit
  chain's one head, taken by every audit append and held to the commit);
- PostgreSQL CPU: CPU seconds of the server's processes per transition (for a server on this machine whose
  postmaster the bench can find: the throwaway cluster, or a local --postgres / $NEIRA_TEST_POSTGRES_URL);
- the machine: all CPU used / (wall × cores), every process's, ours or not: from 80% on, servers, database
  and clients queue for cores, and the box, not the design, is the limit;
- the server CPU ceiling: replicas × 1000 / server CPU ms per transition, what the replicas would do with a
  core each and nothing else in the way.

PostgreSQL: `--postgres URL` (a server where the user may CREATE DATABASE), else $NEIRA_TEST_POSTGRES_URL,
else a throwaway cluster started as `tests/pg.py` does and removed at the end. `--skip-postgres` runs SQLite
only. Prints the set-up, a line per run, a line on what bounds each, then the ratio (PostgreSQL two replicas /
one replica) last.

Run: `.venv/bin/python bench/control_plane.py [--requests N] [--clients C] [--warmup W] [--postgres URL]`
"""
from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
import httpx

DB_ENV = "NEIRA_BENCH_DATABASE_URL"  # the database a `--serve factory` child opens
TICK = os.sysconf("SC_CLK_TCK")


# ---- the replica (child process) ------------------------------------------------------------------------

def factory_app(var_dir: Path):
    """The real app on the database named by $NEIRA_BENCH_DATABASE_URL, with a probe of its SQL time."""
    from sqlalchemy import event

    from neira_factory.api.app import create_app
    from neira_factory.config import Settings
    from neira_factory.services.bootstrap import build_services
    from neira_factory.config.tokens import TokenRegistry

    settings = Settings(var_dir=var_dir, database_url=os.environ[DB_ENV], write_token=harness.TOKEN,
                        capabilities_file=harness.ROOT / "capabilities.yaml")
    factory = build_services(settings)
    totals = {"sql_s": 0.0, "lock_s": 0.0, "statements": 0}
    lock = threading.Lock()
    started = threading.local()

    @event.listens_for(factory.db.engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany) -> None:
        started.t = time.perf_counter()

    @event.listens_for(factory.db.engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany) -> None:
        spent = time.perf_counter() - started.t
        with lock:
            totals["sql_s"] += spent
            totals["statements"] += 1
            if statement.startswith("BEGIN") or "pg_advisory_xact_lock" in statement:
                totals["lock_s"] += spent  # waiting for SQLite's write lock / PostgreSQL's audit chain lock

    app = create_app(factory, TokenRegistry.load(settings))

    def probe() -> dict[str, Any]:
        with lock:
            return dict(totals)

    app.add_api_route("/bench/sql", probe, methods=["GET"], include_in_schema=False)  # the bench's own probe
    return app


APPS = {"factory": factory_app}


# ---- the clients --------------------------------------------------------------------------------------------

def template(node_id: str) -> dict[str, Any]:
    return {"id": node_id, "version": "0.1.0", "analysis_type": "bench", "adapter": {"impl": "echo"},
            "examples": [{"input": {"text": "abc"}, "expected": {"text": "abc"}}]}


def client(args: tuple[str, str, int, int, int, Any]) -> tuple[float, float, list[float], list[float], float]:
    """One client process: `warmup` then `units` timed create + approve pairs on one keep-alive connection;
    (begin, end, create latencies, approve latencies, its own CPU seconds in the timed window)."""
    url, run, number, units, warmup, barrier = args
    creates, approves = [], []
    with httpx.Client(base_url=url, headers=harness.AUTH, timeout=120.0) as http:
        def unit(tag: str) -> tuple[float, float]:
            node_id = f"analysis.{run}_c{number}_{tag}.v1"
            t0 = time.perf_counter()
            r = http.post("/factory/nodes", json={"template": template(node_id), "reason": "bench"})
            if r.status_code != 201 or r.json()["id"] != node_id:
                raise RuntimeError(f"create: {r.status_code} {r.text[:300]}")
            t1 = time.perf_counter()
            r = http.post(f"/factory/nodes/{node_id}/approve", json={"reason": "bench"})
            if r.status_code != 200 or r.json()["state"] != "canary":
                raise RuntimeError(f"approve: {r.status_code} {r.text[:300]}")
            return t1 - t0, time.perf_counter() - t1

        for i in range(warmup):
            unit(f"w{i}")
        barrier.wait()
        begin, cpu = time.monotonic(), time.process_time()
        for i in range(units):
            c, a = unit(f"n{i}")
            creates.append(c)
            approves.append(a)
        end, cpu = time.monotonic(), time.process_time() - cpu
    return begin, end, creates, approves, cpu


# ---- measuring ------------------------------------------------------------------------------------------------

def cpu_s(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) of a process, with its reaped children's when asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / TICK


def tree_cpu_s(root: int) -> float:
    """CPU seconds of a process, its reaped children and its live children (PostgreSQL's backends)."""
    total = cpu_s(root, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            if int(text.rsplit(")", 1)[1].split()[1]) == root:
                total += cpu_s(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


def machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine (every process, ours or not), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(values) - values[3] - values[4]) / TICK  # all but idle and iowait


@dataclass
class Run:
    label: str
    replicas: int
    transitions: int
    seconds: float
    create_p50_ms: float
    approve_p50_ms: float
    server_cpu_s: float
    sql_s: float
    lock_s: float
    db_cpu_s: float | None
    client_cpu_s: float
    machine_busy_s: float

    @property
    def rate(self) -> float:
        return self.transitions / self.seconds

    def per_transition_ms(self, seconds: float) -> float:
        return seconds / self.transitions * 1000

    def line(self) -> str:
        db = f", PostgreSQL CPU {self.per_transition_ms(self.db_cpu_s):5.2f} ms" if self.db_cpu_s is not None else ""
        return (f"{self.label:<26} {self.rate:7.1f} transitions/s  create p50 {self.create_p50_ms:6.1f} ms  "
                f"approve p50 {self.approve_p50_ms:6.1f} ms  ({self.transitions} in {self.seconds:.2f} s) | "
                f"per transition: server CPU {self.per_transition_ms(self.server_cpu_s):5.2f} ms, "
                f"SQL {self.per_transition_ms(self.sql_s):5.2f} ms (lock wait {self.per_transition_ms(self.lock_s):5.2f} ms)"
                f"{db}")

    def bound(self) -> str:
        """What bounds this figure, from the measurements."""
        core_busy = self.server_cpu_s / (self.seconds * self.replicas)  # per replica: one core at most
        lock_share = self.lock_s / self.sql_s if self.sql_s else 0.0
        sqlite = self.label.startswith("SQLite")
        cores = os.cpu_count() or 1
        machine = self.machine_busy_s / (self.seconds * cores)
        ours = (self.server_cpu_s + (self.db_cpu_s or 0.0) + self.client_cpu_s) / self.seconds
        facts = [f"each replica's core {core_busy:.0%} busy", f"lock wait {lock_share:.0%} of SQL time",
                 f"clients {self.client_cpu_s / self.seconds:.2f} cores",
                 f"machine {machine:.0%} busy ({self.machine_busy_s / self.seconds:.2f} of {cores} cores, "
                 f"{ours:.2f} of them this bench's" + ("" if self.db_cpu_s is not None else
                                                        " without PostgreSQL's") + "; the rest is other load)"]
        if self.db_cpu_s is not None:
            facts.insert(2, f"PostgreSQL {self.db_cpu_s / self.seconds:.2f} cores")
        facts.append(f"server CPU ceiling {self.replicas * 1000 / max(self.per_transition_ms(self.server_cpu_s), 1e-9):.0f} "
                     f"transitions/s ({self.replicas} core{'s' if self.replicas > 1 else ''} at 100%)")
        if core_busy >= 0.8:
            verdict = "server CPU (Python: each replica is one busy core; lock waits are the queue behind it)"
        elif lock_share >= 0.5 and sqlite:
            verdict = "the single writer lock (replicas idle while their write transactions wait for BEGIN IMMEDIATE)"
        elif lock_share >= 0.5:
            verdict = ("the audit chain's advisory lock (one chain head: every transition appends to it, and "
                       "holds the lock until its commit)")
        elif machine >= 0.8:  # on a small box the rest is scheduling: servers, database, clients queue for cores
            verdict = "the machine's CPUs (servers, database and clients share them)"
        elif self.db_cpu_s is not None and self.db_cpu_s / self.seconds >= 0.8:
            verdict = "the database's CPU"
        else:
            verdict = "latency, not a saturated resource (more clients would go faster)"
        return f"{self.label}: bound by {verdict}: " + ", ".join(facts)


def sql_totals(url: str) -> dict[str, float]:
    r = httpx.get(f"{url}/bench/sql", timeout=10)
    r.raise_for_status()
    return r.json()


def measure(label: str, db_url: str, replicas: int, args: argparse.Namespace, db_root_pid: int | None,
            tmp: Path) -> Run:
    run = re.sub(r"[^a-z0-9]", "", label.lower())[:12] + secrets.token_hex(2)
    os.environ[DB_ENV] = db_url
    with ExitStack() as stack:
        urls, pids = [], []
        for i in range(replicas):
            proc, url = harness.start(__file__, "factory", tmp / f"{run}-replica{i}")
            stack.callback(harness.stop, proc)
            urls.append(url)
            pids.append(proc.pid)
        with mp.Manager() as manager:
            barrier = manager.Barrier(args.clients + 1)
            with mp.Pool(args.clients) as pool:
                pending = pool.map_async(client, [(urls[n % replicas], run, n, args.requests, args.warmup, barrier)
                                                  for n in range(args.clients)])
                barrier.wait()  # every client has warmed up: the timed window starts now
                cpu0, sql0 = sum(cpu_s(p) for p in pids), [sql_totals(u) for u in urls]
                db0 = tree_cpu_s(db_root_pid) if db_root_pid else None
                busy0 = machine_busy_s()
                results = pending.get()
                cpu1, sql1 = sum(cpu_s(p) for p in pids), [sql_totals(u) for u in urls]
                db1 = tree_cpu_s(db_root_pid) if db_root_pid else None
                busy1 = machine_busy_s()
    begin, end = min(r[0] for r in results), max(r[1] for r in results)
    creates = [x for r in results for x in r[2]]
    approves = [x for r in results for x in r[3]]

    def delta(key: str) -> float:
        return sum(b[key] - a[key] for a, b in zip(sql0, sql1, strict=True))

    return Run(label, replicas, 2 * len(creates), end - begin, statistics.median(creates) * 1000,
               statistics.median(approves) * 1000, cpu1 - cpu0, delta("sql_s"), delta("lock_s"),
               (db1 - db0) if db0 is not None else None, sum(r[4] for r in results), busy1 - busy0)


# ---- PostgreSQL -----------------------------------------------------------------------------------------------

def _pg_module():
    """tests/pg.py, loaded by path (registered first: its dataclasses look their module up)."""
    name = "neira_bench_pg"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, harness.ROOT / "tests" / "pg.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def local_postmaster(url: str) -> int | None:
    """The pid of the postmaster serving `url` when it runs on this machine and we can see it, else None."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.host not in (None, "", "127.0.0.1", "localhost", "::1"):
        return None
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            if b"-D" not in argv or not argv[0].endswith(b"postgres"):
                continue
            lines = (Path(argv[argv.index(b"-D") + 1].decode()) / "postmaster.pid").read_text().splitlines()
            if int(lines[0]) == int(cmdline.parent.name) and int(lines[3]) == (parsed.port or 5432):
                return int(lines[0])
        except (OSError, ValueError, IndexError):
            continue
    return None


@contextmanager
def postgres(url: str | None):
    """(server URL, postmaster pid or None): the given server, or a throwaway cluster for this run."""
    if url:
        yield url, local_postmaster(url)
        return
    cluster = _pg_module().start()
    try:
        pid = int((cluster.dir / "data" / "postmaster.pid").read_text().split()[0])
        yield cluster.url, pid
    finally:
        cluster.stop()


def fresh_database(server_url: str):
    return _pg_module().temporary_database(server_url, f"bench_cp_{secrets.token_hex(4)}")


# ---- the command line -----------------------------------------------------------------------------------------

def main() -> None:
    p = harness.parser(__doc__, requests=40, clients=8, warmup=3)
    p.add_argument("--postgres", help="a PostgreSQL server URL (default: $NEIRA_TEST_POSTGRES_URL, else a "
                                      "throwaway cluster)")
    p.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    args = p.parse_args()
    if harness.serve_if_asked(args, APPS):
        return
    loop, http = harness.uvicorn_impls()
    print(f"uvicorn: 1 worker per replica, loop={loop}, http={http}; {args.clients} clients × {args.requests} "
          f"create + approve units (+{args.warmup} warm-up) per run; cpus {os.cpu_count()}; "
          f"python {sys.version.split()[0]}", flush=True)
    runs: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="neira-bench-control-plane-") as tmp_name:
        tmp = Path(tmp_name)
        for replicas in (1, 2):
            label = f"SQLite, {replicas} replica{'s' if replicas > 1 else ''}"
            db = f"sqlite:///{tmp / f'sqlite-{replicas}' / 'bench.db'}"
            runs[label] = measure(label, db, replicas, args, None, tmp)
            print(runs[label].line(), flush=True)
        if not args.skip_postgres:
            with postgres(args.postgres or os.environ.get("NEIRA_TEST_POSTGRES_URL")) as (server, pid):
                for replicas in (1, 2):
                    label = f"PostgreSQL, {replicas} replica{'s' if replicas > 1 else ''}"
                    with fresh_database(server) as db:
                        runs[label] = measure(label, db, replicas, args, pid, tmp)
                    print(runs[label].line(), flush=True)
    for run in runs.values():
        print(run.bound())
    one, two = runs["SQLite, 1 replica"], runs["SQLite, 2 replicas"]
    print(f"ratio SQLite (two replicas / one replica): {two.rate / one.rate:.3f}")
    if not args.skip_postgres:
        one, two = runs["PostgreSQL, 1 replica"], runs["PostgreSQL, 2 replicas"]
        print(f"ratio PostgreSQL / SQLite (one replica): {one.rate / runs['SQLite, 1 replica'].rate:.3f}")
        print(f"ratio PostgreSQL (two replicas / one replica): {two.rate / one.rate:.3f}")


if __name__ == "__main__":
    main()
