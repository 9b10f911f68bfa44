"""Session records: who a session belongs to, where it was last used, since when.

A store keeps a :class:`Record` beside each session's data (never inside the
data a view or an Express app sees).  :class:`SessionRecord` is the public,
read-only view of one, returned by
:meth:`SessionStore.sessions_of <flask_sessionstore.SessionStore.sessions_of>`.
Nothing here knows Flask, so every store can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from .cookie import parse_iso

#: How many characters of ``User-Agent`` a record keeps.
USER_AGENT_LIMIT = 512


class Record(NamedTuple):
    """What a store keeps beside one session's data (api.md section 8).

    Immutable (a named tuple: made on every write, so cheap to make).
    """

    #: The owner: ``str(session[user_key])`` at the last save, or None.
    user: str | None = None
    #: When the session was first stored (aware UTC).
    created_at: datetime | None = None
    #: When a request last used the session (aware UTC), to within the touch interval.
    last_seen_at: datetime | None = None
    #: ``request.remote_addr`` of that request, when ``track_client``.
    ip: str | None = None
    #: Its ``User-Agent`` (at most :data:`USER_AGENT_LIMIT` characters), when ``track_client``.
    user_agent: str | None = None


#: The record of a session nobody has recorded anything about (an Express app's, say).
EMPTY_RECORD = Record()


@dataclass(frozen=True)
class SessionRecord:
    """One live session of a user, as :meth:`SessionStore.sessions_of` lists it.

    ``current`` is True for the session of the request being served.
    """

    #: The session ID.
    id: str
    #: The owner (``str(session[user_key])`` at the last save), or None.
    user: str | None
    #: When the session was first stored.
    created_at: datetime | None
    #: When a request last used it (to within the touch interval).
    last_seen_at: datetime | None
    #: When it ends if unused: the store's expiry (timeouts included).
    expires_at: datetime | None
    #: The IP address of the last request that used it, when recorded.
    ip: str | None
    #: The ``User-Agent`` of that request, when recorded.
    user_agent: str | None
    #: Whether this is the session of the current request.
    current: bool = False

    @classmethod
    def of(cls, sid: str, record: Record, expires_at: datetime | None) -> SessionRecord:
        """The listing entry of session ``sid`` (``current`` False)."""
        return cls(
            id=sid,
            user=record.user,
            created_at=record.created_at,
            last_seen_at=record.last_seen_at,
            expires_at=expires_at,
            ip=record.ip,
            user_agent=record.user_agent,
        )


def owner_of(data: Mapping[str, Any], user_key: str | None) -> str | None:
    """The owner named by ``data[user_key]`` as a str, or None (no key, or owners off)."""
    if not user_key:
        return None
    value = data.get(user_key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def most_recent_first(records: list[SessionRecord]) -> list[SessionRecord]:
    """Sort by ``last_seen_at``, newest first (never seen last), then by ID for a stable order."""
    return sorted(
        records,
        key=lambda r: (r.last_seen_at is not None, r.last_seen_at or datetime.min, r.id),
        reverse=True,
    )


# -- the record inside a third-party store's session dict --------------------------
# A store that implements only the express contract has nowhere beside the
# data to keep a record, so the default Store methods embed this JSON form
# under ``RECORD_KEY`` (flask_sessionstore.stores.base).


def record_to_json(record: Record) -> dict[str, Any]:
    """The JSON form of ``record`` (express-style field names, ISO timestamps)."""

    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat()

    return {
        "user": record.user,
        "createdAt": iso(record.created_at),
        "lastSeenAt": iso(record.last_seen_at),
        "ip": record.ip,
        "userAgent": record.user_agent,
    }


def record_from_json(value: Any) -> Record:
    """The :class:`Record` of :func:`record_to_json`'s form; anything else is empty."""
    if not isinstance(value, Mapping):
        return EMPTY_RECORD

    def when(key: str) -> datetime | None:
        text = value.get(key)
        return parse_iso(text) if isinstance(text, str) else None

    def text(key: str) -> str | None:
        item = value.get(key)
        return item if isinstance(item, str) else None

    return Record(
        user=text("user"),
        created_at=when("createdAt"),
        last_seen_at=when("lastSeenAt"),
        ip=text("ip"),
        user_agent=text("userAgent"),
    )
