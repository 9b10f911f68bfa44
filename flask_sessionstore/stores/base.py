"""``Store``: the contract every session store keeps (express-session's ``Store``).

A store maps session IDs to stored sessions.  A stored session is a JSON-ready
dict ``{"cookie": {...express cookie JSON...}, **data}``; stores know nothing of
Flask.  ``get``, ``set`` and ``destroy`` are required; the rest are optional and
raise :class:`NotImplementedError` when a store cannot provide them (the
``flask sessions`` commands then say which command the store cannot support).
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

from ..cookie import parse_iso

#: The stored form of one session: ``{"cookie": {...}, **data}``.
StoredSession = dict[str, Any]


def stored_expiry(session: StoredSession) -> datetime | None:
    """The absolute expiry recorded in a stored session's cookie, or None."""
    cookie = session.get("cookie")
    expires = cookie.get("expires") if isinstance(cookie, dict) else None
    if isinstance(expires, str):
        return parse_iso(expires)
    if isinstance(expires, datetime):
        return expires
    return None


class Store(abc.ABC):
    """Abstract base class of session stores.

    Subclasses implement :meth:`get`, :meth:`set` and :meth:`destroy`, and
    should implement :meth:`touch` when refreshing expiry can be cheaper than
    a full write.  Methods are called from many threads at once.
    """

    @abc.abstractmethod
    def get(self, sid: str) -> StoredSession | None:
        """Return the stored session, or None when it is missing or expired.

        The store itself must refuse expired sessions (express-session never
        checks expiry); returning one would bring it back to life.
        """

    @abc.abstractmethod
    def set(self, sid: str, session: StoredSession) -> None:
        """Insert or replace the session stored under ``sid``."""

    @abc.abstractmethod
    def destroy(self, sid: str) -> None:
        """Remove the session stored under ``sid``; a missing one is not an error."""

    def touch(self, sid: str, session: StoredSession) -> None:
        """Refresh the expiry of a live session from ``session["cookie"]``.

        Called for sessions that were read but not changed.  The default
        writes the whole session with :meth:`set`.
        """
        self.set(sid, session)

    def merge(
        self,
        sid: str,
        session: StoredSession,
        changed: Collection[str],
        removed: Collection[str],
    ) -> None:
        """Write one request's changes onto the stored copy of a loaded session.

        Keys in ``changed`` take their values from ``session``, keys in
        ``removed`` are deleted and the cookie is replaced; every other key
        keeps what the store holds now, so two requests of one session that
        change different keys at the same time both keep their change
        (express and Flask-Session lose one of them).  A session that is no
        longer stored (destroyed or expired since this request read it) is
        not written back, so a logout in another tab wins over a concurrent
        change.  The default writes the whole session with :meth:`set`
        (last writer wins, and a destroyed session comes back).
        """
        self.set(sid, session)

    def all(self) -> dict[str, StoredSession]:
        """Every live session, by session ID."""
        raise NotImplementedError(f"{type(self).__name__} cannot list sessions")

    def length(self) -> int:
        """The number of live sessions."""
        raise NotImplementedError(f"{type(self).__name__} cannot count sessions")

    def clear(self) -> None:
        """Remove every session."""
        raise NotImplementedError(f"{type(self).__name__} cannot clear sessions")

    def prune(self) -> int:
        """Remove expired sessions now and return how many were removed.

        Stores that expire sessions natively (a TTL index) return 0.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot prune sessions")

    def prune_batches(self, batch_size: int = 1000) -> Iterator[int]:
        """Remove expired sessions batch by batch, yielding each batch's count.

        ``flask sessions prune`` uses it to show progress on large stores.
        The default runs :meth:`prune` as one batch; a store whose pruning is
        slow can override it to remove about ``batch_size`` sessions per batch.
        """
        yield self.prune()
