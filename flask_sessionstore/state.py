"""What one request knows about its session in the store, and the store calls.

:class:`SessionState` is the half of :class:`~flask_sessionstore.ServerSession`
that talks to the store: the lazy load, what it returned (a
:class:`~flask_sessionstore.stores.base.Loaded`: the store's version, the
record, the store's expiry), the writes and refreshes that hand it back, and
the facts the end of the request decides on.  It is kept on the request's own
session object, never in thread, greenlet or process state, so the store
guarantees hold in async views, in threads started with
``copy_current_request_context``, and under gevent.

A failed store call is logged once and raised as a 503
(:class:`~flask_sessionstore.SessionUnavailable`); the rest of the request
never calls the store again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar

from .cookie import Cookie, utcnow
from .decisions import RequestOutcome
from .errors import SessionUnavailable, store_failure
from .policy import COOKIE_KEY, SessionPolicy, Visit, same_data, stored_form
from .records import EMPTY_RECORD, owner_of
from .serialization import SerializationError
from .stores.base import Loaded, Write
from .stores.errors import SessionTooLargeError
from .timeouts import refresh_due, touch_interval

logger = logging.getLogger("flask_sessionstore")


T = TypeVar("T")


class SessionState:
    """The store side of one request's session (see the module docstring).

    Most requests never use their session, so creating one costs almost
    nothing: the defaults are class attributes, and the :class:`Visit` (the
    verified cookie ID and the rest) is only worked out on first use.
    """

    _loaded = False
    _failure: SessionUnavailable | None = None
    _id = ""
    _cookie: Cookie | None = None
    _attributes_changed = False
    # What express calls originalId (and _origin, originalHash): the state at load.
    _origin_id = ""
    # What the store holds for _id as far as this request knows: the load or
    # the last write (None: nothing stored under _id); _base_data is our own
    # data as of then (changes are computed against it).
    _base: Loaded | None = None
    _record = EMPTY_RECORD
    _kept_created_at: datetime | None = None
    # The state written by an explicit save() in this request (express's savedHash).
    _saved_id: str | None = None
    _saved: dict[str, Any] | None = None
    _destroyed = False
    _cleared = False
    _force_modified = False
    #: True once a write found the session gone (revoked elsewhere); the
    #: request then writes it no more, until ``regenerate()``.
    revoked = False
    #: This request's use of the session is not activity (api.md section 9).
    silent = False
    #: Set when the session was used in this request (Flask sets it too).
    accessed = False

    def __init__(self, policy: SessionPolicy, visit: Callable[[], Visit]) -> None:
        self._policy = policy
        self._make_visit = visit
        self._data: dict[str, Any] = {}
        self._origin: dict[str, Any] = {}
        self._base_data: dict[str, Any] = {}

    @cached_property
    def _visit(self) -> Visit:
        return self._make_visit()

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

    def _load(self) -> None:
        self.accessed = True
        sid = self._visit.cookie_sid
        loaded = self._call("load", self._policy.store.load, sid) if sid else None
        timeouts = self._policy.timeouts
        if loaded is not None and timeouts.enabled and timeouts.is_over(loaded.record, utcnow()):
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
        self._attributes_changed = cookie.adopt_attributes(self._visit.attributes())
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
        # After a failed load the session reads as empty (an error page may
        # render flashes), while writes raise the 503 again: it fails once.
        if not self._loaded and self._failure is None:
            self._load()

    def _writable(self) -> None:
        self._used()
        if self._failure is not None:
            raise self._failure
        if self._destroyed:
            raise RuntimeError(
                "this session was destroyed in this request; call "
                "session.regenerate() to start a new one (for example to flash a "
                "message after logging out)"
            )

    @property
    def cookie(self) -> Cookie:
        """The session's :class:`Cookie`."""
        self._used()
        if self._cookie is None:
            raise self._failure or RuntimeError("the session has no cookie yet")
        return self._cookie

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
        timeouts = self._policy.timeouts
        if timeouts.absolute is not None:
            end = timeouts.absolute_end(self._created_at(utcnow()))
            if end is not None:
                cookie.cap(end)
        sid = self._id
        current = self._policy.tagger.dump(self._data)
        unchanged = self._origin_id == sid and same_data(current, self._origin)
        written = self._saved_id == sid and self._saved is not None
        if written:
            saved: bool | None = same_data(current, self._saved or {})
        elif not resave and self._base is not None and self._origin_id == sid:
            saved = unchanged
        else:
            saved = None
        return RequestOutcome(
            self._visit.cookie_sid,  # cookie_sid
            sid,
            self._force_modified or not unchanged,  # modified
            saved,
            bool(written and saved),  # written
            cookie.expires is not None,  # persistent
            bool(self._data.get("_permanent")),  # permanent
            self.silent,
            self._attributes_changed,
            current,  # data
        )

    def _created_at(self, now: datetime) -> datetime:
        return self._record.created_at or self._kept_created_at or now

    def _write_for(self, data: dict[str, Any], now: datetime) -> Write:
        """The :class:`Write` of ``data`` with this request's record and expiry cap."""
        policy = self._policy
        created = self._created_at(now)
        record = self._visit.record(self._record, created, now, self.silent, policy.track_client)
        old = self._base_data
        return Write(
            session=stored_form(self.cookie, data),
            base=self._base,
            changed=tuple(k for k, v in data.items() if k not in old or old[k] != v),
            removed=tuple(k for k in old if k not in data),
            record=record,
            user_key=policy.user_key,
            expires_cap=policy.timeouts.deadline(created, record.last_seen_at),
        )

    def write(self, data: dict[str, Any]) -> None:
        """Store ``data`` (the JSON-ready form of the data) with the cookie and record.

        A session the store holds is written as this request's changes on
        top of the version it loaded (:meth:`Store.write` merges onto a newer
        one), so concurrent requests changing other keys keep their change;
        one that was destroyed or revoked meanwhile is not written back, by
        this write or any later one of the request (call ``regenerate()`` to
        start a new session).
        """
        if self.revoked:
            return
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
        store = policy.store
        if not force and self._record.created_at is not None and store.touch_after != 0:
            # decided before building the write: most read-only requests stop here
            cookie = self.cookie
            timeouts = policy.timeouts
            interval = touch_interval(
                store.touch_after, cookie.original_max_age, timeouts.idle, store.ttl
            )
            new_expiry = cookie.expires
            if new_expiry is None:
                new_expiry = now + timedelta(seconds=store.ttl or 0)
            end = timeouts.deadline(self._created_at(now), now)
            if end is not None and end < new_expiry:
                new_expiry = end
            if not refresh_due(self._base.expires_at, new_expiry, store.touch_after, interval):
                return
        write = self._write_for(data, now)
        result = self._call("refresh", store.refresh, self._id, write)
        if result is not None:
            self._base, self._record = result, result.record

    def limit_sessions(self, limit: int) -> None:
        """Revoke the owner's least recently seen other sessions beyond ``limit``.

        ``max_sessions_per_user``: called after the save that gave this
        session its owner.  One indexed query, then one revoke per excess
        session; a store failure is a 503 like any other.
        """
        owner, store, current = self._record.user, self._policy.store, self._id
        if owner is None:
            return

        def trim(sid: str) -> None:
            others = [r.id for r in store.sessions_of(owner) if r.id != sid]
            for excess in others[max(limit - 1, 0) :]:
                store.revoke(excess)

        self._call("max_sessions_per_user", trim, current)

    def _settle(self, result: Loaded | None, data: dict[str, Any]) -> None:
        if result is None:
            self.revoked = True  # destroyed or revoked elsewhere: that wins
            self._base, self._base_data = None, {}
            return
        self._base, self._base_data, self._record = result, data, result.record

    def apply_permanence(self) -> None:
        """Give a permanent session (Flask's ``session.permanent``) a persistent cookie."""
        cookie = self.cookie
        if cookie.original_max_age is None and self._data.get("_permanent"):
            cookie.max_age = self._policy.permanent_lifetime()
