"""``ServerSession``: the object behind ``flask.session`` (express's ``req.session``).

A mutable mapping of the session's data, with Flask's ``SessionMixin`` and
express's methods (``regenerate``, ``destroy``, ``reload``, ``save``,
``touch``).  It is loaded lazily: a request that never uses the session never
contacts the store.  On first use it reads the ID the browser sent (already
verified) from the store, or generates a new ID when there is none, it is
unknown or expired, or the stored copy is corrupt: a client-chosen ID is
never adopted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask.sessions import NullSession, SessionMixin

from .cookie import Cookie
from .serialization import dump_data, load_data
from .stores.base import Store, StoredSession

logger = logging.getLogger("flask_sessionstore")

#: Makes a fresh identity for a new session: ``() -> (sid, cookie)``.
IdentityFactory = Callable[[], "tuple[str, Cookie]"]

#: The top-level key under which the stored form keeps the cookie.
COOKIE_KEY = "cookie"


@dataclass(frozen=True)
class RequestOutcome:
    """The facts express's decision rules look at, for one finished request."""

    #: The ID the browser sent (``cookieId``), None when it sent none valid.
    cookie_sid: str | None
    #: The session's ID now (``req.sessionID``).
    sid: str
    #: The data differs from the load, or the ID changed (``isModified``).
    modified: bool
    #: The data equals a state already written in this request or loaded with
    #: ``resave=False`` (``isSaved``); None when there is no such state (``savedHash`` unset).
    saved: bool | None
    #: An explicit ``save()`` in this request already wrote exactly this state.
    written: bool
    #: The cookie has an expiry (not a browser-session cookie).
    persistent: bool
    #: The data in its JSON-ready form, as it would be stored.
    data: dict[str, Any]


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


class ServerSession(SessionMixin):
    """The session of one request: its data, ID and :class:`Cookie`.

    Created by the session interface for every request; the store is read on
    first use.  Data is what plain JSON holds, plus the tuple, bytes,
    datetime, UUID and ``Markup`` values Flask's own session supports.
    """

    def __init__(
        self,
        store: Store,
        cookie_sid: str | None,
        new_identity: IdentityFactory,
        permanent_lifetime: Callable[[], float | None] = lambda: None,
    ) -> None:
        self._store = store
        #: The verified ID the browser sent, or None.
        self._cookie_sid = cookie_sid
        self._new_identity = new_identity
        self._permanent_lifetime = permanent_lifetime
        self._loaded = False
        self._data: dict[str, Any] = {}
        self._id = ""
        self._cookie: Cookie | None = None
        # What express calls originalId / originalHash: the state at load.
        self._origin_id = ""
        self._origin: dict[str, Any] = {}
        self._from_store = False
        # The state written by an explicit save() in this request.
        self._saved_id: str | None = None
        self._saved: dict[str, Any] | None = None
        self._destroyed = False
        self._cleared = False
        self._force_modified = False
        #: Set when the session was used in this request (Flask sets it too).
        self.accessed = False

    # -- loading ----------------------------------------------------------------

    def _load(self) -> None:
        self.accessed = True
        stored = self._store.get(self._cookie_sid) if self._cookie_sid else None
        if stored is not None and self._inflate(self._cookie_sid or "", stored):
            self._from_store = True
        else:
            self._generate()
        self._origin_id = self._id
        self._loaded = True

    def _inflate(self, sid: str, stored: StoredSession) -> bool:
        """Adopt a stored session; False (with a warning) if it is corrupt."""
        try:
            cookie = Cookie.from_dict(stored[COOKIE_KEY])
            origin = {k: v for k, v in stored.items() if k != COOKIE_KEY}
            data = load_data(origin)
        except Exception as exc:  # any shape of corruption means "no session"
            logger.warning(
                "session %.8s... in %s is corrupt (%s: %s); starting a new session",
                sid,
                type(self._store).__name__,
                type(exc).__name__,
                exc,
            )
            return False
        self._id, self._cookie, self._data, self._origin = sid, cookie, data, origin
        return True

    def _generate(self) -> None:
        self._id, self._cookie = self._new_identity()
        self._data = {}
        self._origin = {}

    def _writable(self) -> None:
        if not self._loaded:
            self._load()
        if self._destroyed:
            raise RuntimeError(
                "this session was destroyed in this request; call "
                "session.regenerate() to start a new one (for example to flash a "
                "message after logging out)"
            )

    # -- identity ---------------------------------------------------------------

    @property
    def id(self) -> str:
        """The session ID (express's ``req.sessionID``); read-only."""
        if not self._loaded:
            self._load()
        return self._id

    @property
    def cookie(self) -> Cookie:
        """The session's :class:`Cookie` (stored with the session)."""
        if not self._loaded:
            self._load()
        assert self._cookie is not None
        return self._cookie

    @property
    def new(self) -> bool:  # type: ignore[override]
        """True when the browser did not send this session's ID (new or regenerated)."""
        return self.id != self._cookie_sid

    @property
    def modified(self) -> bool:
        """True when the data differs from what was loaded, or was marked modified.

        Nested changes count (``session["cart"].append(x)``), unlike Flask's
        cookie session; changes to the cookie alone do not (express rule).
        Set it to True to force a save.
        """
        if self._force_modified or (self._loaded and self._origin_id != self._id):
            return True
        return self._loaded and not _same(dump_data(self._data), self._origin)

    @modified.setter
    def modified(self, value: bool) -> None:
        self._force_modified = bool(value)

    # -- the state the end of the request looks at -----------------------------

    @property
    def loaded(self) -> bool:
        """Whether the session was used (and so loaded) in this request."""
        return self._loaded

    @property
    def cookie_id(self) -> str | None:
        """The verified session ID the browser sent, or None (express's ``cookieId``)."""
        return self._cookie_sid

    @property
    def destroyed(self) -> bool:
        """Whether :meth:`destroy` was called (and no :meth:`regenerate` after it)."""
        return self._destroyed

    @property
    def emptied(self) -> bool:
        """Whether the view called ``clear()`` and left the session empty."""
        return self._cleared and not self._data

    @property
    def was_stored(self) -> bool:
        """Whether the store may hold this session (loaded from it, or saved now)."""
        return self._from_store or self._saved_id == self._id

    def outcome(self, resave: bool) -> RequestOutcome:
        """Finish the request's view of the session: the facts for express's rules.

        Applies permanence, touches the cookie (express does this at the end
        of every request that has a session) and snapshots the data once.
        ``resave=False`` counts a session loaded unchanged as already saved.
        """
        self.apply_permanence()
        cookie = self.cookie
        cookie.touch()
        sid = self._id
        current = dump_data(self._data)
        unchanged = self._origin_id == sid and _same(current, self._origin)
        written = self._saved_id == sid and self._saved is not None
        if written:
            saved: bool | None = _same(current, self._saved or {})
        elif not resave and self._from_store:
            saved = unchanged
        else:
            saved = None
        return RequestOutcome(
            cookie_sid=self._cookie_sid,
            sid=sid,
            modified=self._force_modified or not unchanged,
            saved=saved,
            written=bool(written and saved),
            persistent=cookie.expires is not None,
            data=current,
        )

    # -- express methods ------------------------------------------------------

    def regenerate(self, keep_data: bool = False) -> ServerSession:
        """Move to a new ID, destroying the old one in the store; returns the session.

        Use it at login against session fixation.  Data is dropped unless
        ``keep_data=True`` (express always drops it).  The new session gets
        a fresh cookie from the current options.
        """
        if not self._loaded:
            self._load()
        if self._from_store or self._saved_id == self._id:
            self._store.destroy(self._id)
        data = self._data
        self._generate()
        if keep_data and not self._destroyed:
            self._data = data
        self._destroyed = self._cleared = False
        self._from_store = False
        return self

    def destroy(self) -> None:
        """Remove the session from the store now.

        The response expires the browser's cookie (same Path and Domain;
        express leaves it dangling) and nothing is saved at the end of the
        request.  Writing to the session afterwards raises ``RuntimeError``.
        """
        if not self._loaded:
            self._load()
        self._store.destroy(self._id)
        self._destroyed = True
        self._from_store = False  # a later regenerate() has nothing left to destroy
        self._data = {}

    def reload(self) -> ServerSession:
        """Replace the data with the store's copy; ``KeyError`` if it is gone."""
        sid = self.id
        stored = self._store.get(sid)
        origin = self._origin
        if stored is None or not self._inflate(sid, stored):
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
        snapshot = dump_data(self._data)
        self.write(snapshot)
        self._saved_id, self._saved = self._id, snapshot
        return self

    def refresh(self, data: dict[str, Any]) -> None:
        """Refresh the stored expiry (and cookie) without rewriting the data (``Store.touch``)."""
        self._store.touch(self._id, stored_form(self.cookie, data))

    def write(self, data: dict[str, Any]) -> None:
        """Store ``data`` (the JSON-ready form of the data) with the cookie.

        A session loaded from the store under the same ID is written with
        :meth:`Store.merge` (only the keys this request changed or removed),
        so concurrent requests changing other keys keep their changes; a new
        or regenerated session is written whole with :meth:`Store.set`.
        """
        stored = stored_form(self.cookie, data)
        if self._from_store and self._origin_id == self._id:
            origin = self._origin
            changed = [k for k, v in data.items() if k not in origin or origin[k] != v]
            removed = [k for k in origin if k not in data]
            self._store.merge(self._id, stored, changed, removed)
        else:
            self._store.set(self._id, stored)

    def touch(self) -> ServerSession:
        """Reset ``cookie.expires`` to now + ``cookie.original_max_age``."""
        self.cookie.touch()
        return self

    def apply_permanence(self) -> None:
        """Give a permanent session (Flask's ``session.permanent``) a persistent cookie."""
        cookie = self.cookie
        if cookie.original_max_age is None and self._data.get("_permanent"):
            cookie.max_age = self._permanent_lifetime()

    # -- the mapping --------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        if not self._loaded:
            self._load()
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get``."""
        if not self._loaded:
            self._load()
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        if not self._loaded:
            self._load()
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        if not self._loaded:
            self._load()
        return iter(self._data)

    def __len__(self) -> int:
        if not self._loaded:
            self._load()
        return len(self._data)

    def __setitem__(self, key: str, value: Any) -> None:
        self._writable()
        if type(key) is not str:
            raise TypeError(f"session keys must be str, not {key!r}")
        if key == COOKIE_KEY:
            raise KeyError(
                "'cookie' is reserved: the stored session keeps the cookie under "
                "it; use session.cookie for the cookie, or another key for data"
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
        return f"<ServerSession {self._id[:8]}... {self._data!r}>"

    __hash__ = None  # type: ignore[assignment]


def stored_form(cookie: Cookie, data: dict[str, Any]) -> StoredSession:
    """The dict a store receives: the cookie's express JSON, then the data."""
    stored: StoredSession = {COOKIE_KEY: cookie.to_dict()}
    stored.update(data)
    return stored


def _same(current: dict[str, Any], reference: dict[str, Any]) -> bool:
    """Equal data with the same top-level key order (a reorder counts, as in express)."""
    return current == reference and list(current) == list(reference)
