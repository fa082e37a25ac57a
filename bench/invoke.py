"""Benchmark of invocation through a route: `POST /invoke/{route}` of the factory against a bare
FastAPI endpoint, and `services.invoke.invoke` in-process against the implementation it runs.

HTTP: the project side is `POST /invoke/analysis.echo` of the real app (`create_app` over a
factory on SQLite in a temp var dir, the bench's write token): auth, body parsing, the policy
check, the route table, the version plan, the watchdog, the adapter backend running the `echo`
implementation, the statistics and metrics. Before serving, the adapter node `analysis.echo.v1`
is created (`fabricate.create` as SYSTEM) and walked to stable (approve, then approve with force
and a reason twice: a first version has no baseline traffic). The baseline is a bare FastAPI app
whose `POST /invoke/{route}` only parses the same JSON body into a dict and answers the same shape
(`output` is the input). Both run under uvicorn with the same settings (one worker,
log_level="warning", the same loop and http implementation), each in its own subprocess on a
free loopback port, driven one after the other by the same pool of client processes
(`--clients` × `--requests` each, after a warm-up) with keep-alive httpx clients; every request
carries a distinct `key` and input, and every answer is checked (200, and `output` equal to the
input). The harness is `bench/harness.py`, shared with `bench/api.py`.

In-process: µs per call of `invoke(f.invoke, SYSTEM, "analysis.echo", data, key)` on such a factory
against calling the echo implementation directly (`library.get("echo").func(data, {}, ctx)`),
`--iterations` calls per repeat after a warm-up, the median of `--repeats` repeats.

Prints requests/s and latency p50/p99 for both apps, then µs per call for both in-process and
the overhead, then the HTTP ratio (factory / bare requests/s, goal ≥ 0.8) last.

Run: `.venv/bin/python bench/invoke.py [--requests N] [--clients C] [--warmup W] [--iterations I] [--repeats R]`
"""
from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import harness

# at module level: FastAPI resolves the bare endpoint's (string) annotations in these globals
from fastapi import Body, FastAPI

ROUTE = "analysis.echo"
NODE = {"id": f"{ROUTE}.v1", "version": "0.1.0", "analysis_type": "echo"}
DATA = {"text": "hello, factory"}
GOAL = 0.8


# ---- the apps and the load --------------------------------------------------------------------

def stable_echo(f: Any) -> None:
    """Create the echo adapter node and walk it to stable, as an admin would for a route's first version."""
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.services import fabricate, lifecycle

    node_id = fabricate.create(f.fabricate, SYSTEM, NODE).id
    lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve")
    for _ in range(2):
        lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve", force=True, reason="first version of the route")


def factory_app(var_dir: Path):
    return harness.factory_app(var_dir, prepare=stable_echo)


def bare_app(_var_dir: Path):
    app = FastAPI()

    @app.post("/invoke/{route}")
    def invoke(route: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return {"output": body["input"], "route": route, "node_id": "x", "version": "0.1.0", "state": "stable",
                "ms": 0.0}

    return app


def request(tag: str) -> dict[str, Any]:
    return {"input": {**DATA, "tag": tag}, "key": f"user-{tag}"}


def echoed(sent: Any, answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("output") == sent["input"]


APPS = {"factory": factory_app, "bare": bare_app}
LOAD = harness.Load(f"/invoke/{ROUTE}", request, echoed)


# ---- in-process --------------------------------------------------------------------------------

def per_call_us(call: Callable[[int], Any], iterations: int, repeats: int, warmup: int) -> float:
    """Median over `repeats` of the mean µs of `call(i)` for i in range(iterations), after `warmup` calls."""
    for i in range(warmup):
        call(i % iterations)
    runs = []
    for _ in range(repeats):
        begin = time.perf_counter()
        for i in range(iterations):
            call(i)
        runs.append((time.perf_counter() - begin) / iterations)
    return statistics.median(runs) * 1e6


def in_process(var_dir: Path, iterations: int, repeats: int, warmup: int) -> tuple[float, float]:
    """µs per call: (services.invoke.invoke, the echo implementation called directly)."""
    from neira_factory import library
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.library import ImplContext
    from neira_factory.services.bootstrap import build_services
    from neira_factory.services.invoke import invoke

    f = build_services(harness.factory_settings(var_dir))
    stable_echo(f)
    ctx = ImplContext(side_effects=True, output_dir=var_dir / "output")
    keys = [f"user-{i}" for i in range(iterations)]
    answer = invoke(f.invoke, SYSTEM, ROUTE, DATA, keys[0])
    if answer["output"] != DATA or answer["state"] != "stable" or library.get("echo").func(DATA, {}, ctx) != DATA:
        raise SystemExit(f"unexpected answer in-process: {answer}")
    factory = per_call_us(lambda i: invoke(f.invoke, SYSTEM, ROUTE, DATA, keys[i]), iterations, repeats, warmup)
    direct = per_call_us(lambda i: library.get("echo").func(DATA, {}, ctx), iterations, repeats, warmup)
    return factory, direct


def main() -> None:
    parser = harness.parser(__doc__, requests=2000)
    parser.add_argument("--iterations", type=int, default=5000, help="in-process calls per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="in-process repeats (the median counts)")
    args = parser.parse_args()
    if harness.serve_if_asked(args, APPS):
        return
    results = harness.compare(__file__, LOAD, args, {"factory": "factory invoke", "bare": "bare FastAPI  "})
    with tempfile.TemporaryDirectory(prefix="neira-bench-invoke-local-") as tmp:
        factory, direct = in_process(Path(tmp), args.iterations, args.repeats, warmup=args.iterations // 10)
    print(f"in-process, {args.iterations} calls × {args.repeats} repeats (median): invoke() {factory:8.2f} µs/call  "
          f"echo impl {direct:8.2f} µs/call  overhead {factory - direct:8.2f} µs/call")
    ratio = results["factory"]["rps"] / results["bare"]["rps"]
    print(f"ratio (factory / bare requests/s): {ratio:.3f}  (goal ≥ {GOAL})")


if __name__ == "__main__":
    main()
