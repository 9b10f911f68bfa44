"""A real ``redis-server`` in a separate process, for the RedisStore tiers.

* :class:`RedisServer` starts ``redis-server --port N --bind 127.0.0.1 --save ''
  --appendonly no`` on a free port, waits until it answers ``PING``, and stops
  it by PID; it can be killed (SIGKILL), paused (SIGSTOP) and resumed
  (SIGCONT), and started again on the same port (outage tests).
* ``redis_url`` is a session-scoped fixture yielding the URL of one shared
  server; tests keep apart with their own key prefix (``unique_prefix``).
  Import both into a test module to use them.

``make test`` installs Debian's ``redis-server`` when it is missing; without it
these tests fail (never skip) and say so.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.mongo_server import free_port
from tests.processes import die_with_parent


def redis_server_binary() -> str:
    """The ``redis-server`` binary; a test failure with the fix when it is missing."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if binary is None:
        pytest.fail(
            "The RedisStore tests need redis-server, which is not installed. "
            "Run `make test` (it installs Debian's redis-server), or "
            "`apt-get install redis-server`.",
            pytrace=False,
        )
    return binary


class RedisServer:
    """One redis-server process on 127.0.0.1, started and stopped by PID."""

    def __init__(self, port: int | None = None, *extra: str, config: str | None = None) -> None:
        self.port = port or free_port()
        self.extra = extra
        self.config = config  # a config file (a sentinel's), which must come first
        self.process: subprocess.Popen[bytes] | None = None
        self.dir = tempfile.mkdtemp(prefix="redis-test-")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)

    @property
    def url(self) -> str:
        """The ``redis://`` URL of database 0 of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The server process's PID while it runs."""
        return None if self.process is None else self.process.pid

    def start(self, timeout: float = 15.0) -> RedisServer:
        """Start the process and wait (at most ``timeout`` s) until it answers ``PING``."""
        if self.process is not None:
            raise RuntimeError(f"redis-server is already running (pid {self.process.pid})")
        command = [
            redis_server_binary(),
            *([self.config] if self.config else []),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", self.dir,
            *self.extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
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
                raise RuntimeError(f"redis-server exited at start-up:\n{output}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not answer PING within {timeout} s")
            time.sleep(0.02)
        return self

    def answers_ping(self) -> bool:
        """True when a plain socket gets ``+PONG`` (or ``-NOAUTH``) within half a second."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL by PID (an abrupt crash: the data, in memory only, is lost)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # a paused process dies too
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM by PID (clean), then SIGKILL after 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGCONT)
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: the server hangs (connections are accepted by the kernel, never answered)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of one redis-server shared by the test session."""
    with RedisServer() as server:
        yield server.url


@pytest.fixture
def unique_prefix() -> str:
    """A key prefix no other test uses, so tests on the shared server stay apart."""
    return f"t{uuid.uuid4().hex[:12]}:"


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    for _ in range(100):
        port = free_port()
        if port + 10000 < 65536:
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class RedisClusterServers:
    """Three masters (``--cluster-enabled yes``) joined by ``redis-cli --cluster create``.

    Forming the cluster takes about 5 s (redis-cli waits for the nodes to agree).
    """

    def __init__(self) -> None:
        self.nodes = [
            RedisServer(free_cluster_port(), "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
            for _ in range(3)
        ]  # fmt: skip

    @property
    def port(self) -> int:
        """A port of one node (a cluster client discovers the others)."""
        return self.nodes[0].port

    def start(self, timeout: float = 30.0) -> RedisClusterServers:
        for node in self.nodes:
            node.start()
        cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        created = subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if created.returncode != 0:
            self.kill()
            raise RuntimeError(
                f"redis-cli --cluster create failed:\n{created.stdout}{created.stderr}"
            )
        deadline = time.monotonic() + timeout
        while not all(self._state_ok(node.port) for node in self.nodes):
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the cluster was not ok within {timeout} s")
            time.sleep(0.1)
        return self

    @staticmethod
    def _state_ok(port: int) -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"CLUSTER INFO\r\n")
            return b"cluster_state:ok" in sock.recv(4096)

    def kill(self) -> None:
        """SIGKILL every node by PID."""
        for node in self.nodes:
            node.kill()
            shutil.rmtree(node.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServers]:
    """Three cluster masters on 127.0.0.1, shared by the test session (about 5 s to form)."""
    cluster = RedisClusterServers().start()
    yield cluster
    cluster.kill()


class RedisSentinel:
    """One ``redis-server --sentinel`` watching a master as ``mymaster`` (quorum 1)."""

    def __init__(self, master: RedisServer) -> None:
        self.master = master
        self.dir = tempfile.mkdtemp(prefix="redis-sentinel-")
        self.config = os.path.join(self.dir, "sentinel.conf")
        self.server = RedisServer(free_port(), "--sentinel", config=self.config)
        with open(self.config, "w", encoding="utf-8") as config:
            config.write(
                f"sentinel monitor mymaster 127.0.0.1 {master.port} 1\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
            )

    @property
    def port(self) -> int:
        """The sentinel's port."""
        return self.server.port

    def __enter__(self) -> RedisSentinel:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
