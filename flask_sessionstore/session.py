"""``ServerSession``: the object behind ``flask.session`` (express's ``req.session``).

A mutable mapping of the session's data, with Flask's ``SessionMixin`` and
express's methods (``regenerate``, ``destroy``, ``reload``, ``save``,
``touch``).  It is loaded lazily: a request that never uses the session never
contacts the store.  On first use it reads the ID the browser sent (already
verified) from the store, or generates a new ID when there is none, it is
unknown, expired, timed out, or the stored copy is corrupt: a client-chosen
ID is never adopted.  Its store side (the load, the writes, the record) is
:class:`~flask_sessionstore.state.SessionState`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask.sessions import NullSession, SessionMixin

from .policy import COOKIE_KEY, same_data
from .state import SessionState
from .stores.base import RECORD_KEY

_RESERVED = (COOKIE_KEY, RECORD_KEY)


class OutsideCookiePathSession(NullSession):
    """``flask.session`` for a request whose path is outside the cookie ``path``.

    Reading works and finds nothing; writing raises ``RuntimeError``.
    """

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "There is no session on this request: its path is outside the session "
            "cookie's path, so no session cookie is read or set here."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail
    del _fail


class ServerSession(SessionState, SessionMixin):
    """The session of one request: its data, ID, :class:`Cookie` and record.

    Created by the session interface for every request; the store is read on
    first use.  Data is what plain JSON holds, plus the tuple, bytes,
    datetime, UUID and ``Markup`` values Flask's own session supports.
    """

    # -- identity and record ------------------------------------------------------

    @property
    def id(self) -> str:
        """The session ID (express's ``req.sessionID``); read-only."""
        self._used()
        return self._id

    @property
    def sid(self) -> str:
        """The session ID, under the name Flask-Session uses (same as :attr:`id`)."""
        return self.id

    @property
    def new(self) -> bool:  # type: ignore[override]
        """True when the browser did not send this session's ID (new or regenerated)."""
        return self.id != self._visit.cookie_sid

    @property
    def created_at(self) -> datetime | None:
        """When the session was first stored (aware UTC); None before its first save."""
        self._used()
        return self._record.created_at

    @property
    def last_seen_at(self) -> datetime | None:
        """When a request last used the session (to within the touch interval), or None."""
        self._used()
        return self._record.last_seen_at

    @property
    def expires_at(self) -> datetime | None:
        """When the session ends if unused: cookie expiry, idle or absolute timeout, earliest."""
        self._used()
        record = self._record
        ends = [
            self.cookie.expires,
            self._policy.timeouts.deadline(record.created_at, record.last_seen_at),
        ]
        return min((end for end in ends if end is not None), default=None)

    @property
    def modified(self) -> bool:
        """True when the data differs from what was loaded, or was marked modified.

        Nested changes count (``session["cart"].append(x)``), unlike Flask's
        cookie session; changes to the cookie alone do not (express rule).
        Set it to True to force a save.
        """
        if self._force_modified or (self._loaded and self._origin_id != self._id):
            return True
        return self._loaded and not same_data(self._policy.tagger.dump(self._data), self._origin)

    @modified.setter
    def modified(self, value: bool) -> None:
        self._force_modified = bool(value)

    # -- express methods ------------------------------------------------------

    def regenerate(self, keep_data: bool = False) -> ServerSession:
        """Move to a new ID, destroying the old one in the store; returns the session.

        Use it at login against session fixation.  Data is dropped unless
        ``keep_data=True`` (express always drops it), which also keeps the
        record's ``created_at``.  The new session gets a fresh cookie from the
        current options.
        """
        self._used()
        if self._base is not None:
            self._call("destroy", self._policy.store.destroy, self._id)
        data, created = self._data, self._record.created_at
        self._generate()
        if keep_data and not self._destroyed:
            self._data, self._kept_created_at = data, created
        else:
            self._kept_created_at = None
        self._destroyed = self._cleared = self.revoked = False
        return self

    def destroy(self) -> None:
        """Remove the session from the store now.

        The response expires the browser's cookie (same Path and Domain;
        express leaves it dangling) and nothing is saved at the end of the
        request.  Writing to the session afterwards raises ``RuntimeError``.
        """
        self._used()
        self._call("destroy", self._policy.store.destroy, self._id)
        self._destroyed = True
        self._base, self._base_data, self._data = None, {}, {}

    def reload(self) -> ServerSession:
        """Replace the data with the store's copy; ``KeyError`` if it is gone."""
        sid = self.id
        loaded = self._call("load", self._policy.store.load, sid)
        origin = self._origin
        if loaded is None or not self._adopt(sid, loaded):
            raise KeyError(f"session {sid[:8]}... is no longer in the store")
        self._origin = origin  # as in express, changes are still judged against the start
        return self

    def save(self) -> ServerSession:
        """Write the session to the store now; returns the session.

        Useful before streaming a response.  The end of the request writes
        again only if the data changed after this call.
        """
        self._writable()
        self.apply_permanence()
        snapshot = self._policy.tagger.dump(self._data)
        self.write(snapshot)
        self._saved_id, self._saved = self._id, snapshot
        return self

    def touch(self) -> ServerSession:
        """Reset ``cookie.expires`` to now + ``cookie.original_max_age``."""
        self.cookie.touch()
        return self

    # -- the mapping --------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self._used()
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get``."""
        self._used()
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        self._used()
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        self._used()
        return iter(self._data)

    def __len__(self) -> int:
        self._used()
        return len(self._data)

    def __setitem__(self, key: str, value: Any) -> None:
        self._writable()
        if type(key) is not str:
            raise TypeError(f"session keys must be str, not {key!r}")
        if key in _RESERVED:
            raise KeyError(
                f"{key!r} is reserved: the stored session keeps "
                + ("the cookie" if key == COOKIE_KEY else "the session's record")
                + " under it; use another key for data"
            )
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        self._writable()
        del self._data[key]

    def clear(self) -> None:
        """Remove all data (with ``unset="destroy"``, an emptied session is destroyed)."""
        self._writable()
        self._data.clear()
        self._cleared = True

    def __repr__(self) -> str:
        if not self._loaded:
            return "<ServerSession (not loaded)>"
        return f"<ServerSession {self._id[:8]}... {sorted(self._data)!r}>"

    __hash__ = None  # type: ignore[assignment]
