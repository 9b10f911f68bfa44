"""How MongoStore tells an outage from an answer, and keeps the credentials out of tracebacks.

* An **outage** (:data:`OUTAGES`) is a driver error that means "the server
  did not answer in time": a connection failure, a server-side or write
  concern timeout, and :class:`DriverTimeout`, which
  :meth:`~.mongo_connection.MongoConnection.operation` raises for the other
  errors pymongo marks as timeouts and for a failed SRV lookup.  The
  breaker opens on those and the request gets
  :class:`~flask_sessionstore.StoreUnavailableError`; any other error is an
  answer ("it said no") and is raised as it is.
* pymongo's frames hold the credentials (``MongoCredential``, the parsed
  URI) in local variables, and error trackers render frame locals, so
  :func:`hide_driver_frames` cuts them from every error that leaves a store
  call, and :func:`describe` keeps a message to one short line.
"""

from __future__ import annotations

from types import TracebackType

from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError

_DRIVER_MODULES = ("pymongo", "bson", "dns", "gridfs")


class DriverTimeout(Exception):
    """The server could not be reached in time, though the driver did not say ConnectionFailure.

    Raised (chained) for a driver error whose ``.timeout`` is True, and for
    a failed DNS lookup while building a ``mongodb+srv://`` client.
    """


#: Driver errors that mean "the server did not answer in time", not "it said no".
OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionFailure,  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError, ...
    ExecutionTimeout,
    WTimeoutError,
    DriverTimeout,
)


def describe(exc: BaseException) -> str:
    """A driver error in one short line (never more than the host; no topology dump)."""
    text = str(exc).split(", Timeout: ")[0].split(", Topology Description: ")[0]
    text = text if len(text) <= 200 else text[:200] + "..."
    return f"{type(exc).__name__}: {text}"


def hide_driver_frames(exc: BaseException) -> None:
    """Cut the driver's frames from ``exc`` and every exception chained to it.

    pymongo's frames hold the credentials (``MongoCredential``, the parsed
    URI) in local variables, and error trackers render frame locals.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        if tb is not None and _in_driver(tb):
            current.__traceback__ = None
        elif tb is not None:
            while tb.tb_next is not None and not _in_driver(tb.tb_next):
                tb = tb.tb_next
            tb.tb_next = None
        pending += [current.__cause__, current.__context__]


def _in_driver(tb: TracebackType) -> bool:
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.partition(".")[0] in _DRIVER_MODULES
