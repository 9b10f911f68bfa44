"""gunicorn in one worker shape, on a free 127.0.0.1 port, stopped by PID.

The server is started in a new session (``start_new_session=True``), so its
master and every worker form one process group whose ID is the master's
PID; :meth:`Gunicorn.stop` signals that group (SIGTERM, then SIGKILL), so a
worker stuck on a lock, or one the master lost track of, never outlives the
test.  Should the test process itself be killed, :mod:`.gunicorn_conf`
makes the kernel kill the master, and the master's death its workers.

Each run's output goes to its own log file, whose end failure messages
quote (tracebacks, stack dumps of stuck workers).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.mongo_server import free_port

from .app import ENV, STACK_DUMP_SIGNAL

ROOT = Path(__file__).resolve().parents[2]
#: How long a server may take to answer its first request (seconds).
START_TIMEOUT = 30.0
#: How long SIGTERM may take before the process group is killed (seconds).
STOP_GRACE = 3


@dataclass(frozen=True)
class Shape:
    """How gunicorn serves the app: worker class, processes, threads, preload."""

    name: str
    worker_class: str
    workers: int = 1
    threads: int = 1
    preload: bool = False

    @property
    def concurrent(self) -> bool:
        """Whether a second request is served while one is in flight."""
        return self.worker_class == "gevent" or self.workers * self.threads > 1

    def arguments(self) -> list[str]:
        """gunicorn's command-line options for this shape."""
        args = ["-k", self.worker_class, "-w", str(self.workers)]
        if self.worker_class == "gthread":
            args += ["--threads", str(self.threads)]
        if self.preload:
            args.append("--preload")
        return args


SHAPES = (
    Shape("sync", "sync"),
    Shape("gthread4", "gthread", threads=4),
    Shape("gevent", "gevent"),
    Shape("gevent-preload", "gevent", preload=True),
    Shape("sync-w3", "sync", workers=3),
)


class Gunicorn:
    """One gunicorn server process group serving ``tests.deploy.app:create_app()``.

    :param store: a :data:`~tests.deploy.stores.STORE_KINDS` name.
    :param url: the URL of that store's server ("" when it has none).
    """

    def __init__(self, shape: Shape, store: str, url: str) -> None:
        self.shape = shape
        self.store = store
        self.url = url
        self.port = 0
        self.run = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="deploy-matrix-")
        self.signals_folder = Path(self._folder.name) / "signals"
        self.signals_folder.mkdir()
        self.log_path = Path(self._folder.name) / "gunicorn.log"  # one per run, see start

    def start(self) -> Gunicorn:
        """Start a fresh run (new port, new namespaces) and wait until it answers."""
        if self.process is not None:
            raise RuntimeError(f"gunicorn is already running (pid {self.process.pid})")
        self.port = free_port()
        self.run = "r" + uuid.uuid4().hex[:10]
        self.log_path = Path(self._folder.name) / f"gunicorn-{self.run}.log"
        config = {
            "store": self.store,
            "url": self.url,
            "run": self.run,
            "signals": str(self.signals_folder),
        }
        with self.log_path.open("ab") as log:
            log.write(f"--- run {self.run}: {self.shape} on port {self.port}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "python:tests.deploy.gunicorn_conf",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    *self.shape.arguments(),
                    # a worker stuck longer than this is killed and logged (WORKER TIMEOUT)
                    "--timeout",
                    "10",
                    "--graceful-timeout",
                    str(STOP_GRACE),
                    "--log-level",
                    "warning",
                    "tests.deploy.app:create_app()",
                ],
                cwd=ROOT,
                env={**os.environ, ENV: json.dumps(config)},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.answers():
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                raise RuntimeError(f"gunicorn exited at start-up ({code}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"gunicorn did not answer within {START_TIMEOUT} s:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        return self

    def answers(self, timeout: float = 1.0) -> bool:
        """True when ``GET /`` is answered with 200 within ``timeout`` seconds."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", "/")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the whole process group by the master's PID: SIGTERM, then SIGKILL.

        ``graceful=False`` kills at once (a stuck worker would only make
        SIGTERM wait for the graceful timeout).
        """
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if graceful:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=STOP_GRACE + 2)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        # whether the master stopped or not, no process of its group may be left
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def restart(self) -> None:
        """Kill this run and start a fresh one (after a worker stopped answering)."""
        self.stop(graceful=False)
        self.start()

    def close(self) -> None:
        """Stop the server and remove its folder (log and signal files)."""
        self.stop()
        self._folder.cleanup()

    def workers(self) -> list[int]:
        """The PIDs of the worker processes (every other member of the process group)."""
        if self.process is None:
            return []
        master, found = self.process.pid, []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == master:
                continue
            try:
                # /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == master:
                found.append(int(entry.name))
        return found

    def dump_stacks(self) -> str:
        """Make every worker write its threads' stacks to the log; return the log's end."""
        for pid in self.workers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, STACK_DUMP_SIGNAL)
        time.sleep(0.3)
        return self.log_tail(4000)

    def log_tail(self, characters: int = 3000) -> str:
        """The end of this server's log (gunicorn's and the app's output)."""
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return "(no log)"
        return text[-characters:]
