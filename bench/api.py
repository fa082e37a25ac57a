"""Benchmark of the HTTP API: dry-run requests/s through the factory against a bare FastAPI endpoint.

The project side is `POST /factory/nodes/dryrun` of the real app (`create_app` over a
factory on SQLite in a temp var dir): auth, body parsing, template validation, the
selector, the examples run by the adapter backend, metrics. The baseline is a bare
FastAPI app whose endpoint only parses the same JSON body into a dict and answers
`{"ok": true}`. Both run under uvicorn with the same settings (one worker,
log_level="warning", the same loop and http implementation), each in its own
subprocess on a free loopback port; they are driven one after the other by the same
pool of client processes (`--clients` × `--requests` each, after a warm-up), with
keep-alive httpx clients. Every answer is checked (200, and `ok` true).

Prints requests/s and latency p50/p99 for both, then the ratio (factory / bare) last.

Run: `.venv/bin/python bench/api.py [--requests N] [--clients C] [--warmup W]`
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-write-token"
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


# ---- the servers -------------------------------------------------------------------------------

def uvicorn_impls() -> tuple[str, str]:
    """The same loop and http implementation for both apps: the fastest installed."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


def bare_app():
    from typing import Annotated

    from fastapi import Body, FastAPI

    app = FastAPI()

    @app.post(PATH)
    def dry_run(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return {"ok": True}

    return app


def factory_app(var_dir: Path):
    from neira_factory.api.app import create_app
    from neira_factory.config import Settings
    from neira_factory.services.bootstrap import build_factory
    from neira_factory.tokens import TokenRegistry

    settings = Settings(var_dir=var_dir, database_url=f"sqlite:///{var_dir / 'bench.db'}", write_token=TOKEN,
                        capabilities_file=ROOT / "capabilities.yaml")
    return create_app(build_factory(settings), TokenRegistry.load(settings))


def serve(which: str, port: int, var_dir: str) -> None:
    """Child process: run one app under uvicorn."""
    import uvicorn

    loop, http = uvicorn_impls()
    app = factory_app(Path(var_dir)) if which == "factory" else bare_app()
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", loop=loop, http=http,
                access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(which: str, var_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", which, "--port", str(port), "--var", str(var_dir)],
                            cwd=ROOT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the {which} server exited with {proc.returncode} at start-up")
        try:
            httpx.get(f"{url}/docs", timeout=1.0)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"the {which} server did not start within 30 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- the clients -------------------------------------------------------------------------------

def client(args: tuple[str, int, int, Any]) -> tuple[float, float, list[float]]:
    """One client process: warm up, wait for the others, then `requests` timed dry-runs on one connection."""
    url, requests, warmup, barrier = args
    payload = json.dumps(BODY).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    latencies = []
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as http:
        def one() -> None:
            response = http.post(PATH, content=payload)
            if response.status_code != 200 or response.json().get("ok") is not True:
                raise RuntimeError(f"unexpected answer {response.status_code}: {response.text[:300]}")

        for _ in range(warmup):
            one()
        barrier.wait()
        begin = time.monotonic()
        for _ in range(requests):
            t = time.perf_counter()
            one()
            latencies.append(time.perf_counter() - t)
        end = time.monotonic()
    return begin, end, latencies


def drive(url: str, clients: int, requests: int, warmup: int) -> dict[str, float]:
    with mp.Manager() as manager:
        barrier = manager.Barrier(clients)
        with mp.Pool(clients) as pool:
            results = pool.map(client, [(url, requests, warmup, barrier)] * clients)
    begin = min(r[0] for r in results)
    end = max(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    total = len(latencies)
    return {"requests": total, "seconds": end - begin, "rps": total / (end - begin),
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(total - 1, int(total * 0.99))] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=800, help="timed requests per client, per app")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests per client first")
    parser.add_argument("--serve", choices=["factory", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.var)
        return

    loop, http = uvicorn_impls()
    print(f"uvicorn: 1 worker each, loop={loop}, http={http}; {args.clients} clients × {args.requests} requests "
          f"(+{args.warmup} warm-up) per app; body {len(json.dumps(BODY))} bytes; cpus {os.cpu_count()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="neira-bench-api-") as tmp:
        for which in ("factory", "bare"):
            proc, url = start(which, Path(tmp))
            try:
                results[which] = drive(url, args.clients, args.requests, args.warmup)
            finally:
                stop(proc)
            r = results[which]
            label = "factory dry-run" if which == "factory" else "bare FastAPI  "
            print(f"{label}: {r['rps']:8.1f} requests/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                  f"({r['requests']} requests in {r['seconds']:.2f} s)")
    print(f"ratio (factory / bare requests/s): {results['factory']['rps'] / results['bare']['rps']:.3f}")


if __name__ == "__main__":
    main()
