"""``Store``: the contract every session store keeps (express-session's ``Store``).

A store maps session IDs to stored sessions.  A stored session is a JSON-ready
dict ``{"cookie": {...express cookie JSON...}, **data}``; stores know nothing of
Flask.  Two layers:

* **The express contract** (api.md section 5): :meth:`~Store.get`,
  :meth:`~Store.set` and :meth:`~Store.destroy` are required;
  :meth:`~Store.touch`, :meth:`~Store.all`, :meth:`~Store.length`,
  :meth:`~Store.clear` and :meth:`~Store.prune` are optional and raise
  :class:`NotImplementedError` when a store cannot provide them.
* **The session's side**, which the request path uses: :meth:`~Store.load`
  returns a :class:`Loaded` (the session, an opaque *version*, its
  :class:`~flask_sessionstore.records.Record` and the store's expiry);
  :meth:`~Store.write` and :meth:`~Store.refresh` take a :class:`Write` that
  carries that :class:`Loaded` back.  What a request loaded therefore travels
  with the request, never in per-thread or per-process memory, which is what
  keeps every guarantee in async views, threads, gevent and ``--preload``.
  The defaults here are built on ``get``/``set``/``touch``/``destroy``, so a
  third-party store that implements only those keeps working (with last
  writer wins, and its record kept inside the stored dict under
  :data:`RECORD_KEY`).  Bundled stores override them with compare-and-set
  writes: disjoint keys never lost, a destroyed session never written back.

Account control (:meth:`~Store.sessions_of`, :meth:`~Store.revoke_user`)
needs an owner index; a store without one raises :class:`NotImplementedError`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from ..cookie import parse_iso
from ..records import (
    EMPTY_RECORD,
    Record,
    SessionRecord,
    owner_of,
    record_from_json,
    record_to_json,
)

#: The stored form of one session: ``{"cookie": {...}, **data}``.
StoredSession = dict[str, Any]

#: Where the default :meth:`Store.write` keeps the record inside a third-party
#: store's session dict (bundled stores keep it outside the session data).
RECORD_KEY = "__record__"


def stored_expiry(session: Mapping[str, Any]) -> datetime | None:
    """The absolute expiry recorded in a stored session's cookie, or None."""
    cookie = session.get("cookie")
    expires = cookie.get("expires") if isinstance(cookie, Mapping) else None
    if isinstance(expires, str):
        return parse_iso(expires)
    if isinstance(expires, datetime):
        return expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)
    return None


class Loaded(NamedTuple):
    """What one load of a session returned, handed back to the store by its save.

    ``version`` is opaque to everyone but the store that made it (a revision
    token, a hash of the raw value...); None means the store cannot
    compare-and-set.  ``expires_at`` is the store's expiry for the session
    when the store knows it.  Immutable (a named tuple: cheap to make).
    """

    session: StoredSession
    version: Any = None
    record: Record = EMPTY_RECORD
    expires_at: datetime | None = None

    @property
    def data(self) -> dict[str, Any]:
        """The stored data without the cookie (JSON-ready form)."""
        return {k: v for k, v in self.session.items() if k != "cookie"}


@dataclass(slots=True)
class Write:
    """One save of a session, as the session layer hands it to :meth:`Store.write`.

    * ``session``: the whole stored form as this request sees it.
    * ``base``: what this request loaded (or last wrote) under this ID, or
      None for a session that is new in this request (an insert).
    * ``changed`` / ``removed``: the data keys this request set or deleted
      relative to ``base``.  A store with a version applies exactly these to
      the copy it holds now, so concurrent requests changing other keys keep
      their change; if the session is gone (destroyed, revoked, expired) it
      writes nothing.
    * ``record``: the record to keep.  Its ``user`` is ignored: the store
      derives the owner from the data it finally writes, with ``user_key``,
      so a merge with another request's login records the right owner.
    * ``expires_cap``: the store's expiry for the session must not be later
      than this (idle and absolute timeouts).

    A write is a value: stores read it and never change it (it is not frozen
    only because a frozen dataclass is slower to make, once per save).
    """

    session: StoredSession
    base: Loaded | None = None
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    record: Record = EMPTY_RECORD
    user_key: str | None = None
    expires_cap: datetime | None = None
    _cookie: Any = field(init=False, repr=False, compare=False)
    _cookie_expires: datetime | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._cookie = self.session.get("cookie")
        self._cookie_expires = stored_expiry(self.session)

    def merged_onto(self, current: Mapping[str, Any]) -> StoredSession:
        """The changes of this write applied to ``current`` (a stored session), with its cookie."""
        merged: StoredSession = {"cookie": self.session.get("cookie")}
        for key, value in current.items():
            if key != "cookie" and key not in self.removed:
                merged[key] = value
        for key in self.changed:
            merged[key] = self.session[key]
        return merged

    def final_record(self, session: Mapping[str, Any]) -> Record:
        """The record to store with ``session``: this write's, owner derived from the data."""
        record = self.record
        return Record(
            owner_of(session, self.user_key),
            record.created_at,
            record.last_seen_at,
            record.ip,
            record.user_agent,
        )

    def expiry(self, session: Mapping[str, Any], now: datetime, ttl: float | None) -> datetime:
        """connect-mongo's ``computeExpires`` (cookie expiry, else now + ttl), capped."""
        cookie = session.get("cookie")
        if cookie is self._cookie:  # this write's own cookie (merges keep it): parsed once
            expires = self._cookie_expires
        else:
            expires = stored_expiry(session)
        if expires is None:
            expires = now + timedelta(seconds=ttl if ttl is not None else 14 * 86400)
        cap = self.expires_cap
        return expires if cap is None or cap >= expires else cap


class Store(abc.ABC):
    """Abstract base class of session stores.

    Subclasses implement :meth:`get`, :meth:`set` and :meth:`destroy`, and
    should implement :meth:`touch` when refreshing expiry can be cheaper than
    a full write.  Methods are called from many threads (or greenlets) at
    once; a store must not hold a lock across network I/O.
    """

    #: When a read-only request refreshes the store's expiry: None is
    #: automatic (when it would move by more than 1 % of the session's
    #: lifetime), 0 on every request (express's default), a positive number
    #: once that many seconds have passed (connect-mongo's ``touchAfter``).
    touch_after: float | None = 0.0
    #: Lifetime (seconds) of sessions whose cookie has no expiry, if the store has one.
    ttl: float | None = None

    # -- the express contract -----------------------------------------------

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

        Stores that expire sessions natively (a TTL index, key expiry) return 0.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot prune sessions")

    def prune_batches(self, batch_size: int = 1000) -> Iterator[int]:
        """Remove expired sessions batch by batch, yielding each batch's count.

        ``flask sessions prune`` uses it to show progress on large stores.
        The default runs :meth:`prune` as one batch.
        """
        yield self.prune()

    @property
    def expires_natively(self) -> bool:
        """Whether the backend removes expired sessions by itself (TTL index, key expiry)."""
        return False

    # -- the session's side: load, write, refresh -----------------------------

    def load(self, sid: str) -> Loaded | None:
        """The live session ``sid`` with its version, record and expiry; None if missing.

        The default calls :meth:`get` (no version: writes are last-writer-wins)
        and takes the record out of :data:`RECORD_KEY`.
        """
        stored = self.get(sid)
        if stored is None:
            return None
        record = record_from_json(stored.pop(RECORD_KEY, None))
        return Loaded(stored, None, record, stored_expiry(stored))

    def write(self, sid: str, write: Write) -> Loaded | None:
        """Store one request's save of ``sid``; return what is stored now.

        Returns None, writing nothing, when ``write.base`` is set and the
        session is gone (a logout or revoke elsewhere wins).  Bundled stores
        compare-and-set on ``write.base.version`` and merge ``changed`` and
        ``removed`` onto a newer copy.  The default writes the whole session
        with :meth:`set`, the record inside it under :data:`RECORD_KEY`.
        """
        record = write.final_record(write.session)
        self.set(sid, {**write.session, RECORD_KEY: record_to_json(record)})
        return Loaded(write.session, None, record, stored_expiry(write.session))

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        """Refresh the expiry, stored cookie and record of a live session; data unchanged.

        ``write.base`` is the load being refreshed; a store with a version
        skips the refresh when the session was rewritten since (that write
        refreshed it) and never recreates a session that is gone.  The
        default calls :meth:`touch` with the record inside the session.
        """
        record = write.final_record(write.session)
        self.touch(sid, {**write.session, RECORD_KEY: record_to_json(record)})
        return Loaded(write.session, None, record, stored_expiry(write.session))

    def revoke(self, sid: str) -> bool:
        """Remove session ``sid`` now; True if it was live.  The default: get, then destroy."""
        live = self.get(sid) is not None
        self.destroy(sid)
        return live

    # -- account control (api.md section 8) -----------------------------------

    def sessions_of(self, user: str) -> list[SessionRecord]:
        """The live sessions whose owner is exactly ``user``, most recently seen first."""
        raise NotImplementedError(
            f"{type(self).__name__} keeps no owner index, so it cannot list a user's sessions"
        )

    def revoke_user(self, user: str, *, keep: str | None = None) -> int:
        """Remove every live session of ``user`` except ``keep``; return how many went."""
        raise NotImplementedError(
            f"{type(self).__name__} keeps no owner index, so it cannot revoke a user's sessions"
        )

    def records(self, limit: int | None = None) -> Iterator[SessionRecord]:
        """Records of live sessions, for ``flask sessions list``; the default reads :meth:`all`."""
        for count, (sid, stored) in enumerate(self.all().items()):
            if limit is not None and count >= limit:
                return
            record = record_from_json(stored.get(RECORD_KEY))
            yield SessionRecord.of(sid, record, stored_expiry(stored))
