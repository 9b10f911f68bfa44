"""RedisStore's format: key layout, value codec, connect-redis's expiry rule, the record.

Pure functions (no I/O), so the rules can be read and tested in one place.

**connect-redis's rules**, from its
``node_modules/connect-redis/dist/connect-redis.cjs`` (9.0.0; 10.0.0 has the
same store code), and how RedisStore keeps them:

* **Key** ``prefix + sid`` (lines 28, 38, 56, 66), default prefix ``"sess:"``
  (line 19): :meth:`Keys.session`.
* **Value** ``JSON.stringify(sess)`` (lines 21, 42): no spaces, non-ASCII
  kept, key order kept.  Here: ``json`` with ``separators=(",", ":")``,
  ``ensure_ascii=False`` (:func:`encode`); a Python float is written as
  Python writes it, which JavaScript reads back as the same number.
* **TTL** (``getTTL``, lines 123-135): the cookie's ``expires`` minus now, in
  whole seconds rounded up, else ``ttl`` (default 86400, line 22).
  ``set`` writes ``SET key value EX ttl`` (lines 41-47), or without expiry
  when ``disableTTL``; a TTL that is not positive **deletes** the session
  instead (line 50).  Here the same number of seconds, counted from the
  app's clock, becomes an absolute expiry (``SET ... PXAT``), capped by the
  idle and absolute timeouts (never later than the cap): :func:`expire_at`.
* **touch** is ``EXPIRE key ttl`` only (line 59): the value, and so its
  ``cookie.expires``, is not rewritten and goes stale; ``disableTouch`` and
  ``disableTTL`` turn it off (line 57).  A session is therefore judged live
  by its key's expiry, never by that field; a load hands back
  ``cookie.expires`` set to the key's expiry when a touch has moved it on
  (:func:`renew_cookie`).
* **destroy** ``DEL key`` (line 68); **clear**, **length**, **ids** and
  **all** walk ``SCAN MATCH prefix* COUNT scanCount`` (lines 136-162,
  default ``scanCount`` 100), never ``KEYS``; ``all`` reads with ``MGET``.

**Keys**, for the default ``prefix="sess:"``:

=========================  ===========  =====================================
key                        type         holds
=========================  ===========  =====================================
``sess:<sid>``             string       the session JSON (connect-redis's key
                                        and value, byte for byte)
``sess#rec:{sess:<sid>}``  hash         the record: ``user``, ``createdAt``,
                                        ``lastSeenAt``, ``ip``, ``userAgent``
``sess#own:<user>``        sorted set   the owner's session IDs, scored by
                                        last seen (ms)
=========================  ===========  =====================================

The record and owner keys start with the *meta prefix*: the prefix with its
last character replaced (``sess:`` -> ``sess#``), so they never match
``prefix*`` (connect-redis's ``length()``, ``ids()``, ``all()`` and
``clear()`` never see them) and session keys never match ``meta*``.  The
record key embeds the session key as a hash tag (``{sess:<sid>}``), so in
Redis Cluster both live in the session key's slot and one script can update
both.  Every record and owner key expires with the latest session it
describes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..cookie import format_iso, parse_iso
from ..records import Record
from .base import StoredSession, stored_expiry

#: The characters SCAN's MATCH treats specially.
_GLOB = str.maketrans({c: "\\" + c for c in "*?[]\\"})


def meta_prefix_for(prefix: str) -> str:
    """``prefix`` with its last character changed: ``sess:`` -> ``sess#``."""
    return prefix[:-1] + ("#" if prefix[-1] != "#" else "%")


@dataclass(frozen=True)
class Keys:
    """Where one store keeps its sessions, records and owner sets."""

    prefix: str
    meta: str

    def session(self, sid: str) -> str:
        """connect-redis's key: ``prefix + sid``."""
        return self.prefix + sid

    def record(self, sid: str) -> str:
        """The record hash, in the session key's Cluster hash slot."""
        key = self.prefix + sid
        if "{" in key or "}" in key:
            # The session key's own hash tag (if any) is also the first in
            # this key, since the meta prefix has no braces.
            return self.meta + "rec:" + key
        return self.meta + "rec:{" + key + "}"

    def script_keys(self, sid: str) -> list[str]:
        """A session script's ``KEYS``: the session key and its record hash."""
        return [self.session(sid), self.record(sid)]

    def owner(self, user: str) -> str:
        """The sorted set of ``user``'s sessions (owners match exactly: any str)."""
        return self.meta + "own:" + user

    @property
    def sessions_pattern(self) -> str:
        """``SCAN MATCH`` for session keys (glob characters in the prefix escaped)."""
        return self.prefix.translate(_GLOB) + "*"

    @property
    def meta_pattern(self) -> str:
        """``SCAN MATCH`` for record and owner keys."""
        return self.meta.translate(_GLOB) + "*"

    def sid_of(self, key: bytes | str) -> str:
        """The session ID in a session key."""
        return as_text(key)[len(self.prefix) :]


# -- the value: JSON.stringify's output -------------------------------------------

#: ``JSON.stringify``: no spaces, non-ASCII kept, key order kept.
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def encode(session: StoredSession, serializer: Any = None) -> bytes:
    """The stored value: ``JSON.stringify(session)``, or the ``serializer``'s ``dumps``."""
    text = _dumps(session) if serializer is None else serializer.dumps(session)
    return as_bytes(text)


def decode(raw: bytes, serializer: Any = None) -> StoredSession:
    """The stored session in ``raw``; ``ValueError`` when it is not an object."""
    session = json.loads(raw) if serializer is None else serializer.loads(raw)
    if not isinstance(session, dict):
        raise ValueError(f"a {type(session).__name__}, not an object")
    return session


def as_bytes(value: Any) -> bytes:
    """A reply or value as bytes (a client with ``decode_responses`` gives str)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def version(raw: bytes) -> str:
    """The version of a stored value: its SHA-1, as the scripts' ``redis.sha1hex`` gives it."""
    return hashlib.sha1(raw).hexdigest()


def renew_cookie(session: StoredSession, key_expiry: datetime) -> None:
    """Set ``cookie.expires`` to the key's expiry when a TTL-only touch left it behind.

    connect-redis's ``touch`` moves the key's TTL and leaves the value, so the
    stored ``cookie.expires`` goes stale; the key is what is live.  Within a
    second the difference is the TTL's rounding up, not a touch, and is kept.
    """
    cookie = session.get("cookie")
    written = stored_expiry(session) if isinstance(cookie, dict) else None
    if written is not None and key_expiry - written >= timedelta(seconds=1):
        cookie["expires"] = format_iso(key_expiry)  # type: ignore[index]


# -- expiry: connect-redis's getTTL, in absolute milliseconds ---------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    """POSIX milliseconds of an aware datetime (floored, in integers: no float rounding)."""
    return (moment - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of POSIX milliseconds."""
    return _EPOCH + ms * _MS


def expire_at(
    cookie_expiry: datetime | None,
    now: datetime,
    ttl: float,
    cap: datetime | None = None,
) -> int:
    """When the key expires (POSIX ms), or a value <= ``to_ms(now)`` when already expired.

    connect-redis's ``getTTL`` (``dist/connect-redis.cjs`` lines 123-135):
    the cookie's expiry in whole seconds, rounded up, else ``ttl``; then the
    idle or absolute timeout ``cap``, which is never exceeded.
    """
    now_ms = to_ms(now)
    seconds: float
    if cookie_expiry is not None:
        seconds = -((now_ms - to_ms(cookie_expiry)) // 1000)  # ceil, in integers
    else:
        seconds = ttl
    at = now_ms + int(seconds * 1000)
    if cap is not None:
        at = min(at, to_ms(cap))
    return at


def key_expiry(
    session: StoredSession, now: datetime, ttl: float, cap: datetime | None = None
) -> int:
    """:func:`expire_at` for a stored session: from its cookie's expiry, else ``ttl``."""
    return expire_at(stored_expiry(session), now, ttl, cap)


# -- the record hash ----------------------------------------------------------------


def record_fields(record: Record) -> list[str]:
    """Field/value pairs of the record hash (fields that are None are left out)."""
    pairs: list[str] = []
    for field, value in (
        ("user", record.user),
        ("createdAt", None if record.created_at is None else format_iso(record.created_at)),
        ("lastSeenAt", None if record.last_seen_at is None else format_iso(record.last_seen_at)),
        ("ip", record.ip),
        ("userAgent", record.user_agent),
    ):
        if value is not None:
            pairs += [field, value]
    return pairs


def as_text(value: Any) -> str:
    """A reply as str (IDs and owners are UTF-8; anything else survives as escapes)."""
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def record_from(pairs: Any) -> Record:
    """The :class:`Record` of an ``HGETALL`` reply (a flat list, or a dict)."""
    if isinstance(pairs, Mapping):
        items = {as_text(k): as_text(v) for k, v in pairs.items()}
    else:
        flat = list(pairs or ())
        items = {as_text(flat[i]): as_text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}

    def when(field: str) -> datetime | None:
        try:
            return parse_iso(items[field]) if field in items else None
        except ValueError:
            return None

    return Record(
        user=items.get("user"),
        created_at=when("createdAt"),
        last_seen_at=when("lastSeenAt"),
        ip=items.get("ip"),
        user_agent=items.get("userAgent"),
    )
