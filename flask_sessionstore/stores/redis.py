"""``RedisStore``: sessions in Redis, value-compatible with connect-redis 9/10.

An Express app (express-session + connect-redis) and a Flask app share one
Redis, one cookie and one login.  connect-redis's rules, from its
``node_modules/connect-redis/dist/connect-redis.cjs`` (9.0.0; 10.0.0 has the
same store code), and how this store keeps them:

* **Key** ``prefix + sid`` (lines 28, 38, 56, 66), default prefix ``"sess:"``
  (line 19).
* **Value** ``JSON.stringify(sess)`` (lines 21, 42): no spaces, non-ASCII
  kept, key order kept.  Here: ``json`` with ``separators=(",", ":")``,
  ``ensure_ascii=False``; a Python float is written as Python writes it,
  which JavaScript reads back as the same number.
* **TTL** (``getTTL``, lines 123-135): the cookie's ``expires`` minus now, in
  whole seconds rounded up, else ``ttl`` (default 86400, line 22).
  ``set`` writes ``SET key value EX ttl`` (lines 41-47), or without expiry
  when ``disableTTL``; a TTL that is not positive **deletes** the session
  instead (line 50).  Here the same number of seconds, counted from the
  app's clock, becomes an absolute expiry (``SET ... PXAT``), capped by the
  idle and absolute timeouts (never later than the cap).
* **touch** is ``EXPIRE key ttl`` only (line 59): the value, and so its
  ``cookie.expires``, is not rewritten and goes stale; ``disableTouch`` and
  ``disableTTL`` turn it off (line 57).  A session is therefore judged live
  by its key's expiry, never by that field; a load hands back
  ``cookie.expires`` set to the key's expiry when a touch has moved it on.
* **destroy** ``DEL key`` (line 68); **clear**, **length**, **ids** and
  **all** walk ``SCAN MATCH prefix* COUNT scanCount`` (lines 136-162,
  default ``scanCount`` 100), never ``KEYS``; ``all`` reads with ``MGET``.

What this store adds (records, owners, compare-and-set) lives in keys
outside ``prefix`` (:mod:`~flask_sessionstore.stores.redis_format`) and in Lua
scripts (:mod:`~flask_sessionstore.stores.redis_scripts`): a returning
reader costs one command (``EVALSHA`` of the load script: value, expiry and
record), a writer two (load, then a compare-and-set write that also updates
the record and the owner's set).  The version is the SHA-1 of the raw value,
so a concurrent write by connect-redis is detected too; a write that finds a
newer value merges its changed keys onto it, one that finds the session gone
writes nothing.

redis-py is imported at construction (the ``redis`` extra); nothing touches
the network until the first call (the client, its timeouts and the breaker:
:mod:`~flask_sessionstore.stores.redis_client`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..cookie import Duration, to_seconds, utcnow
from ..records import Record, SessionRecord, most_recent_first
from .base import Loaded, Store, StoredSession, Write, stored_expiry
from .errors import too_large
from .memory import DEFAULT_MAX_SIZE
from .redis_client import Call, HiddenURL, RedisConnection
from .redis_format import (
    Keys,
    as_bytes,
    as_text,
    decode,
    encode,
    expire_at,
    from_ms,
    meta_prefix_for,
    record_fields,
    record_from,
    renew_cookie,
    to_ms,
    version,
)

logger = logging.getLogger("flask_sessionstore")


class Serializer(Protocol):
    """connect-redis's ``serializer`` (``stringify``/``parse``), Python-style."""

    def dumps(self, obj: Any, /) -> str | bytes: ...  # noqa: D102
    def loads(self, text: Any, /) -> Any: ...  # noqa: D102


class RedisStore(Store):
    """Redis session store, value-compatible with connect-redis's ``RedisStore``.

    Exactly one of:

    :param client: a ``redis.Redis`` (a Sentinel ``master_for(...)`` client
        included) or ``redis.RedisCluster``; connect-redis's ``client``.  The
        application owns it and its timeouts (see :doc:`/redis`).
        ``redis.asyncio`` clients are refused.
    :param url: a ``redis://`` or ``rediss://`` URL; the store then builds its
        own client, lazily and once per process.

    And connect-redis's options (durations in seconds or ``timedelta``):

    :param prefix: key prefix (``prefix``); must not be empty.
    :param ttl: lifetime of sessions whose cookie has no expiry (``ttl``).
    :param disable_touch: never refresh the expiry of an unchanged session
        (``disableTouch``).
    :param disable_ttl: store sessions without expiry (``disableTTL``).
    :param serializer: an object with ``dumps`` and ``loads`` (``serializer``,
        whose ``stringify``/``parse`` they are); default: JSON as
        ``JSON.stringify`` writes it.
    :param scan_count: ``COUNT`` of each ``SCAN`` (``scanCount``).
    :param timeout: seconds any one call may take (the URL client's socket and
        connect timeouts; the bound of a contended write's retries).

    Beyond connect-redis:

    :param touch_after: as :attr:`Store.touch_after` (default None: automatic).
    :param max_session_size: the largest stored value in bytes (default 16 MB);
        bigger saves fail with :class:`~flask_sessionstore.SessionTooLargeError`
        before anything is sent.  None: no limit (Redis's own is 512 MB).
    :param meta_prefix: prefix of the record and owner keys; default the
        prefix with its last character changed (``sess:`` -> ``sess#``).
    """

    def __init__(
        self,
        client: Any = None,
        *,
        url: str | None = None,
        prefix: str = "sess:",
        ttl: Duration = timedelta(days=1),
        disable_touch: bool = False,
        disable_ttl: bool = False,
        serializer: Serializer | None = None,
        scan_count: int = 100,
        timeout: Duration = 5.0,
        touch_after: Duration = None,
        max_session_size: int | None = DEFAULT_MAX_SIZE,
        meta_prefix: str | None = None,
    ) -> None:
        # From here on the URL (and any password in it) is no frame's local:
        # an error tracker rendering this frame shows only its masked repr.
        hidden_url = HiddenURL(url) if isinstance(url, str) else url
        del url
        try:
            import redis
        except ImportError as exc:
            raise ImportError(
                "RedisStore needs redis-py: install the 'redis' extra "
                "(pip install 'flask-express-session[redis]')"
            ) from exc
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(
                f"RedisStore prefix must be a non-empty str, not {prefix!r}: the record "
                "and owner keys need a name outside it"
            )
        meta = meta_prefix_for(prefix) if meta_prefix is None else meta_prefix
        if not meta or meta.startswith(prefix) or prefix.startswith(meta):
            raise ValueError(
                f"RedisStore meta_prefix {meta!r} must be non-empty and neither start "
                f"with prefix {prefix!r} nor be a prefix of it"
            )
        if serializer is not None and not (
            callable(getattr(serializer, "dumps", None))
            and callable(getattr(serializer, "loads", None))
        ):
            raise TypeError(
                f"RedisStore serializer must have dumps and loads (like json), not {serializer!r}"
            )
        if not isinstance(scan_count, int) or isinstance(scan_count, bool) or scan_count <= 0:
            raise ValueError(f"RedisStore scan_count must be a positive int, not {scan_count!r}")
        if max_session_size is not None and (
            not isinstance(max_session_size, int) or max_session_size <= 0
        ):
            raise ValueError(
                "RedisStore max_session_size must be a positive number of bytes or None, "
                f"not {max_session_size!r}"
            )
        self.ttl: float = _positive(ttl, "ttl")
        self.timeout = _positive(timeout, "timeout")
        self.touch_after = to_seconds(touch_after, "RedisStore touch_after")
        self.disable_touch = bool(disable_touch)
        self.disable_ttl = bool(disable_ttl)
        self.scan_count = scan_count
        self.max_session_size = max_session_size
        #: Where sessions, records and owner sets live (:mod:`.redis_format`).
        self.keys = Keys(prefix, meta)
        self._serializer = serializer
        self._redis = RedisConnection(redis, client, hidden_url, self.timeout)

    def __repr__(self) -> str:
        keys = getattr(self, "keys", None)
        return f"<{self.name}" + (f" prefix={keys.prefix!r}>" if keys else " (unfinished)>")

    @property
    def name(self) -> str:
        """``RedisStore(redis://host:port/db)`` (never a password): how errors name it."""
        connection = getattr(self, "_redis", None)  # (repr of a store still being built)
        return "RedisStore" if connection is None else connection.name

    @property
    def expires_natively(self) -> bool:
        """Redis expires keys itself."""
        return True

    def client(self) -> Any:
        """The redis-py client: the one given, or this process's own from ``url``."""
        return self._redis.client()

    def close(self) -> None:
        """Close the client built from ``url`` (a client you passed stays open)."""
        self._redis.close()

    # -- encoding --------------------------------------------------------------------

    def _encode(self, sid: str, session: StoredSession) -> bytes:
        raw = encode(session, self._serializer)
        if self.max_session_size is not None and len(raw) > self.max_session_size:
            raise too_large("RedisStore", sid, session, len(raw), self.max_session_size)
        return raw

    def _decode(self, sid: str, raw: bytes) -> StoredSession | None:
        try:
            return decode(raw, self._serializer)
        except Exception as exc:
            logger.warning(
                "%s: session %.8s... is unreadable and treated as missing (%s: %s)",
                self.name,
                sid,
                type(exc).__name__,
                exc,
            )
            return None

    def _loaded(self, sid: str, reply: Any, now: datetime) -> Loaded | None:
        """A LOAD reply as a :class:`Loaded`; None when missing, expired or unreadable."""
        if not reply:
            return None
        raw, expires_ms, pairs, record_ms = (
            as_bytes(reply[0]),
            int(reply[1]),
            reply[2],
            int(reply[3]),
        )
        if 0 <= expires_ms <= to_ms(now):
            return None  # expired by the app's clock, not yet by the server's
        session = self._decode(sid, raw)
        if session is None:
            return None
        expires_at = None if expires_ms < 0 else from_ms(expires_ms)
        if expires_at is not None:
            renew_cookie(session, expires_at)
            if 0 <= record_ms < expires_ms:
                # a TTL-only touch left the record behind: report its expiry, so
                # the next refresh brings the record along
                expires_at = from_ms(record_ms)
        return Loaded(session, version(raw), record_from(pairs), expires_at)

    def _keys(self, sid: str) -> list[str]:
        return [self.keys.session(sid), self.keys.record(sid)]

    def _owners(self, new: str | None, old: str | None) -> tuple[list[str], int]:
        """The owner-set KEYS of a write or refresh and the scripts' owner mode."""
        keys: list[str] = []
        mode = 0
        if self._redis.cluster:
            return keys, mode  # other hash slots: see _cluster_owners
        if new is not None:
            keys.append(self.keys.owner(new))
            mode += 1
        if old is not None and old != new:
            keys.append(self.keys.owner(old))
            mode += 2
        return keys, mode

    def _cluster_owners(
        self, client: Any, sid: str, record: Record, old: str | None, at: int
    ) -> None:
        if record.user is not None:
            score = to_ms(record.last_seen_at or utcnow())
            self._redis.run(client, "owner", [self.keys.owner(record.user)], [sid, score, at])
        if old is not None and old != record.user:
            client.zrem(self.keys.owner(old), sid)

    def _expiry(self, session: StoredSession, now: datetime, cap: datetime | None) -> int:
        return expire_at(stored_expiry(session), now, self.ttl, cap)

    # -- the express contract ------------------------------------------------------------

    def get(self, sid: str) -> StoredSession | None:
        """connect-redis's ``get``: the live session, or None."""
        loaded = self.load(sid)
        return None if loaded is None else loaded.session

    def set(self, sid: str, session: StoredSession) -> None:
        """connect-redis's ``set``: ``SET key value PXAT`` (the record stays); expired: delete."""
        raw = self._encode(sid, session)
        now = utcnow()
        at = self._expiry(session, now, None)
        if at <= to_ms(now):
            self.destroy(sid)
            return
        with self._redis.op() as client:
            client.set(self.keys.session(sid), raw, pxat=None if self.disable_ttl else at)

    def touch(self, sid: str, session: StoredSession) -> None:
        """connect-redis's ``touch``: the expiry only; never creates or revives a session."""
        if self.disable_touch or self.disable_ttl:
            return
        now = utcnow()
        at = self._expiry(session, now, None)
        if at <= to_ms(now):
            self.destroy(sid)
            return
        with self._redis.op() as client:
            self._redis.run(client, "touch", self._keys(sid), [to_ms(now), at])

    def destroy(self, sid: str) -> None:
        """connect-redis's ``destroy``, the record along: one ``DEL``."""
        with self._redis.op() as client:
            client.delete(*self._keys(sid))

    def all(self) -> dict[str, StoredSession]:
        """Every live session by ID (``SCAN``, then one pipelined load per batch)."""
        now, result = utcnow(), {}
        with self._redis.op() as client:
            for batch in self._redis.scan(client, self.keys.sessions_pattern, self.scan_count):
                sids = [self.keys.sid_of(key) for key in batch]
                calls: list[Call] = [("load", self._keys(sid), []) for sid in sids]
                for sid, reply in zip(sids, self._redis.batch(client, calls), strict=True):
                    loaded = self._loaded(sid, reply, now)
                    if loaded is not None:
                        result[sid] = loaded.session
        return result

    def length(self) -> int:
        """The number of live sessions (``SCAN``, never ``KEYS``)."""
        return sum(1 for _ in self.records())

    def clear(self) -> None:
        """Remove this prefix's sessions, with their records and owner sets (``SCAN``)."""
        with self._redis.op() as client:
            for pattern in (self.keys.sessions_pattern, self.keys.meta_pattern):
                for batch in self._redis.scan(client, pattern, self.scan_count):
                    client.delete(*batch)

    def prune(self) -> int:
        """Redis expires keys natively: nothing to do, 0."""
        return 0

    # -- the session's side ------------------------------------------------------------------

    def load(self, sid: str) -> Loaded | None:
        """The live session, its version, record and expiry: one ``EVALSHA``."""
        now = utcnow()
        with self._redis.op() as client:
            reply = self._redis.run(client, "load", self._keys(sid), [])
        return self._loaded(sid, reply, now)

    def write(self, sid: str, write: Write) -> Loaded | None:
        """A new session whole, or this request's changes compare-and-set on its version.

        One ``EVALSHA``; when the session was rewritten since the load (by
        this app or by connect-redis), the script hands back the current value,
        the changed and removed keys are applied to it, and the write is tried
        again (bounded by ``timeout``).  A session that is gone is not written.
        """
        base = write.base
        session = write.session
        expected = "" if base is None or base.version is None else str(base.version)
        old_owner = None if base is None else base.record.user
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            attempt += 1
            raw = self._encode(sid, session)
            now = utcnow()
            at = self._expiry(session, now, write.expires_cap)
            if at <= to_ms(now):
                self.destroy(sid)  # connect-redis: an expired session is deleted, not written
                return None
            at = 0 if self.disable_ttl else at
            record = write.final_record(session)
            owner_keys, mode = self._owners(record.user, old_owner)
            args = [expected, raw, to_ms(now), at, sid, mode, to_ms(record.last_seen_at or now)]
            with self._redis.op() as client:
                reply = self._redis.run(
                    client, "write", self._keys(sid) + owner_keys, args + record_fields(record)
                )
                if reply == 1 and self._redis.cluster:
                    self._cluster_owners(client, sid, record, old_owner, at)
            if reply == 1:
                return Loaded(session, version(raw), record, from_ms(at) if at else None)
            if reply == 0:
                return None  # destroyed, revoked or expired since it was read: that wins
            current = as_bytes(reply[0])
            stored = self._decode(sid, current)
            session = write.session if stored is None else write.merged_onto(stored)
            expected = version(current)
            if attempt >= 3:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{self.name}: session {sid[:8]}... kept changing under {attempt} "
                        f"write attempts in {self.timeout:g} s; the change was not saved"
                    )
                time.sleep(random.uniform(0, min(0.001 * attempt, 0.05)))

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        """connect-redis's touch (the key's expiry, not the value) with the record.

        Off with ``disable_touch`` or ``disable_ttl``; skipped when the session
        was rewritten since the load (that write refreshed it) or is gone.
        """
        base = write.base
        if self.disable_touch or self.disable_ttl or base is None or base.version is None:
            return None
        session = write.merged_onto(base.session)
        now = utcnow()
        at = self._expiry(session, now, write.expires_cap)
        if at <= to_ms(now):
            self.destroy(sid)
            return None
        record = write.final_record(session)
        owner_keys, mode = self._owners(record.user, base.record.user)
        args = [str(base.version), to_ms(now), at, sid, mode, to_ms(record.last_seen_at or now)]
        with self._redis.op() as client:
            reply = self._redis.run(
                client, "refresh", self._keys(sid) + owner_keys, args + record_fields(record)
            )
            if reply == 1 and self._redis.cluster:
                self._cluster_owners(client, sid, record, base.record.user, at)
        if reply != 1:
            return None
        return Loaded(session, base.version, record, from_ms(at))

    def revoke(self, sid: str) -> bool:
        """Remove ``sid`` with its record; True if it was live."""
        with self._redis.op() as client:
            return bool(self._redis.run(client, "revoke", self._keys(sid), [to_ms(utcnow())]) == 1)

    # -- account control: one owner's sorted set, never a scan ---------------------------

    def _members(self, client: Any, user: str) -> list[str]:
        return [as_text(member) for member in client.zrange(self.keys.owner(user), 0, -1)]

    def sessions_of(self, user: str) -> list[SessionRecord]:
        """``user``'s live sessions, most recently seen first; stale members dropped."""
        now_ms, found, stale = to_ms(utcnow()), [], []
        with self._redis.op() as client:
            sids = self._members(client, user)
            calls: list[Call] = [("record", self._keys(sid), []) for sid in sids]
            for sid, reply in zip(sids, self._redis.batch(client, calls), strict=True):
                record = record_from(reply[1]) if reply else None
                expires = int(reply[0]) if reply else 0
                if record is None or record.user != user or 0 <= expires <= now_ms:
                    stale.append(sid)  # expired, deleted or re-owned since
                    continue
                found.append(
                    SessionRecord.of(sid, record, from_ms(expires) if expires >= 0 else None)
                )
            if stale:
                client.zrem(self.keys.owner(user), *stale)
        return most_recent_first(found)

    def revoke_user(self, user: str, *, keep: str | None = None) -> int:
        """Remove every live session of ``user`` but ``keep``; return how many were live.

        A member whose record names another owner by now is left alone.
        """
        now_ms = to_ms(utcnow())
        with self._redis.op() as client:
            sids = [sid for sid in self._members(client, user) if sid != keep]
            calls: list[Call] = [("revoke", self._keys(sid), [now_ms, user]) for sid in sids]
            revoked = sum(1 for reply in self._redis.batch(client, calls) if reply == 1)
            if sids:
                client.zrem(self.keys.owner(user), *sids)
        return revoked

    def records(self, limit: int | None = None) -> Iterator[SessionRecord]:
        """Records of live sessions (``flask sessions list``): ``SCAN``, pipelined reads."""
        count, now_ms = 0, to_ms(utcnow())
        with self._redis.op() as client:
            batches = list(self._redis.scan(client, self.keys.sessions_pattern, self.scan_count))
        for batch in batches:
            sids = [self.keys.sid_of(key) for key in batch]
            calls: list[Call] = [("record", self._keys(sid), []) for sid in sids]
            with self._redis.op() as client:
                replies = self._redis.batch(client, calls)
            for sid, reply in zip(sids, replies, strict=True):
                expires = int(reply[0]) if reply else 0
                if 0 <= expires <= now_ms:
                    continue  # gone, or expired by the app's clock
                if limit is not None and count >= limit:
                    return
                count += 1
                at = from_ms(expires) if expires >= 0 else None
                yield SessionRecord.of(sid, record_from(reply[1]), at)


def _positive(value: Duration, option: str) -> float:
    seconds = to_seconds(value, f"RedisStore {option}")
    if not seconds:
        raise ValueError(f"RedisStore {option} must be a positive duration, not {value!r}")
    return seconds
