"""Helpers of the scale tests: start servers outside a fixture, crash one, clients for many threads,
threads released at one instant.

The servers are those of the end-to-end suite (`tests/e2e/e2e_support.py`: `Server`, `base_env`,
`token_env`, `free_port`, `wait_healthy`); `launch` is `tests/e2e/conftest.py`'s `start_server` without
the fixture around it, for module-scoped clusters and for starts that must not wait one by one.
"""
from __future__ import annotations

import signal
import ssl
import subprocess
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from e2e_support import BIN, ROOT, Server, base_env, free_port, token_env, wait_healthy
from support import TOKENS

# the `replicas` fixture's servers: counters reach the database every 200 ms, another replica's change is in
# force here within 300 ms
REPLICA_ENV = {"NEIRA_STATS_FLUSH_MS": "200", "NEIRA_CACHE_TTL_MS": "300"}
# a node's lifecycle states in the order approvals move it
RANK = {"draft": 0, "canary": 1, "experimental": 2, "stable": 3}
# one TLS context for every client: building one per httpx.Client costs ~30 ms, and tests make hundreds
_TLS = ssl.create_default_context()


def launch(var_dir: Path, log_dir: Path, *, database_url: str | None = None, env: dict[str, str] | None = None,
           wait: bool = True) -> Server:
    """`neira-factory serve --no-examples` on a free port with the test tokens; waits for /healthz unless told not to."""
    extra = {"NEIRA_VAR_DIR": str(var_dir), **token_env(), **({"NEIRA_DATABASE_URL": database_url} if database_url else {}),
             **(env or {})}
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "stdout.txt", "wb") as out, open(log_dir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-examples"],
                                cwd=ROOT, env=base_env(**extra), stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    server = Server(f"http://127.0.0.1:{port}", var_dir, proc, log_dir)
    if wait:
        wait_healthy(server)
    return server


def kill(server: Server) -> None:
    """SIGKILL the server (no shutdown hook runs, nothing is flushed) and reap it."""
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)


def client(server: Server, scope: str, timeout: float = 30.0, connections: int = 100) -> httpx.Client:
    """A client as `scope`, safe to share between threads (up to `connections` at once), closed with the server."""
    c = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKENS[scope]}"}, timeout=timeout,
                     verify=_TLS, limits=httpx.Limits(max_connections=connections,
                                                      max_keepalive_connections=connections))
    server._clients.append(c)
    return c


def parallel(fn: Callable[[Any], Any], args: Sequence[Any]) -> list[Any]:
    """fn(arg) for every arg, each on its own thread, all released at once by a barrier; results in order."""
    barrier = threading.Barrier(len(args))

    def run(arg: Any) -> Any:
        barrier.wait()
        return fn(arg)

    with ThreadPoolExecutor(len(args)) as pool:
        return list(pool.map(run, args))
