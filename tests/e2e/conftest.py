"""End-to-end fixtures: a real `neira-factory serve` (uvicorn) in a subprocess, on a free loopback port.

`start_server(...)` starts one with the given environment and waits for `/healthz`;
every server started in a test is terminated at its teardown.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from e2e_support import BIN, ROOT, Server, base_env, free_port, token_env, wait_healthy


@pytest.fixture
def start_server(tmp_path_factory):
    """Factory fixture: `start_server(env=, tokens=True, examples=False|True|DIR, database_url=, var_dir=)` -> Server.

    tokens: the test tokens in NEIRA_*_TOKEN (False: none, so the server generates an admin token);
    examples: False `--no-examples`, True the default `./examples` (cwd is the repository root), or a DIR.
    """
    started: list[Server] = []

    def start(*, env: dict[str, str] | None = None, tokens: bool = True, examples: bool | Path = False,
              database_url: str | None = None, var_dir: Path | None = None,
              args: tuple[str, ...] = ()) -> Server:
        var_dir = var_dir or tmp_path_factory.mktemp("var")
        log_dir = tmp_path_factory.mktemp("serverlog")
        extra: dict[str, Any] = {"NEIRA_VAR_DIR": str(var_dir), **(token_env() if tokens else {})}
        if database_url:
            extra["NEIRA_DATABASE_URL"] = database_url
        extra.update(env or {})
        if examples is False:
            example_args = ["--no-examples"]
        elif examples is True:
            example_args = []  # the default: ./examples, relative to cwd (the repository root)
        else:
            example_args = ["--examples", str(examples)]
        port = free_port()
        cmd = [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port), *example_args, *args]
        with open(log_dir / "stdout.txt", "wb") as out, open(log_dir / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=base_env(**extra), stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL)
        server = Server(f"http://127.0.0.1:{port}", var_dir, proc, log_dir)
        started.append(server)
        wait_healthy(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server) -> Server:
    """A server on a fresh SQLite database, no examples, the test tokens."""
    return start_server()

