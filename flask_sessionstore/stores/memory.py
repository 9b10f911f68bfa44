"""``MemoryStore``: a thread-safe in-process store, the default.

Sessions are kept as JSON text, so every read is a fresh copy and nothing a
view does to a returned dict reaches the store.  Unlike express-session's
MemoryStore, expired sessions are reclaimed even when nobody reads them again:
every live entry has one slot in an expiry heap, and each store call first
removes the entries that are due (amortised O(log n), no full scans).

It lives in one process: under gunicorn with several workers each worker has
its own sessions.  Use :class:`~flask_sessionstore.MongoStore` in production.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from ..cookie import Duration, to_seconds
from .base import Store, StoredSession, stored_expiry

#: How many due expiry slots one store call processes at most.
RECLAIM_BATCH = 1000
_READS_REMEMBERED = 64

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def _data_text(session: StoredSession) -> str:
    """The session's data as JSON object members, without the braces and the cookie."""
    return _dumps({k: v for k, v in session.items() if k != "cookie"})[1:-1]


class MemoryStore(Store):
    """In-memory session store (express-session's ``MemoryStore``, without its leak).

    :param ttl: lifetime of sessions whose cookie has no expiry (browser-session
        cookies), renewed by every write and touch; seconds or ``timedelta``.
        express's MemoryStore keeps such sessions forever.
    """

    def __init__(self, *, ttl: Duration = timedelta(days=14)) -> None:
        seconds = to_seconds(ttl, "MemoryStore ttl")
        if not seconds:
            raise ValueError(f"MemoryStore ttl must be a positive duration, not {ttl!r}")
        self.ttl = seconds
        self._lock = threading.Lock()
        # sid -> (expiry as a POSIX timestamp, cookie JSON, data JSON without braces)
        self._entries: dict[str, tuple[float, str, str]] = {}
        # (due, sid); each sid has exactly one entry, at or before its expiry
        self._heap: list[tuple[float, str]] = []
        self._scheduled: dict[str, float] = {}
        # per thread: sid -> the data text get() returned (see merge)
        self._reads = threading.local()

    # -- internals (call with the lock held) --------------------------------

    def _expiry(self, session: StoredSession, now: float) -> float:
        expires = stored_expiry(session)
        return now + self.ttl if expires is None else expires.timestamp()

    def _schedule(self, sid: str, due: float) -> None:
        current = self._scheduled.get(sid)
        if current is not None and current <= due:
            return  # the earlier slot will find the later expiry and move on
        self._scheduled[sid] = due
        heapq.heappush(self._heap, (due, sid))

    def _reclaim(self, now: float, limit: float | None = None) -> None:
        # At most ``limit`` slots per call, so a mass expiry never stalls one
        # request; expired entries left for later are already invisible.
        heap = self._heap
        if limit is None:
            limit = RECLAIM_BATCH
        while heap and heap[0][0] <= now and limit > 0:
            limit -= 1
            due, sid = heapq.heappop(heap)
            if self._scheduled.get(sid) != due:
                continue  # superseded by an earlier slot
            entry = self._entries.get(sid)
            if entry is None:
                del self._scheduled[sid]
            elif entry[0] <= now:
                del self._entries[sid]
                del self._scheduled[sid]
            else:
                self._scheduled[sid] = entry[0]
                heapq.heappush(heap, (entry[0], sid))

    def _put(self, sid: str, session: StoredSession, cookie: str, data: str, now: float) -> None:
        expiry = self._expiry(session, now)
        self._entries[sid] = (expiry, cookie, data)
        self._schedule(sid, expiry)
        self._reclaim(now)

    def _live(self, sid: str, now: float) -> tuple[float, str, str] | None:
        entry = self._entries.get(sid)
        if entry is not None and entry[0] <= now:
            del self._entries[sid]
            return None
        return entry

    @staticmethod
    def _decode(entry: tuple[float, str, str]) -> StoredSession:
        _, cookie, data = entry
        text = '{"cookie":' + cookie + ("," + data if data else "") + "}"
        result: StoredSession = json.loads(text)
        return result

    # -- the Store contract --------------------------------------------------

    def get(self, sid: str) -> StoredSession | None:
        """The live session stored under ``sid`` (a fresh copy), or None."""
        now = time.time()
        with self._lock:
            self._reclaim(now)
            entry = self._live(sid, now)
        if entry is None:
            return None
        # remember what this thread read, so merge() can tell whether anyone wrote since
        reads = self._reads.__dict__
        if len(reads) >= _READS_REMEMBERED:
            reads.clear()
        reads[sid] = entry[2]
        return self._decode(entry)

    def set(self, sid: str, session: StoredSession) -> None:
        """Store a JSON copy of ``session`` under ``sid``."""
        cookie = _dumps(session.get("cookie"))
        data = _data_text(session)
        now = time.time()
        with self._lock:
            self._put(sid, session, cookie, data, now)

    def merge(
        self,
        sid: str,
        session: StoredSession,
        changed: Collection[str],
        removed: Collection[str],
    ) -> None:
        """Apply one request's changed and removed keys atomically (see :meth:`Store.merge`)."""
        updates = {key: session[key] for key in changed}
        now = time.time()
        read = self._reads.__dict__.pop(sid, None)
        cookie = _dumps(session.get("cookie"))
        text = _data_text(session) if read is not None else ""
        with self._lock:
            entry = self._live(sid, now)
            if entry is not None and entry[2] is read:
                # nobody wrote since this thread read it: the merge is the session itself
                self._put(sid, session, cookie, text, now)
                return
        if entry is None:
            return  # destroyed or expired since it was read: a logout elsewhere wins
        while True:
            data: dict[str, Any] = json.loads("{" + entry[2] + "}")
            for key in removed:
                data.pop(key, None)
            data.update(updates)
            text = _dumps(data)[1:-1]
            with self._lock:
                current = self._live(sid, now)
                if current is None:
                    return  # destroyed meanwhile: do not bring it back
                if current[2] == entry[2]:
                    self._put(sid, session, cookie, text, now)
                    return
                entry = current  # another request wrote meanwhile: merge onto that

    def touch(self, sid: str, session: StoredSession) -> None:
        """Replace only the stored cookie of a live session; never creates one."""
        cookie = _dumps(session.get("cookie"))
        now = time.time()
        with self._lock:
            entry = self._live(sid, now)
            if entry is not None:
                self._put(sid, session, cookie, entry[2], now)

    def destroy(self, sid: str) -> None:
        """Remove the session stored under ``sid`` (missing is fine)."""
        with self._lock:
            self._entries.pop(sid, None)

    def all(self) -> dict[str, StoredSession]:
        """Copies of every live session, by ID."""
        now = time.time()
        with self._lock:
            self._reclaim(now)
            entries = list(self._entries.items())
        return {sid: self._decode(entry) for sid, entry in entries if entry[0] > now}

    def length(self) -> int:
        """The number of live sessions."""
        now = time.time()
        with self._lock:
            self._reclaim(now)
            return sum(1 for entry in self._entries.values() if entry[0] > now)

    def clear(self) -> None:
        """Remove every session."""
        with self._lock:
            self._entries.clear()
            self._heap.clear()
            self._scheduled.clear()

    def prune(self) -> int:
        """Remove expired sessions now; return how many were removed."""
        now = time.time()
        with self._lock:
            before = len(self._entries)
            self._reclaim(now, limit=float("inf"))
            return before - len(self._entries)
