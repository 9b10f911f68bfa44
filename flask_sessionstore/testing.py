"""Helpers for testing an app that uses flask-sessionstore, and a pytest plugin.

Enable the fixtures in your ``conftest.py``::

    pytest_plugins = ["flask_sessionstore.testing"]

* ``session_store``: the store of your ``app`` fixture's sessions, emptied
  before the test (or a fresh :class:`~flask_sessionstore.MemoryStore` when
  there is no ``app`` fixture), to assert on what was stored or to list a
  user's sessions;
* ``session_clock``: freezes the clock; ``session_clock.advance(seconds or
  timedelta)`` moves it forward, for expiry and idle/absolute timeouts (needs
  ``freezegun``: ``pip install 'flask-express-session[testing]'``).

And, without pytest:

* :func:`login_as` logs a Flask-Login user in on a test client;
* :func:`make_session_cookie` stores a session and returns a signed cookie
  value that the Flask app, and an Express app on the same store, accept
  (for Playwright or supertest).

Flask's own ``client.session_transaction()`` works with every store.
"""

from __future__ import annotations

import contextlib
import secrets as _secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from flask.testing import FlaskClient

from .cookie import Cookie, utcnow
from .options import SecretOption, resolve_secrets
from .policy import stored_form
from .records import Record
from .serialization import Tagger
from .session import ServerSession
from .signing import cookie_value
from .stores.base import Store, Write
from .stores.memory import MemoryStore

__all__ = ["SessionClock", "login_as", "make_session_cookie"]


def login_as(client: FlaskClient, user_id: object, *, fresh: bool = True) -> None:
    """Log ``user_id`` in on ``client`` the way Flask-Login's ``login_user`` leaves it.

    Through ``session_transaction()``: the session moves to a fresh ID (as a
    login should) and gets ``_user_id`` and ``_fresh`` and, when Flask-Login
    is installed, its session-protection identifier ``_id`` for this client.
    The next request is authenticated, and the session's record names its
    owner.
    """
    identifier = _flask_login_identifier(client)
    with client.session_transaction() as session:
        if isinstance(session, ServerSession):
            session.regenerate(keep_data=True)
        session["_user_id"] = str(user_id)
        session["_fresh"] = fresh
        if identifier is not None:
            session["_id"] = identifier


def _flask_login_identifier(client: FlaskClient) -> str | None:
    """Flask-Login's session-protection identifier for ``client``, if it is installed."""
    try:
        from flask_login.utils import _create_identifier  # type: ignore[import-untyped]
    except ImportError:
        return None
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier: str = _create_identifier()
    return identifier


def make_session_cookie(
    data: Mapping[str, Any],
    *,
    secret: SecretOption | None = None,
    store: Store | None = None,
    app: Flask | None = None,
    max_age: float | timedelta | None = None,
    user_key: str | None = "_user_id",
) -> str:
    """Store a session holding ``data`` and return its signed cookie value.

    The value is URL-encoded exactly as express-session writes it, so the
    Flask app, and an Express app with the same secret on the same store,
    accept it.  ``store`` and ``secret`` default to those of ``app`` (or of
    ``current_app``); give both to use it without an app.  ``max_age``
    (seconds or ``timedelta``) makes a persistent session; the default is a
    browser-session cookie.  Send it as the cookie your app reads (``session``
    by default, ``connect.sid`` when shared with Express).
    """
    if store is None or secret is None:
        from .extension import options_of

        options = options_of(app or current_app._get_current_object())  # type: ignore[attr-defined]
        store = store or options.store
        keys = resolve_secrets(secret, "secret") if secret is not None else options.secrets
    else:
        keys = resolve_secrets(secret, "secret")
    sid = _secrets.token_urlsafe(24)
    now = utcnow()
    cookie = Cookie(max_age=max_age)
    stored = stored_form(cookie, Tagger(keys).dump(dict(data)))
    store.write(
        sid,
        Write(session=stored, record=Record(None, now, now, None, None), user_key=user_key),
    )
    return cookie_value(sid, keys[0])


class SessionClock:
    """The ``session_clock`` fixture: frozen time that tests move forward.

    Covers everything the app decides by its clock: cookie expiry, idle and
    absolute timeouts, MemoryStore's and MongoStore's expiry checks.  A
    server's own expiry (Redis key TTLs, MongoDB's TTL monitor) runs on the
    server's clock and is not moved.
    """

    def __init__(self, tick: Callable[[timedelta], Any]) -> None:
        self._tick = tick

    def advance(self, by: float | timedelta) -> None:
        """Move the clock forward by ``by`` (seconds or a ``timedelta``)."""
        self._tick(by if isinstance(by, timedelta) else timedelta(seconds=by))


# -- the pytest plugin -------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - the helpers above work without pytest
    pass
else:

    @pytest.fixture
    def session_store(request: pytest.FixtureRequest) -> Store:
        """The store of the ``app`` fixture's sessions, emptied; else a fresh MemoryStore."""
        try:
            app: Flask = request.getfixturevalue("app")
        except pytest.FixtureLookupError:
            return MemoryStore()
        from .extension import options_of

        store = options_of(app).store
        with contextlib.suppress(NotImplementedError):  # (a store that cannot be emptied)
            store.clear()
        return store

    @pytest.fixture
    def session_clock() -> Iterator[SessionClock]:
        """A frozen clock for the package and its stores; ``.advance(...)`` moves it."""
        try:
            from freezegun import freeze_time
        except ImportError as exc:
            raise ImportError(
                "session_clock needs freezegun: pip install 'flask-express-session[testing]'"
            ) from exc
        with freeze_time(utcnow()) as frozen:
            yield SessionClock(frozen.tick)
