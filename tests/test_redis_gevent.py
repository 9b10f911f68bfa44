"""RedisStore under gunicorn's gevent workers with ``--preload``: nothing lost, no deadlock.

The app module builds the store, and even uses it, in gunicorn's master
before it forks two gevent workers; concurrent requests of one session then
change different keys through both workers.  Every change must survive and
every request must answer within a bounded time (no greenlet waits on a lock
held across I/O, no socket shared across the fork).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

from flask_sessionstore import RedisStore
from tests.mongo_server import free_port
from tests.processes import die_with_parent
from tests.redis_server import redis_url

__all__ = ["redis_url"]  # the fixture, imported for pytest

APP = textwrap.dedent(
    """
    import os
    from flask import Flask, session
    from flask_sessionstore import RedisStore, SessionStore

    store = RedisStore(url=os.environ["REDIS_URL"], prefix=os.environ["PREFIX"])
    store.length()  # used in the master, before the fork (the --preload worst case)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "keyboard cat"
    SessionStore(app, store=store)

    @app.get("/start")
    def start():
        session["started"] = True
        return "ok"

    @app.get("/hit/<key>")
    def hit(key):
        session[key] = session.get(key, 0) + 1
        return str(os.getpid())
    """
)

WORKERS, THREADS, HITS = 2, 6, 15


def request(port: int, path: str, cookie: str | None = None) -> tuple[int, str, str | None]:
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.read().decode(), response.getheader("Set-Cookie")
    finally:
        connection.close()


def test_gevent_workers_with_preload_lose_nothing(tmp_path: Path, redis_url: str) -> None:
    (tmp_path / "gevent_app.py").write_text(APP, encoding="utf-8")
    port, prefix = free_port(), f"gevent-{uuid.uuid4().hex[:8]}:"
    env = {**os.environ, "REDIS_URL": redis_url, "PREFIX": prefix}
    command = [
        sys.executable, "-m", "gunicorn", "--preload", "-k", "gevent", "-w", str(WORKERS),
        "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path), "--log-level", "warning",
        "gevent_app:app",
    ]  # fmt: skip
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _, set_cookie = request(port, "/start")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "gunicorn did not start within 20 s"
                time.sleep(0.1)
        assert status == 200 and set_cookie is not None
        cookie = set_cookie.split(";")[0]
        answers: list[tuple[int, str]] = []
        sent = dict.fromkeys(range(THREADS), 0)

        def worker(n: int) -> None:
            for _ in range(HITS):
                status, body, _ = request(port, f"/hit/k{n}", cookie)
                answers.append((status, body))
                sent[n] += 1

        # Rounds until both workers have served (one gevent worker can win every
        # accept on a loaded machine); bounded, and every hit is counted.
        started = time.monotonic()
        while True:
            threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            if len({pid for _, pid in answers}) == WORKERS:
                break
            assert time.monotonic() - started < 60, "one worker served every request for 60 s"
        assert {status for status, _ in answers} == {200}
        assert len(answers) == sum(sent.values())

        store = RedisStore(url=redis_url, prefix=prefix)
        (stored,) = store.all().values()
        assert {f"k{n}": stored.get(f"k{n}") for n in range(THREADS)} == {
            f"k{n}": sent[n] for n in range(THREADS)
        }
        store.clear()
        store.close()
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
