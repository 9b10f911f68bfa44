"""``MemoryStore``: a thread-safe in-process store, the default.

Sessions are kept as JSON text (:mod:`.memory_entry`), so every read is a
fresh copy and nothing a view does to a returned dict reaches the store.
Every entry carries a version number that changes with each write; a
request's save compares it with the version it loaded (carried by the
request, see :class:`~flask_sessionstore.stores.base.Loaded`), so concurrent
requests that change different keys both keep their change and a destroyed
session is never written back.  Unlike express-session's MemoryStore,
expired sessions are reclaimed even when nobody reads them again: each store
call first removes the entries that are due (:mod:`.expiry_heap`: amortised
O(log n), no full scans).

The lock is held only for dictionary and heap updates, never while
serializing, so a big session does not stall other requests.  It lives in one
process: under gunicorn with several workers each worker has its own
sessions.  Use :class:`~flask_sessionstore.MongoStore` or
:class:`~flask_sessionstore.RedisStore` in production.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from ..cookie import Duration, to_seconds
from ..records import EMPTY_RECORD, SessionRecord, most_recent_first
from .base import Loaded, Store, StoredSession, Write, stored_expiry
from .checks import DEFAULT_MAX_SIZE, check_max_session_size, positive_duration
from .errors import too_large
from .expiry_heap import ExpiryHeap
from .memory_entry import Entry, decode, dumps, next_version

#: How many due expiry slots one store call processes at most.
RECLAIM_BATCH = 1000


class MemoryStore(Store):
    """In-memory session store (express-session's ``MemoryStore``, without its leak).

    :param ttl: lifetime of sessions whose cookie has no expiry (browser-session
        cookies), renewed by every write and touch; seconds or ``timedelta``.
        express's MemoryStore keeps such sessions forever.
    :param touch_after: when a read-only request refreshes the expiry: None
        (automatic, 1 % of the lifetime), 0 (always) or seconds.
    :param max_session_size: the largest stored session in bytes of JSON
        (default 16 MB, MongoDB's limit); a bigger one fails its save with
        :class:`~flask_sessionstore.SessionTooLargeError`.  None: no limit.
    """

    def __init__(
        self,
        *,
        ttl: Duration = timedelta(days=14),
        touch_after: Duration = None,
        max_session_size: int | None = DEFAULT_MAX_SIZE,
    ) -> None:
        seconds = positive_duration(ttl, "MemoryStore ttl")
        check_max_session_size("MemoryStore", max_session_size)
        self.ttl: float = seconds
        self.touch_after = to_seconds(touch_after, "MemoryStore touch_after")
        self.max_session_size = max_session_size
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._owners: dict[str, set[str]] = {}
        self._heap = ExpiryHeap()

    def __repr__(self) -> str:
        return f"<MemoryStore: {len(self._entries)} session(s)>"

    # -- internals (call with the lock held) --------------------------------

    def _disown(self, sid: str, user: str | None) -> None:
        owned = self._owners.get(user) if user is not None else None
        if owned is not None:
            owned.discard(sid)
            if not owned:
                del self._owners[user]  # type: ignore[arg-type]

    def _remove(self, sid: str) -> None:
        entry = self._entries.pop(sid, None)
        if entry is not None:
            self._disown(sid, entry.record.user)
        self._heap.unschedule(sid)

    def _put(self, sid: str, entry: Entry, now: float) -> None:
        old = self._entries.get(sid)
        if old is not None and old.record.user != entry.record.user:
            self._disown(sid, old.record.user)
        self._entries[sid] = entry
        if entry.record.user is not None:
            self._owners.setdefault(entry.record.user, set()).add(sid)
        self._heap.schedule(sid, entry.expiry)
        self._heap.reclaim(now, RECLAIM_BATCH, self._entries, self._remove)

    def _live(self, sid: str, now: float) -> Entry | None:
        entry = self._entries.get(sid)
        if entry is not None and entry.expiry <= now:
            self._remove(sid)
            return None
        return entry

    def _entry(self, sid: str, session: StoredSession, write: Write | None) -> Entry:
        """A new entry for ``session`` (serialized here, outside the lock)."""
        text = dumps(session)
        limit = self.max_session_size
        # (UTF-8 takes at most 4 bytes a character: only a long text is encoded to check)
        if limit is not None and len(text) * 4 > limit:
            size = len(text.encode("utf-8"))
            if size > limit:
                raise too_large("MemoryStore", sid, session, size, limit)
        now = datetime.now(timezone.utc)
        if write is None:
            expires = stored_expiry(session) or now + timedelta(seconds=self.ttl)
            record = EMPTY_RECORD
        else:
            expires = write.expiry(session, now, self.ttl)
            record = write.final_record(session)
        return Entry(expires.timestamp(), text, next_version(), record, expires)

    def _loaded(self, session: StoredSession, entry: Entry) -> Loaded:
        return Loaded(session, entry.version, entry.record, entry.expires)

    # -- the Store contract --------------------------------------------------

    def get(self, sid: str) -> StoredSession | None:
        """The live session stored under ``sid`` (a fresh copy), or None."""
        loaded = self.load(sid)
        return None if loaded is None else loaded.session

    def set(self, sid: str, session: StoredSession) -> None:
        """Store a JSON copy of ``session`` under ``sid`` (its record, if any, is kept)."""
        entry = self._entry(sid, session, None)
        with self._lock:
            old = self._entries.get(sid)
            if old is not None:
                entry = entry._replace(record=old.record)
            self._put(sid, entry, time.time())

    def touch(self, sid: str, session: StoredSession) -> None:
        """Replace only the stored cookie of a live session; never creates one."""
        cookie = session.get("cookie")
        while True:
            now = time.time()
            with self._lock:
                entry = self._live(sid, now)
            if entry is None:
                return
            stored = decode(entry)
            stored["cookie"] = cookie
            touched = self._entry(sid, stored, None)._replace(record=entry.record)
            with self._lock:
                current = self._live(sid, now)
                if current is None:
                    return
                if current.version == entry.version:
                    self._put(sid, touched, now)
                    return

    def destroy(self, sid: str) -> None:
        """Remove the session stored under ``sid`` (missing is fine)."""
        with self._lock:
            self._remove(sid)

    def all(self) -> dict[str, StoredSession]:
        """Copies of every live session, by ID."""
        now = time.time()
        with self._lock:
            self._heap.reclaim(now, RECLAIM_BATCH, self._entries, self._remove)
            entries = list(self._entries.items())
        return {sid: decode(entry) for sid, entry in entries if entry.expiry > now}

    def length(self) -> int:
        """The number of live sessions."""
        now = time.time()
        with self._lock:
            self._heap.reclaim(now, RECLAIM_BATCH, self._entries, self._remove)
            return sum(1 for entry in self._entries.values() if entry.expiry > now)

    def clear(self) -> None:
        """Remove every session."""
        with self._lock:
            self._entries.clear()
            self._owners.clear()
            self._heap.clear()

    def prune(self) -> int:
        """Remove expired sessions now; return how many were removed."""
        now = time.time()
        with self._lock:
            before = len(self._entries)
            self._heap.reclaim(now, float("inf"), self._entries, self._remove)
            return before - len(self._entries)

    # -- the session's side ------------------------------------------------------

    def load(self, sid: str) -> Loaded | None:
        """The live session with its version, record and expiry (a fresh copy), or None."""
        now = time.time()
        with self._lock:
            self._heap.reclaim(now, RECLAIM_BATCH, self._entries, self._remove)
            entry = self._live(sid, now)
        return None if entry is None else self._loaded(decode(entry), entry)

    def write(self, sid: str, write: Write) -> Loaded | None:
        """Insert a new session, or merge a loaded one's changes (compare-and-set on version)."""
        base = write.base
        if base is None or base.version is None:
            session = write.session
            entry = self._entry(sid, session, write)
            with self._lock:
                self._put(sid, entry, time.time())
            return self._loaded(session, entry)
        current, version = base.session, base.version
        while True:
            session = write.merged_onto(current)
            entry = self._entry(sid, session, write)
            with self._lock:
                now = time.time()
                live = self._live(sid, now)
                if live is None:
                    return None  # destroyed, revoked or expired since it was read
                if live.version == version:
                    self._put(sid, entry, now)
                    return self._loaded(session, entry)
            # another request wrote meanwhile: merge onto its version
            current, version = decode(live), live.version

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        """New expiry, cookie and record for a session unchanged since ``write.base``."""
        base = write.base
        if base is None:
            return None
        session = write.merged_onto(base.session)
        entry = self._entry(sid, session, write)
        now = time.time()
        with self._lock:
            live = self._live(sid, now)
            if live is None or live.version != base.version:
                return None  # gone, or rewritten since (which refreshed it)
            self._put(sid, entry, now)
        return self._loaded(session, entry)

    def revoke(self, sid: str) -> bool:
        """Remove ``sid``; True if it was live."""
        now = time.time()
        with self._lock:
            live = self._live(sid, now) is not None
            self._remove(sid)
        return live

    # -- account control -------------------------------------------------------

    def sessions_of(self, user: str) -> list[SessionRecord]:
        """The live sessions owned by ``user``, most recently seen first."""
        now = time.time()
        with self._lock:
            found = [
                (sid, entry)
                for sid in self._owners.get(user, ())
                if (entry := self._entries[sid]).expiry > now
            ]
        return most_recent_first(
            [SessionRecord.of(sid, entry.record, entry.expires) for sid, entry in found]
        )

    def revoke_user(self, user: str, *, keep: str | None = None) -> int:
        """Remove every live session of ``user`` but ``keep``; return how many."""
        now = time.time()
        with self._lock:
            sids = [sid for sid in self._owners.get(user, ()) if sid != keep]
            live = sum(1 for sid in sids if self._entries[sid].expiry > now)
            for sid in sids:
                self._remove(sid)
        return live

    def records(self, limit: int | None = None) -> Iterator[SessionRecord]:
        """Records of live sessions (for ``flask sessions list``)."""
        now = time.time()
        with self._lock:
            entries = [(sid, e) for sid, e in self._entries.items() if e.expiry > now]
        for sid, entry in entries[:limit]:
            yield SessionRecord.of(sid, entry.record, entry.expires)
