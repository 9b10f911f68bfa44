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
outside ``prefix`` (:mod:`~flask_sessionstore.stores.redis_keys`) and in Lua
scripts (:mod:`~flask_sessionstore.stores.redis_scripts`): a returning
reader costs one command (``EVALSHA`` of the load script: value, expiry and
record), a writer two (load, then a compare-and-set write that also updates
the record and the owner's set).  The version is the SHA-1 of the raw value,
so a concurrent write by connect-redis is detected too; a write that finds a
newer value merges its changed keys onto it, one that finds the session gone
writes nothing.

redis-py is imported at construction (the ``redis`` extra); nothing touches
the network until the first call.  A client built from ``url`` is created
lazily, once per process, with socket timeouts of ``timeout`` and no
retries; a :class:`~flask_sessionstore.stores.breaker.Breaker` makes calls
fail fast with :class:`~flask_sessionstore.StoreUnavailableError` while
Redis is known to be down.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..cookie import Duration, format_iso, to_seconds, utcnow
from ..records import Record, SessionRecord, most_recent_first
from .base import Loaded, Store, StoredSession, Write, stored_expiry
from .breaker import Breaker
from .errors import too_large
from .memory import DEFAULT_MAX_SIZE
from .redis_keys import (
    Keys,
    expire_at,
    from_ms,
    meta_prefix_for,
    record_fields,
    record_from,
    to_ms,
)
from .redis_scripts import LOAD, RECORD, REFRESH, REVOKE, TOUCH, WRITE

logger = logging.getLogger("flask_sessionstore")

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
#: One script call of a pipeline: (script name, KEYS, ARGV).
_Call = tuple[str, list[str], list[Any]]
_EXTRA = "install the 'redis' extra (pip install 'flask-express-session[redis]')"


class Serializer(Protocol):
    """connect-redis's ``serializer`` (``parse``/``stringify``), Python-style."""

    def dumps(self, obj: Any, /) -> str | bytes: ...  # noqa: D102
    def loads(self, text: Any, /) -> Any: ...  # noqa: D102


class _URL:
    """A connection URL that never shows its password (repr, str, frame locals)."""

    def __init__(self, url: str) -> None:
        self.value = url
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        self.shown = f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path or '/0'}"

    def __repr__(self) -> str:
        return self.shown


def _sha1(raw: bytes) -> str:
    return hashlib.sha1(raw).hexdigest()


def _raw(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class RedisStore(Store):
    """Redis session store, value-compatible with connect-redis's ``RedisStore``.

    Exactly one of:

    :param client: a ``redis.Redis`` (a Sentinel ``master_for(...)`` client
        included) or ``redis.RedisCluster``; connect-redis's ``client``.  The
        application owns it and its timeouts (see the docs).
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
        try:
            import redis
        except ImportError as exc:
            raise ImportError(f"RedisStore needs redis-py: {_EXTRA}") from exc
        if (client is None) == (url is None):
            given = "both client and url" if client is not None else "neither"
            raise ValueError(
                "RedisStore needs exactly one of client (a redis.Redis) or url "
                f"(a redis:// or rediss:// URL); got {given}"
            )
        if url is not None:
            if not isinstance(url, str) or urlsplit(url).scheme not in ("redis", "rediss"):
                shown = repr(_URL(url)) if isinstance(url, str) else repr(type(url).__name__)
                raise ValueError(f"RedisStore url must be a redis:// or rediss:// URL, not {shown}")
        else:
            _check_client(client, redis)
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
        self.keys = Keys(prefix, meta)
        self._serializer = serializer
        self._redis_module = redis
        self._given = client
        self._url = None if url is None else _URL(url)
        self._cluster = client is not None and isinstance(client, redis.RedisCluster)
        self._lock = threading.Lock()
        self._owned: Any = None
        self._pid: int | None = None
        self._loaded_scripts: set[str] = set()
        self._scripts = {
            name: redis.commands.core.Script(None, source.encode("ascii"))  # type: ignore[arg-type]
            for name, source in (
                ("load", LOAD),
                ("record", RECORD),
                ("write", WRITE),
                ("refresh", REFRESH),
                ("touch", TOUCH),
                ("revoke", REVOKE),
            )
        }
        errors = redis.exceptions
        self._outages: tuple[type[BaseException], ...] = (
            errors.ConnectionError,
            errors.TimeoutError,
            errors.ClusterDownError,
            errors.ClusterError,
        )
        self._breaker = Breaker(self.name)
        if client is not None and _unbounded(client):
            logger.warning(
                "%s: the client has no socket_timeout, so a hung Redis can hold a request "
                "indefinitely; create it with socket_timeout and socket_connect_timeout",
                self.name,
            )

    def __repr__(self) -> str:
        return f"<{self.name} prefix={self.keys.prefix!r}>"

    @property
    def name(self) -> str:
        """``RedisStore(redis://host:port/db)`` (never a password): how errors name it."""
        if self._url is not None:
            return f"RedisStore({self._url!r})"
        kwargs = getattr(getattr(self._given, "connection_pool", None), "connection_kwargs", {})
        if "host" in kwargs:
            where = f"{kwargs['host']}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
            return f"RedisStore(redis://{where})"
        return f"RedisStore({type(self._given).__name__})"

    @property
    def expires_natively(self) -> bool:
        """Redis expires keys itself."""
        return True

    # -- the client, the breaker, the scripts -----------------------------------

    def client(self) -> Any:
        """The redis-py client: the one given, or this process's own from ``url``."""
        if self._given is not None:
            return self._given
        pid = os.getpid()
        if self._owned is None or self._pid != pid:
            with self._lock:  # no I/O here: redis-py connects on first command
                if self._owned is None or self._pid != pid:
                    assert self._url is not None
                    self._owned = self._redis_module.Redis.from_url(
                        self._url.value,
                        socket_timeout=self.timeout,
                        socket_connect_timeout=self.timeout,
                        retry=self._redis_module.retry.Retry(
                            self._redis_module.backoff.NoBackoff(), 0
                        ),
                        client_name="flask-sessionstore",
                    )
                    self._pid, self._loaded_scripts = pid, set()
        return self._owned

    def close(self) -> None:
        """Close the client built from ``url`` (a client you passed stays open)."""
        with self._lock:
            if self._owned is not None and self._pid == os.getpid():
                self._owned.close()
            self._owned = self._pid = None

    @contextmanager
    def _op(self) -> Iterator[Any]:
        """The client, under the breaker; an outage re-raised without redis-py's frames."""
        failure: BaseException | None = None
        with self._breaker.guard(self._outages, _describe):
            try:
                yield self.client()
            except self._outages as exc:
                # A fresh exception, and the driver's stripped of its frames (the
                # with statement still chains it): redis-py's locals may hold the
                # AUTH arguments, and error trackers render every frame's locals.
                failure = type(exc)(_describe(exc))
                exc.__traceback__ = exc.__context__ = exc.__cause__ = None
            if failure is not None:
                raise failure from None

    def _run(self, name: str, client: Any, keys: list[str], args: list[Any]) -> Any:
        return self._scripts[name](keys, args, client=client)

    def _batch(self, client: Any, calls: list[_Call]) -> list[Any]:
        """Run scripts in one pipeline (admin paths: listings, revoke_user)."""
        if not calls:
            return []
        if self._cluster:  # cluster pipelines refuse EVALSHA: one call at a time
            return [self._run(name, client, keys, args) for name, keys, args in calls]
        for attempt in (1, 2):
            for name in {name for name, _, _ in calls} - self._loaded_scripts:
                client.script_load(self._scripts[name].script)
                self._loaded_scripts.add(name)
            pipe = client.pipeline(transaction=False)
            for name, keys, args in calls:
                pipe.evalsha(self._scripts[name].sha, len(keys), *keys, *args)
            try:
                return list(pipe.execute())
            except self._redis_module.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                self._loaded_scripts.clear()  # the server restarted or flushed its scripts
        raise AssertionError("unreachable")

    # -- encoding ------------------------------------------------------------------

    def _encode(self, sid: str, session: StoredSession) -> bytes:
        text = _dumps(session) if self._serializer is None else self._serializer.dumps(session)
        raw = _raw(text)
        if self.max_session_size is not None and len(raw) > self.max_session_size:
            raise too_large("RedisStore", sid, session, len(raw), self.max_session_size)
        return raw

    def _decode(self, sid: str, raw: bytes) -> StoredSession | None:
        try:
            if self._serializer is None:
                session = json.loads(raw)
            else:
                session = self._serializer.loads(raw)
            if not isinstance(session, dict):
                raise ValueError(f"a {type(session).__name__}, not an object")
        except Exception as exc:
            logger.warning(
                "%s: session %.8s... is unreadable and treated as missing (%s: %s)",
                self.name,
                sid,
                type(exc).__name__,
                exc,
            )
            return None
        return session

    def _expiry(self, session: StoredSession, now: datetime, cap: datetime | None) -> int:
        return expire_at(stored_expiry(session), now, self.ttl, cap)

    def _owner_keys(self, new: str | None, old: str | None) -> tuple[list[str], int]:
        """The owner-set KEYS of a write and the script's owner mode (see redis_scripts)."""
        if self._cluster:
            return [], 0  # other hash slots: kept by _cluster_owner after the script
        keys, mode = [], 0
        if new is not None:
            keys.append(self.keys.owner(new))
            mode += 1
        if old is not None and old != new:
            keys.append(self.keys.owner(old))
            mode += 2
        return keys, mode

    def _cluster_owner(
        self, client: Any, sid: str, record: Record, old: str | None, at: int
    ) -> None:
        pipe = client.pipeline(transaction=False)
        if record.user is not None:
            key = self.keys.owner(record.user)
            pipe.zadd(key, {sid: to_ms(record.last_seen_at or utcnow())})
            pipe.pexpireat(key, at) if at else pipe.persist(key)
        if old is not None and old != record.user:
            pipe.zrem(self.keys.owner(old), sid)
        pipe.execute()

    def _loaded(self, sid: str, reply: Any, now: datetime) -> Loaded | None:
        """A LOAD reply as a :class:`Loaded`, or None when missing, expired or unreadable."""
        if not reply:
            return None
        raw, expires_ms, pairs, record_ms = _raw(reply[0]), int(reply[1]), reply[2], int(reply[3])
        if 0 <= expires_ms <= to_ms(now):
            return None  # expired by the app's clock, not yet by the server's
        session = self._decode(sid, raw)
        if session is None:
            return None
        expires_at = None if expires_ms < 0 else from_ms(expires_ms)
        cookie = session.get("cookie")
        written = stored_expiry(session) if isinstance(cookie, dict) else None
        if (
            expires_at is not None
            and written is not None
            and expires_at - written >= timedelta(seconds=1)
        ):
            cookie["expires"] = format_iso(expires_at)  # type: ignore[index]  # stale after a touch
        if expires_at is not None and 0 <= record_ms < to_ms(expires_at):
            expires_at = from_ms(record_ms)  # a TTL-only touch left the record behind
        return Loaded(session, _sha1(raw), record_from(pairs), expires_at)

    # -- the express contract ------------------------------------------------------

    def get(self, sid: str) -> StoredSession | None:
        """connect-redis's ``get``: the live session, or None."""
        loaded = self.load(sid)
        return None if loaded is None else loaded.session

    def set(self, sid: str, session: StoredSession) -> None:
        """connect-redis's ``set``: ``SET key value PXAT`` (its record is kept); expired: delete."""
        raw = self._encode(sid, session)
        now = utcnow()
        at = self._expiry(session, now, None)
        if at <= to_ms(now):
            self.destroy(sid)
            return
        with self._op() as client:
            if self.disable_ttl:
                client.set(self.keys.session(sid), raw)
            else:
                client.set(self.keys.session(sid), raw, pxat=at)

    def touch(self, sid: str, session: StoredSession) -> None:
        """connect-redis's ``touch``: the expiry only; never creates or revives a session."""
        if self.disable_touch or self.disable_ttl:
            return
        now = utcnow()
        at = self._expiry(session, now, None)
        if at <= to_ms(now):
            self.destroy(sid)
            return
        with self._op() as client:
            self._run(
                "touch", client, [self.keys.session(sid), self.keys.record(sid)], [to_ms(now), at]
            )

    def destroy(self, sid: str) -> None:
        """connect-redis's ``destroy``, with the record: one ``DEL``."""
        with self._op() as client:
            client.delete(self.keys.session(sid), self.keys.record(sid))

    def _scan(self, client: Any, pattern: str) -> Iterator[list[Any]]:
        batch: list[Any] = []
        for key in client.scan_iter(match=pattern, count=self.scan_count):
            batch.append(key)
            if len(batch) >= self.scan_count:
                yield batch
                batch = []
        if batch:
            yield batch

    def all(self) -> dict[str, StoredSession]:
        """Every live session by ID (``SCAN``, then one pipelined load per batch)."""
        now, result = utcnow(), {}
        with self._op() as client:
            for batch in self._scan(client, self.keys.sessions_pattern):
                sids = [self.keys.sid_of(key) for key in batch]
                calls: list[_Call] = [
                    ("load", [self.keys.session(s), self.keys.record(s)], []) for s in sids
                ]
                for sid, reply in zip(sids, self._batch(client, calls), strict=True):
                    loaded = self._loaded(sid, reply, now)
                    if loaded is not None:
                        result[sid] = loaded.session
        return result

    def length(self) -> int:
        """The number of live sessions (``SCAN``, never ``KEYS``)."""
        return sum(1 for _ in self.records())

    def clear(self) -> None:
        """Remove every session of this prefix, with their records and owner sets."""
        with self._op() as client:
            for pattern in (self.keys.sessions_pattern, self.keys.meta_pattern):
                for batch in self._scan(client, pattern):
                    client.delete(*batch)

    def prune(self) -> int:
        """Redis expires keys natively: nothing to do, 0."""
        return 0

    # -- the session's side -----------------------------------------------------------

    def load(self, sid: str) -> Loaded | None:
        """The live session, its version, record and expiry: one ``EVALSHA``."""
        now = utcnow()
        with self._op() as client:
            reply = self._run("load", client, [self.keys.session(sid), self.keys.record(sid)], [])
        return self._loaded(sid, reply, now)

    def write(self, sid: str, write: Write) -> Loaded | None:
        """A new session whole, or this request's changes compare-and-set on its version."""
        base = write.base
        session, expected = write.session, ""
        if base is not None and base.version is not None:
            expected = str(base.version)
        old_owner = None if base is None else base.record.user
        deadline = time.monotonic() + self.timeout
        for attempt in range(1, 1_000_000):
            raw = self._encode(sid, session)
            now = utcnow()
            at = self._expiry(session, now, write.expires_cap)
            if at <= to_ms(now):
                self.destroy(sid)  # connect-redis: an expired session is deleted, not written
                return None
            record = write.final_record(session)
            owner_keys, mode = self._owner_keys(record.user, old_owner)
            stored_at = 0 if self.disable_ttl else at
            args = [expected, raw, to_ms(now), stored_at, sid, mode]
            args += [to_ms(record.last_seen_at or now), *record_fields(record)]
            keys = [self.keys.session(sid), self.keys.record(sid), *owner_keys]
            with self._op() as client:
                reply = self._run("write", client, keys, args)
                if reply == 1 and self._cluster:
                    self._cluster_owner(client, sid, record, old_owner, stored_at)
            if reply == 1:
                expires = None if not stored_at else from_ms(stored_at)
                return Loaded(session, _sha1(raw), record, expires)
            if reply == 0:
                return None  # destroyed, revoked or expired since it was read
            current_raw = _raw(reply[0])  # rewritten since: merge onto the current value
            current = self._decode(sid, current_raw)
            session = write.session if current is None else write.merged_onto(current)
            expected = _sha1(current_raw)
            if attempt >= 3:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{self.name}: session {sid[:8]}... kept changing under {attempt} "
                        f"write attempts in {self.timeout:g} s; the change was not saved"
                    )
                time.sleep(random.uniform(0, min(0.001 * attempt, 0.05)))
        raise AssertionError("unreachable")

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        """The TTL refresh (connect-redis's touch) with the record; off with ``disable_touch``."""
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
        owner_keys, mode = self._owner_keys(record.user, base.record.user)
        args = [str(base.version), to_ms(now), at, sid, mode]
        args += [to_ms(record.last_seen_at or now), *record_fields(record)]
        keys = [self.keys.session(sid), self.keys.record(sid), *owner_keys]
        with self._op() as client:
            reply = self._run("refresh", client, keys, args)
            if reply == 1 and self._cluster:
                self._cluster_owner(client, sid, record, base.record.user, at)
        if reply != 1:
            return None  # gone, or rewritten since (which refreshed it)
        return Loaded(session, base.version, record, from_ms(at))

    def revoke(self, sid: str) -> bool:
        """Remove ``sid`` with its record; True if it was live."""
        keys = [self.keys.session(sid), self.keys.record(sid)]
        with self._op() as client:
            return bool(self._run("revoke", client, keys, [to_ms(utcnow())]) == 1)

    # -- account control ---------------------------------------------------------------

    def _members(self, client: Any, user: str) -> list[str]:
        return [_text(m) for m in client.zrange(self.keys.owner(user), 0, -1)]

    def sessions_of(self, user: str) -> list[SessionRecord]:
        """``user``'s live sessions, most recently seen first: their owner set only, no scan."""
        now_ms, found, stale = to_ms(utcnow()), [], []
        with self._op() as client:
            sids = self._members(client, user)
            calls: list[_Call] = [
                ("record", [self.keys.session(s), self.keys.record(s)], []) for s in sids
            ]
            for sid, reply in zip(sids, self._batch(client, calls), strict=True):
                record = record_from(reply[1]) if reply else None
                expires = int(reply[0]) if reply else 0
                if record is None or record.user != user or 0 <= expires <= now_ms:
                    stale.append(sid)
                    continue
                at = None if expires < 0 else from_ms(expires)
                found.append(SessionRecord.of(sid, record, at))
            if stale:
                client.zrem(self.keys.owner(user), *stale)  # expired or re-owned: cleaned lazily
        return most_recent_first(found)

    def revoke_user(self, user: str, *, keep: str | None = None) -> int:
        """Remove every live session of ``user`` but ``keep``; return how many were live."""
        now_ms = to_ms(utcnow())
        with self._op() as client:
            sids = [sid for sid in self._members(client, user) if sid != keep]
            calls: list[_Call] = [
                ("revoke", [self.keys.session(s), self.keys.record(s)], [now_ms, user])
                for s in sids
            ]
            revoked = sum(1 for reply in self._batch(client, calls) if reply == 1)
            if sids:
                client.zrem(self.keys.owner(user), *sids)
        return revoked

    def records(self, limit: int | None = None) -> Iterator[SessionRecord]:
        """Records of live sessions (``flask sessions list``): ``SCAN``, pipelined reads."""
        count = 0
        now_ms = to_ms(utcnow())
        with self._op() as client:
            batches = list(self._scan(client, self.keys.sessions_pattern))
        for batch in batches:
            sids = [self.keys.sid_of(key) for key in batch]
            calls: list[_Call] = [
                ("record", [self.keys.session(s), self.keys.record(s)], []) for s in sids
            ]
            with self._op() as client:
                replies = self._batch(client, calls)
            for sid, reply in zip(sids, replies, strict=True):
                if not reply or 0 <= int(reply[0]) <= now_ms:
                    continue
                if limit is not None and count >= limit:
                    return
                count += 1
                at = None if int(reply[0]) < 0 else from_ms(int(reply[0]))
                yield SessionRecord.of(sid, record_from(reply[1]), at)


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def _positive(value: Duration, option: str) -> float:
    seconds = to_seconds(value, f"RedisStore {option}")
    if not seconds:
        raise ValueError(f"RedisStore {option} must be a positive duration, not {value!r}")
    return seconds


def _check_client(client: Any, redis: Any) -> None:
    import redis.asyncio

    if isinstance(client, (redis.asyncio.Redis, redis.asyncio.RedisCluster)):
        raise TypeError(
            "RedisStore needs a synchronous client (redis.Redis or redis.RedisCluster); "
            f"{type(client).__module__}.{type(client).__name__} is a redis.asyncio client, "
            "whose calls return coroutines. Flask runs even async views' sessions "
            "synchronously: pass redis.Redis(...) instead"
        )
    if not callable(getattr(client, "evalsha", None)) or not callable(
        getattr(client, "pipeline", None)
    ):
        raise TypeError(f"RedisStore client must be a redis.Redis, not {client!r}")


def _unbounded(client: Any) -> bool:
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    return isinstance(kwargs, dict) and kwargs.get("socket_timeout", 0) is None


_SECRET_IN_URL = re.compile(r"(\w+://)[^@/\s]*@")


def _describe(exc: BaseException) -> str:
    """A driver error in one line, any ``user:password@`` removed."""
    text = _SECRET_IN_URL.sub(r"\1***@", str(exc)) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."
