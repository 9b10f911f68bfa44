"""``SessionStore``: the Flask extension (express-session's ``session()`` middleware)."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Literal

import click
from flask import Flask, Request, current_app

from . import accounts
from .configkeys import check_config_keys, warn_user
from .interface import ServerSessionInterface
from .options import CookieOption, SecretOption, SessionOptions, build_options
from .records import SessionRecord
from .stores.base import Store
from .stores.memory import MemoryStore

#: The key of this extension in ``app.extensions``.
EXTENSION_KEY = "sessionstore"

_KEYWORDS = (
    "secret",
    "store",
    "name",
    "cookie",
    "genid",
    "proxy",
    "resave",
    "rolling",
    "save_uninitialized",
    "unset",
    "user_key",
    "track_client",
    "idle_timeout",
    "absolute_timeout",
    "max_sessions_per_user",
)


class SessionStore:
    """Server-side sessions for Flask with express-session's semantics.

    ``flask.session`` becomes a :class:`~flask_sessionstore.ServerSession`
    whose data lives in ``store``; the browser only holds a signed session ID.
    Every keyword falls back to an ``app.config`` key when it is None (see
    the configuration reference); invalid values raise ``ValueError`` or
    ``TypeError`` at :meth:`init_app`, naming the keyword or config key.  The
    app is never stored on the extension, so one instance can serve several
    apps::

        sessions = SessionStore(store=MongoStore(mongo_url=...))
        sessions.init_app(app)

    :param secret: signing secret(s); element 0 signs, all verify (``SESSION_SECRET``,
        default ``[app.secret_key, *SECRET_KEY_FALLBACKS]``).
    :param store: a :class:`~flask_sessionstore.Store` (``SESSION_STORE``, default a new
        :class:`~flask_sessionstore.MemoryStore`).
    :param name: cookie name (``SESSION_COOKIE_NAME``); ``"connect.sid"`` shares sessions
        with express-session.
    :param cookie: cookie options dict, or a callable ``(request) -> dict`` (Flask's
        ``SESSION_COOKIE_*`` keys and ``SESSION_COOKIE_MAX_AGE``).
    :param genid: ``(request) -> str`` making new session IDs (``SESSION_GENID``).
    :param proxy: None trusts ``request.is_secure``; True trusts ``X-Forwarded-Proto``;
        False trusts only the WSGI scheme (``SESSION_PROXY``).
    :param resave: write unchanged sessions back on every request (``SESSION_RESAVE``,
        default False; express defaults to true).
    :param rolling: send the cookie, with renewed expiry, on every response
        (``SESSION_ROLLING``).
    :param save_uninitialized: give every new visitor a saved session and a cookie
        (``SESSION_SAVE_UNINITIALIZED``, default False; express defaults to true).
    :param unset: ``"destroy"`` (default) or ``"keep"``: what happens to a session
        that had data and ends a request empty (``SESSION_UNSET``).
    :param user_key: the session key naming the owner in the session's record
        (``SESSION_USER_KEY``, default ``"_user_id"``, Flask-Login's); False: no owners.
    :param track_client: record the IP and User-Agent of the last request
        (``SESSION_TRACK_CLIENT``, default True).
    :param idle_timeout: end sessions unused for this long, seconds or ``timedelta``
        (``SESSION_IDLE_TIMEOUT``).
    :param absolute_timeout: end sessions this long after they were created, however
        active (``SESSION_ABSOLUTE_TIMEOUT``).
    :param max_sessions_per_user: an owner's sessions beyond this many, least recently
        seen first, are revoked at login (``SESSION_MAX_PER_USER``).
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        secret: SecretOption | None = None,
        store: Store | None = None,
        name: str | None = None,
        cookie: CookieOption | None = None,
        genid: Callable[[Request], str] | None = None,
        proxy: bool | None = None,
        resave: bool | None = None,
        rolling: bool | None = None,
        save_uninitialized: bool | None = None,
        unset: Literal["keep", "destroy"] | None = None,
        user_key: str | Literal[False] | None = None,
        track_client: bool | None = None,
        idle_timeout: float | timedelta | None = None,
        absolute_timeout: float | timedelta | None = None,
        max_sessions_per_user: int | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise TypeError(_unknown_keywords(unknown))
        values = locals()
        self._keywords: Mapping[str, Any] = {name: values[name] for name in _KEYWORDS}
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        given = [name for name in _KEYWORDS if self._keywords[name] is not None]
        return f"<SessionStore given={', '.join(given) or 'nothing'} (secrets hidden)>"

    def init_app(self, app: Flask) -> None:
        """Install server-side sessions on ``app``.

        Validates the options, sets ``app.session_interface``, registers the
        extension in ``app.extensions["sessionstore"]`` and adds the
        ``flask sessions`` command group.  Warns about leftover Flask-Session
        config keys and near-miss ``SESSION_*`` typos.
        """
        check_config_keys(app.config)
        options = build_options(app, self._keywords)
        if options.max_sessions_per_user is not None and not _has_owner_index(options.store):
            raise ValueError(
                f"max_sessions_per_user needs a store with an owner index; "
                f"{type(options.store).__name__} has none (MemoryStore, MongoStore and "
                "RedisStore do)"
            )
        if isinstance(options.store, MemoryStore) and not (app.debug or app.testing):
            _warn_memory_store(options.store)
        app.session_interface = ServerSessionInterface(options, app)
        app.extensions[EXTENSION_KEY] = options
        from .cli import sessions_command

        if "sessions" not in app.cli.commands:
            app.cli.add_command(sessions_command)

    # -- account control (api.md section 8) ------------------------------------

    def sessions_of(self, user: str) -> list[SessionRecord]:
        """``user``'s live sessions on ``current_app``'s store, most recently seen first.

        Each :class:`~flask_sessionstore.SessionRecord` has ``current`` True
        for the session of the request being served.
        """
        return accounts.sessions_of(options_of(current_app).store, user)

    def revoke(self, sid: str) -> bool:
        """Revoke session ``sid`` now (its next request is anonymous); True if it existed."""
        return options_of(current_app).store.revoke(sid)

    def revoke_user(self, user: str, *, keep_current: bool = False) -> int:
        """Revoke every session of ``user``; ``keep_current=True`` keeps this request's.

        "Log out other devices", for a password change, is
        ``revoke_user(user, keep_current=True)`` (needs a request context).
        Returns how many sessions were revoked.
        """
        return accounts.revoke_user(options_of(current_app).store, user, keep_current=keep_current)


def options_of(app: Flask) -> SessionOptions:
    """The validated options ``init_app`` installed on ``app``."""
    try:
        options: SessionOptions = app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            f"flask-sessionstore is not initialised on app {app.name!r}; "
            "call SessionStore().init_app(app) first"
        ) from None
    return options


def _unknown_keywords(unknown: Mapping[str, Any]) -> str:
    express = {
        "saveUninitialized": "save_uninitialized",
        "rolling": "rolling",
        "resave": "resave",
        "cookieName": "name",
        "unset": "unset",
        "secrets": "secret",
        "maxAge": "cookie={'max_age': seconds}",
    }
    parts = []
    for name in unknown:
        close = express.get(name) or next(
            iter(difflib.get_close_matches(name.lower(), _KEYWORDS, n=1, cutoff=0.6)), None
        )
        parts.append(f"{name!r}" + (f" (did you mean {close}?)" if close else ""))
    return (
        f"SessionStore() got unexpected keyword argument(s) {', '.join(parts)}; "
        f"it accepts {', '.join(_KEYWORDS)}"
    )


def _has_owner_index(store: Store) -> bool:
    return type(store).sessions_of is not Store.sessions_of


def _running_sessions_command() -> bool:
    """Whether the app is being loaded for ``flask sessions ...`` (which has its own note).

    Flask's CLI loads the app while it resolves the subcommand, when click no
    longer holds its name, so the command line itself is what tells.
    """
    if click.get_current_context(silent=True) is None:
        return False
    return "sessions" in sys.argv[1:]


def _warn_memory_store(store: MemoryStore) -> None:
    if getattr(store, "_warned", False) or _running_sessions_command():
        return
    store._warned = True  # type: ignore[attr-defined]
    warn_user(
        "flask-sessionstore is using MemoryStore outside debug and testing: sessions "
        "live in one process, are lost on restart and are not shared between "
        "gunicorn workers. Use MongoStore or RedisStore (or another shared store) "
        "in production.",
        RuntimeWarning,
    )
