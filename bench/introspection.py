"""Benchmark of `GET /api/neira/introspection/status` as the registry grows: 100, 1,000 and 10,000 nodes (and a
tenth as many organs), each with statistics rows from two replicas in two recent windows.

The project side is the use case `introspection.status` (one statement: counts by state, the first 100 nodes
and organs with their health, the fabricators); the baseline is what the status did before it listed anything:
three counts by state, the gates and safe mode read in their own statements. Both run on the same database in
this one process. Prints per size p50/p99 and the statements of each, the project's growth from the smallest
to the largest registry, and the ratio project/baseline at the largest size last.

Run: `.venv/bin/python bench/introspection.py [--sizes 100,1000,10000] [--calls 40] [--database-url URL]`
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event, insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from neira_factory.domain.actors import SYSTEM  # noqa: E402
from neira_factory.runtime.measures import VersionStats  # noqa: E402
from neira_factory.services import introspection  # noqa: E402
from neira_factory.services.authorizer import safe_mode_on  # noqa: E402
from neira_factory.services.bootstrap import build_services  # noqa: E402
from neira_factory.store import tables as t  # noqa: E402

from support import make_settings  # noqa: E402

STATES = ("stable", "stable", "experimental", "canary", "draft", "deprecated", "rolled_back", "disabled")


def seed(f, n: int) -> None:
    """`n` nodes and n/10 organs, straight into the tables, with stats rows of two replicas in two windows."""
    now = datetime.now(timezone.utc)
    window = f.runtime.stats.window()
    sample = VersionStats()
    for ms in (1.0, 2.0, 3.5, 8.0):
        sample.record(ms)
    sample.record(5.0, "exception")
    rows, stats = [], []
    for i in range(n + n // 10):
        kind = "organ" if i >= n else "analysis"
        route = f"{kind}.bench{i:06d}"
        node_id, state = f"{route}.v1", STATES[i % len(STATES)]
        rows.append({"id": node_id, "route": route, "version": "0.1.0", "kind": kind, "node_type": "bench",
                     "backend": "organ" if kind == "organ" else "adapter", "state": state, "prev_state": None,
                     "artifact_sha256": "0" * 64, "report": None, "created_by": "bench", "created_at": now,
                     "updated_at": now, "row_version": 1})
        stats += [{"node_id": node_id, "state": state, "window_start": window - w * f.runtime.stats.window_s,
                   "replica": replica, **sample.to_row(), "updated_at": now}
                  for w in (1, 2) for replica in ("replica-a", "replica-b")]
    with f.db.unit_of_work(write=True) as uow:
        uow.conn.execute(insert(t.nodes), rows)
        uow.conn.execute(insert(t.node_stats), stats)


def baseline(f) -> dict:
    with f.read() as uow:
        f.auth.authorize(uow, SYSTEM, "introspection.read")
        return {"nodes": uow.nodes.count_by_state("node"), "organs": uow.nodes.count_by_state("organ"),
                "modules": uow.nodes.count_by_state("module"),
                "gates": uow.capabilities.all(), "safe_mode": safe_mode_on(uow)}


def timed(f, call, calls: int) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, statements per call but transaction control) over `calls` calls after a warm-up."""
    call()
    statements: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)
    event.listen(f.db.engine, "before_cursor_execute", note)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    event.remove(f.db.engine, "before_cursor_execute", note)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.99 * len(times)))], len(statements) // calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000", help="registry sizes (nodes), comma-separated")
    ap.add_argument("--calls", type=int, default=40, help="timed calls per size and side")
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file per size")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            f = build_services(make_settings(Path(tmp), args.database_url))
            try:
                seed(f, n)
                answer = introspection.status(f.introspection, SYSTEM)
                assert answer.factory["nodes_total"] == n and len(answer.nodes) == min(n, 100)
                project = timed(f, lambda: introspection.status(f.introspection, SYSTEM), args.calls)
                base = timed(f, lambda: baseline(f), args.calls)
            finally:
                f.db.dispose()
        results[n] = project, base
        print(f"{n:>6} nodes: project p50 {project[0]:7.2f} ms  p99 {project[1]:7.2f} ms  {project[2]} statement(s)"
              f" | baseline p50 {base[0]:7.2f} ms  p99 {base[1]:7.2f} ms  {base[2]} statement(s)")
    small, large = sizes[0], sizes[-1]
    print(f"project growth {small} -> {large} nodes (p50): {results[large][0][0] / results[small][0][0]:.2f}x")
    print(f"ratio project/baseline p50 at {large} nodes: {results[large][0][0] / results[large][1][0]:.2f}")


if __name__ == "__main__":
    main()
