"""Benchmark of an organ: messages/s through a three-node adapter organ against the same three
implementations called in sequence directly (issue 4).

The project side: a factory on SQLite in a temp var dir (`build_services`), three adapter nodes
binding cheap pure library implementations that chain by their io schemas — `reverse`
({text} → {text}) → `text_normalize` ({text} → {normalized}) → `echo` (any object), each link
checked with `schema_fits` — created as SYSTEM (`fabricate.create`) and approved to canary; the
organ `organ.bench.v1` (one channel, in that order) built (`organs.build`, dryrun false),
approved to canary, then forced to stable (approve with force and a reason, twice: a first version
has no baseline traffic) so that its route `organ.bench` serves. Each message goes through
`services.invoke.invoke(f.invoke, SYSTEM, "organ.bench", {"text": ...}, key)`: the policy check, the
route table and version plan, the organ on one worker under its watchdog, each node there under its
own budget, and the statistics and metrics of the organ and of each node, like real traffic.
`services.organs.run` (the organ run directly: a read transaction, the template loaded and
verified, the same guarded run) is measured as a second line.

The baseline: the same three implementations called in sequence in this process
(`library.get(name).func(data, {}, ImplContext(...))` each, the output of one the input of the
next), on the same messages. Every message is distinct (its text and its key), and every output
of every timed run is checked to equal the direct one's.

Each side: a warm-up, then `--repeats` runs of `--messages` messages, the sides taking turns run by run; the
median run counts.
Prints messages/s and µs per message for the three, the overhead per message, where it goes
(the cost of one worker hop of the watchdog, and a cProfile over `--profile` messages of the
routed path and of `organs.run`, the watchdog's workers included: time by stage, and the top functions), the statistics the traffic left (the organ's
and each node's request counts), then the ratio (organ routed / direct messages/s) last.

Run: `.venv/bin/python bench/organ.py [--messages N] [--repeats R] [--warmup W] [--profile P]`
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMPLS = ("reverse", "text_normalize", "echo")  # the order of the channel
NODES = [f"analysis.{name}.v1" for name in IMPLS]
ORGAN = "organ.bench.v1"
ROUTE = "organ.bench"
REASON = "benchmark: first version of the route"


# ---- the factory -------------------------------------------------------------------------------

def check_chain() -> None:
    """Each implementation's output fits the next one's input."""
    from neira_factory import library
    from neira_factory.domain.schemas import schema_fits

    for a, b in pairwise(IMPLS):
        problems = schema_fits(library.io_schema(a)["output"], library.io_schema(b)["input"])
        if problems:
            raise SystemExit(f"{a} → {b} does not chain: {problems}")


def make_factory(var_dir: Path):
    from neira_factory.config import Settings
    from neira_factory.services.bootstrap import build_services

    return build_services(Settings(var_dir=var_dir, database_url=f"sqlite:///{var_dir / 'bench.db'}",
                                  capabilities_file=ROOT / "capabilities.yaml"))


def stable_organ(f: Any) -> None:
    """The three nodes to canary, the organ built, to canary, and forced to stable."""
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.services import fabricate, lifecycle, organs

    for node_id, impl in zip(NODES, IMPLS):
        fabricate.create(f.fabricate, SYSTEM, {"id": node_id, "version": "0.1.0", "analysis_type": impl,
                                     "adapter": {"impl": impl}})
        if lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve").state != "canary":
            raise SystemExit(f"{node_id} did not reach canary")
    template = {"id": ORGAN, "nodes": NODES, "channels": [{"name": "main", "nodes": NODES}]}
    built = organs.build(f.organs, SYSTEM, {"organ_template": template, "dryrun": False})
    if built.state != "draft":
        raise SystemExit(f"unexpected build answer: {built}")
    lifecycle.transition(f.lifecycle, SYSTEM, ORGAN, "approve")
    for _ in range(2):
        lifecycle.transition(f.lifecycle, SYSTEM, ORGAN, "approve", force=True, reason=REASON)


# ---- the three ways of sending a message -----------------------------------------------------------

def messages(n: int) -> list[tuple[dict[str, Any], str]]:
    """n distinct (input, key): mixed case, extra whitespace, a number to spell out."""
    return [({"text": f"  Hello,   Neira  {i % 1000}! Message {chr(65 + i % 26)}  "}, f"user-{i}") for i in range(n)]


def callers(f: Any, ctx: Any) -> dict[str, Callable[[dict[str, Any], str], Any]]:
    """name → call(data, key) → the organ's output."""
    from neira_factory import library
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.services import organs
    from neira_factory.services.invoke import invoke

    funcs = [library.get(name).func for name in IMPLS]

    def direct(data: dict[str, Any], _key: str) -> Any:
        for func in funcs:
            data = func(data, {}, ctx)
        return data

    return {"routed": lambda data, key: invoke(f.invoke, SYSTEM, ROUTE, data, key)["output"],
            "run": lambda data, _key: organs.run(f.organs, SYSTEM, ORGAN, data).output,
            "direct": direct}


def timed(calls: dict[str, Callable[[dict[str, Any], str], Any]], sent: list[tuple[dict[str, Any], str]],
          expected: list[Any], repeats: int, warmup: int) -> dict[str, float]:
    """name → median over `repeats` runs of messages/s. The sides take turns, one run each per round, so that
    a machine that gets busier or quieter meanwhile weighs on all of them alike; every output of every run is
    checked against `expected`."""
    for call in calls.values():
        for i in range(warmup):
            data, key = sent[i % len(sent)]
            call(data, f"warm-{key}")
    runs: dict[str, list[float]] = {name: [] for name in calls}
    for r in range(repeats):
        for name, call in calls.items():
            outputs = [None] * len(sent)
            begin = time.perf_counter()
            for i, (data, key) in enumerate(sent):
                outputs[i] = call(data, key)
            runs[name].append(len(sent) / (time.perf_counter() - begin))
            wrong = [i for i, (got, want) in enumerate(zip(outputs, expected)) if got != want]
            if wrong:
                i = wrong[0]
                raise SystemExit(f"{name}, run {r}: {len(wrong)} outputs differ from the direct ones; first, "
                                 f"message {i} {sent[i][0]!r}: {outputs[i]!r} != {expected[i]!r}")
    return {name: statistics.median(rates) for name, rates in runs.items()}


# ---- where the difference goes ----------------------------------------------------------------------

def hop_us(f: Any, iterations: int = 5000) -> float:
    """µs of one worker hop of the watchdog (what a routed organ takes, once for all its nodes) around a no-op."""
    budget = f.runtime.watchdog.budget(1000, cap_s=1.0)
    for _ in range(iterations // 10):
        f.runtime.watchdog.run_abandonable(lambda: None, "bench.hop", budget)
    begin = time.perf_counter()
    for _ in range(iterations):
        f.runtime.watchdog.run_abandonable(lambda: None, "bench.hop", budget)
    return (time.perf_counter() - begin) / iterations * 1e6


ROUTED_STAGES = [  # (label, module file suffix, function name): cumulative time of each
    ("invoke() in all", "services/invoke.py", "invoke"),
    ("  routing: policy, route table, plan (_prepare)", "services/invoke.py", "_prepare"),
    ("  the organ, guarded, its nodes included (guarded)", "services/execution.py", "guarded"),
    ("    worker hop: submit + wait (run_abandonable)", "runtime/watchdog.py", "run_abandonable"),
    ("      waiting on the worker (lock acquire)", "~", "<method 'acquire' of '_thread.lock' objects>"),
    ("    on the worker: the organ's run (OrganBackend.run)", "backends/organ.py", "run"),
    ("      a node on the organ's worker (run_member), ×3", "services/execution.py", "run_member"),
    ("        in the organ's context (_member_here), ×3", "services/execution.py", "_member_here"),
    ("          its budget checked (run_cooperative), ×3", "runtime/watchdog.py", "run_cooperative"),
    ("          output checks, one pass (flat_size), ×3", "domain/json_values.py", "flat_size"),
    ("          output checks, full walks (serialized_size)", "domain/json_values.py", "serialized_size"),
    ("    the organ's call set-up: budget, context (__post_init__)", "services/execution.py", "__post_init__"),
    ("    counting: statistics + metrics (recorded), ×4", "services/execution.py", "recorded"),
    ("      statistics (stats.record)", "runtime/stats.py", "record"),
    ("  the answer (_answer)", "services/invoke.py", "_answer"),
]
RUN_STAGES = [
    ("organs.run() in all", "services/organs.py", "run"),
    ("  read transaction: begin + end (unit_of_work)", "store/database.py", "unit_of_work"),
    ("  policy state, read once for its checks (policy_state)", "services/authorizer.py", "policy_state"),
    ("  organ_record (the node row)", "services/organs.py", "organ_record"),
    ("  load_template: artifact read, sha256, parse (the organ's; its nodes from the cache)", "store/templates.py",
     "load_template"),
    ("  the organ, guarded, its nodes included (guarded)", "services/execution.py", "guarded"),
]


def profile(f: Any, call: Callable[[dict[str, Any], str], Any], sent: list[tuple[dict[str, Any], str]], n: int,
            stages: list[tuple[str, str, str]]) -> tuple[list[str], list[str]]:
    """cProfile of `n` messages through `call`: (stage lines, top-10 functions by own time), µs per
    message. The calling thread and the watchdog's workers are profiled (each job on a worker under a
    second profiler, merged): the main thread's wait on a worker overlaps the work done there."""
    profiler, worker = cProfile.Profile(), cProfile.Profile()
    watchdog = f.runtime.watchdog
    tracked = watchdog._tracked

    def profiled(job: Any) -> Any:
        worker.enable()
        try:
            return tracked(job)
        finally:
            worker.disable()

    watchdog._tracked = profiled
    profiler.enable()
    for i in range(n):
        data, key = sent[i % len(sent)]
        call(data, f"prof-{key}")
    profiler.disable()
    watchdog._tracked = tracked
    merged = pstats.Stats(profiler)
    if worker.getstats():
        merged.add(worker)
    stats = merged.stats  # (file, line, name) → (cc, nc, tottime, cumtime, callers)
    lines = []
    for label, suffix, name in stages:
        found = [(v[1], v[3]) for (file, _, fn), v in stats.items()
                 if fn == name and (file == suffix or file.endswith(suffix))]
        if found:
            calls, cum = sum(c for c, _ in found), sum(t for _, t in found)
            lines.append(f"  {label:<54} {cum / n * 1e6:8.1f} µs/message  ({calls / n:g} calls/message)")
    top = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:10]
    tops = [f"  {v[2] / n * 1e6:8.1f} µs/message own  {v[1] / n:6.2f} calls  "
            f"{Path(file).name}:{line} {fn}" for (file, line, fn), v in top]
    return lines, tops


def counted(f: Any) -> str:
    """The statistics the traffic left: the organ's requests and each node's (after a flush)."""
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.services import organs

    status = organs.status(f.organs, SYSTEM, ORGAN)
    nodes = ", ".join(f"{n.id} {getattr(n, 'requests', 0)}" for n in status.nodes)
    return f"counted in statistics: {ORGAN} ({status.state}) {status.metrics.get('requests')} requests; {nodes}"


# ---- main -------------------------------------------------------------------------------------------

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=2000, help="messages per timed run")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per side (the median counts)")
    p.add_argument("--warmup", type=int, default=300, help="untimed messages per side first")
    p.add_argument("--profile", type=int, default=1000, help="routed messages under cProfile")
    args = p.parse_args()

    from neira_factory.domain.actors import SYSTEM
    from neira_factory.library import ImplContext
    from neira_factory.services.invoke import invoke

    check_chain()
    with tempfile.TemporaryDirectory(prefix="neira-bench-organ-") as tmp:
        var_dir = Path(tmp)
        f = make_factory(var_dir)
        try:
            stable_organ(f)
            ctx = ImplContext(side_effects=True, output_dir=var_dir / "output")
            call = callers(f, ctx)
            sent = messages(args.messages)
            expected = [call["direct"](data, key) for data, key in sent]
            answer = invoke(f.invoke, SYSTEM, ROUTE, sent[0][0], "check")
            if (answer["node_id"], answer["state"], answer["output"]) != (ORGAN, "stable", expected[0]):
                raise SystemExit(f"unexpected answer from {ROUTE}: {answer}")
            print(f"organ {ORGAN}: {' → '.join(f'{n} ({i})' for n, i in zip(NODES, IMPLS))}; "
                  f"{args.messages} messages × {args.repeats} runs (+{args.warmup} warm-up), median; "
                  f"e.g. {sent[0][0]['text']!r} → {expected[0]!r}", flush=True)

            labels = {"routed": "organ, routed: invoke(\"organ.bench\")",
                      "run": "organ, direct: organs.run()",
                      "direct": "the three impls in sequence"}
            rates = timed(call, sent, expected, args.repeats, args.warmup)
            for name, rate in rates.items():
                print(f"{labels[name]:<38} {rate:10.1f} messages/s  {1e6 / rate:8.2f} µs/message", flush=True)

            per = {k: 1e6 / v for k, v in rates.items()}
            print(f"overhead per message: routed {per['routed'] - per['direct']:.2f} µs, "
                  f"organs.run {per['run'] - per['direct']:.2f} µs (over the direct "
                  f"{per['direct']:.2f} µs)")
            hop = hop_us(f)
            print(f"one worker hop of the watchdog (run_abandonable of a no-op): {hop:.2f} µs, once per message "
                  "(the organ and its nodes run on one worker)")
            for name, stages in (("routed", ROUTED_STAGES), ("run", RUN_STAGES)):
                lines, tops = profile(f, call[name], sent, args.profile, stages)
                print(f"cProfile of {args.profile} messages, {labels[name]} (main thread and workers; µs/message, "
                      f"inflated by the profiler):")
                print("\n".join(lines))
                print("  top functions by own time:")
                print("\n".join(f"  {t}" for t in tops))
            f.flush_stats()
            print(counted(f))
        finally:
            f.runtime.watchdog.shutdown()
            f.db.dispose()
    ratio = rates["routed"] / rates["direct"]
    print(f"organs.run / direct messages/s: {rates['run'] / rates['direct']:.4f}")
    print(f"ratio (organ routed / direct messages/s): {ratio:.4f}")


if __name__ == "__main__":
    main()
