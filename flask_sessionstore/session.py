"""``ServerSession``: the object behind ``flask.session`` (express's ``req.session``).

A mutable mapping of the session's data, with Flask's ``SessionMixin`` and
express's methods (``regenerate``, ``destroy``, ``reload``, ``save``,
``touch``).  It is loaded lazily: a request that never uses the session never
contacts the store.  On first use it reads the ID the browser sent (already
verified) from the store, or generates a new ID when there is none, it is
unknown, expired, timed out, or the stored copy is corrupt: a client-chosen
ID is never adopted.

Everything the save needs from the load (the store's version, the record,
the store's expiry: a :class:`~flask_sessionstore.stores.base.Loaded`) is
kept here, on the request's own session object, and handed back to the store
with each write.  Nothing links a load to a save through thread, greenlet or
process state, so the store guarantees hold in async views, in threads
started with ``copy_current_request_context``, and under gevent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask.sessions import NullSession, SessionMixin

from .cookie import Cookie, utcnow
from .errors import SessionUnavailable, store_failure
from .records import EMPTY_RECORD, Record, owner_of
from .serialization import SerializationError, Tagger
from .stores.base import RECORD_KEY, Loaded, Store, StoredSession, Write
from .stores.errors import SessionTooLargeError
from .timeouts import NO_TIMEOUTS, Timeouts, refresh_due, touch_interval

logger = logging.getLogger("flask_sessionstore")

#: The top-level key under which the stored form keeps the cookie.
COOKIE_KEY = "cookie"
_RESERVED = (COOKIE_KEY, RECORD_KEY)

T = TypeVar("T")


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


@dataclass(frozen=True)
class Visit:
    """What the session needs to know about its request."""

    #: The verified ID the browser sent (express's ``cookieId``), or None.
    cookie_sid: str | None
    #: Makes a new session ID (the ``genid`` option).
    genid: Callable[[], str]
    #: A cookie with the current options' attributes and expiry.
    make_cookie: Callable[[], Cookie]
    ip: str | None = None
    user_agent: str | None = None


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
    #: ``resave=False`` (``isSaved``); None when there is no such state.
    saved: bool | None
    #: An explicit ``save()`` in this request already wrote exactly this state.
    written: bool
    #: The cookie has an expiry (not a browser-session cookie).
    persistent: bool
    #: Flask's ``session.permanent``.
    permanent: bool
    #: ``session.silent``: the use of the session is not activity.
    silent: bool
    #: The stored cookie attributes differ from the current options.
    attributes_changed: bool
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
    """The session of one request: its data, ID, :class:`Cookie` and record.

    Created by the session interface for every request; the store is read on
    first use.  Data is what plain JSON holds, plus the tuple, bytes,
    datetime, UUID and ``Markup`` values Flask's own session supports.
    """

    def __init__(self, policy: SessionPolicy, visit: Visit) -> None:
        self._policy = policy
        self._visit = visit
        self._loaded = False
        self._failure: SessionUnavailable | None = None
        self._data: dict[str, Any] = {}
        self._id = ""
        self._cookie: Cookie | None = None
        self._attributes_changed = False
        # What express calls originalId / originalHash: the state at load.
        self._origin_id = ""
        self._origin: dict[str, Any] = {}
        # What the store holds for _id as far as this request knows: the load
        # or the last write (None: nothing stored under _id), and our own
        # data as of then (changes are computed against it).
        self._base: Loaded | None = None
        self._base_data: dict[str, Any] = {}
        self._record = EMPTY_RECORD
        self._kept_created_at: datetime | None = None
        # The state written by an explicit save() in this request.
        self._saved_id: str | None = None
        self._saved: dict[str, Any] | None = None
        self._destroyed = False
        self._cleared = False
        self._force_modified = False
        #: True when the last write found the session gone (revoked elsewhere).
        self.revoked = False
        #: This request's use of the session is not activity (api.md section 9).
        self.silent = False
        #: Set when the session was used in this request (Flask sets it too).
        self.accessed = False

    # -- store calls: a failure is logged once and answered with 503 --------------

    def _call(self, action: str, method: Callable[..., T], *args: Any) -> T:
        if self._failure is not None:
            raise self._failure
        try:
            return method(*args)
        except (SessionTooLargeError, SerializationError):
            raise
        except Exception as exc:
            store = self._policy.store
            name = getattr(store, "name", None) or type(store).__name__
            sid = str(args[0]) if args else ""
            self._failure = store_failure(str(name), action, sid, exc)
            raise self._failure from exc

    @property
    def failure(self) -> SessionUnavailable | None:
        """The 503 this request got from the store, if any (the store is not called again)."""
        return self._failure

    # -- loading ----------------------------------------------------------------

    def _load(self) -> None:
        self.accessed = True
        sid = self._visit.cookie_sid
        loaded = self._call("load", self._policy.store.load, sid) if sid else None
        if loaded is not None and self._policy.timeouts.is_over(loaded.record, utcnow()):
            self._call("destroy", self._policy.store.destroy, sid)  # timed out: gone for good
            loaded = None
        if loaded is None or not self._adopt(sid or "", loaded):
            self._generate()
        self._origin_id = self._id
        self._loaded = True

    def _adopt(self, sid: str, loaded: Loaded) -> bool:
        """Take a loaded session as this request's; False (with a warning) if corrupt."""
        try:
            cookie = Cookie.from_dict(loaded.session[COOKIE_KEY])
            origin = loaded.data
            data = self._policy.tagger.load(origin)
        except Exception as exc:  # any shape of corruption means "no session"
            logger.warning(
                "session %.8s... in %s is corrupt (%s: %s); starting a new session",
                sid,
                type(self._policy.store).__name__,
                type(exc).__name__,
                exc,
            )
            return False
        self._attributes_changed = cookie.adopt_attributes(self._visit.make_cookie())
        self._id, self._cookie, self._data, self._origin = sid, cookie, data, origin
        self._base, self._base_data, self._record = loaded, origin, loaded.record
        return True

    def _generate(self) -> None:
        sid = self._visit.genid()
        if not isinstance(sid, str) or not sid:
            raise TypeError(f"genid must return a non-empty str, it returned {sid!r}")
        self._id, self._cookie = sid, self._visit.make_cookie()
        self._data, self._origin = {}, {}
        self._base, self._base_data, self._record = None, {}, EMPTY_RECORD
        self._attributes_changed = False

    def _used(self) -> None:
        if not self._loaded:
            self._load()

    def _writable(self) -> None:
        self._used()
        if self._destroyed:
            raise RuntimeError(
                "this session was destroyed in this request; call "
                "session.regenerate() to start a new one (for example to flash a "
                "message after logging out)"
            )

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
    def cookie(self) -> Cookie:
        """The session's :class:`Cookie`."""
        self._used()
        assert self._cookie is not None
        return self._cookie

    @property
    def new(self) -> bool:  # type: ignore[override]
        """True when the browser did not send this session's ID (new or regenerated)."""
        return self.id != self._visit.cookie_sid

    @property
    def owner(self) -> str | None:
        """The owner the session's data names now (``str(session[user_key])``), or None."""
        self._used()
        return owner_of(self._data, self._policy.user_key)

    @property
    def stored_owner(self) -> str | None:
        """The owner in the record as this request last loaded or wrote it."""
        return self._record.user

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
        return self._loaded and not _same(self._policy.tagger.dump(self._data), self._origin)

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
        return self._visit.cookie_sid

    @property
    def destroyed(self) -> bool:
        """Whether :meth:`destroy` was called (and no :meth:`regenerate` after it)."""
        return self._destroyed

    @property
    def emptied(self) -> bool:
        """Whether the request left the session empty after it had data, or cleared it.

        With ``unset="destroy"`` such a session is removed (like Flask, which
        deletes an emptied cookie session), whichever way it was emptied.
        """
        if self._data:
            return False
        return self._cleared or (self._base is not None and bool(self._base_data))

    @property
    def was_stored(self) -> bool:
        """Whether the store may hold this session (loaded from it, or written now)."""
        return self._base is not None

    def outcome(self, resave: bool) -> RequestOutcome:
        """Finish the request's view of the session: the facts for express's rules.

        Applies permanence, touches the cookie (express does this at the end
        of every request that has a session; not for a silent one), caps it at
        the absolute timeout and snapshots the data once.
        """
        self.apply_permanence()
        cookie = self.cookie
        if not self.silent:
            cookie.touch()
        end = self._policy.timeouts.absolute_end(self._created_at(utcnow()))
        if end is not None:
            cookie.cap(end)
        sid = self._id
        current = self._policy.tagger.dump(self._data)
        unchanged = self._origin_id == sid and _same(current, self._origin)
        written = self._saved_id == sid and self._saved is not None
        if written:
            saved: bool | None = _same(current, self._saved or {})
        elif not resave and self._base is not None and self._origin_id == sid:
            saved = unchanged
        else:
            saved = None
        return RequestOutcome(
            cookie_sid=self._visit.cookie_sid,
            sid=sid,
            modified=self._force_modified or not unchanged,
            saved=saved,
            written=bool(written and saved),
            persistent=cookie.expires is not None,
            permanent=bool(self._data.get("_permanent")),
            silent=self.silent,
            attributes_changed=self._attributes_changed,
            data=current,
        )

    # -- writing -----------------------------------------------------------------

    def _created_at(self, now: datetime) -> datetime:
        return self._record.created_at or self._kept_created_at or now

    def _write_for(self, data: dict[str, Any], now: datetime) -> Write:
        """The :class:`Write` of ``data`` with this request's record and expiry cap."""
        policy, base, visit = self._policy, self._record, self._visit
        created = self._created_at(now)
        if self.silent and base.last_seen_at is not None:
            seen, ip, agent = base.last_seen_at, base.ip, base.user_agent
        elif policy.track_client:
            seen, ip, agent = now, visit.ip, visit.user_agent
        else:
            seen, ip, agent = now, None, None
        record = Record(None, created, seen, ip, agent)
        old = self._base_data
        return Write(
            session=stored_form(self.cookie, data),
            base=self._base,
            changed=tuple(k for k, v in data.items() if k not in old or old[k] != v),
            removed=tuple(k for k in old if k not in data),
            record=record,
            user_key=policy.user_key,
            expires_cap=policy.timeouts.deadline(created, seen),
        )

    def write(self, data: dict[str, Any]) -> None:
        """Store ``data`` (the JSON-ready form of the data) with the cookie and record.

        A session the store holds is written as this request's changes on
        top of the version it loaded (:meth:`Store.write` merges onto a newer
        one), so concurrent requests changing other keys keep their change;
        one that was destroyed or revoked meanwhile is not written back.
        """
        write = self._write_for(data, utcnow())
        result = self._call("save", self._policy.store.write, self._id, write)
        self._settle(result, data)

    def refresh(self, data: dict[str, Any], force: bool = False) -> None:
        """Refresh the stored expiry, cookie and record without rewriting the data.

        Skipped while the new expiry would not move by more than the touch
        interval (section 5), unless ``force`` (attributes or record to store).
        """
        if self._base is None:
            return
        policy, now = self._policy, utcnow()
        write = self._write_for(data, now)
        store = policy.store
        if not force and self._record.created_at is not None:
            interval = touch_interval(
                store.touch_after,
                self.cookie.original_max_age,
                policy.timeouts.idle,
                store.ttl,
            )
            new_expiry = write.expiry(write.session, now, store.ttl)
            if not refresh_due(self._base.expires_at, new_expiry, store.touch_after, interval):
                return
        result = self._call("refresh", store.refresh, self._id, write)
        if result is not None:
            self._base, self._record = result, result.record

    def _settle(self, result: Loaded | None, data: dict[str, Any]) -> None:
        if result is None:
            self.revoked = True  # destroyed or revoked elsewhere: that wins
            self._base, self._base_data = None, {}
            return
        self._base, self._base_data, self._record = result, data, result.record

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
        self._destroyed = self._cleared = False
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

    def apply_permanence(self) -> None:
        """Give a permanent session (Flask's ``session.permanent``) a persistent cookie."""
        cookie = self.cookie
        if cookie.original_max_age is None and self._data.get("_permanent"):
            cookie.max_age = self._policy.permanent_lifetime()

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


def stored_form(cookie: Cookie, data: dict[str, Any]) -> StoredSession:
    """The dict a store receives: the cookie's express JSON, then the data."""
    stored: StoredSession = {COOKIE_KEY: cookie.to_dict()}
    stored.update(data)
    return stored


def _same(current: dict[str, Any], reference: dict[str, Any]) -> bool:
    """Equal data with the same top-level key order (a reorder counts, as in express)."""
    return current == reference and list(current) == list(reference)
