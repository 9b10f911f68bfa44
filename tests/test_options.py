"""Options: config fallbacks, and bad values failing at init_app with a clear message."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask, session

from flask_sessionstore import MemoryStore, SessionStore
from flask_sessionstore.extension import options_of
from flask_sessionstore.timeouts import Timeouts


def _app(**config: Any) -> Flask:
    app = Flask("options")
    app.config.update({"SECRET_KEY": "k", "TESTING": True, **config})
    return app


@pytest.mark.parametrize(
    ("keywords", "error", "message"),
    [
        ({"secret": []}, ValueError, "secret must contain one or more"),
        ({"secret": ["ok", ""]}, ValueError, "every element of secret"),
        ({"secret": 42}, ValueError, "secret must be"),
        ({"store": object()}, TypeError, "store must be a flask_sessionstore.Store"),
        ({"name": "bad name"}, ValueError, "name must be a cookie name"),
        ({"name": "semi;colon"}, ValueError, "name must be a cookie name"),
        ({"cookie": {"maxAge": 10}}, ValueError, "unknown key.*'maxAge'"),
        ({"cookie": {"max_age": "10"}}, TypeError, r"\['max_age'\] must be"),
        ({"cookie": {"max_age": -1}}, ValueError, "must not be negative"),
        ({"cookie": {"max_age": True}}, TypeError, "max_age"),
        ({"cookie": {"expires": datetime(2030, 1, 1)}}, ValueError, "aware datetime"),
        ({"cookie": {"path": "no-slash"}}, ValueError, "path"),
        ({"cookie": {"path": "/a;b"}}, ValueError, "path"),
        ({"cookie": {"domain": "bad domain!"}}, ValueError, "domain"),
        ({"cookie": {"same_site": "sometimes"}}, ValueError, r"\['same_site'\] must be"),
        ({"cookie": {"secure": "yes"}}, ValueError, r"\['secure'\] must be"),
        ({"cookie": {"priority": "urgent"}}, ValueError, r"\['priority'\] must be"),
        ({"cookie": {"http_only": "no"}}, TypeError, "http_only"),
        ({"cookie": 3}, TypeError, "cookie must be a dict or a callable"),
        ({"genid": "uuid"}, TypeError, "genid must be a callable"),
        ({"proxy": "true"}, TypeError, "proxy must be True or False"),
        ({"resave": "false"}, TypeError, "resave must be True or False"),
        ({"rolling": 1}, TypeError, "rolling must be True or False"),
        ({"save_uninitialized": "yes"}, TypeError, "save_uninitialized must be"),
        ({"unset": "drop"}, ValueError, "unset must be 'keep' or 'destroy'"),
    ],
)
def test_bad_option_fails_at_init_app_naming_it(
    keywords: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        SessionStore(_app(), **keywords)


def test_bad_config_value_fails_at_init_app() -> None:
    with pytest.raises(ValueError, match=r"^SESSION_UNSET must be 'keep' or 'destroy', not 'nope'"):
        SessionStore(_app(SESSION_UNSET="nope"))


def test_missing_secret_is_an_error_at_init_app() -> None:
    app = Flask("nosecret")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        SessionStore(app)


def test_secret_defaults_to_secret_key_and_fallbacks() -> None:
    app = _app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["old"])
    SessionStore(app)
    assert options_of(app).secrets == (b"new", b"old")


def test_keyword_wins_over_config() -> None:
    app = _app(SESSION_COOKIE_NAME="from-config", SESSION_ROLLING=True)
    SessionStore(app, name="connect.sid")
    options = options_of(app)
    assert options.name == "connect.sid"
    assert options.rolling is True


def test_defaults_are_the_contract_defaults() -> None:
    app = _app()
    SessionStore(app)
    options = options_of(app)
    assert options.name == "session"
    assert (options.resave, options.rolling, options.save_uninitialized) == (False, False, False)
    assert options.unset == "destroy"  # v2 (Flask's behaviour); v1 was "keep"
    assert (options.user_key, options.track_client) == ("_user_id", True)
    assert options.timeouts == Timeouts(None, None)
    assert options.max_sessions_per_user is None
    assert options.proxy is None
    assert isinstance(options.store, MemoryStore)
    assert "sessionstore" in app.extensions


def test_flask_cookie_config_keys_are_used() -> None:
    app = _app(
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_MAX_AGE=timedelta(minutes=5),
    )
    SessionStore(app)

    @app.get("/app/")
    def index() -> str:
        session["x"] = 1
        return "ok"

    response = app.test_client().get("/app/", base_url="https://example.com")
    header = response.headers["Set-Cookie"]
    assert "; Domain=example.com; Path=/app; Expires=" in header
    assert "HttpOnly" not in header
    assert header.endswith("; Secure; Partitioned; SameSite=Lax")


def test_default_genid_is_32_url_safe_characters() -> None:
    app = _app()
    SessionStore(app)
    with app.test_request_context():
        sid = session.id
    assert len(sid) == 32
    assert set(sid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_one_extension_serves_several_apps() -> None:
    extension = SessionStore(store=MemoryStore())
    first, second = _app(), _app(SECRET_KEY="other")
    extension.init_app(first)
    extension.init_app(second)
    assert options_of(first).secrets != options_of(second).secrets
    assert not hasattr(extension, "app")


def test_bad_result_of_cookie_callable_is_a_clear_error() -> None:
    app = _app()
    SessionStore(app, cookie=lambda request: {"max_age": "soon"})

    @app.get("/")
    def index() -> str:
        return "ok"

    with pytest.raises(TypeError, match=r"result of the cookie callable\['max_age'\]"):
        app.test_client().get("/")


def test_expires_option_sets_original_max_age() -> None:
    app = _app()
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    SessionStore(app, cookie={"expires": expires})
    with app.test_request_context():
        assert session.cookie.expires == expires
        assert session.cookie.original_max_age == pytest.approx(3600, abs=2)


def test_touch_after_not_shorter_than_max_age_fails_at_init_app() -> None:
    import mongomock

    from flask_sessionstore import MongoStore

    store = MongoStore(mongomock.MongoClient(), touch_after=3600)
    with pytest.raises(ValueError, match=r"touch_after \(3600 s\) must be shorter than"):
        SessionStore(_app(), store=store, cookie={"max_age": 600})
    SessionStore(_app(), store=store, cookie={"max_age": 7200})  # shorter: fine
