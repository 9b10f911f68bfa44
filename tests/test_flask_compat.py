"""Adding one line to a working Flask app keeps it working (api.md sections 1 and 3).

Each test pins a behaviour a Flask app relies on, or an error a newcomer
meets, with the exact key and value named.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, session
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_sessionstore import MemoryStore, SessionStore
from flask_sessionstore import interface as interface_module
from flask_sessionstore.configkeys import SessionConfigWarning
from flask_sessionstore.interface import InsecureCookieWarning
from tests.conftest import SECRET, RecordingStore


def make(store: Any = None, **config: Any) -> Flask:
    app = Flask("compat")
    app.config.update({"SECRET_KEY": SECRET, "TESTING": True, **config})
    SessionStore(app, store=store or MemoryStore())

    @app.get("/set/<value>")
    def set_value(value: str) -> str:
        session["value"] = value
        return "ok"

    @app.get("/get")
    def get_value() -> str:
        return str(session.get("value"))

    @app.get("/pop")
    def pop_value() -> str:
        return str(session.pop("value", None))

    @app.get("/permanent")
    def permanent() -> str:
        session.permanent = True
        session["value"] = "kept"
        return "ok"

    return app


def set_cookies(response: Any) -> list[str]:
    return response.headers.getlist("Set-Cookie")


# -- apps mounted under a prefix -----------------------------------------------------


def test_an_app_under_a_prefix_in_the_test_client_keeps_its_session() -> None:
    app = make(APPLICATION_ROOT="/foo")
    client = app.test_client()
    response = client.get("/set/42", base_url="http://localhost/foo")
    assert "Path=/foo" in set_cookies(response)[0]
    assert client.get("/get", base_url="http://localhost/foo").text == "42"


def test_an_app_behind_proxyfix_x_prefix_keeps_its_session() -> None:
    app = make(APPLICATION_ROOT="/foo")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    client = app.test_client()
    headers = {"X-Forwarded-Prefix": "/foo"}
    environ = {"RAW_URI": "/set/7", "REQUEST_URI": "/set/7"}  # the proxy stripped /foo
    response = client.get("/set/7", headers=headers, environ_overrides=environ)
    assert response.status_code == 200
    assert "Path=/foo" in set_cookies(response)[0]
    environ = {"RAW_URI": "/get", "REQUEST_URI": "/get"}
    assert client.get("/get", headers=headers, environ_overrides=environ).text == "7"


def test_a_path_outside_the_cookie_path_still_has_no_session() -> None:
    app = make(SESSION_COOKIE_PATH="/app")
    with pytest.raises(RuntimeError, match="There is no session on this request"):
        app.test_client().get("/set/1")


# -- secrets ---------------------------------------------------------------------------


def test_app_secret_key_as_a_class_attribute_signs_the_session() -> None:
    class MyFlask(Flask):
        secret_key = "class attribute secret"

    app = MyFlask("subclass")
    app.config["TESTING"] = True
    SessionStore(app)

    @app.get("/")
    def index() -> str:
        session["n"] = 1
        return "ok"

    assert "Set-Cookie" in app.test_client().get("/").headers


def test_a_secret_key_of_the_wrong_type_names_the_type_not_the_value() -> None:
    app = Flask("bad")
    app.config["SECRET_KEY"] = 12345
    with pytest.raises(TypeError, match=r"^SECRET_KEY must be a str or bytes, not a int") as caught:
        SessionStore(app)
    assert "12345" not in str(caught.value)


# -- SESSION_REFRESH_EACH_REQUEST and current cookie attributes -------------------------


def test_a_permanent_session_cookie_is_refreshed_on_each_request_that_uses_it() -> None:
    app = make(PERMANENT_SESSION_LIFETIME=timedelta(days=3))
    client = app.test_client()
    client.get("/permanent")
    response = client.get("/get")
    assert response.text == "kept"
    (cookie,) = set_cookies(response)
    assert "Expires=" in cookie
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    assert set_cookies(client.get("/get")) == []


def test_a_request_that_never_uses_the_session_stays_cookie_free() -> None:
    app = make()

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    client = app.test_client()
    client.get("/permanent")
    response = client.get("/plain")
    assert set_cookies(response) == []
    assert "Cookie" not in response.headers.get("Vary", "")


def test_tightened_cookie_options_reach_an_existing_session() -> None:
    app = make(SESSION_COOKIE_SAMESITE="Lax")
    client = app.test_client()
    assert "SameSite=Lax" in set_cookies(client.get("/set/1"))[0]
    assert set_cookies(client.get("/get")) == []
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"  # a redeploy
    response = client.get("/get")
    assert response.text == "1"
    (cookie,) = set_cookies(response)
    assert "SameSite=Strict" in cookie
    assert set_cookies(client.get("/get")) == []  # stored with the new attributes


def test_a_bad_config_value_set_later_names_its_key() -> None:
    app = make()
    app.config["SESSION_COOKIE_SAMESITE"] = "invalid"
    with pytest.raises(ValueError, match=r"^SESSION_COOKIE_SAMESITE must be"):
        app.test_client().get("/get")


# -- an emptied session ------------------------------------------------------------------


def test_popping_the_last_key_removes_the_session_and_its_cookie() -> None:
    store = RecordingStore()
    app = make(store)
    client = app.test_client()
    client.get("/set/1")
    assert store.length() == 1
    response = client.get("/pop")
    assert response.text == "1"
    (cookie,) = set_cookies(response)
    assert cookie.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in cookie
    assert store.length() == 0


def test_with_unset_keep_an_emptied_session_is_saved_empty() -> None:
    store = RecordingStore()
    app = make(store, SESSION_UNSET="keep")
    client = app.test_client()
    client.get("/set/1")
    client.get("/pop")
    (stored,) = store.all().values()
    assert set(stored) == {"cookie"}


# -- save_uninitialized=True --------------------------------------------------------------


def test_save_uninitialized_gives_every_new_visitor_a_session() -> None:
    store = RecordingStore()
    app = make(store, SESSION_SAVE_UNINITIALIZED=True)

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    client = app.test_client()
    response = client.get("/plain")
    assert len(set_cookies(response)) == 1
    assert store.methods() == ["set"]
    assert set_cookies(client.get("/plain")) == []  # a returning visitor: no store call
    assert store.methods() == []


# -- Flask-Session names --------------------------------------------------------------------


def test_session_sid_is_the_session_id() -> None:
    app = make()

    @app.get("/sid")
    def sid() -> str:
        assert session.sid == session.id
        return session.sid

    assert len(app.test_client().get("/sid").text) == 32


def test_leftover_flask_session_keys_are_named_with_what_to_use() -> None:
    app = Flask("migrated")
    app.config.update(
        SECRET_KEY="k",
        TESTING=True,
        SESSION_TYPE="redis",
        SESSION_PERMANENT=False,
        SESSION_USE_SIGNER=True,
        SESSION_KEY_PREFIX="session:",
    )
    with pytest.warns(SessionConfigWarning) as caught:
        SessionStore(app)
    (warning,) = caught
    message = str(warning.message)
    for key in ("SESSION_TYPE", "SESSION_PERMANENT", "SESSION_USE_SIGNER", "SESSION_KEY_PREFIX"):
        assert key in message
    assert "RedisStore" in message and "session.permanent" in message
    assert warning.filename == __file__  # points at the user's line


def test_a_typo_in_a_session_key_is_pointed_out() -> None:
    app = Flask("typo")
    app.config.update(SECRET_KEY="k", TESTING=True, SESSION_ROLLNG=True)
    with pytest.warns(SessionConfigWarning, match="SESSION_ROLLNG.*did you mean SESSION_ROLLING"):
        SessionStore(app)


def test_an_unrelated_session_key_of_another_extension_is_left_alone() -> None:
    app = Flask("other")
    app.config.update(SECRET_KEY="k", TESTING=True, SESSION_PROTECTION="strong")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SessionStore(app)


# -- errors that say more ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "keywords", "error", "message"),
    [
        ({"SESSION_STORE": "mongodb"}, {}, TypeError, r"^SESSION_STORE must be a .*MongoStore\("),
        (
            {},
            {"cookie": {"maxAge": 60}},
            ValueError,
            r"use max_age \(in seconds.* instead of 'maxAge'",
        ),
        ({"SESSION_UNSET": "drop"}, {}, ValueError, r"^SESSION_UNSET must be"),
        ({"SESSION_RESAVE": "no"}, {}, TypeError, r"^SESSION_RESAVE must be True or False"),
        ({"SESSION_COOKIE_MAX_AGE": "1h"}, {}, TypeError, r"^SESSION_COOKIE_MAX_AGE must be"),
        ({"SESSION_COOKIE_DOMAIN": "bad domain!"}, {}, ValueError, r"^SESSION_COOKIE_DOMAIN is"),
        ({"SESSION_USER_KEY": 3}, {}, TypeError, r"^SESSION_USER_KEY must be a session key"),
        ({"SESSION_SECRET": []}, {}, ValueError, r"^SESSION_SECRET must contain"),
    ],
)
def test_config_errors_name_the_key_the_value_came_from(
    config: dict[str, Any], keywords: dict[str, Any], error: type[Exception], message: str
) -> None:
    app = Flask("errors")
    app.config.update({"SECRET_KEY": "k", **config})
    with pytest.raises(error, match=message):
        SessionStore(app, **keywords)


def test_an_express_keyword_gets_a_suggestion() -> None:
    with pytest.raises(
        TypeError, match=r"'saveUninitialized' \(did you mean save_uninitialized\?\)"
    ):
        SessionStore(saveUninitialized=True)


def test_a_max_age_in_milliseconds_by_habit_is_pointed_out() -> None:
    app = Flask("ms")
    app.config.update(SECRET_KEY="k", TESTING=True)
    with pytest.warns(SessionConfigWarning, match=r"3600000 seconds \(41\.7 days\).*mean 3600\?"):
        SessionStore(app, cookie={"max_age": 3_600_000})


def test_a_secret_is_never_echoed_by_an_error() -> None:
    app = Flask("secret")
    app.config.update(SECRET_KEY="k", SESSION_SECRET=["good secret", 12345])
    with pytest.raises(ValueError) as caught:
        SessionStore(app)
    assert "good secret" not in str(caught.value) and "12345" not in str(caught.value)
    assert "SESSION_SECRET" in str(caught.value)


# -- a Secure cookie on plain http ------------------------------------------------------------


def test_a_withheld_secure_cookie_warns_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interface_module, "_warned_insecure", False)
    app = make(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    with pytest.warns(InsecureCookieWarning, match="ProxyFix.*proxy=True"):
        response = client.get("/set/1")
    assert set_cookies(response) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.get("/set/2")  # once per process
    assert set_cookies(client.get("/set/3", base_url="https://localhost")) != []


def test_flask_s_session_settings_test_over_https() -> None:
    """Flask's test_session_using_session_settings, over https (the Secure rule aside)."""
    app = Flask("settings")
    app.config.update(
        SECRET_KEY="foo",
        SERVER_NAME="www.example.com:8080",
        APPLICATION_ROOT="/test",
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
    )
    SessionStore(app, store=MemoryStore())

    @app.route("/")
    def index() -> str:
        session["testing"] = 42
        return "Hello World"

    @app.route("/clear")
    def clear() -> str:
        session.pop("testing", None)
        return "Goodbye World"

    client = app.test_client()
    rv = client.get("/", "https://www.example.com:8080/test/")
    cookie = rv.headers["set-cookie"].lower()
    for part in ("domain=example.com", "path=/", "secure", "samesite", "partitioned"):
        assert part in cookie
    assert "httponly" not in cookie
    rv = client.get("/clear", "https://www.example.com:8080/test/")
    cookie = rv.headers["set-cookie"].lower()
    assert "session=;" in cookie
    for part in ("domain=example.com", "path=/", "secure", "samesite", "partitioned"):
        assert part in cookie
