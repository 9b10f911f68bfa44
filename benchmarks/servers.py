"""Background servers for the benchmarks: SecantusDB, redis-server and gunicorn.

All listen on 127.0.0.1 only, on a free port, are started with ``Popen``
and stopped by their PID (terminate, then kill) with bounded waits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from .codebase import env_for

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(__file__).resolve().parent / ".work"

_SECANTUS = (
    "from secantus.server import SecantusDBServer as S; "
    "s = S(host='127.0.0.1', port={port}, storage_path=':memory:', "
    "ttl_sweep_seconds={sweep}, replica_set_name=None); s.start(); s.wait()"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


def stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop one process we started, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


@contextlib.contextmanager
def secantus(ttl_sweep_seconds: float = 1.0) -> Iterator[str]:
    """A SecantusDB server in its own process; yields its ``mongodb://`` URI."""
    WORK.mkdir(exist_ok=True)
    port = free_port()
    log = (WORK / "secantus.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", _SECANTUS.format(port=port, sweep=ttl_sweep_seconds)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=WORK,
    )
    try:
        wait_for_port(port, proc, 30)
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    finally:
        stop(proc)
        log.close()


def redis_binary() -> str | None:
    """Debian's redis-server, if installed (``make test`` and ``make redis`` install it)."""
    found = shutil.which("redis-server")
    if found:
        return found
    return "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server (no persistence) in its own process; yields its ``redis://`` URL."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed (make redis installs Debian's)")
    WORK.mkdir(exist_ok=True)
    port = free_port()
    log = (WORK / "redis.log").open("ab")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=WORK,
    )
    try:
        wait_for_port(port, proc, 15)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)
        log.close()


@contextlib.contextmanager
def gunicorn(
    env: Mapping[str, str], threads: int = 4, worker: str = "gthread", code: str = "after"
) -> Iterator[str]:
    """gunicorn (1 worker) serving ``benchmarks.apps:create_app()`` on ``code``; yields its URL.

    ``worker`` is ``gthread`` (``threads`` threads) or ``gevent`` (a greenlet
    per connection).
    """
    WORK.mkdir(exist_ok=True)
    port = free_port()
    log = (WORK / "gunicorn.log").open("ab")
    workers = ["-k", worker] + (["--threads", str(threads)] if worker == "gthread" else [])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            *workers,
            "--log-level",
            "warning",
            "benchmarks.apps:create_app()",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=env_for(code, env),
    )
    try:
        wait_for_port(port, proc, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()
