"""Flask's own session and flash behaviour, replayed against the server-side interface.

These are the checks Flask's test suite makes of its cookie session
(``Vary: Cookie``, ``get_flashed_messages``, ``session.permanent``,
``session_transaction``, ``SECRET_KEY_FALLBACKS``): an app that swaps in
flask-sessionstore keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import flask
import pytest
from flask import Flask, Response, session
from freezegun import freeze_time
from markupsafe import Markup
from werkzeug.http import parse_date

from flask_sessionstore import MemoryStore, SessionStore, flash

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def session_set_cookie(response: Response, name: str = "session") -> str | None:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) <= 1
    return headers[0] if headers else None


def cookie_pair(response: Response, name: str = "session") -> str:
    header = session_set_cookie(response, name)
    assert header is not None
    return header.split(";", 1)[0]


# -- Vary: Cookie ---------------------------------------------------------------------


@pytest.fixture
def vary_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app(cookie={"path": "/"})

    @app.route("/ignore")
    def ignore() -> str:
        return ""

    @app.route("/read")
    def read() -> str:
        return str(session.get("n"))

    @app.route("/write")
    def write() -> str:
        session["n"] = session.get("n", 0) + 1
        return ""

    @app.route("/write-vary")
    def write_vary() -> Response:
        session["n"] = 1
        response = Response("")
        response.headers["Vary"] = "Accept-Encoding"
        return response

    @app.route("/read-vary")
    def read_vary() -> Response:
        session.get("n")
        response = Response("")
        response.vary.add("Accept-Encoding")
        return response

    @app.route("/vary-cookie")
    def vary_cookie() -> Response:
        session["n"] = 1
        return Response("", headers={"Vary": "Cookie"})

    @app.route("/logout")
    def logout() -> str:
        session.destroy()
        return ""

    return app


def vary(response: Response) -> list[str]:
    return response.headers.getlist("Vary")


def test_vary_absent_when_view_ignores_session(vary_app) -> None:
    client = vary_app.test_client()
    assert vary(client.get("/ignore")) == []
    client.get("/write")
    assert vary(client.get("/ignore")) == []  # even with a session cookie sent


def test_vary_cookie_when_session_read(vary_app) -> None:
    client = vary_app.test_client()
    response = client.get("/read")
    assert session_set_cookie(response) is None
    assert vary(response) == ["Cookie"]


def test_vary_cookie_when_session_written(vary_app) -> None:
    response = vary_app.test_client().get("/write")
    assert session_set_cookie(response) is not None
    assert vary(response) == ["Cookie"]


def test_vary_merged_into_existing_header(vary_app) -> None:
    client = vary_app.test_client()
    assert vary(client.get("/write-vary")) == ["Accept-Encoding, Cookie"]
    assert vary(client.get("/read-vary")) == ["Accept-Encoding, Cookie"]


def test_vary_cookie_not_duplicated(vary_app) -> None:
    assert vary(vary_app.test_client().get("/vary-cookie")) == ["Cookie"]


def test_vary_cookie_with_expiring_set_cookie(vary_app, store) -> None:
    client = vary_app.test_client()
    client.get("/write")
    response = client.get("/logout")
    header = session_set_cookie(response)
    assert header is not None and header.startswith("session=;")
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in header
    assert vary(response) == ["Cookie"]
    assert store.length() == 0


@pytest.fixture
def flask_vary_app(make_app: Callable[..., Flask]) -> Flask:
    """The routes of Flask's own ``test_session_vary_cookie``."""
    app = make_app()

    @app.route("/set")
    def set_session() -> str:
        session["test"] = "test"
        return ""

    @app.route("/get")
    def get() -> str:
        return str(session.get("test"))

    @app.route("/getitem")
    def getitem() -> str:
        return str(session["test"])

    @app.route("/setdefault")
    def setdefault() -> str:
        return str(session.setdefault("test", "default"))

    @app.route("/contains")
    def contains() -> str:
        return str("test" in session)

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return ""

    @app.route("/flashes")
    def flashes() -> str:
        return str(flask.get_flashed_messages())

    @app.route("/vary-cookie-header-set")
    def vary_cookie_header_set() -> Response:
        response = Response()
        response.vary.add("Cookie")
        session["test"] = "test"
        return response

    @app.route("/vary-header-set")
    def vary_header_set() -> Response:
        response = Response()
        response.vary.update(("Accept-Encoding", "Accept-Language"))
        session["test"] = "test"
        return response

    @app.route("/no-vary-header")
    def no_vary_header() -> str:
        return ""

    return app


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/get", ["Cookie"]),
        ("/getitem", ["Cookie"]),
        ("/setdefault", ["Cookie"]),
        ("/contains", ["Cookie"]),
        ("/clear", ["Cookie"]),
        ("/flashes", ["Cookie"]),
        ("/vary-cookie-header-set", ["Cookie"]),
        ("/vary-header-set", ["Accept-Encoding, Accept-Language, Cookie"]),
        ("/no-vary-header", []),
    ],
)
def test_vary_cookie_like_flask(flask_vary_app, path: str, expected: list[str]) -> None:
    client = flask_vary_app.test_client()
    client.get("/set")
    response = client.get(path)
    assert response.status_code == 200
    assert vary(response) == expected


def test_vary_absent_outside_cookie_path(make_app: Callable[..., Flask]) -> None:
    app = make_app(cookie={"path": "/account"})

    @app.route("/public")
    def public() -> str:
        return str(session.get("n"))

    response = app.test_client().get("/public")
    assert response.text == "None"
    assert vary(response) == []


# -- flashing ----------------------------------------------------------------------------


@pytest.fixture
def flash_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()

    @app.route("/flash")
    def add() -> str:
        flask.flash("Hello World")
        flask.flash("Hello World", "error")
        flask.flash(Markup("<em>Testing</em>"), "warning")
        flash("info", "from connect-flash")
        return ""

    @app.route("/all")
    def all_messages() -> Any:
        return flask.jsonify(flask.get_flashed_messages())

    @app.route("/categories")
    def with_categories() -> Any:
        return flask.jsonify(flask.get_flashed_messages(with_categories=True))

    @app.route("/filter")
    def filtered() -> Any:
        messages = flask.get_flashed_messages(
            with_categories=True, category_filter=["message", "warning"]
        )
        return flask.jsonify(messages)

    @app.route("/markup")
    def markup() -> str:
        messages = flask.get_flashed_messages(category_filter=["warning"])
        assert len(messages) == 1 and isinstance(messages[0], Markup)
        return flask.render_template_string("{{ m }}|{{ p }}", m=messages[0], p="<em>")

    return app


def test_get_flashed_messages_sees_both_apis(flash_app) -> None:
    client = flash_app.test_client()
    client.get("/flash")
    assert client.get("/all").json == [
        "Hello World",
        "Hello World",
        "<em>Testing</em>",
        "from connect-flash",
    ]
    assert client.get("/all").json == []  # consumed


def test_get_flashed_messages_with_categories(flash_app) -> None:
    client = flash_app.test_client()
    client.get("/flash")
    assert client.get("/categories").json == [
        ["message", "Hello World"],
        ["error", "Hello World"],
        ["warning", "<em>Testing</em>"],
        ["info", "from connect-flash"],
    ]


def test_get_flashed_messages_category_filter(flash_app) -> None:
    client = flash_app.test_client()
    client.get("/flash")
    assert client.get("/filter").json == [
        ["message", "Hello World"],
        ["warning", "<em>Testing</em>"],
    ]


def test_flashed_markup_survives_the_store(flash_app) -> None:
    client = flash_app.test_client()
    client.get("/flash")
    response = client.get("/markup")
    assert response.status_code == 200
    assert response.text == "<em>Testing</em>|&lt;em&gt;"


def test_connect_flash_reads_flask_flashes(flash_app) -> None:
    @flash_app.route("/ours")
    def ours() -> Any:
        return flask.jsonify(flash())

    client = flash_app.test_client()
    client.get("/flash")
    assert client.get("/ours").json == {
        "message": ["Hello World"],
        "error": ["Hello World"],
        "warning": ["<em>Testing</em>"],
        "info": ["from connect-flash"],
    }


# -- session.permanent ---------------------------------------------------------------------


@pytest.fixture
def permanent_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=2)

    @app.route("/login")
    def login() -> str:
        session.permanent = True
        session["user"] = "bob"
        return ""

    @app.route("/plain")
    def plain() -> str:
        session["user"] = "bob"
        return ""

    return app


def test_permanent_session_gets_persistent_cookie(permanent_app, store) -> None:
    client = permanent_app.test_client(use_cookies=False)
    with freeze_time(NOW):
        response = client.get("/login")
        (stored,) = store.all().values()  # in frozen time: it lives two hours
    header = session_set_cookie(response)
    assert header is not None
    expires = header.split("Expires=", 1)[1].split(";", 1)[0]
    assert parse_date(expires) == NOW + timedelta(hours=2)
    assert stored["cookie"]["originalMaxAge"] == 7_200_000


def test_non_permanent_session_gets_browser_session_cookie(permanent_app) -> None:
    response = permanent_app.test_client(use_cookies=False).get("/plain")
    header = session_set_cookie(response)
    assert header is not None
    assert "Expires" not in header


# -- the test client's session_transaction -------------------------------------------------


def test_session_transaction_writes_server_side_session(
    make_app: Callable[..., Flask], store
) -> None:
    app = make_app()

    @app.route("/whoami")
    def whoami() -> str:
        return str(session.get("user"))

    client = app.test_client()
    with client.session_transaction() as sess:
        assert type(sess).__name__ == "ServerSession"
        sess["user"] = "alice"
    assert store.length() == 1
    assert client.get("/whoami").text == "alice"
    with client.session_transaction() as sess:
        assert sess["user"] == "alice"
        sess["user"] = "bob"
    assert client.get("/whoami").text == "bob"
    assert store.length() == 1  # the same session, not a new one


def test_session_transaction_outside_cookie_path_has_no_session(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(cookie={"path": "/account"})
    with (
        pytest.raises(RuntimeError, match="did not open a session"),
        app.test_client().session_transaction("/public"),
    ):
        pass


def test_permanent_flag_persists_and_cookie_renews(permanent_app) -> None:
    @permanent_app.route("/check")
    def check() -> str:
        session["seen"] = session.get("seen", 0) + 1
        return str(session.permanent)

    client = permanent_app.test_client(use_cookies=False)
    with freeze_time(NOW) as frozen:
        first = client.get("/login")
        frozen.tick(600)
        second = client.get("/check", headers={"Cookie": cookie_pair(first)})
    assert second.text == "True"
    header = session_set_cookie(second)
    assert header is not None
    expires = header.split("Expires=", 1)[1].split(";", 1)[0]
    assert parse_date(expires) == NOW + timedelta(hours=2, minutes=10)


# -- SECRET_KEY_FALLBACKS rotation ------------------------------------------------------------


def rotation_app(store: MemoryStore, **config: Any) -> Flask:
    app = Flask("rotation")
    app.config.update(TESTING=True, **config)
    SessionStore(app, store=store, cookie={"max_age": 3600})

    @app.route("/write")
    def write() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/read")
    def read() -> str:
        return str(session.get("n"))

    return app


def test_secret_key_fallbacks_verify_old_cookies() -> None:
    store = MemoryStore()
    old = rotation_app(store, SECRET_KEY="old key")
    new = rotation_app(store, SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["old key"])
    strict = rotation_app(store, SECRET_KEY="new key")
    first = old.test_client(use_cookies=False).get("/write")
    old_cookie = cookie_pair(first)

    assert (
        new.test_client(use_cookies=False).get("/read", headers={"Cookie": old_cookie}).text == "1"
    )
    assert (
        strict.test_client(use_cookies=False).get("/read", headers={"Cookie": old_cookie}).text
        == "None"
    )

    rewritten = new.test_client(use_cookies=False).get("/write", headers={"Cookie": old_cookie})
    assert rewritten.text == "2"
    new_cookie = cookie_pair(rewritten)
    assert new_cookie != old_cookie  # re-signed with SECRET_KEY, same session ID
    assert new_cookie.split(".")[0] == old_cookie.split(".")[0]
    assert (
        strict.test_client(use_cookies=False).get("/read", headers={"Cookie": new_cookie}).text
        == "2"
    )
