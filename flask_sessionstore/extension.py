"""``SessionStore``: the Flask extension (express-session's ``session()`` middleware)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal

from flask import Flask, Request

from .interface import ServerSessionInterface
from .options import CookieOption, SecretOption, SessionOptions, build_options
from .stores.base import Store
from .stores.memory import MemoryStore

#: The key of this extension in ``app.extensions``.
EXTENSION_KEY = "sessionstore"


class SessionStore:
    """Server-side sessions for Flask with express-session's semantics.

    ``flask.session`` becomes a :class:`~flask_sessionstore.ServerSession`
    whose data lives in ``store``; the browser only holds a signed session ID.
    Every keyword falls back to an ``app.config`` key when it is None (see
    the configuration reference); invalid values raise ``ValueError`` or
    ``TypeError`` at :meth:`init_app`.  The app is never stored on the
    extension, so one instance can serve several apps::

        sessions = SessionStore(store=MongoStore(mongo_url=...))
        sessions.init_app(app)

    :param secret: signing secret(s); element 0 signs, all verify (``SESSION_SECRET``,
        default ``[SECRET_KEY, *SECRET_KEY_FALLBACKS]``).
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
    :param save_uninitialized: save and cookie new sessions that hold no data
        (``SESSION_SAVE_UNINITIALIZED``, default False; express defaults to true).
    :param unset: ``"keep"`` or ``"destroy"``: what happens to a session the view
        emptied with ``session.clear()`` (``SESSION_UNSET``).
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
    ) -> None:
        self._keywords: Mapping[str, Any] = {
            "secret": secret,
            "store": store,
            "name": name,
            "cookie": cookie,
            "genid": genid,
            "proxy": proxy,
            "resave": resave,
            "rolling": rolling,
            "save_uninitialized": save_uninitialized,
            "unset": unset,
        }
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install server-side sessions on ``app``.

        Validates the options, sets ``app.session_interface``, registers the
        extension in ``app.extensions["sessionstore"]`` and adds the
        ``flask sessions`` command group.
        """
        options = build_options(app, self._keywords)
        if isinstance(options.store, MemoryStore) and not (app.debug or app.testing):
            _warn_memory_store(options.store)
        app.session_interface = ServerSessionInterface(options)
        app.extensions[EXTENSION_KEY] = options
        from .cli import sessions_command

        if "sessions" not in app.cli.commands:
            app.cli.add_command(sessions_command)


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


def _warn_memory_store(store: MemoryStore) -> None:
    if getattr(store, "_warned", False):
        return
    store._warned = True  # type: ignore[attr-defined]
    warnings.warn(
        "flask-sessionstore is using MemoryStore outside debug and testing: sessions "
        "live in one process, are lost on restart and are not shared between "
        "gunicorn workers. Use MongoStore (or another shared store) in production.",
        RuntimeWarning,
        stacklevel=3,
    )
