"""What the HTTP benchmarks share: the real app and a bare one, each under uvicorn in its own
subprocess, driven one after the other by the same pool of client processes.

A benchmark script says what differs: which apps to serve (`apps`: name → builder of the ASGI
app from a var dir, run in the child by `serve_if_asked`), and what each client sends (a `Load`:
the path, the body of each request, the check of each answer). Both servers run with the same
uvicorn settings (one worker, log_level="warning", no access log, the fastest loop and http
implementation installed) on a free loopback port; each client process warms up on its own
keep-alive httpx connection, waits at a barrier for the others, then times its requests.
`drive` sums them up (requests/s over the whole timed window, latency p50/p99).

Not a benchmark itself: `bench/api.py` and `bench/invoke.py` run on it.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

AppBuilder = Callable[[Path], Any]  # var dir → ASGI app


# ---- the servers -------------------------------------------------------------------------------

def uvicorn_impls() -> tuple[str, str]:
    """The same loop and http implementation for both apps: the fastest installed."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


def factory_app(var_dir: Path, prepare: Callable[[Any], None] | None = None):
    """The real app over a factory on SQLite in `var_dir`, with the bench's write token; `prepare(factory)`
    runs first (e.g. to register nodes)."""
    from neira_factory.api.app import create_app
    from neira_factory.services.bootstrap import build_services
    from neira_factory.config.tokens import TokenRegistry

    settings = factory_settings(var_dir)
    f = build_services(settings)
    if prepare is not None:
        prepare(f)
    return create_app(f, TokenRegistry.load(settings))


def factory_settings(var_dir: Path):
    from neira_factory.config import Settings

    return Settings(var_dir=var_dir, database_url=f"sqlite:///{var_dir / 'bench.db'}", write_token=TOKEN,
                    capabilities_file=ROOT / "capabilities.yaml")


def serve(app: Any, port: int) -> None:
    """Child process: run one app under uvicorn."""
    import uvicorn

    loop, http = uvicorn_impls()
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning", loop=loop, http=http,
                access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script: str, which: str, var_dir: Path) -> tuple[subprocess.Popen, str]:
    """Run `script --serve which` on a free port and wait until it answers; (process, base url)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, script, "--serve", which, "--port", str(port), "--var", str(var_dir)],
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


@contextmanager
def running(script: str, which: str, var_dir: Path) -> Iterator[str]:
    """The server `which` of `script` for the length of the block; yields its base url."""
    proc, url = start(script, which, var_dir)
    try:
        yield url
    finally:
        stop(proc)


# ---- the clients -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Load:
    """What every client sends. `body` is the JSON body of every request, or a function of a tag
    distinct for each request (client and number) that makes it; `check(sent, answer)` says whether
    a 200 answer's JSON is right. Functions must be module-level (they go to the client processes)."""

    path: str
    body: Any
    check: Callable[[Any, Any], bool]
    headers: dict[str, str] = field(default_factory=lambda: dict(AUTH))

    def size(self) -> int:
        """Bytes of one request body (the first one, where each differs)."""
        return len(json.dumps(self.body("c0-0") if callable(self.body) else self.body))


def client(args: tuple[str, Load, int, int, int, Any]) -> tuple[float, float, list[float]]:
    """One client process: warm up, wait for the others, then `requests` timed requests on one connection."""
    url, load, number, requests, warmup, barrier = args
    fixed = None if callable(load.body) else (load.body, json.dumps(load.body).encode())
    headers = {**load.headers, "Content-Type": "application/json"}
    latencies = []
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as http:
        def one(tag: str) -> None:
            if fixed:
                sent, payload = fixed
            else:
                sent = load.body(tag)
                payload = json.dumps(sent).encode()
            response = http.post(load.path, content=payload)
            if response.status_code != 200 or not load.check(sent, response.json()):
                raise RuntimeError(f"unexpected answer {response.status_code}: {response.text[:300]}")

        for i in range(warmup):
            one(f"c{number}-w{i}")
        barrier.wait()
        begin = time.monotonic()
        for i in range(requests):
            t = time.perf_counter()
            one(f"c{number}-{i}")
            latencies.append(time.perf_counter() - t)
        end = time.monotonic()
    return begin, end, latencies


def drive(url: str, load: Load, clients: int, requests: int, warmup: int) -> dict[str, float]:
    """`clients` processes × `requests` timed requests each against `url`: requests/s and latency p50/p99."""
    with mp.Manager() as manager:
        barrier = manager.Barrier(clients)
        with mp.Pool(clients) as pool:
            results = pool.map(client, [(url, load, n, requests, warmup, barrier) for n in range(clients)])
    begin = min(r[0] for r in results)
    end = max(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    total = len(latencies)
    return {"requests": total, "seconds": end - begin, "rps": total / (end - begin),
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(total - 1, int(total * 0.99))] * 1000}


# ---- the command line --------------------------------------------------------------------------

def parser(doc: str, *, requests: int, clients: int = 4, warmup: int = 50) -> argparse.ArgumentParser:
    """--requests/--clients/--warmup with the script's defaults, and the hidden flags `start` passes a server."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=requests, help="timed requests per client, per app")
    p.add_argument("--clients", type=int, default=clients, help="concurrent client processes")
    p.add_argument("--warmup", type=int, default=warmup, help="untimed requests per client first")
    p.add_argument("--serve", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--var", help=argparse.SUPPRESS)
    return p


def serve_if_asked(args: argparse.Namespace, apps: dict[str, AppBuilder]) -> bool:
    """In a server child (`--serve NAME`): build that app and serve it until stopped; True. Else False."""
    if not args.serve:
        return False
    serve(apps[args.serve](Path(args.var)), args.port)
    return True


def setup_line(args: argparse.Namespace, load: Load) -> str:
    loop, http = uvicorn_impls()
    return (f"uvicorn: 1 worker each, loop={loop}, http={http}; {args.clients} clients × {args.requests} requests "
            f"(+{args.warmup} warm-up) per app; body {load.size()} bytes; cpus {os.cpu_count()}")


def result_line(label: str, r: dict[str, float]) -> str:
    return (f"{label}: {r['rps']:8.1f} requests/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
            f"({r['requests']} requests in {r['seconds']:.2f} s)")


def compare(script: str, load: Load, args: argparse.Namespace, labels: dict[str, str]) -> dict[str, dict[str, float]]:
    """Print the set-up line, then serve (over one temp var dir) and drive each app of `labels`
    (name → printed label) in turn, printing its line; the results by name."""
    print(setup_line(args, load), flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix=f"neira-bench-{Path(script).stem}-") as tmp:
        for which, label in labels.items():
            with running(script, which, Path(tmp)) as url:
                results[which] = drive(url, load, args.clients, args.requests, args.warmup)
            print(result_line(label, results[which]), flush=True)
    return results
