"""The stores the deployment matrix runs against: one :class:`StoreKind` line each.

A kind says how to start the server the store talks to (in the test
process, once per test module) and how the app builds a store from that
server's URL and a namespace (inside each gunicorn worker, or in the master
with ``--preload``).  Every scenario gets its own namespace, so it starts
from an empty store.

A store joins the matrix with one more line in :data:`STORE_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from flask_sessionstore import MemoryStore, MongoStore, RedisStore, Store

#: The database MongoStore namespaces (collections) live in.
MONGO_DB = "deployment_matrix"


@contextmanager
def secantus() -> Iterator[str]:
    """A SecantusDB server (MongoDB wire protocol) on a free port; yields its URI."""
    from tests.mongo_server import SecantusServer  # imports pytest: test process only

    with SecantusServer() as server:
        yield server.uri


@contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server on a free port (no persistence), stopped by PID; yields its URL."""
    from tests.redis_server import RedisServer  # imports pytest: test process only

    with RedisServer() as server:
        yield server.url


@dataclass(frozen=True)
class StoreKind:
    """One store of the matrix."""

    #: The name in test ids (``...-mongo-async``) and in ``DEPLOY_MATRIX``.
    name: str
    #: One store seen by every worker process.  A store that lives in one
    #: process (MemoryStore) only runs under single-process shapes.
    shared: bool
    #: Starts the store's server and yields its URL; None when there is none.
    server: Callable[[], AbstractContextManager[str]] | None
    #: ``(url, namespace) -> store``: a fresh, empty store for one namespace.
    build: Callable[[str, str], Store]


STORE_KINDS: dict[str, StoreKind] = {
    kind.name: kind
    for kind in (
        StoreKind("memory", shared=False, server=None, build=lambda url, ns: MemoryStore()),
        StoreKind(
            "mongo",
            shared=True,
            server=secantus,
            build=lambda url, ns: MongoStore(
                mongo_url=url, db_name=MONGO_DB, collection_name=ns, timeout=5
            ),
        ),
        StoreKind(
            "redis",
            shared=True,
            server=redis_server,
            build=lambda url, ns: RedisStore(url=url, prefix=f"sess:{ns}:", timeout=5),
        ),
    )
}
