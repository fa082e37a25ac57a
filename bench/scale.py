"""Benchmark of how the cost of the hot paths grows with the registry: invoke, dry-run, a paged list and
the introspection status at 100, 1,000 and 10,000 nodes (and a tenth as many organs: 1,000 at the largest).

Each size gets a fresh factory on SQLite in a temp var dir (`build_services`). The route under test,
`analysis.echo` (adapter, the `echo` implementation), is created (`fabricate.create` as SYSTEM) and walked to
stable like a route's first version; then the registry is filled straight into the tables, as
`bench/introspection.py` does: `n` analysis nodes with real, distinct stored templates (an echo template under
their own id, spread over 50 analysis types, one of them echo: the probe's selector view weighs those) in mixed states, n/10 organs, and
statistics rows of two replicas in two recent windows for each. The sizes' factories then take turns call by
call (so that the machine's other load weighs on each size alike), after a warm-up (the first call after the
seeding reloads the selector's index, the route caches fill):

- invoke: `services.invoke.invoke(f.invoke, SYSTEM, "analysis.echo", data, key)`, a distinct key each call;
- dry-run: `fabricate.dry_run` of a new echo node (deps, links, io, the selector's view, no examples);
- list (paged): `nodes.list_nodes(..., limit=50)`, the first page of the registry, newest first;
- introspection: `introspection.status` (counts by state, the first 100 nodes and organs with their health).

Prints per size and operation p50/p99 in ms, then per operation the growth factor of the p50 from the smallest to
the largest size (goal ≤ 1.5× for invoke and dry-run; a paged list whose cost does not grow), and last the ratio:
the largest growth factor of invoke and dry-run.

Run: `.venv/bin/python bench/scale.py [--sizes 100,1000,10000] [--calls 200]`
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from neira_factory.domain.actors import SYSTEM  # noqa: E402
from neira_factory.immune.integrity import sha256_hex  # noqa: E402
from neira_factory.runtime.measures import VersionStats  # noqa: E402
from neira_factory.services import fabricate, introspection, lifecycle, nodes  # noqa: E402
from neira_factory.services.bootstrap import build_services  # noqa: E402
from neira_factory.services.invoke import invoke  # noqa: E402
from neira_factory.store import tables as t  # noqa: E402
from neira_factory.store.templates import TEMPLATE_MEDIA_TYPE  # noqa: E402

from support import make_settings  # noqa: E402

ROUTE = "analysis.echo"
ECHO = {"id": f"{ROUTE}.v1", "version": "0.1.0", "analysis_type": "echo"}
PROBE = {"id": "analysis.scaleprobe.v1", "version": "0.1.0", "analysis_type": "echo"}
STATES = ("stable", "stable", "experimental", "canary", "draft", "deprecated", "rolled_back", "disabled")
TYPES = 50  # analysis types the seeded nodes are spread over
PAGE = 50
GROWTH_GOAL = 1.5


def stable_echo(f: Any) -> dict[str, Any]:
    """The route under test, walked to stable; its stored template document (the seeded nodes' model)."""
    node_id = fabricate.create(f.fabricate, SYSTEM, ECHO).id
    lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve")
    for _ in range(2):
        lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve", force=True, reason="first version of the route")
    with f.read() as uow:
        return json.loads(uow.artifacts.get(uow.nodes.get(node_id).artifact_sha256))


def _type(i: int) -> str:
    """One node in TYPES is an echo (a candidate the probe's selector view weighs), the others spread."""
    return "echo" if i % TYPES == 0 else f"scale{i % TYPES}"


def _artifact(model: dict[str, Any], node_id: str, analysis_type: str) -> tuple[str, bytes]:
    content = json.dumps({**model, "id": node_id, "analysis_type": analysis_type}, sort_keys=True,
                         separators=(",", ":"), ensure_ascii=False).encode()
    return sha256_hex(content), content


def seed(f: Any, n: int, model: dict[str, Any]) -> None:
    """`n` analysis nodes (real templates) and n/10 organs straight into the tables, with statistics rows."""
    now = datetime.now(timezone.utc)
    stats_window, window_s = f.runtime.stats.window(), f.runtime.stats.window_s
    sample = VersionStats()
    for ms in (1.0, 2.0, 3.5, 8.0):
        sample.record(ms)
    sample.record(5.0, "exception")
    rows, stats, artifacts = [], [], []
    for i in range(n + n // 10):
        kind = "organ" if i >= n else "analysis"
        route = f"{kind}.scale{i:06d}"
        node_id, state, node_type = f"{route}.v1", STATES[i % len(STATES)], _type(i)
        digest = "0" * 64
        if kind == "analysis":
            digest, content = _artifact(model, node_id, node_type)
            artifacts.append({"sha256": digest, "media_type": TEMPLATE_MEDIA_TYPE, "content": content,
                              "created_at": now})
        rows.append({"id": node_id, "route": route, "version": "0.1.0", "kind": kind, "node_type": node_type,
                     "backend": "organ" if kind == "organ" else "adapter", "state": state, "prev_state": None,
                     "artifact_sha256": digest, "report": None, "created_by": "bench",
                     "created_at": now - timedelta(milliseconds=i), "updated_at": now, "row_version": 1})
        stats += [{"node_id": node_id, "state": state, "window_start": stats_window - w * window_s,
                   "replica": replica, **sample.to_row(), "updated_at": now}
                  for w in (1, 2) for replica in ("replica-a", "replica-b")]
    with f.db.unit_of_work(write=True) as uow:
        uow.conn.execute(insert(t.artifacts), artifacts)
        uow.conn.execute(insert(t.nodes), rows)
        uow.conn.execute(insert(t.node_stats), stats)


def operations(f: Any) -> dict[str, Callable[[int], Any]]:
    """name → call(i), each checked once by `check`."""
    return {
        "invoke": lambda i: invoke(f.invoke, SYSTEM, ROUTE, {"text": f"message {i}"}, f"user-{i}"),
        "dry-run": lambda i: fabricate.dry_run(f.fabricate, SYSTEM, PROBE),
        "list (paged)": lambda i: nodes.list_nodes(f.nodes, SYSTEM, limit=PAGE),
        "introspection": lambda i: introspection.status(f.introspection, SYSTEM),
    }


def check(n: int, calls: dict[str, Callable[[int], Any]]) -> None:
    answer = calls["invoke"](-1)
    if answer["output"] != {"text": "message -1"} or answer["state"] != "stable":
        raise SystemExit(f"unexpected invoke answer: {answer}")
    report = calls["dry-run"](0)
    if report.report.get("id") != PROBE["id"] or "selector" not in report.report:
        raise SystemExit(f"unexpected dry-run answer: {report}")
    if len(calls["list (paged)"](0)) != PAGE:
        raise SystemExit("the paged list is not a full page")
    status = calls["introspection"](0)
    if status.factory["nodes_total"] != n + 1 or status.factory["organs_total"] != n // 10:
        raise SystemExit(f"unexpected introspection totals: {status.factory}")


def factory(stack: ExitStack, n: int) -> dict[str, Callable[[int], Any]]:
    """A factory with the route under test and `n` seeded nodes, checked and warm: its operations."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="neira-bench-scale-")))
    f = build_services(make_settings(tmp))
    stack.callback(f.db.dispose)
    stack.callback(f.runtime.watchdog.shutdown)
    seed(f, n, stable_echo(f))
    ops = operations(f)
    check(n, ops)
    return ops


def measure(sizes: list[int], calls: int, warmup: int) -> dict[int, dict[str, tuple[float, float]]]:
    """Per size and operation (p50 ms, p99 ms). The sizes' factories live side by side and take turns call by
    call, so that what else the machine does weighs on every size alike."""
    with ExitStack() as stack:
        factories = {n: factory(stack, n) for n in sizes}
        times: dict[int, dict[str, list[float]]] = {n: {name: [] for name in ops} for n, ops in factories.items()}
        for i in range(-warmup, calls):
            for n, ops in factories.items():
                for name, call in ops.items():
                    started = time.perf_counter()
                    call(i)
                    if i >= 0:
                        times[n][name].append((time.perf_counter() - started) * 1000)
    return {n: {name: _percentiles(ms) for name, ms in by_op.items()} for n, by_op in times.items()}


def _percentiles(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.99 * len(ms)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000", help="registry sizes (nodes), comma-separated")
    ap.add_argument("--calls", type=int, default=300, help="timed calls per size and operation")
    ap.add_argument("--warmup", type=int, default=30, help="untimed calls per size and operation first")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = measure(sizes, args.calls, args.warmup)
    for n in sizes:
        print(f"{n:>6} nodes, {n // 10:>5} organs: " + "  ".join(
            f"{name} p50 {p50:7.3f} ms p99 {p99:7.3f} ms" for name, (p50, p99) in results[n].items()))
    small, large = sizes[0], sizes[-1]
    growth = {name: results[large][name][0] / results[small][name][0] for name in results[small]}
    for name, factor in growth.items():
        goal = f"  (goal ≤ {GROWTH_GOAL}×)" if name in ("invoke", "dry-run") else ""
        print(f"growth {small} -> {large} nodes, p50, {name}: {factor:.2f}×{goal}")
    print(f"ratio (largest growth of invoke and dry-run, {small} -> {large} nodes): "
          f"{max(growth['invoke'], growth['dry-run']):.2f}")


if __name__ == "__main__":
    main()
