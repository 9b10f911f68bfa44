"""MongoStore's connection: the client, the collection, the indexes and the store's health.

Everything here is process state shared by all requests on purpose (a
client, a collection, "the indexes were checked a minute ago", "the server
is down"); nothing a request loaded lives here.  It is built lazily, once
per process (a ``--preload`` fork builds its own client), and it is safe
under threads, gevent (monkey-patched after the store was built) and
eventlet because **no lock is ever held across network I/O**: two requests
racing to build the client both build one and the loser closes its own
(creating a ``mongodb+srv://`` client resolves DNS); two requests racing to
create the indexes both send ``createIndexes``, which is idempotent.

Every store call goes through :meth:`MongoConnection.operation`: the
:class:`~flask_sessionstore.stores.breaker.Breaker` fails it at once while
the server is known to be down, ``pymongo.timeout`` (CSOT) bounds it by the
store's ``timeout`` whoever made the client, the driver's connection and
timeout errors become :class:`~flask_sessionstore.StoreUnavailableError`,
and the driver's own frames are cut from the traceback (their local
variables include the credentials, which error trackers would show): the
rules for both are in :mod:`.mongo_errors`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pymongo
from pymongo import IndexModel, ReadPreference
from pymongo.errors import ConfigurationError, PyMongoError
from pymongo.mongo_client import MongoClient as _MongoClient  # (for isinstance)
from pymongo.write_concern import WriteConcern

from .breaker import Breaker
from .mongo_errors import OUTAGES, DriverTimeout, describe, hide_driver_frames
from .mongo_indexes import Indexes
from .mongo_options import HiddenURL

logger = logging.getLogger("flask_sessionstore")

#: pymongo waits for the topology in steps of 0.5 s while it selects a server
#: and does not cut the last step at the deadline (``_select_servers_loop``),
#: so a call can end up to 0.5 s after its ``pymongo.timeout``.  Half of that
#: is kept inside ``timeout``: a call takes from ``timeout - 0.25`` (a hung
#: server) to ``timeout + 0.25`` seconds (one that went away mid-call).
SELECTION_SLACK = 0.25


@dataclass(frozen=True)
class _Bound:
    """The collection of one process, and the client the store made for it."""

    pid: int
    collection: Any
    owned_client: Any


class MongoConnection:
    """Where one store's sessions live, reached lazily and once per process.

    Exactly one of ``client``, ``url`` or ``collection`` is given (checked by
    the store).  ``timeout`` is None to take ``timeoutMS`` from the URL or
    the client, else 5 s.
    """

    def __init__(
        self,
        *,
        client: Any,
        url: HiddenURL | None,
        url_options: Mapping[str, Any],
        collection: Any,
        db_name: str | None,
        collection_name: str,
        write_concern: Any,
        timeout: float | None,
        indexes: list[IndexModel],
    ) -> None:
        self._client = client
        self._url = url
        self._url_options = dict(url_options)
        self._given_collection = collection
        self.db_name = db_name if db_name is not None or url is None else url.database
        self.collection_name = collection_name
        self._write_concern = write_concern
        self.timeout = timeout if timeout is not None else self._configured_timeout()
        self._lock = threading.Lock()  # only ever held to swap a reference
        self._bound: _Bound | None = None
        self._sweep: tuple[float, Callable[[], object]] | None = None
        self._sweeper_stop = threading.Event()
        #: The indexes, created by the first write of each process.
        self.indexes = Indexes(self.name, indexes)
        #: The store's health in this process: fails calls fast while it is down.
        self.breaker = Breaker(self.name)

    def __repr__(self) -> str:
        return f"<MongoConnection {self.name}>"

    @property
    def name(self) -> str:
        """``MongoStore(<db>.<collection>)``, how errors and log lines name the store."""
        target = self._given_collection
        where = getattr(target, "full_name", None)
        if not isinstance(where, str):
            where = f"{self.db_name or 'test'}.{self.collection_name}"
        return f"MongoStore({where})"

    def _configured_timeout(self) -> float:
        """``timeoutMS`` from ``mongo_options``, the URL or the client, else 5 s."""
        given: Any = {k.lower(): v for k, v in self._url_options.items()}.get("timeoutms")
        if given is None and self._url is not None:
            given = self._url.options().get("timeoutms")
        if given is None and isinstance(self._client, _MongoClient):
            seconds = self._client.options.timeout
            given = None if seconds is None else seconds * 1000
        try:
            ms = float(given) if given is not None else 0.0
        except (TypeError, ValueError):
            ms = 0.0  # pymongo reports the bad value when it builds the client
        return ms / 1000 if ms > 0 else 5.0

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments for the client built from the URL.

        The store's defaults (derived from ``timeout``) apply only to options
        that neither the URL nor ``mongo_options`` set, whatever their case.
        """
        ms = int(self.timeout * 1000)
        defaults: dict[str, Any] = {
            "serverSelectionTimeoutMS": ms,
            "connectTimeoutMS": ms,
            "appname": "flask-sessionstore",
            "connect": False,  # no threads or sockets until the first operation
        }
        given = {key.lower() for key in self._url_options}
        if self._url is not None:
            given |= set(self._url.options())
        options = {k: v for k, v in defaults.items() if k.lower() not in given}
        options.update(self._url_options)
        return options

    # -- the collection of this process ------------------------------------------

    def collection(self) -> Any:
        """The collection for this process, built on first use (no lock held while building)."""
        bound, pid = self._bound, os.getpid()
        if bound is not None and bound.pid == pid:
            return bound.collection
        built = self._build(pid)
        with self._lock:
            current = self._bound
            won = current is None or current.pid != pid
            if won:
                self._bound = built
        if not won:
            assert current is not None
            if built.owned_client is not None:
                built.owned_client.close()  # another request was quicker; never used
            return current.collection
        if self._sweep is not None:
            self._start_sweeper(*self._sweep)
        return built.collection

    def _build(self, pid: int) -> _Bound:
        owned = None
        if self._given_collection is not None:
            base = self._given_collection
        else:
            client = self._client
            if client is None:
                assert self._url is not None
                # (the URL stays in an attribute: a local would show in tracebacks)
                client = owned = pymongo.MongoClient(self._url.value, **self.client_options())
            database = (
                client.get_default_database("test")
                if self.db_name is None
                else client[self.db_name]
            )
            base = database[self.collection_name]
        concern = self._write_concern
        if isinstance(concern, Mapping):
            concern = WriteConcern(**concern)
        collection = base.with_options(
            read_preference=ReadPreference.PRIMARY, write_concern=concern
        )
        return _Bound(pid, collection, owned)

    def sweep_every(self, interval: float, job: Callable[[], object]) -> None:
        """Run ``job`` every ``interval`` seconds in a daemon thread of each process."""
        self._sweep = (interval, job)

    def _start_sweeper(self, interval: float, job: Callable[[], object]) -> None:
        self._sweeper_stop = stop = threading.Event()

        def sweep() -> None:
            while not stop.wait(interval):
                try:
                    job()
                except Exception as exc:  # the next round tries again
                    logger.warning("%s: removing expired sessions failed: %s", self.name, exc)

        name = f"{self.name} sweeper"
        threading.Thread(target=sweep, name=name, daemon=True).start()

    def close(self) -> None:
        """Stop the sweeper and close the client the store made in this process."""
        self._sweeper_stop.set()
        with self._lock:
            bound, self._bound = self._bound, None
        if bound is not None and bound.owned_client is not None and bound.pid == os.getpid():
            bound.owned_client.close()

    # -- one store call -----------------------------------------------------------

    def operation(self) -> Operation:
        """The collection, for one store call bounded by ``timeout`` and the breaker.

        ``with connection.operation() as collection: ...``
        """
        return Operation(self)

    def driver_error(self, exc: PyMongoError) -> BaseException | None:
        """What a driver error becomes: a :class:`DriverTimeout` (an outage), or None (itself)."""
        hide_driver_frames(exc)
        if (exc.timeout and not isinstance(exc, OUTAGES)) or (
            isinstance(exc, ConfigurationError) and self._resolves_dns  # (SRV lookup failed)
        ):
            timeout = DriverTimeout(describe(exc))
            timeout.__cause__ = exc
            return timeout
        return None

    @property
    def _resolves_dns(self) -> bool:
        return self._url is not None and self._url.value.startswith("mongodb+srv:")

    def _seconds(self, collection: Any) -> float:
        """The ``pymongo.timeout`` of one call: ``timeout``, less the selection slack.

        While no server is known, a shorter ``serverSelectionTimeoutMS`` of
        the client (from the URL, say) applies instead: under CSOT pymongo
        spends the whole remaining time on server selection, so it would
        otherwise be ignored exactly when it matters.
        """
        budget = self.timeout - min(SELECTION_SLACK, self.timeout / 4)
        client = getattr(getattr(collection, "database", None), "client", None)
        if not isinstance(client, _MongoClient):
            return budget  # (mongomock: no topology, no timeouts)
        selection = client.options.server_selection_timeout
        if selection < budget and not client.topology_description.has_writable_server():
            return float(selection)
        return budget


class Operation:
    """One store call: the breaker, then ``pymongo.timeout``, then the call.

    A class rather than a generator-based context manager: it runs twice on
    every request that uses the session.  A driver error that is really an
    outage (a CSOT timeout, a failed SRV lookup) becomes a
    :class:`DriverTimeout`, which the breaker turns into a
    :class:`~flask_sessionstore.StoreUnavailableError`.
    """

    __slots__ = ("connection", "deadline", "guard")

    def __init__(self, connection: MongoConnection) -> None:
        self.connection = connection
        self.guard = connection.breaker.guard(OUTAGES, describe)
        self.deadline: Any = None

    def __enter__(self) -> Any:
        self.guard.__enter__()  # fails fast while the server is known down
        try:
            collection = self.connection.collection()
            self.deadline = pymongo.timeout(self.connection._seconds(collection))
            self.deadline.__enter__()
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return collection

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: Any
    ) -> None:
        deadline, self.deadline = self.deadline, None
        if deadline is not None:
            deadline.__exit__(kind, exc, trace)
        if isinstance(exc, PyMongoError):
            mapped = self.connection.driver_error(exc)
            if mapped is not None:
                self.guard.__exit__(type(mapped), mapped, None)  # raises: an outage
        self.guard.__exit__(kind, exc, trace)
