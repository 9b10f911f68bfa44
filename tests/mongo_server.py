"""A SecantusDB server in a separate process, for the MongoDB wire-protocol tiers.

SecantusDB (``pip install secantusdb``) is a pure-Python server that speaks
MongoDB's wire protocol, TTL monitor included.  It is GPL-2.0-only, so it is a
test-only dependency: only this helper imports it, and only inside the child
process it starts; the package never does.

* :class:`SecantusServer` starts one server on a free 127.0.0.1 port, waits
  until it answers ``ping``, and stops it by PID; it can be stopped and started
  again on the same port (outage tests).
* ``secantus_uri`` is a session-scoped fixture yielding the ``mongodb://`` URI
  of one shared in-memory server.  Import it into a test module
  (``from tests.mongo_server import secantus_uri``) to use it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest

from tests.processes import die_with_parent

# The child: start the server, stop it cleanly (WiredTiger closed) on SIGTERM.
_CHILD = """
import signal, sys
from secantus.server import SecantusDBServer
server = SecantusDBServer(host="127.0.0.1", port=int(sys.argv[1]), storage_path=sys.argv[2],
                          ttl_sweep_seconds=float(sys.argv[3]), replica_set_name=None)
signal.signal(signal.SIGTERM, lambda *_: server.stop())
server.start()
server.wait()
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SecantusServer:
    """One SecantusDB server process on 127.0.0.1, started and stopped by PID.

    :param storage_path: ``":memory:"`` (data is lost on stop) or a folder
        (data survives a stop and start, like a real server restart).
    :param ttl_sweep_seconds: how often the TTL monitor runs (real mongod: 60).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        storage_path: str = ":memory:",
        ttl_sweep_seconds: float = 1.0,
    ) -> None:
        self.port = port or free_port()
        self.storage_path = storage_path
        self.ttl_sweep_seconds = ttl_sweep_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)

    @property
    def uri(self) -> str:
        """The ``mongodb://`` URI of this server."""
        return f"mongodb://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int | None:
        """The server process's PID while it runs."""
        return None if self.process is None else self.process.pid

    def start(self, timeout: float = 30.0) -> SecantusServer:
        """Start the process and wait (at most ``timeout`` s) until it answers ``ping``."""
        if self.process is not None:
            raise RuntimeError(f"SecantusDB is already running (pid {self.process.pid})")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                str(self.port),
                self.storage_path,
                str(self.ttl_sweep_seconds),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while not self.answers_ping():
            if self.process.poll() is not None:
                self._log.seek(0)
                output = self._log.read().decode("utf-8", "replace")[-2000:]
                self.process = None
                raise RuntimeError(f"SecantusDB exited at start-up:\n{output}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"SecantusDB did not answer ping within {timeout} s")
            time.sleep(0.05)
        return self

    def answers_ping(self) -> bool:
        """True when a fresh client gets an answer to ``ping`` within half a second."""
        import pymongo

        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500
        )
        try:
            client.admin.command("ping")
            return True
        except pymongo.errors.PyMongoError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the process by its PID: SIGTERM (clean), then SIGKILL after 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def kill(self) -> None:
        """Kill the process by its PID at once (an abrupt crash; data in memory is lost)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> SecantusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill() if self.storage_path == ":memory:" else self.stop()


@pytest.fixture(scope="session")
def secantus_uri() -> Iterator[str]:
    """The URI of one SecantusDB server (in memory, 1 s TTL sweep) shared by the session."""
    with SecantusServer() as server:
        yield server.uri
