"""Throwaway PostgreSQL clusters for tests (standard library only).

From Python::

    with pg.running_cluster() as cluster:
        cluster.url   # postgresql+psycopg://neira:PW@127.0.0.1:PORT/neira

From a shell::

    python tests/pg.py start        # stdout: URL, then the cluster's DIR
    python tests/pg.py stop DIR     # stops it and removes DIR

A cluster lives in a fresh temp dir (``DIR/data``, ``DIR/sock``, ``DIR/postgres.log``),
listens on 127.0.0.1 at a free port, runs with fsync off, and has one superuser
role ``neira`` (random password, scram on TCP) and a database ``neira``. When we
run as root, the server's files belong to, and its commands run as, the
``postgres`` OS user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

USER = "neira"
DBNAME = "neira"
MARKER = "neira-pg.json"  # marks a dir as ours: `stop` removes nothing else


class PostgresUnavailable(RuntimeError):
    """A throwaway PostgreSQL cluster could not be started."""


@dataclass
class Cluster:
    dir: Path
    port: int
    password: str
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}:{self.password}@127.0.0.1:{self.port}/{DBNAME}"

    def stop(self) -> None:
        stop(self.dir)


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/N/bin with initdb, else initdb on PATH."""
    env = os.environ.get("NEIRA_PG_BINDIR")
    if env:
        return Path(env)
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda b: [int(x) for x in re.findall(r"\d+", b.parent.name)] or [0])
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb) in /usr/lib/postgresql/*/bin or on PATH; "
        "run ./scripts/setup.sh (installs the Debian 'postgresql' package)"
    )


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    if _as_root():
        if shutil.which("runuser"):
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        else:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(_shquote, cmd))]
    return subprocess.run(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw
    )


def _shquote(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def _check(proc: subprocess.CompletedProcess, what: str, log: Path | None = None) -> None:
    if proc.returncode == 0:
        return
    detail = (proc.stderr or "") + (proc.stdout or "")
    if log is not None and log.exists():
        detail += f"\n--- {log} (tail) ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise PostgresUnavailable(f"{what} failed (exit {proc.returncode}):\n{detail.strip()}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _base_tmp() -> str:
    # As root, $TMPDIR may be a dir the postgres user cannot reach; /tmp always is.
    return os.environ.get("NEIRA_PG_TMPDIR") or ("/tmp" if _as_root() else tempfile.gettempdir())


def start(*, attempts: int = 3) -> Cluster:
    """initdb + pg_ctl start a fresh cluster; the caller must stop() it."""
    bindir = find_bindir()
    if _as_root():
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root, but there is no 'postgres' OS user to run the server as "
                "(PostgreSQL refuses root); install the Debian 'postgresql' package or run as non-root"
            ) from None
    d = Path(tempfile.mkdtemp(prefix="neira-pg-", dir=_base_tmp()))
    try:
        password = secrets.token_hex(16)
        (d / MARKER).write_text(json.dumps({"pid": os.getpid(), "bindir": str(bindir)}))
        (d / "sock").mkdir()
        pwfile = d / "pwfile"
        pwfile.write_text(password + "\n")
        if _as_root():
            for p in [d, d / "sock", pwfile]:
                os.chown(p, pw.pw_uid, pw.pw_gid)
        data, log = d / "data", d / "postgres.log"
        proc = _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
             "--no-sync"],
            cwd=d,
        )
        _check(proc, "initdb")
        pwfile.unlink()
        for attempt in range(attempts):
            port = _free_port()
            with open(data / "postgresql.conf", "a") as conf:
                conf.write(
                    "\n# neira tests\n"
                    "listen_addresses = '127.0.0.1'\n"
                    f"port = {port}\n"
                    f"unix_socket_directories = '{d / 'sock'}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 200\n"
                )
            proc = _run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"],
                cwd=d,
            )
            if proc.returncode == 0:
                break
            if attempt == attempts - 1 or "already in use" not in log.read_text(errors="replace"):
                _check(proc, "pg_ctl start", log)
        proc = _run(
            [str(bindir / "createdb"), "-h", str(d / "sock"), "-p", str(port), "-U", USER, DBNAME],
            cwd=d,
        )
        _check(proc, "createdb", log)
        cluster = Cluster(dir=d, port=port, password=password, bindir=bindir)
        (d / "url").write_text(cluster.url + "\n")
        return cluster
    except BaseException:
        stop(d)
        raise


def stop(dir: str | os.PathLike) -> None:
    """Stop the cluster in DIR (if running) and remove DIR. Only touches dirs start() made."""
    d = Path(dir)
    marker = d / MARKER
    if not marker.is_file():
        raise ValueError(f"{d} is not a cluster made by tests/pg.py (no {MARKER}); not touching it")
    bindir = Path(json.loads(marker.read_text())["bindir"])
    data = d / "data"
    if (data / "postmaster.pid").exists():
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], cwd=d)
    for _ in range(50):  # rmtree can race with the postmaster's last writes
        try:
            shutil.rmtree(d)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def temporary_database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty database `name` on the server of `server_url` (a SQLAlchemy URL): its URL; dropped after.

    Needs psycopg and SQLAlchemy (imported here, so the rest of this module stays standard library only).
    """
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    cluster = start()
    try:
        yield cluster
    finally:
        cluster.stop()


def main(argv: list[str]) -> int:
    usage = "usage: pg.py start | pg.py stop DIR"
    if argv[:1] == ["start"] and len(argv) == 1:
        try:
            c = start()
        except PostgresUnavailable as e:
            print(f"pg.py: cannot start PostgreSQL: {e}", file=sys.stderr)
            return 1
        print(c.url)
        print(c.dir)
        print(f"pg.py: started PostgreSQL on 127.0.0.1:{c.port}; stop it with: "
              f"{sys.executable} {__file__} stop {c.dir}", file=sys.stderr)
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        try:
            stop(argv[1])
        except ValueError as e:
            print(f"pg.py: {e}", file=sys.stderr)
            return 2
        return 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
