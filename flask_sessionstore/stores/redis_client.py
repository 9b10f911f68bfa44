"""How a :class:`~flask_sessionstore.RedisStore` reaches Redis: client, breaker, scripts.

* The client is the one the application passed, or one built from ``url``
  lazily in each process (redis-py connects on the first command, so
  construction never blocks, and a ``--preload`` fork never shares a
  socket), with ``timeout`` as its socket and connect timeouts and no
  retries: a request waits about ``timeout`` for a down or hung Redis.
* Every call runs under a :class:`~flask_sessionstore.stores.breaker.Breaker`:
  while Redis is known to be down, calls fail at once with
  :class:`~flask_sessionstore.StoreUnavailableError`.  An outage error is
  raised afresh, the driver's own stripped of its frames: redis-py keeps
  the ``AUTH`` arguments in a local variable, and error trackers render
  every frame's locals.
* The Lua scripts (:mod:`~flask_sessionstore.stores.redis_scripts`) run by
  ``EVALSHA``, loaded on the first ``NOSCRIPT``.

The only lock guards building the per-process client (no I/O under it).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from .breaker import Breaker
from .redis_scripts import LOAD, OWNER, RECORD, REFRESH, REVOKE, TOUCH, WRITE

logger = logging.getLogger("flask_sessionstore")

#: One script call of a batch: (script name, KEYS, ARGV).
Call = tuple[str, list[str], list[Any]]

_SCRIPTS = {
    "load": LOAD,
    "record": RECORD,
    "write": WRITE,
    "refresh": REFRESH,
    "touch": TOUCH,
    "revoke": REVOKE,
    "owner": OWNER,
}
_SECRET_IN_URL = re.compile(r"(\w+://)[^@/\s]*@")


class HiddenURL:
    """A connection URL that never shows its password (repr, str, frame locals)."""

    def __init__(self, url: str) -> None:
        self.value = url
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "localhost", parts.port or 6379
        except ValueError:  # a port that is not a number
            self.valid, self.shown = False, "<a URL that does not parse>"
            return
        #: Whether it is a ``redis://`` or ``rediss://`` URL.
        self.valid = parts.scheme in ("redis", "rediss")
        self.shown = f"{parts.scheme}://{host}:{port}{parts.path or '/0'}"

    def __repr__(self) -> str:
        return self.shown


class RedisConnection:
    """The client (given, or this process's own from ``url``), its breaker and the scripts."""

    def __init__(self, redis: Any, client: Any, url: Any, timeout: float) -> None:
        if (client is None) == (url is None):
            given = "both client and url" if client is not None else "neither"
            raise ValueError(
                "RedisStore needs exactly one of client (a redis.Redis) or url "
                f"(a redis:// or rediss:// URL); got {given}"
            )
        if url is not None and (not isinstance(url, HiddenURL) or not url.valid):
            shown = repr(url) if isinstance(url, HiddenURL) else type(url).__name__
            raise ValueError(f"RedisStore url must be a redis:// or rediss:// URL, not {shown}")
        if client is not None:
            check_client(client, redis)
        self.redis = redis
        self.timeout = timeout
        self.given = client
        self.url: HiddenURL | None = url
        #: A ``redis.RedisCluster``: owner sets live in other hash slots.
        self.cluster = client is not None and isinstance(client, redis.RedisCluster)
        self._lock = threading.Lock()
        self._owned: Any = None
        self._pid: int | None = None
        self._loaded: set[str] = set()
        self.scripts = {
            name: redis.commands.core.Script(None, source.encode("ascii"))
            for name, source in _SCRIPTS.items()
        }
        errors = redis.exceptions
        self.outages: tuple[type[BaseException], ...] = (
            errors.ConnectionError,  # refused, reset, AUTH failed, Sentinel found no master
            errors.TimeoutError,
            errors.ClusterError,  # ClusterDownError, ...
        )
        self.breaker = Breaker(self.name)
        if client is not None and unbounded(client):
            logger.warning(
                "%s: the client has no socket_timeout, so a hung Redis can hold a request "
                "indefinitely; create it with socket_timeout and socket_connect_timeout",
                self.name,
            )

    @property
    def name(self) -> str:
        """``RedisStore(redis://host:port/db)`` (never a password): how errors name it."""
        if self.url is not None:
            return f"RedisStore({self.url!r})"
        pool = getattr(self.given, "connection_pool", None)
        service = getattr(pool, "service_name", None)
        if isinstance(service, str):
            return f"RedisStore(sentinel master {service})"
        kwargs = getattr(pool, "connection_kwargs", {})
        if "host" in kwargs:
            where = f"{kwargs['host']}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
            return f"RedisStore(redis://{where})"
        return f"RedisStore({type(self.given).__name__})"

    def client(self) -> Any:
        """The redis-py client: the one given, or this process's own from ``url``."""
        if self.given is not None:
            return self.given
        pid = os.getpid()
        if self._owned is None or self._pid != pid:
            with self._lock:  # no I/O here: redis-py connects on the first command
                if self._owned is None or self._pid != pid:
                    assert self.url is not None
                    redis = self.redis
                    self._owned = redis.Redis.from_url(
                        self.url.value,
                        socket_timeout=self.timeout,
                        socket_connect_timeout=self.timeout,
                        retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
                        client_name="flask-sessionstore",
                    )
                    self._pid, self._loaded = pid, set()
        return self._owned

    def close(self) -> None:
        """Close the client built from ``url`` (a client the application passed stays open)."""
        with self._lock:
            if self._owned is not None and self._pid == os.getpid():
                self._owned.close()
            self._owned = self._pid = None

    @contextmanager
    def op(self) -> Iterator[Any]:
        """The client, under the breaker; an outage re-raised without redis-py's frames."""
        failure: BaseException | None = None
        with self.breaker.guard(self.outages, describe):
            try:
                yield self.client()
            except self.outages as exc:
                # the with statement chains the driver's error anyway: strip it
                failure = type(exc)(describe(exc))
                exc.__traceback__ = exc.__context__ = exc.__cause__ = None
            if failure is not None:
                raise failure from None

    def run(self, client: Any, name: str, keys: list[str], args: list[Any]) -> Any:
        """One script call: ``EVALSHA`` (a ``SCRIPT LOAD`` first after a ``NOSCRIPT``)."""
        return self.scripts[name](keys, args, client=client)

    def batch(self, client: Any, calls: list[Call]) -> list[Any]:
        """Script calls in one pipeline (listings, ``revoke_user``); one by one on Cluster."""
        if not calls:
            return []
        if self.cluster:  # cluster pipelines refuse EVALSHA
            return [self.run(client, name, keys, args) for name, keys, args in calls]
        for attempt in (1, 2):
            for name in {name for name, _, _ in calls} - self._loaded:
                client.script_load(self.scripts[name].script)
                self._loaded.add(name)
            pipe = client.pipeline(transaction=False)
            for name, keys, args in calls:
                pipe.evalsha(self.scripts[name].sha, len(keys), *keys, *args)
            try:
                return list(pipe.execute())
            except self.redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                self._loaded.clear()  # the server restarted or flushed its scripts
        raise AssertionError("unreachable")

    @staticmethod
    def scan(client: Any, pattern: str, count: int) -> Iterator[list[Any]]:
        """``SCAN MATCH pattern COUNT count`` (every primary on Cluster), in batches."""
        batch: list[Any] = []
        for key in client.scan_iter(match=pattern, count=count):
            batch.append(key)
            if len(batch) >= count:
                yield batch
                batch = []
        if batch:
            yield batch


def check_client(client: Any, redis: Any) -> None:
    """Refuse what cannot serve a synchronous session layer."""
    import redis.asyncio

    if isinstance(client, (redis.asyncio.Redis, redis.asyncio.RedisCluster)):
        raise TypeError(
            "RedisStore needs a synchronous client (redis.Redis or redis.RedisCluster); "
            f"{type(client).__module__}.{type(client).__name__} is a redis.asyncio client, "
            "whose calls return coroutines. Flask loads and saves even an async view's "
            "session synchronously: pass redis.Redis(...) instead"
        )
    if not callable(getattr(client, "evalsha", None)) or not callable(
        getattr(client, "pipeline", None)
    ):
        raise TypeError(f"RedisStore client must be a redis.Redis, not {client!r}")


def unbounded(client: Any) -> bool:
    """Whether a client's socket reads may wait forever (``socket_timeout=None``)."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    return isinstance(kwargs, dict) and kwargs.get("socket_timeout", 0) is None


def describe(exc: BaseException) -> str:
    """A driver error in one line, any ``user:password@`` removed."""
    text = _SECRET_IN_URL.sub(r"\1***@", str(exc)) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."
