"""Benchmark of a routed organ over HTTP against one routed node over HTTP, on the same server and clients
(issue 20: an organ should cost about one call).

One factory app (`create_app` over a factory on SQLite in a temp var dir, the bench's write token) serves both
routes under uvicorn (`bench/harness.py`: one worker, its own subprocess, keep-alive httpx clients in their own
processes). Before serving, `bench/organ.py`'s organ is set up: three adapter nodes `reverse` → `text_normalize` →
`echo` to canary, the organ `organ.bench.v1` built and forced to stable; then the organ's last node,
`analysis.echo.v1`, is forced to stable as well, so that its route `analysis.echo` serves as the single node.
The same clients then drive `POST /invoke/organ.bench` (the organ: routing, one worker for the organ and its
three nodes, the statistics and metrics of all four) and `POST /invoke/analysis.echo` (one node), each request
with a distinct key and input, every answer checked (200, the version that served it, and its output: the input
for the node, the shape of the last node's output for the organ).

Prints requests/s and latency p50/p99 of each, then the ratio (organ / node requests/s, goal ≥ 0.8) last.

Run: `.venv/bin/python bench/organ_http.py [--requests N] [--clients C] [--warmup W]`
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import harness
import organ

NODE = "analysis.echo.v1"
GOAL = 0.8


def prepare(f: Any) -> None:
    """The bench organ to stable, and its last node (the single node driven) to stable too."""
    from neira_factory.domain.actors import SYSTEM
    from neira_factory.services import lifecycle

    organ.stable_organ(f)
    for _ in range(2):
        lifecycle.transition(f.lifecycle, SYSTEM, NODE, "approve", force=True, reason=organ.REASON)


def factory_app(var_dir: Path):
    return harness.factory_app(var_dir, prepare=prepare)


def request(tag: str) -> dict[str, Any]:
    return {"input": {"text": f"  Hello,   Neira  {len(tag)}! Message {tag}  "}, "key": f"user-{tag}"}


def organ_output(sent: Any, answer: Any) -> bool:
    """The organ served it, and answered its last node's shape (`{normalized: text}`)."""
    output = answer.get("output") if isinstance(answer, dict) else None
    return (answer.get("node_id") == organ.ORGAN and isinstance(output, dict) and list(output) == ["normalized"]
            and isinstance(output["normalized"], str))


def node_output(sent: Any, answer: Any) -> bool:
    return isinstance(answer, dict) and answer.get("node_id") == NODE and answer.get("output") == sent["input"]


LOADS = {"organ": harness.Load(f"/invoke/{organ.ROUTE}", request, organ_output),
         "node": harness.Load("/invoke/analysis.echo", request, node_output)}


def main() -> None:
    args = harness.parser(__doc__, requests=1000).parse_args()
    if harness.serve_if_asked(args, {"factory": factory_app}):
        return
    organ.check_chain()
    print(harness.setup_line(args, LOADS["organ"]), flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="neira-bench-organ-http-") as tmp:
        with harness.running(__file__, "factory", Path(tmp)) as url:
            for name, load in LOADS.items():
                results[name] = harness.drive(url, load, args.clients, args.requests, args.warmup)
                label = f"{organ.ORGAN} (3 nodes)" if name == "organ" else f"{NODE} (1 node)"
                print(harness.result_line(f"{label:<24}", results[name]), flush=True)
    ratio = results["organ"]["rps"] / results["node"]["rps"]
    print(f"ratio (organ / node requests/s): {ratio:.3f}  (goal ≥ {GOAL})")


if __name__ == "__main__":
    main()
