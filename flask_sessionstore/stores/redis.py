"""``RedisStore``: sessions in Redis, value-compatible with connect-redis 9/10.

An Express app (express-session + connect-redis) and a Flask app share one
Redis, one cookie and one login: the session keys and values are
connect-redis's, byte for byte, and so are its expiry rules (the TTL from
the cookie's expiry, a touch that moves only the key's expiry, a non-positive
TTL that deletes): :mod:`.redis_format` has each rule next to its code.

What this store adds (records, owners, compare-and-set) lives in keys
outside ``prefix`` and in Lua scripts (:mod:`.redis_scripts`): a returning
reader costs one command (``EVALSHA`` of the load script: value, expiry and
record), a writer two (load, then a compare-and-set write that also updates
the record and the owner's set, :mod:`.redis_writes`).  A user's sessions
are one sorted set (:mod:`.redis_accounts`).  This module holds the options
and the operations; values are read and written by :mod:`.redis_values`.

redis-py is imported at construction (the ``redis`` extra); nothing touches
the network until the first call (the client, its timeouts and the breaker:
:mod:`.redis_client`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from ..cookie import Duration, to_seconds, utcnow
from ..records import SessionRecord
from . import redis_accounts, redis_writes
from .base import Loaded, Store, StoredSession, Write
from .checks import DEFAULT_MAX_SIZE, check_max_session_size, positive_duration
from .redis_client import Call, HiddenURL, RedisConnection
from .redis_format import Keys, key_expiry, meta_prefix_for, to_ms
from .redis_values import Serializer, ValueCodec


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
        check_max_session_size("RedisStore", max_session_size)
        self.ttl: float = positive_duration(ttl, "RedisStore ttl")
        self.timeout = positive_duration(timeout, "RedisStore timeout")
        self.touch_after = to_seconds(touch_after, "RedisStore touch_after")
        self.disable_touch = bool(disable_touch)
        self.disable_ttl = bool(disable_ttl)
        self.scan_count = scan_count
        self.max_session_size = max_session_size
        #: Where sessions, records and owner sets live (:mod:`.redis_format`).
        self.keys = Keys(prefix, meta)
        self._redis = RedisConnection(redis, client, hidden_url, self.timeout)
        self._values = ValueCodec(self.name, serializer)

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

    # -- the express contract ------------------------------------------------------------

    def get(self, sid: str) -> StoredSession | None:
        """connect-redis's ``get``: the live session, or None."""
        loaded = self.load(sid)
        return None if loaded is None else loaded.session

    def set(self, sid: str, session: StoredSession) -> None:
        """connect-redis's ``set``: ``SET key value PXAT`` (the record stays); expired: delete."""
        raw = self._values.encode(sid, session, self.max_session_size)
        now = utcnow()
        at = key_expiry(session, now, self.ttl)
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
        at = key_expiry(session, now, self.ttl)
        if at <= to_ms(now):
            self.destroy(sid)
            return
        with self._redis.op() as client:
            self._redis.run(client, "touch", self.keys.script_keys(sid), [to_ms(now), at])

    def destroy(self, sid: str) -> None:
        """connect-redis's ``destroy``, the record along: one ``DEL``."""
        with self._redis.op() as client:
            client.delete(*self.keys.script_keys(sid))

    def all(self) -> dict[str, StoredSession]:
        """Every live session by ID (``SCAN``, then one pipelined load per batch)."""
        now, result = utcnow(), {}
        with self._redis.op() as client:
            for batch in self._redis.scan(client, self.keys.sessions_pattern, self.scan_count):
                sids = [self.keys.sid_of(key) for key in batch]
                calls: list[Call] = [("load", self.keys.script_keys(sid), []) for sid in sids]
                for sid, reply in zip(sids, self._redis.batch(client, calls), strict=True):
                    loaded = self._values.loaded(sid, reply, now)
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
            reply = self._redis.run(client, "load", self.keys.script_keys(sid), [])
        return self._values.loaded(sid, reply, now)

    def write(self, sid: str, write: Write) -> Loaded | None:
        """A new session whole, or this request's changes compare-and-set on its version.

        One ``EVALSHA``; when the session was rewritten since the load (by
        this app or by connect-redis), the script hands back the current value,
        the changed and removed keys are applied to it, and the write is tried
        again (bounded by ``timeout``).  A session that is gone is not written.
        """
        return redis_writes.write(self._redis, self._values, self, sid, write)

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        """connect-redis's touch (the key's expiry, not the value) with the record.

        Off with ``disable_touch`` or ``disable_ttl``; skipped when the session
        was rewritten since the load (that write refreshed it) or is gone.
        """
        return redis_writes.refresh(self._redis, self, sid, write)

    def revoke(self, sid: str) -> bool:
        """Remove ``sid`` with its record; True if it was live."""
        with self._redis.op() as client:
            reply = self._redis.run(client, "revoke", self.keys.script_keys(sid), [to_ms(utcnow())])
        return bool(reply == 1)

    # -- account control: one owner's sorted set, never a scan ---------------------------

    def sessions_of(self, user: str) -> list[SessionRecord]:
        """``user``'s live sessions, most recently seen first; stale members dropped."""
        return redis_accounts.sessions_of(self._redis, self.keys, user)

    def revoke_user(self, user: str, *, keep: str | None = None) -> int:
        """Remove every live session of ``user`` but ``keep``; return how many were live.

        A member whose record names another owner by now is left alone.
        """
        return redis_accounts.revoke_user(self._redis, self.keys, user, keep)

    def records(self, limit: int | None = None) -> Iterator[SessionRecord]:
        """Records of live sessions (``flask sessions list``): ``SCAN``, pipelined reads."""
        yield from redis_accounts.records(self._redis, self.keys, self.scan_count, limit)
