"""Benchmark of the HTTP API: dry-run requests/s through the factory against a bare FastAPI endpoint.

The project side is `POST /factory/nodes/dryrun` of the real app (`create_app` over a
factory on SQLite in a temp var dir): auth, body parsing, template validation, the
selector, the examples run by the adapter backend, metrics. The baseline is a bare
FastAPI app whose endpoint only parses the same JSON body into a dict and answers
`{"ok": true}`. Both run under uvicorn with the same settings (one worker,
log_level="warning", the same loop and http implementation), each in its own
subprocess on a free loopback port; they are driven one after the other by the same
pool of client processes (`--clients` × `--requests` each, after a warm-up), with
keep-alive httpx clients. Every answer is checked (200, and `ok` true). The harness is
`bench/harness.py`, shared with `bench/invoke.py`.

Prints requests/s and latency p50/p99 for both, then the ratio (factory / bare) last.

Run: `.venv/bin/python bench/api.py [--requests N] [--clients C] [--warmup W]`
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import harness

# at module level: FastAPI resolves the bare endpoint's (string) annotations in these globals
from fastapi import Body, FastAPI

PATH = "/factory/nodes/dryrun"
# Neira's flat template, as `examples/analysis.reverse.v1.yaml` has it, with one example
BODY = {
    "id": "analysis.reverse.v1", "version": "0.1.0", "analysis_type": "reverse", "links": [],
    "confidence_threshold": 0.5, "draft_content": "Reverses a text by code points.", "metadata": {"schema": "v1"},
    "backend": "adapter",
    "io": {"input": {"type": "object", "properties": {"text": {"type": "string", "maxLength": 100000}},
                     "required": ["text"]},
           "output": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
    "examples": [{"input": {"text": "abc"}, "expected": {"text": "cba"}}],
    "limits": {"max_operations": 100000, "timeout_ms": 500, "memory_mb": 32},
    "rollout": {"mode": "split", "canary_weight": 0.1, "min_requests": 50,
                "slo": {"error_rate_max": 0.01, "p95_ms_max": 20}},
}


# ---- the apps and the load --------------------------------------------------------------------

def bare_app(_var_dir: Path):
    app = FastAPI()

    @app.post(PATH)
    def dry_run(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return {"ok": True}

    return app


def ok(_sent: Any, answer: Any) -> bool:
    return answer.get("ok") is True


APPS = {"factory": harness.factory_app, "bare": bare_app}
LOAD = harness.Load(PATH, BODY, ok)


def main() -> None:
    args = harness.parser(__doc__, requests=800).parse_args()
    if harness.serve_if_asked(args, APPS):
        return
    results = harness.compare(__file__, LOAD, args, {"factory": "factory dry-run", "bare": "bare FastAPI  "})
    print(f"ratio (factory / bare requests/s): {results['factory']['rps'] / results['bare']['rps']:.3f}")


if __name__ == "__main__":
    main()
