"""What a session is given: its app's policy and its request (the visit).

:class:`SessionPolicy` is shared by every session of one app (the store and
the options sessions apply); :class:`Visit` is what one session knows about
its request (the verified cookie ID, how to make a new ID and cookie, the
client).  Both are plain values, built by the session interface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .cookie import Cookie
from .records import Record
from .serialization import Tagger
from .stores.base import Store, StoredSession
from .timeouts import NO_TIMEOUTS, Timeouts

#: The top-level key under which the stored form keeps the cookie.
COOKIE_KEY = "cookie"


@dataclass(frozen=True)
class SessionPolicy:
    """What every session of one app shares: the store and the options sessions apply."""

    store: Store
    tagger: Tagger
    user_key: str | None = None
    track_client: bool = True
    timeouts: Timeouts = NO_TIMEOUTS
    #: ``PERMANENT_SESSION_LIFETIME`` in seconds (read when a session becomes permanent).
    permanent_lifetime: Callable[[], float | None] = lambda: None


@dataclass(slots=True)
class Visit:
    """What the session needs to know about its request (built once per request)."""

    #: The verified ID the browser sent (express's ``cookieId``), or None.
    cookie_sid: str | None
    #: Makes a new session ID (the ``genid`` option).
    genid: Callable[[], str]
    #: A cookie with the current options' attributes and expiry.
    make_cookie: Callable[[], Cookie]
    #: The current options' cookie attributes (:meth:`Cookie.attributes`).
    attributes: Callable[[], tuple[Any, ...]]
    ip: str | None = None
    user_agent: str | None = None

    def record(
        self, stored: Record, created: datetime, now: datetime, silent: bool, track: bool
    ) -> Record:
        """The record a write of this request stores (its ``user`` is the store's to derive).

        A silent request keeps the last activity (time and client) it found;
        otherwise this request is the last seen, from this client when
        ``track_client``.
        """
        if silent and stored.last_seen_at is not None:
            return Record(None, created, stored.last_seen_at, stored.ip, stored.user_agent)
        if track:
            return Record(None, created, now, self.ip, self.user_agent)
        return Record(None, created, now, None, None)


def stored_form(cookie: Cookie, data: dict[str, Any]) -> StoredSession:
    """The dict a store receives: the cookie's express JSON, then the data."""
    stored: StoredSession = {COOKIE_KEY: cookie.to_dict()}
    stored.update(data)
    return stored


def same_data(current: dict[str, Any], reference: dict[str, Any]) -> bool:
    """Equal data with the same top-level key order (a reorder counts, as in express)."""
    return current == reference and list(current) == list(reference)
