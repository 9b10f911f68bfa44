"""How one RedisStore turns a session into its stored value, and a load back into a session.

:mod:`.redis_format` has the rules (``JSON.stringify``'s output, the key's
expiry); :class:`ValueCodec` applies them with one store's ``serializer``:
it refuses a value over the size limit before anything is sent, reads an
unreadable value as a missing session (with a warning naming the store),
and turns the ``LOAD`` script's reply into a
:class:`~flask_sessionstore.stores.base.Loaded`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from .base import Loaded, StoredSession
from .errors import too_large, warn_unreadable
from .redis_format import (
    as_bytes,
    decode,
    encode,
    from_ms,
    record_from,
    renew_cookie,
    to_ms,
    version,
)


class Serializer(Protocol):
    """connect-redis's ``serializer`` (``stringify``/``parse``), Python-style."""

    def dumps(self, obj: Any, /) -> str | bytes: ...  # noqa: D102
    def loads(self, text: Any, /) -> Any: ...  # noqa: D102


class ValueCodec:
    """One store's stored values: its ``serializer``; ``name`` is how warnings name the store."""

    def __init__(self, name: str, serializer: Serializer | None) -> None:
        self.name = name
        self.serializer = serializer

    def __repr__(self) -> str:
        return f"<ValueCodec of {self.name}>"

    def encode(self, sid: str, session: StoredSession, limit: int | None) -> bytes:
        """The stored value; :class:`SessionTooLargeError` (before any I/O) over ``limit`` bytes."""
        raw = encode(session, self.serializer)
        if limit is not None and len(raw) > limit:
            raise too_large("RedisStore", sid, session, len(raw), limit)
        return raw

    def decode(self, sid: str, raw: bytes) -> StoredSession | None:
        """The stored session, or None (with a warning) if it cannot be read."""
        try:
            return decode(raw, self.serializer)
        except Exception as exc:
            warn_unreadable(self.name, sid, exc)
            return None

    def loaded(self, sid: str, reply: Any, now: datetime) -> Loaded | None:
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
        session = self.decode(sid, raw)
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
