"""The symptoms ``docs/troubleshooting.rst`` describes are the ones the package produces.

Each test makes the mistake an entry of the page is about and checks what
the page says the user sees.  The checks are loose on wording (the option or
key named, the exception type) so that rephrasing a message does not break
them.
"""

from __future__ import annotations

import builtins
import socket
import sys
import warnings
from typing import Any

import pytest
from flask import Flask, session

from flask_sessionstore import MemoryStore, MongoStore, SessionStore


def make_app(**config: Any) -> Flask:
    app = Flask("troubleshooting")
    app.config.update({"TESTING": True, **config})
    return app


def start_up_problem(**config: Any) -> tuple[Exception | None, list[str]]:
    """What ``SessionStore(app)`` raises and warns with this config."""
    options = config.pop("options", {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            SessionStore(make_app(**config), **options)
        except Exception as error:
            return error, [str(w.message) for w in caught]
    return None, [str(w.message) for w in caught]


def test_no_secret_names_secret_key() -> None:
    error, _ = start_up_problem()
    assert error is not None and "SECRET_KEY" in str(error)


def test_an_int_secret_key_is_refused_by_name() -> None:
    error, _ = start_up_problem(SECRET_KEY=12345)
    assert isinstance(error, TypeError | ValueError)
    assert "SECRET_KEY" in str(error)
    assert "12345" not in str(error), "never a secret's value"


def test_express_max_age_spelling_is_an_unknown_key() -> None:
    error, _ = start_up_problem(SECRET_KEY="s", options={"cookie": {"maxAge": 60}})
    assert isinstance(error, ValueError)
    assert "maxAge" in str(error) and "max_age" in str(error)


def test_max_age_in_milliseconds_is_pointed_out() -> None:
    error, warned = start_up_problem(SECRET_KEY="s", options={"cookie": {"max_age": 3600000}})
    assert any("max_age" in text for text in [str(error or ""), *warned])


def test_a_store_name_instead_of_a_store_names_session_store() -> None:
    error, _ = start_up_problem(SECRET_KEY="s", SESSION_STORE="mongodb")
    assert isinstance(error, TypeError | ValueError)
    assert "SESSION_STORE" in str(error)


def test_express_keyword_spelling_is_a_type_error() -> None:
    app = make_app(SECRET_KEY="s")
    with pytest.raises(TypeError, match="saveUninitialized"):
        SessionStore(app, saveUninitialized=False)  # type: ignore[call-arg]


def test_a_misspelt_config_key_is_reported() -> None:
    error, warned = start_up_problem(SECRET_KEY="s", SESSION_ROLLNG=True)
    messages = " ".join([str(error or ""), *warned])
    assert "SESSION_ROLLNG" in messages and "SESSION_ROLLING" in messages


@pytest.mark.parametrize(
    "key", ["SESSION_TYPE", "SESSION_PERMANENT", "SESSION_USE_SIGNER", "SESSION_KEY_PREFIX"]
)
def test_flask_session_keys_are_reported(key: str) -> None:
    error, warned = start_up_problem(SECRET_KEY="s", **{key: "x"})
    assert key in " ".join([str(error or ""), *warned])


@pytest.fixture
def without_pymongo(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pymongo" or name.startswith(("pymongo.", "bson")):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [n for n in sys.modules if n == "pymongo" or n.startswith("pymongo.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", refuse)


def test_missing_pymongo_names_the_extra(without_pymongo: None) -> None:
    with pytest.raises(ImportError, match=r"flask-express-session\[mongo\]"):
        MongoStore(mongo_url="mongodb://127.0.0.1:1/app")


def test_a_path_outside_the_cookie_path_has_no_session() -> None:
    app = make_app(SECRET_KEY="s", SESSION_COOKIE_PATH="/shop")
    SessionStore(app)

    @app.get("/account")
    def account() -> str:
        session["user"] = "alice"
        return "saved"

    with pytest.raises(RuntimeError, match="There is no session on this request"):
        app.test_client().get("/account")


def secure_cookie_app() -> Flask:
    app = make_app(SECRET_KEY="s", SESSION_COOKIE_SECURE=True)
    SessionStore(app)

    @app.post("/login")
    def login() -> str:
        session["user"] = "alice"
        return "logged in"

    return app


def test_a_secure_cookie_is_not_sent_over_plain_http() -> None:
    response = secure_cookie_app().test_client().post("/login")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_secure_cookie_left_out_warns_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask_sessionstore import interface

    monkeypatch.setattr(interface, "_warned_insecure", False)  # once per process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        secure_cookie_app().test_client().post("/login")
    assert any("ProxyFix" in str(w.message) for w in caught)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_store_that_is_down_gives_503_with_retry_after() -> None:
    store = MongoStore(mongo_url=f"mongodb://127.0.0.1:{closed_port()}/app", timeout=0.5)
    app = make_app(SECRET_KEY="s", TESTING=False)
    SessionStore(app, store=store)

    @app.get("/")
    def index() -> str:
        session["n"] = 1
        return "ok"

    try:
        response = app.test_client().get("/")
    finally:
        store.close()
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_a_session_too_big_for_mongodb() -> None:
    import mongomock

    import flask_sessionstore

    error_class = flask_sessionstore.SessionTooLargeError
    assert issubclass(error_class, ValueError)
    store = MongoStore(client=mongomock.MongoClient(), db_name="big")
    big = {"cookie": {"originalMaxAge": None, "expires": None}, "blob": "x" * 17_000_000}
    with pytest.raises(error_class, match="blob"):
        store.set("big", big)


def test_memory_store_outside_debug_and_testing_warns() -> None:
    error, warned = start_up_problem(SECRET_KEY="s", TESTING=False)
    assert error is None
    assert any("MemoryStore" in text for text in warned)


def test_workers_with_their_own_memory_store_do_not_share_sessions() -> None:
    def worker() -> Flask:
        app = make_app(SECRET_KEY="s")
        SessionStore(app, store=MemoryStore())  # each gunicorn worker: its own

        @app.get("/")
        def index() -> str:
            return str(session.get("user"))

        @app.post("/login")
        def login() -> str:
            session["user"] = "alice"
            return "ok"

        return app

    first, second = worker(), worker()
    client = first.test_client()
    client.post("/login")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.get("/").text == "alice"
    other = second.test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/").text == "None", "the other worker has never heard of it"
