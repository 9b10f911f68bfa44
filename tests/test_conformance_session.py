# ruff: noqa: E501  (docstrings quote the upstream titles verbatim)
"""Conformance: express-session's ``test/session.js``, replayed against Flask.

Each test ports one upstream test (its full mocha title is the docstring);
``tests/CONFORMANCE.md`` maps all 142 titles.  The upstream harness defaults
are passed explicitly (:data:`EXPRESS`): cookie name ``connect.sid``,
``cookie.maxAge`` 60 s, ``resave`` and ``saveUninitialized`` true.

Two general differences shape the ports:

* lazy loading: a view that never touches ``flask.session`` never reaches the
  store, so the default view here *reads* the session (express's default
  handler ignores it and still gets a session);
* Flask has no ``req.session = null``: ``session.clear()`` stands in for it
  where the ``unset`` option is concerned.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask, Response, request, session
from freezegun import freeze_time
from werkzeug.http import parse_date
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

import flask_sessionstore
from flask_sessionstore import MemoryStore, SessionStore, Store
from flask_sessionstore.stores.base import StoredSession

#: express-session's test harness defaults (``createSession`` in test/session.js).
EXPRESS: dict[str, Any] = {
    "name": "connect.sid",
    "cookie": {"max_age": 60},
    "resave": True,
    "save_uninitialized": True,
}
NOW = "2026-11-25 10:00:00"
View = Callable[[], Any]


# -- harness ------------------------------------------------------------------


def uses_session() -> str:
    """The default view: reads the session, so it is loaded (express's ``end``)."""
    len(session)
    return ""


def express_app(make_app: Callable[..., Flask], view: View | None = None, **options: Any) -> Flask:
    """An app with express's harness defaults, ``view`` answering every path and method."""
    app = make_app(**{**EXPRESS, **options})
    handler = view or uses_session

    def respond(path: str = "") -> Any:
        return handler()

    methods = ["GET", "PUT", "POST"]
    app.add_url_rule("/", "root", respond, methods=methods)
    app.add_url_rule("/<path:path>", "any", respond, methods=methods)
    return app


def client_of(app: Any) -> Any:
    """A test client that sends only the cookies a test passes explicitly."""
    if isinstance(app, Flask):
        return app.test_client(use_cookies=False)
    from werkzeug.test import Client

    return Client(app, Response, use_cookies=False)


def get(app: Any, path: str = "/", cookie: str | None = None, **kwargs: Any) -> Response:
    headers = dict(kwargs.pop("headers", {}))
    if cookie:
        headers["Cookie"] = cookie
    method = kwargs.pop("method", "GET")
    response: Response = client_of(app).open(path, method=method, headers=headers, **kwargs)
    return response


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """``(name, value, {attribute (lowercase): value})`` of one Set-Cookie header."""
    first, *rest = header.split("; ")
    name, _, value = first.partition("=")
    attributes = {}
    for part in rest:
        key, _, val = part.partition("=")
        attributes[key.lower()] = val
    return name, value, attributes


def set_cookie(response: Response, name: str = "connect.sid") -> tuple[str, dict[str, str]] | None:
    """The value and attributes of the Set-Cookie for ``name``, or None."""
    found = [
        parse_set_cookie(h)
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith(name + "=")
    ]
    assert len(found) <= 1, f"more than one Set-Cookie for {name}: {found}"
    return (found[0][1], found[0][2]) if found else None


def has_set_cookie(response: Response) -> bool:
    return "Set-Cookie" in response.headers


def cookie(response: Response, name: str = "connect.sid") -> str:
    """The ``Cookie`` request header that echoes the response's session cookie."""
    found = set_cookie(response, name)
    assert found is not None, f"no Set-Cookie for {name}"
    return f"{name}={found[0]}"


def sid(response: Response, name: str = "connect.sid") -> str:
    """The session ID inside the response's signed cookie."""
    found = set_cookie(response, name)
    assert found is not None, f"no Set-Cookie for {name}"
    value = unquote(found[0])
    assert value.startswith("s:")
    return value[2 : value.rindex(".")]


def expires(response: Response, name: str = "connect.sid") -> datetime | None:
    found = set_cookie(response, name)
    assert found is not None
    raw = found[1].get("expires")
    return parse_date(raw) if raw else None


def report_errors(app: Flask) -> None:
    """Turn errors into their status with the error message as body (express's harness).

    A store error is a 503 (with ``Retry-After``) whose cause is the store's error.
    """
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.errorhandler(500)
    def internal_error(error: Any) -> tuple[str, int]:
        return str(getattr(error, "original_exception", error)), 500

    @app.errorhandler(503)
    def unavailable(error: Any) -> tuple[str, int]:
        return str(error.__cause__), 503


def counter_view(start: int = 0) -> View:
    """``req.session.num = req.session.num || ++count; res.end('session ' + num)``."""
    count = [start]

    def view() -> str:
        if not session.get("num"):
            count[0] += 1
            session["num"] = count[0]
        return f"session {session['num']}"

    return view


class Boom(Exception):
    """The ``new Error('boom!')`` of the upstream tests."""

    def __init__(self) -> None:
        super().__init__("boom!")


def boom(*args: Any) -> Any:
    raise Boom()


# -- session() -------------------------------------------------------------------


def test_package_exports_session_store_and_memory_store() -> None:
    """session() should export constructors"""
    assert isinstance(flask_sessionstore.ServerSession, type)
    assert issubclass(flask_sessionstore.MemoryStore, flask_sessionstore.Store)
    assert flask_sessionstore.SessionStore is SessionStore
    assert callable(flask_sessionstore.Cookie)


def test_missing_secret_fails_at_init_app() -> None:
    """session() should error without secret

    Deviation: a missing secret fails at start-up (``init_app``), not with a 500 per
    request.
    """
    app = Flask("no_secret")
    with pytest.raises(RuntimeError, match="secret"):
        SessionStore(app, store=MemoryStore())


def test_secret_defaults_to_flask_secret_key(make_app: Callable[..., Flask]) -> None:
    """session() should get secret from req.secret

    Flask's analogue of ``req.secret`` (set by cookie-parser) is ``SECRET_KEY``.
    """
    app = express_app(make_app)  # no secret= keyword: SECRET_KEY ("keyboard cat") signs
    response = get(app)
    assert response.status_code == 200
    assert response.text == ""
    # the vector express computes for this sid with secret 'keyboard cat'
    app2 = express_app(make_app, genid=lambda req: "apple")
    assert set_cookie(get(app2))[0] == (  # type: ignore[index]
        "s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU"
    )


def test_modified_new_session_is_stored_and_cookied(make_app, store) -> None:
    """session() should create a new session"""

    def view() -> str:
        session["active"] = True
        return "session active"

    response = get(express_app(make_app, view))
    assert set_cookie(response) is not None
    assert response.text == "session active"
    assert store.length() == 1


def test_session_loaded_from_signed_cookie(make_app) -> None:
    """session() should load session from cookie sid"""
    app = express_app(make_app, counter_view())
    first = get(app)
    assert set_cookie(first) is not None
    assert first.text == "session 1"
    assert get(app, cookie=cookie(first)).text == "session 1"


def test_store_get_error_fails_request(make_app, store, monkeypatch) -> None:
    """session() should pass session fetch error

    The request fails with the store's error (deviation: 503 with Retry-After,
    api.md section 3; express: 500).  The request path loads with ``Store.load``.
    """
    app = express_app(make_app, lambda: "hello, world" + str(len(session)))
    report_errors(app)
    first = get(app)
    assert first.status_code == 200
    monkeypatch.setattr(store, "load", boom)
    second = get(app, cookie=cookie(first))
    assert second.status_code == 503
    assert second.headers["Retry-After"] == "5"
    assert second.text == "boom!"


def test_store_returning_none_means_not_found_and_oserror_is_raised(
    make_app, store, monkeypatch
) -> None:
    """session() should treat ENOENT session fetch error as not found

    Python stores say "not found" by returning None; an ENOENT-coded error
    is an error like any other and fails the request (deviation).
    """
    app = express_app(make_app, counter_view())
    report_errors(app)
    first = get(app)
    assert first.text == "session 1"
    monkeypatch.setattr(store, "load", lambda sid: None)
    assert get(app, cookie=cookie(first)).text == "session 2"

    def enoent(sid: str) -> None:
        raise FileNotFoundError(errno.ENOENT, "boom!")

    monkeypatch.setattr(store, "load", enoent)
    assert get(app, cookie=cookie(first)).status_code == 503


def test_cookieless_requests_create_separate_sessions(make_app, store) -> None:
    """session() should create multiple sessions"""
    count = [0]

    def view() -> str:
        is_new = "num" not in session
        if not session.get("num"):
            count[0] += 1
            session["num"] = count[0]
        return "session " + ("created" if is_new else "updated")

    app = express_app(make_app, view)
    assert get(app).text == "session created"
    assert get(app).text == "session created"
    assert len(store.all()) == 2


def test_empty_path_info_gets_a_session(make_app) -> None:
    """session() should handle empty req.url

    WSGI form of an empty ``req.url``: an empty ``PATH_INFO`` with no raw URI.
    """
    app = express_app(make_app)

    @app.before_request
    def use_session() -> None:
        session["seen"] = True

    response = get(app, environ_overrides={"PATH_INFO": "", "REQUEST_URI": "", "RAW_URI": ""})
    assert set_cookie(response) is not None


def test_reserved_names_in_stored_data_do_not_shadow_methods(make_app, store) -> None:
    """session() should handle reserved properties in storage"""
    seen: dict[str, str] = {}
    count = [0]

    def view() -> str:
        seen["sid"] = session.id
        if not session.get("num"):
            count[0] += 1
            session["num"] = count[0]
        session.save()
        return "session saved"

    app = express_app(make_app, view)
    first = get(app)
    assert first.text == "session saved"
    stored = store.get(seen["sid"])
    stored.update(save="nope", id="forged", regenerate="nope", touch=1)
    store.set(seen["sid"], stored)
    second = get(app, cookie=cookie(first))
    assert second.status_code == 200
    assert second.text == "session saved"
    assert seen["sid"] == sid(first)  # "id" in the data did not replace the real ID


def test_only_data_keys_are_iterated(make_app) -> None:
    """session() should only have session data enumerable (and cookie)

    The cookie is an attribute (``session.cookie``), not a key.
    """

    def view() -> str:
        session["test1"] = 1
        session["test2"] = "b"
        return ",".join(sorted(session))

    assert get(express_app(make_app, view)).text == "test1,test2"


def test_genid_returning_non_string_raises_type_error(make_app, store) -> None:
    """session() should not save with bogus req.sessionID

    Deviation: express silently skips saving; a non-string ID is a TypeError.
    """

    def view() -> str:
        session["test1"] = 1
        return ""

    app = express_app(make_app, view, genid=lambda req: lambda: None)
    report_errors(app)
    response = get(app)
    assert response.status_code == 500
    assert "genid must return a non-empty str" in response.text
    assert not has_set_cookie(response)
    assert store.length() == 0


def test_rolling_cookie_expiry_moves_with_time(make_app) -> None:
    """session() should update cookie expiration when slow write

    Time is frozen and advanced instead of writing slowly.
    """

    def view() -> str:
        session["user"] = "bob"
        return "hello, world!"

    app = express_app(make_app, view, rolling=True)
    with freeze_time(NOW) as frozen:
        first = get(app)
        original = expires(first)
        frozen.tick(1.2)
        second = get(app, cookie=cookie(first))
    assert set_cookie(second) is not None
    assert expires(second) != original


# -- session() when response ended ---------------------------------------------


def hit_view(response: Callable[[], Any] = lambda: "session saved") -> View:
    def view() -> Any:
        session["hit"] = True
        return response()

    return view


def test_store_written_before_response(make_app, store) -> None:
    """session() when response ended should have saved session"""
    response = get(express_app(make_app, hit_view()))
    assert response.text == "session saved"
    assert store.methods() == ["set"]
    assert store.get(sid(response))["hit"] is True


def test_store_written_with_empty_response(make_app, store) -> None:
    """session() when response ended should have saved session even with empty response"""
    response = get(express_app(make_app, hit_view(lambda: ("", {"Content-Length": "0"}))))
    assert response.data == b""
    assert store.methods() == ["set"]
    assert store.get(sid(response))["hit"] is True


def test_store_written_before_streamed_body(make_app, store) -> None:
    """session() when response ended should have saved session even with multi-write"""
    written: list[bool] = []

    def body() -> Any:
        written.append(store.length() == 1)  # already saved when the body starts
        yield "hello, "
        yield "world"

    response = get(express_app(make_app, hit_view(lambda: Response(body()))))
    assert response.text == "hello, world"
    assert written == [True]
    assert store.methods() == ["set"]


def test_store_written_with_content_length(make_app, store) -> None:
    """session() when response ended should have saved session even with non-chunked response"""
    response = get(
        express_app(make_app, hit_view(lambda: ("session saved", {"Content-Length": "13"})))
    )
    assert response.text == "session saved"
    assert store.methods() == ["set"]


def test_saved_expiry_matches_cookie_and_is_renewed(make_app, store) -> None:
    """session() when response ended should have saved session with updated cookie expiration"""

    def view() -> str:
        session["user"] = "bob"
        return session.id

    app = express_app(make_app, view)
    with freeze_time(NOW) as frozen:
        first = get(app)
        stored = store.get(first.text)
        exp = datetime.fromisoformat(stored["cookie"]["expires"].replace("Z", "+00:00"))
        assert exp == expires(first)
        frozen.tick(1.2)
        second = get(app, cookie=cookie(first))
        again = store.get(first.text)
    assert second.text == first.text
    assert again["cookie"]["expires"] != stored["cookie"]["expires"]


# -- session() when sid not in store / not signed / expired -----------------------


def test_unknown_sid_starts_new_session(make_app, store) -> None:
    """session() when sid not in store should create a new session"""
    app = express_app(make_app, counter_view())
    first = get(app)
    assert first.text == "session 1"
    store.clear()
    assert get(app, cookie=cookie(first)).text == "session 2"


def test_unknown_sid_is_never_reused(make_app, store) -> None:
    """session() when sid not in store should have a new sid"""
    app = express_app(make_app, counter_view())
    first = get(app)
    store.clear()
    second = get(app, cookie=cookie(first))
    assert second.text == "session 2"
    assert set_cookie(second) is not None
    assert sid(second) != sid(first)


def active_view() -> str:
    is_new = "active" not in session
    session["active"] = True
    return "session " + ("created" if is_new else "read")


def test_unsigned_cookie_starts_new_session(make_app) -> None:
    """session() when sid not properly signed should generate new session"""
    app = express_app(make_app, active_view, name="sessid")
    first = get(app)
    assert first.text == "session created"
    raw = sid(first, "sessid")
    second = get(app, cookie="sessid=" + raw)
    assert second.text == "session created"
    assert sid(second, "sessid") != raw


def test_bad_signature_skips_store(make_app, store) -> None:
    """session() when sid not properly signed should not attempt fetch from store"""
    app = express_app(make_app, active_view, name="sessid")
    first = get(app)
    forged = cookie(first, "sessid")
    forged = forged[: forged.rindex(".") - 3] + forged[forged.rindex(".") :]
    store.methods()
    second = get(app, cookie=forged)
    assert second.text == "session created"
    assert set_cookie(second, "sessid") is not None
    assert "get" not in store.methods()


def test_expired_session_starts_new_session(make_app) -> None:
    """session() when session expired in store should create a new session"""
    app = express_app(make_app, counter_view(), cookie={"max_age": 5})
    with freeze_time(NOW) as frozen:
        first = get(app)
        frozen.tick(20)
        second = get(app, cookie=cookie(first))
    assert set_cookie(second) is not None
    assert second.text == "session 2"


def test_expired_session_gets_new_sid(make_app) -> None:
    """session() when session expired in store should have a new sid"""
    app = express_app(make_app, counter_view(), cookie={"max_age": 5})
    with freeze_time(NOW) as frozen:
        first = get(app)
        frozen.tick(15)
        second = get(app, cookie=cookie(first))
    assert second.text == "session 2"
    assert sid(second) != sid(first)


def test_expired_session_not_in_store(make_app, store) -> None:
    """session() when session expired in store should not exist in store"""
    app = express_app(make_app, counter_view(), cookie={"max_age": 5})
    with freeze_time(NOW) as frozen:
        assert get(app).text == "session 1"
        assert len(store.all()) == 1
        frozen.tick(10)
        assert store.all() == {}


def test_stored_session_without_cookie_is_replaced_with_warning(make_app, store, caplog) -> None:
    """session() when session without cookie property in store should pass error from inflate

    Deviation: a corrupt stored session is treated as no session, with a
    warning, instead of failing every request of that visitor with a 500.
    """
    app = express_app(make_app, counter_view())
    first = get(app)
    store.set(sid(first), {"foo": "bar"})
    with caplog.at_level("WARNING", logger="flask_sessionstore"):
        second = get(app, cookie=cookie(first))
    assert second.status_code == 200
    assert second.text == "session 2"
    assert sid(second) != sid(first)
    assert "corrupt" in caplog.text


# -- session() proxy option -------------------------------------------------------


def secure_view() -> str:
    len(session)
    return str(request.is_secure).lower()


def proxied(app: Flask) -> Flask:
    """Trust one proxy hop, as Express's ``trust proxy`` does (sets ``request.is_secure``)."""
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    return app


@pytest.fixture
def proxy_true_app(make_app) -> Flask:
    return express_app(make_app, proxy=True, cookie={"secure": True, "max_age": 5})


def test_proxy_true_trusts_forwarded_proto(proxy_true_app) -> None:
    """session() proxy option when enabled should trust X-Forwarded-Proto when string"""
    response = get(proxy_true_app, headers={"X-Forwarded-Proto": "https"})
    assert set_cookie(response) is not None


def test_proxy_true_takes_first_forwarded_proto(proxy_true_app) -> None:
    """session() proxy option when enabled should trust X-Forwarded-Proto when comma-separated list"""
    assert set_cookie(get(proxy_true_app, headers={"X-Forwarded-Proto": "https,http"})) is not None
    assert not has_set_cookie(get(proxy_true_app, headers={"X-Forwarded-Proto": "http,https"}))


def test_proxy_true_without_header_is_insecure(proxy_true_app) -> None:
    """session() proxy option when enabled should work when no header"""
    response = get(proxy_true_app)
    assert response.status_code == 200
    assert not has_set_cookie(response)


def test_proxy_false_ignores_forwarded_proto(make_app) -> None:
    """session() proxy option when disabled should not trust X-Forwarded-Proto"""
    app = express_app(make_app, secure_view, proxy=False, cookie={"secure": True})
    response = get(app, headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert not has_set_cookie(response)


def test_proxy_false_ignores_proxy_fix(make_app) -> None:
    """session() proxy option when disabled should ignore req.secure

    werkzeug's ``ProxyFix`` plays Express's ``trust proxy`` (``req.secure``).
    """
    app = proxied(express_app(make_app, secure_view, proxy=False, cookie={"secure": True}))
    response = get(app, headers={"X-Forwarded-Proto": "https"})
    assert response.text == "true"  # Flask believes the proxy ...
    assert not has_set_cookie(response)  # ... the session does not


def test_proxy_unset_ignores_untrusted_forwarded_proto(make_app) -> None:
    """session() proxy option when unspecified should not trust X-Forwarded-Proto"""
    app = express_app(make_app, secure_view, cookie={"secure": True})
    response = get(app, headers={"X-Forwarded-Proto": "https"})
    assert response.text == "false"
    assert not has_set_cookie(response)


def test_proxy_unset_follows_request_is_secure(make_app) -> None:
    """session() proxy option when unspecified should use req.secure

    werkzeug's ``ProxyFix`` plays Express's ``trust proxy`` (``req.secure``).
    """
    app = proxied(express_app(make_app, secure_view, cookie={"secure": True}))
    response = get(app, headers={"X-Forwarded-Proto": "https"})
    assert response.text == "true"
    assert set_cookie(response) is not None


# -- session() cookie option: path ---------------------------------------------------


@pytest.fixture
def foo_bar_app(make_app) -> Flask:
    return express_app(make_app, cookie={"path": "/foo/bar"})


def test_request_outside_cookie_path_gets_no_session(foo_bar_app, store) -> None:
    """session() cookie option when "path" set to "/foo/bar" should not set cookie for "/" request"""
    response = get(foo_bar_app)
    assert response.status_code == 200
    assert not has_set_cookie(response)
    assert store.methods() == []


def test_host_header_does_not_count_as_path(foo_bar_app) -> None:
    """session() cookie option when "path" set to "/foo/bar" should not set cookie for "http://foo/bar" request

    Only the raw request path is compared with the cookie path, never the Host.
    """
    response = get(foo_bar_app, headers={"Host": "http://foo/bar"})
    assert response.status_code == 200
    assert not has_set_cookie(response)


def test_request_under_cookie_path_gets_cookie(foo_bar_app) -> None:
    """session() cookie option when "path" set to "/foo/bar" should set cookie for "/foo/bar" request"""
    found = set_cookie(get(foo_bar_app, "/foo/bar"))
    assert found is not None
    assert found[1]["path"] == "/foo/bar"


def test_request_below_cookie_path_gets_cookie(foo_bar_app) -> None:
    """session() cookie option when "path" set to "/foo/bar" should set cookie for "/foo/bar/baz" request"""
    assert set_cookie(get(foo_bar_app, "/foo/bar/baz")) is not None


@pytest.fixture
def mounted_app(make_app) -> Any:
    inner = express_app(make_app, cookie={"path": "/foo/bar"})
    outer = Flask("outer")
    outer.wsgi_app = DispatcherMiddleware(outer.wsgi_app, {"/foo": inner})  # type: ignore[method-assign]
    return outer


def test_mounted_app_matches_full_path(mounted_app) -> None:
    """session() cookie option when "path" set to "/foo/bar" when mounted at "/foo" should set cookie for "/foo/bar" request

    Mounted with werkzeug's ``DispatcherMiddleware``; the raw URI keeps the mount
    prefix.
    """
    assert set_cookie(get(mounted_app, "/foo/bar")) is not None


def test_mounted_app_does_not_match_path_inside_mount(mounted_app) -> None:
    """session() cookie option when "path" set to "/foo/bar" when mounted at "/foo" should not set cookie for "/foo/foo/bar" request

    Mounted with werkzeug's ``DispatcherMiddleware``.
    """
    response = get(mounted_app, "/foo/foo/bar")
    assert response.status_code == 200
    assert not has_set_cookie(response)


# -- session() cookie option: secure "auto" ---------------------------------------------


def test_secure_auto_with_proxy_true_sets_secure(make_app) -> None:
    """session() cookie option when "secure" set to "auto" when "proxy" is "true" should set secure when X-Forwarded-Proto is https"""
    app = express_app(make_app, proxy=True, cookie={"max_age": 5, "secure": "auto"})
    found = set_cookie(get(app, headers={"X-Forwarded-Proto": "https"}))
    assert found is not None
    assert "secure" in found[1]


def test_secure_auto_with_proxy_false_ignores_header(make_app) -> None:
    """session() cookie option when "secure" set to "auto" when "proxy" is "false" should not set secure when X-Forwarded-Proto is https"""
    app = express_app(make_app, proxy=False, cookie={"max_age": 5, "secure": "auto"})
    found = set_cookie(get(app, headers={"X-Forwarded-Proto": "https"}))
    assert found is not None
    assert "secure" not in found[1]


def test_secure_auto_follows_request_is_secure(make_app) -> None:
    """session() cookie option when "secure" set to "auto" when "proxy" is undefined should set secure if req.secure = true

    werkzeug's ``ProxyFix`` plays Express's ``trust proxy`` (``req.secure``).
    """
    app = proxied(express_app(make_app, secure_view, cookie={"secure": "auto"}))
    response = get(app, headers={"X-Forwarded-Proto": "https"})
    assert response.text == "true"
    assert "secure" in set_cookie(response)[1]  # type: ignore[index]


def test_secure_auto_on_plain_http_omits_secure(make_app, store) -> None:
    """session() cookie option when "secure" set to "auto" when "proxy" is undefined should not set secure if req.secure = false

    werkzeug's ``ProxyFix`` plays Express's ``trust proxy`` (``req.secure``).
    """
    app = proxied(express_app(make_app, secure_view, cookie={"secure": "auto"}))
    response = get(app, headers={"X-Forwarded-Proto": "http"})
    assert response.text == "false"
    assert "secure" not in set_cookie(response)[1]  # type: ignore[index]
    assert store.get(sid(response))["cookie"]["secure"] is False


# -- session() cookie option: a callable -------------------------------------------------


def test_cookie_callable_options_are_applied(make_app, store) -> None:
    """session() cookie option when "cookie" is a function should call custom function and apply cookie options"""
    calls: list[str] = []

    def options(req: Any) -> dict[str, Any]:
        calls.append(req.path)
        return {"max_age": 120, "same_site": "strict", "priority": "high", "http_only": False}

    app = express_app(make_app, cookie=options)
    with freeze_time(NOW):
        response = get(app)
        stored = store.get(sid(response))  # in frozen time: the session lives 120 s
    _, attributes = set_cookie(response)  # type: ignore[misc]
    assert calls and calls[0] == "/"
    assert attributes["samesite"] == "Strict"
    assert attributes["priority"] == "High"
    assert "httponly" not in attributes
    assert parse_date(attributes["expires"]) == datetime(2026, 11, 25, 10, 2, tzinfo=timezone.utc)
    assert stored is not None
    assert stored["cookie"]["originalMaxAge"] == 120_000


def test_cookie_callable_receives_request(make_app) -> None:
    """session() cookie option when "cookie" is a function should provide req argument"""

    def options(req: Any) -> dict[str, Any]:
        return {"domain": req.headers["X-Cookie-Domain"], "max_age": 60}

    app = express_app(make_app, cookie=options)
    found = set_cookie(get(app, headers={"X-Cookie-Domain": "example.com"}))
    assert found is not None
    assert found[1]["domain"] == "example.com"


def test_auto_is_resolved_on_callable_cookie_options(make_app, store) -> None:
    """(deviation) 'auto' works when the cookie option is a callable"""
    app = express_app(make_app, cookie=lambda req: {"secure": "auto", "same_site": "auto"})
    insecure = get(app)
    assert set_cookie(insecure)[1]["samesite"] == "Lax"  # type: ignore[index]
    assert "secure" not in set_cookie(insecure)[1]  # type: ignore[index]
    secure = get(app, base_url="https://localhost")
    assert set_cookie(secure)[1]["samesite"] == "None"  # type: ignore[index]
    assert "secure" in set_cookie(secure)[1]  # type: ignore[index]


# -- session() cookie option: sameSite "auto" -----------------------------------------------


def same_site(response: Response) -> str | None:
    found = set_cookie(response)
    assert found is not None
    return found[1].get("samesite")


def test_same_site_auto_is_none_on_https(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" basic functionality should set SameSite=None for secure connections"""
    app = express_app(make_app, cookie={"same_site": "auto"})
    assert same_site(get(app, base_url="https://localhost")) == "None"


def test_same_site_auto_is_lax_on_http(make_app, store) -> None:
    """session() cookie option when "sameSite" set to "auto" basic functionality should set SameSite=Lax for insecure connections"""
    app = express_app(make_app, cookie={"same_site": "auto"})
    response = get(app)
    assert same_site(response) == "Lax"
    assert store.get(sid(response))["cookie"]["sameSite"] == "lax"


def test_same_site_auto_with_proxy_true_https(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" with proxy settings when "proxy" is "true" should set SameSite=None when X-Forwarded-Proto is https"""
    app = express_app(make_app, proxy=True, cookie={"same_site": "auto"})
    assert same_site(get(app, headers={"X-Forwarded-Proto": "https"})) == "None"


def test_same_site_auto_with_proxy_true_http(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" with proxy settings when "proxy" is "true" should set SameSite=Lax when X-Forwarded-Proto is http"""
    app = express_app(make_app, proxy=True, cookie={"same_site": "auto"})
    assert same_site(get(app, headers={"X-Forwarded-Proto": "http"})) == "Lax"


def test_same_site_auto_with_proxy_false_ignores_header(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" with proxy settings when "proxy" is "false" should set SameSite=Lax when X-Forwarded-Proto is https"""
    app = express_app(make_app, proxy=False, cookie={"same_site": "auto"})
    assert same_site(get(app, headers={"X-Forwarded-Proto": "https"})) == "Lax"


def test_secure_auto_and_same_site_auto_on_https(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" combined with secure auto when "secure" is "auto" should set both Secure and SameSite=None when secure"""
    app = express_app(make_app, cookie={"secure": "auto", "same_site": "auto"})
    response = get(app, base_url="https://localhost")
    assert same_site(response) == "None"
    assert "secure" in set_cookie(response)[1]  # type: ignore[index]


def test_secure_auto_and_same_site_auto_on_http(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" combined with secure auto when "secure" is "auto" should set neither Secure nor SameSite=None when insecure"""
    app = express_app(make_app, cookie={"secure": "auto", "same_site": "auto"})
    response = get(app)
    assert same_site(response) == "Lax"
    assert "secure" not in set_cookie(response)[1]  # type: ignore[index]


def test_same_site_auto_without_secure_on_https(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" combined with secure auto when "secure" is "false" should set SameSite=None without Secure when secure"""
    app = express_app(make_app, cookie={"secure": False, "same_site": "auto"})
    response = get(app, base_url="https://localhost")
    assert same_site(response) == "None"
    assert "secure" not in set_cookie(response)[1]  # type: ignore[index]


def test_same_site_auto_without_secure_on_http(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" combined with secure auto when "secure" is "false" should set SameSite=Lax without Secure when insecure"""
    app = express_app(make_app, cookie={"secure": False, "same_site": "auto"})
    response = get(app)
    assert same_site(response) == "Lax"
    assert "secure" not in set_cookie(response)[1]  # type: ignore[index]


def test_same_site_auto_with_secure_true_on_https(make_app) -> None:
    """session() cookie option when "sameSite" set to "auto" combined with secure auto when "secure" is "true" should set both Secure and SameSite=None when secure"""
    app = express_app(make_app, cookie={"secure": True, "same_site": "auto"})
    response = get(app, base_url="https://localhost")
    assert same_site(response) == "None"
    assert "secure" in set_cookie(response)[1]  # type: ignore[index]


def test_same_site_auto_with_secure_true_on_http_sends_no_cookie(make_app, store) -> None:
    """session() cookie option when "sameSite" set to "auto" combined with secure auto when "secure" is "true" should not set cookie when insecure"""
    app = express_app(make_app, cookie={"secure": True, "same_site": "auto"})
    response = get(app)
    assert response.status_code == 200
    assert not has_set_cookie(response)
    assert store.methods() == ["set"]  # still saved, as in express


# -- session() genid option ------------------------------------------------------------


def test_genid_must_be_callable(make_app) -> None:
    """session() genid option should reject non-function values"""
    with pytest.raises(TypeError, match="genid must be a callable"):
        express_app(make_app, genid="bogus!")


def test_default_genid_makes_32_char_urlsafe_ids(make_app) -> None:
    """session() genid option should provide default generator"""
    response = get(express_app(make_app))
    value = sid(response)
    assert len(value) == 32
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_custom_genid_is_signed_like_express(make_app) -> None:
    """session() genid option should allow custom function"""
    response = get(express_app(make_app, genid=lambda req: "apple"))
    assert set_cookie(response)[0] == (  # type: ignore[index]
        "s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU"
    )


def test_genid_value_is_uri_component_encoded(make_app) -> None:
    """session() genid option should encode unsafe chars"""
    response = get(express_app(make_app, genid=lambda req: "%"))
    assert set_cookie(response)[0] == "s%3A%25.kzQ6x52kKVdF35Qh62AWk4ZekS28K5XYCXKa%2FOTZ01g"  # type: ignore[index]


def test_genid_receives_request(make_app) -> None:
    """session() genid option should provide req argument"""
    response = get(express_app(make_app, genid=lambda req: req.path), "/foo")
    assert set_cookie(response)[0] == (  # type: ignore[index]
        "s%3A%2Ffoo.paEKBtAHbV5s1IB8B2zPnzAgYmmnRPIqObW4VRYj%2FMQ"
    )


# -- session() key / name options --------------------------------------------------------


def test_cookie_name_defaults_to_flask_session(make_app) -> None:
    """session() key option should default to "connect.sid"

    Deviation: the default is Flask's ``SESSION_COOKIE_NAME`` ("session");
    pass ``name="connect.sid"`` to share sessions with express-session.
    """
    response = get(express_app(make_app, name=None))
    assert set_cookie(response, "session") is not None
    assert set_cookie(response, "connect.sid") is None


def test_cookie_name_from_flask_config() -> None:
    """session() key option should allow overriding

    There is no ``key`` alias; Flask's ``SESSION_COOKIE_NAME`` is the second spelling.
    """
    app = Flask("named")
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True, SESSION_COOKIE_NAME="session_id")
    SessionStore(app, store=MemoryStore(), save_uninitialized=True)
    app.add_url_rule("/", "root", uses_session)
    assert set_cookie(get(app), "session_id") is not None


def test_name_option_sets_cookie_name(make_app) -> None:
    """session() name option should set the cookie name"""
    response = get(express_app(make_app, name="session_id"))
    assert set_cookie(response, "session_id") is not None
    assert set_cookie(response, "connect.sid") is None


# -- session() rolling option -------------------------------------------------------------


def bob_view() -> str:
    session["user"] = "bob"
    return ""


def test_rolling_off_by_default(make_app) -> None:
    """session() rolling option should default to false"""
    app = express_app(make_app, bob_view)
    first = get(app)
    assert set_cookie(first) is not None
    assert not has_set_cookie(get(app, cookie=cookie(first)))


def test_rolling_sends_cookie_for_unmodified_session(make_app) -> None:
    """session() rolling option should force cookie on unmodified session"""
    app = express_app(make_app, bob_view, rolling=True)
    first = get(app)
    assert set_cookie(get(app, cookie=cookie(first))) is not None


def test_rolling_does_not_cookie_uninitialized_session(make_app, store) -> None:
    """session() rolling option should not force cookie on uninitialized session if saveUninitialized option is set to false"""
    app = express_app(make_app, rolling=True, save_uninitialized=False)
    response = get(app)
    assert not has_set_cookie(response)
    assert store.methods() == []


def test_rolling_with_save_uninitialized_saves_and_cookies(make_app, store) -> None:
    """session() rolling option should force cookie and save uninitialized session if saveUninitialized option is set to true"""
    app = express_app(make_app, rolling=True, save_uninitialized=True)
    response = get(app)
    assert store.methods() == ["set"]
    assert set_cookie(response) is not None


def test_rolling_saves_and_cookies_modified_session(make_app, store) -> None:
    """session() rolling option should force cookie and save modified session even if saveUninitialized option is set to false"""
    app = express_app(make_app, bob_view, rolling=True, save_uninitialized=False)
    response = get(app)
    assert store.methods() == ["set"]
    assert set_cookie(response) is not None


# -- session() resave option ----------------------------------------------------------------


def test_resave_off_by_default_touches_instead(make_app, store) -> None:
    """session() resave option should default to true

    Deviation: ``resave`` defaults to False; an unchanged session is touched.
    """
    app = express_app(make_app, bob_view, resave=None)
    first = get(app)
    assert store.methods() == ["set"]
    get(app, cookie=cookie(first))
    assert store.methods() == ["get", "touch"]


def test_resave_true_saves_unmodified_session(make_app, store) -> None:
    """session() resave option when true should force save on unmodified session"""
    app = express_app(make_app, bob_view, resave=True)
    first = get(app)
    assert store.methods() == ["set"]
    get(app, cookie=cookie(first))
    assert store.methods() == ["get", "set"]


def test_read_only_request_touches_not_saves(make_app, store) -> None:
    """session() resave option when false should prevent save on unmodified session"""
    app = express_app(make_app, bob_view, resave=False)
    first = get(app)
    assert store.methods() == ["set"]
    get(app, cookie=cookie(first))
    assert store.methods() == ["get", "touch"]


def test_resave_false_still_saves_modified_session(make_app, store) -> None:
    """session() resave option when false should still save modified session"""

    def view() -> str:
        if request.method == "PUT":
            session["token"] = request.path[1:]
        return "token=" + session.get("token", "")

    app = express_app(make_app, view, resave=False)
    first = get(app, "/w6RHhwaA", method="PUT")
    assert first.text == "token=w6RHhwaA"
    assert store.methods() == ["set"]
    sess = cookie(first)
    assert get(app, cookie=sess).text == "token=w6RHhwaA"
    assert "set" not in store.methods()
    assert get(app, "/zfQ3rzM3", cookie=sess, method="PUT").text == "token=zfQ3rzM3"
    assert store.methods() == ["get", "set"]


def test_nested_cookie_key_counts_as_modification(make_app, store) -> None:
    """session() resave option when false should detect a "cookie" property as modified"""

    def view() -> str:
        user = session.setdefault("user", {})
        user["name"] = "bob"
        user["cookie"] = user.get("cookie", 0) + 1
        return ""

    app = express_app(make_app, view, resave=False)
    first = get(app)
    assert store.methods() == ["set"]
    get(app, cookie=cookie(first))
    assert store.methods() == ["get", "set"]


def test_store_touch_error_fails_request(make_app, store, monkeypatch) -> None:
    """session() resave option when false should pass session touch error

    Deviation: the request fails (503) instead of succeeding while the error
    is reported after the response.
    """
    app = express_app(make_app, hit_view(), resave=False)
    report_errors(app)
    first = get(app)
    assert first.text == "session saved"
    monkeypatch.setattr(store, "refresh", boom)
    second = get(app, cookie=cookie(first))
    assert second.status_code == 503
    assert second.text == "boom!"


# -- session() saveUninitialized option --------------------------------------------------------


def test_uninitialized_session_not_saved_by_default(make_app, store) -> None:
    """session() saveUninitialized option should default to true

    Deviation: ``save_uninitialized`` defaults to False.
    """
    response = get(express_app(make_app, save_uninitialized=None))
    assert not has_set_cookie(response)
    assert store.methods() == []


def test_save_uninitialized_saves_empty_session(make_app, store) -> None:
    """session() saveUninitialized option should force save of uninitialized session"""
    response = get(express_app(make_app, save_uninitialized=True))
    assert store.methods() == ["set"]
    assert set_cookie(response) is not None


def test_save_uninitialized_false_skips_empty_session(make_app, store) -> None:
    """session() saveUninitialized option should prevent save of uninitialized session"""
    response = get(express_app(make_app, save_uninitialized=False))
    assert store.methods() == []
    assert not has_set_cookie(response)


def test_save_uninitialized_false_saves_modified_session(make_app, store) -> None:
    """session() saveUninitialized option should still save modified session"""

    def view() -> str:
        session["count"] = session.get("count", 0) + 1
        return ""

    response = get(express_app(make_app, view, save_uninitialized=False))
    assert store.methods() == ["set"]
    assert set_cookie(response) is not None


def test_store_set_error_fails_request(make_app, store, monkeypatch) -> None:
    """session() saveUninitialized option should pass session save error

    Deviation: a lost save is never reported as success; the request fails.
    """
    app = express_app(
        make_app, lambda: "session saved" + str(len(session)), save_uninitialized=True
    )
    report_errors(app)
    monkeypatch.setattr(store, "write", boom)
    response = get(app)
    assert response.status_code == 503
    assert response.text == "boom!"


def test_uninitialized_session_never_touched(make_app, store) -> None:
    """session() saveUninitialized option should prevent uninitialized session from being touched"""
    app = express_app(make_app, save_uninitialized=False, cookie={"max_age": 60})
    response = get(app)
    assert response.status_code == 200
    assert store.methods() == []


# -- session() secret option ------------------------------------------------------------------


def test_empty_secret_list_rejected(make_app) -> None:
    """session() secret option should reject empty arrays"""
    with pytest.raises(ValueError, match="one or more secrets"):
        express_app(make_app, secret=[])


def user_view() -> str:
    if not session.get("user"):
        session["user"] = "bob"
        return "set"
    return 'get:"' + session["user"] + '"'


def test_str_secret_round_trip(make_app) -> None:
    """session() secret option should sign and unsign with a string"""
    app = express_app(make_app, user_view, secret="awesome cat")
    first = get(app)
    assert first.text == "set"
    assert get(app, cookie=cookie(first)).text == 'get:"bob"'


def test_bytes_secret_round_trip(make_app) -> None:
    """session() secret option should sign and unsign with a Buffer"""
    app = express_app(make_app, user_view, secret=os.urandom(32))
    first = get(app)
    assert first.text == "set"
    assert get(app, cookie=cookie(first)).text == 'get:"bob"'


def set_bob() -> str:
    session["user"] = "bob"
    return session["user"]


def read_user() -> str:
    return str(session.get("user"))


def test_secret_list_signs(make_app) -> None:
    """session() secret option when an array should sign cookies"""
    response = get(express_app(make_app, set_bob, secret=["keyboard cat", "nyan cat"]))
    assert response.text == "bob"
    assert set_cookie(response) is not None


def test_secret_list_signs_with_first(make_app) -> None:
    """session() secret option when an array should sign cookies with first element"""
    writer = express_app(make_app, set_bob, secret=["keyboard cat", "nyan cat"])
    reader = express_app(make_app, read_user, secret="nyan cat")
    first = get(writer)
    assert first.text == "bob"
    assert get(reader, cookie=cookie(first)).text == "None"


def test_secret_list_verifies_with_every_element(make_app) -> None:
    """session() secret option when an array should read cookies using all elements"""
    writer = express_app(make_app, set_bob, secret="nyan cat")
    reader = express_app(make_app, read_user, secret=["keyboard cat", "nyan cat"])
    first = get(writer)
    assert get(reader, cookie=cookie(first)).text == "bob"


# -- session() unset option -----------------------------------------------------------------


def test_unset_rejects_unknown_value(make_app) -> None:
    """session() unset option should reject unknown values"""
    with pytest.raises(ValueError, match="unset must be"):
        express_app(make_app, unset="bogus!")


def count_then_clear_view() -> str:
    session["count"] = session.get("count", 0) + 1
    if session["count"] == 2:
        session.clear()
    return ""


def test_unset_keep_saves_emptied_session(make_app, store) -> None:
    """session() unset option should default to keep

    Deviation: the default is "destroy" (api.md v2, Flask's own behaviour);
    with "keep", ``session.clear()`` saves the emptied session (its ID stays
    valid, data gone).
    """
    app = express_app(make_app, count_then_clear_view, unset="keep")
    first = get(app)
    assert store.length() == 1
    get(app, cookie=cookie(first))
    assert store.length() == 1
    assert store.get(sid(first)) == {"cookie": store.get(sid(first))["cookie"]}


def test_unset_destroy_removes_emptied_session(make_app, store) -> None:
    """session() unset option should allow destroy on req.session = null

    ``session.clear()`` stands in for ``req.session = null``. Deviation: the response
    also expires the cookie.
    """
    app = express_app(make_app, count_then_clear_view, unset="destroy")
    first = get(app)
    assert store.length() == 1
    second = get(app, cookie=cookie(first))
    assert store.length() == 0
    expired = set_cookie(second)
    assert expired is not None and expired[0] == ""  # deviation: the cookie is expired


def test_unset_destroy_on_new_session_sends_no_cookie(make_app, store) -> None:
    """session() unset option should not set cookie if initial session destroyed

    ``session.clear()`` stands in for ``req.session = null``.
    """

    def view() -> str:
        session.clear()
        return ""

    response = get(express_app(make_app, view, unset="destroy"))
    assert not has_set_cookie(response)
    assert store.length() == 0


def test_store_destroy_error_fails_request(make_app, store, monkeypatch) -> None:
    """session() unset option should pass session destroy error

    Deviation: the request fails (503) instead of succeeding with the error reported
    later.
    """

    def view() -> str:
        if "n" not in session:
            session["n"] = 1
            return "stored"
        session.clear()
        return "session destroyed"

    app = express_app(make_app, view, unset="destroy")
    report_errors(app)
    first = get(app)  # a stored session (one never stored has nothing to destroy)
    monkeypatch.setattr(store, "destroy", boom)
    response = get(app, cookie=cookie(first))
    assert response.status_code == 503
    assert response.text == "boom!"


# -- session() req.session -------------------------------------------------------------------


def hits_view() -> str:
    session["count"] = session.get("count", 0) + 1
    return f"hits: {session['count']}"


def test_session_persists_across_requests(make_app, store) -> None:
    """session() req.session should persist"""
    app = express_app(make_app, hits_view)
    first = get(app)
    assert first.text == "hits: 1"
    assert store.get(sid(first)) is not None
    assert get(app, cookie=cookie(first)).text == "hits: 2"


def test_existing_session_cookied_only_when_modified(make_app) -> None:
    """session() req.session should only set-cookie when modified"""
    modify = [True]

    def view() -> str:
        if modify[0]:
            session["count"] = session.get("count", 0) + 1
        return str(session["count"])

    app = express_app(make_app, view)
    first = get(app)
    assert first.text == "1"
    second = get(app, cookie=cookie(first))
    assert second.text == "2"
    val = cookie(second)
    modify[0] = False
    third = get(app, cookie=val)
    assert third.text == "2"
    assert not has_set_cookie(third)
    modify[0] = True
    fourth = get(app, cookie=val)
    assert fourth.text == "3"
    assert set_cookie(fourth) is not None


def test_methods_are_not_keys(make_app) -> None:
    """session() req.session should not have enumerable methods"""

    def view() -> str:
        session["foo"] = "foo"
        session["bar"] = "bar"
        return ",".join(sorted(key for key in session))

    assert get(express_app(make_app, view)).text == "bar,foo"


def test_destroy_on_new_session_sends_no_cookie(make_app, store) -> None:
    """session() req.session .destroy() should destroy the previous session

    The destroyed session was new, so there is no browser cookie to expire.
    """

    def view() -> str:
        session["gone"] = True
        session.destroy()
        return str(store.length())

    app = express_app(make_app, view)
    response = get(app)
    assert response.text == "0"
    assert not has_set_cookie(response)
    assert store.length() == 0


def test_destroy_on_existing_session_expires_cookie(make_app, store) -> None:
    """(deviation) destroy() of a session the browser sent expires its cookie"""
    app = express_app(
        make_app, hits_view, cookie={"max_age": 60, "path": "/", "domain": "example.com"}
    )

    @app.route("/logout")
    def logout() -> str:
        session.destroy()
        return "bye"

    first = get(app)
    response = get(app, "/logout", cookie=cookie(first))
    value, attributes = set_cookie(response)  # type: ignore[misc]
    assert value == ""
    assert attributes["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert attributes["path"] == "/"
    assert attributes["domain"] == "example.com"
    assert store.length() == 0


def test_regenerate_replaces_id_and_destroys_old(make_app, store) -> None:
    """session() req.session .regenerate() should destroy/replace the previous session"""

    def view() -> str:
        old = session.id
        session.regenerate()
        return str(session.id == old).lower()

    app = express_app(make_app, view)
    first = get(app)
    assert set_cookie(first) is not None
    store.methods()
    second = get(app, cookie=cookie(first))
    assert second.text == "false"
    assert sid(second) != sid(first)
    assert store.methods() == ["get", "destroy", "set"]
    assert store.get(sid(first)) is None


def test_reload_replaces_data_with_store_copy(make_app) -> None:
    """session() req.session .reload() should reload session from store"""
    app = express_app(make_app)
    state: dict[str, str] = {}

    @app.route("/start")
    def start() -> str:
        session["active"] = True
        return "session created"

    @app.route("/bar")
    def bar() -> str:
        session["url"] = request.path
        return "saw " + session["url"]

    @app.route("/foo")
    def foo() -> str:
        session["url"] = request.path
        # another request changes the stored copy meanwhile
        assert get(app, "/bar", cookie=state["cookie"]).text == "saw /bar"
        session.reload()
        return "saw " + session["url"]

    state["cookie"] = cookie(get(app, "/start"))
    assert get(app, "/foo", cookie=state["cookie"]).text == "saw /bar"


def test_reload_of_missing_session_raises_key_error(make_app, store) -> None:
    """session() req.session .reload() should error is session missing

    ``reload()`` raises ``KeyError`` (express: ``failed to load session``).
    """
    app = express_app(make_app)

    @app.route("/start")
    def start() -> str:
        session["active"] = True
        return "session created"

    @app.route("/foo")
    def foo() -> tuple[str, int]:
        len(session)
        store.clear()
        try:
            session.reload()
        except KeyError as error:
            return str(error), 500
        return "", 200

    first = get(app, "/start")
    response = get(app, "/foo", cookie=cookie(first))
    assert response.status_code == 500
    assert "no longer in the store" in response.text


def test_repeated_failing_reloads_keep_raising(make_app, store) -> None:
    """session() req.session .reload() should not override an overridden `reload` in case of errors

    Python wraps nothing: each failing ``reload()`` raises ``KeyError`` and leaves the
    data intact.
    """
    app = express_app(make_app, resave=False)

    @app.route("/start")
    def start() -> str:
        session["active"] = True
        return "session created"

    @app.route("/foo")
    def foo() -> str:
        len(session)
        store.clear()
        failures = 0
        for _ in range(19):
            try:
                session.reload()
            except KeyError:
                failures += 1
        return "ok" if failures == 19 and session["active"] is True else "broken"

    first = get(app, "/start")
    assert get(app, "/foo", cookie=cookie(first)).text == "ok"


def test_save_writes_to_store_immediately(make_app, store) -> None:
    """session() req.session .save() should save session to store"""

    def view() -> str:
        session["hit"] = True
        session.save()
        return "stored" if store.get(session.id) else "empty"

    assert get(express_app(make_app, view)).text == "stored"


def save_view() -> str:
    session["hit"] = True
    session.save()
    return "saved"


def test_explicit_save_prevents_end_of_request_save(make_app, store) -> None:
    """session() req.session .save() should prevent end-of-request save

    Deviation: express follows the explicit save with a ``touch``; we write once.
    """
    app = express_app(make_app, save_view)
    first = get(app)
    assert first.text == "saved"
    assert store.methods() == ["set"]
    assert get(app, cookie=cookie(first)).text == "saved"
    assert store.methods() == ["get", "set"]  # deviation: no trailing touch either


def test_explicit_save_after_reload_prevents_end_of_request_save(make_app, store) -> None:
    """session() req.session .save() should prevent end-of-request save on reloaded session

    ``reload()`` raises ``KeyError`` where express passes an error to the callback.
    """

    def view() -> str:
        session["hit"] = True
        with contextlib.suppress(KeyError):
            session.reload()  # a new session is not in the store yet; express ignores it too
        session.save()
        return "saved"

    app = express_app(make_app, view)
    first = get(app)
    assert first.text == "saved"
    assert store.methods() == ["get", "set"]  # the reload finds nothing, then one save
    assert get(app, cookie=cookie(first)).text == "saved"
    assert store.methods() == ["get", "get", "set"]


def test_explicit_save_prevents_end_save_without_save_uninitialized(make_app, store) -> None:
    """session() req.session .save() when saveUninitialized is false should prevent end-of-request save

    Deviation: no trailing ``touch`` after the explicit save either.
    """
    app = express_app(make_app, save_view, save_uninitialized=False)
    first = get(app)
    assert first.text == "saved"
    assert store.methods() == ["set"]
    assert get(app, cookie=cookie(first)).text == "saved"
    assert store.methods() == ["get", "set"]


def test_touch_renews_stored_expiry(make_app, store) -> None:
    """session() req.session .touch() should reset session expiration"""

    def view() -> str:
        session["hit"] = True
        session.touch()
        return ""

    app = express_app(make_app, view, resave=False, cookie={"max_age": 60})
    with freeze_time(NOW) as frozen:
        first = get(app)
        before = store.get(sid(first))["cookie"]["expires"]
        frozen.tick(1)
        get(app, cookie=cookie(first))
        after = store.get(sid(first))["cookie"]["expires"]
    assert before == "2026-11-25T10:01:00.000Z"
    assert after == "2026-11-25T10:01:01.000Z"


# -- session() req.session .cookie .* ------------------------------------------------------------


def test_cookie_attributes_set_in_view_are_serialized(make_app) -> None:
    """session() req.session .cookie .* should serialize as parameters"""

    def view() -> str:
        session.cookie.http_only = False
        session.cookie.secure = True
        return ""

    app = express_app(make_app, view, proxy=True)
    found = set_cookie(get(app, headers={"X-Forwarded-Proto": "https"}))
    assert found is not None
    assert "httponly" not in found[1]
    assert "secure" in found[1]


def test_no_max_age_means_browser_session_cookie(make_app) -> None:
    """session() req.session .cookie .* should default to a browser-session length cookie"""
    found = set_cookie(get(express_app(make_app, cookie={"path": "/admin"}), "/admin"))
    assert found is not None
    assert "expires" not in found[1]
    assert "max-age" not in found[1]


def test_browser_session_cookie_sent_once(make_app) -> None:
    """session() req.session .cookie .* should Set-Cookie only once for browser-session cookies"""
    app = express_app(make_app, cookie={"path": "/admin"})
    first = get(app, "/admin/foo")
    assert set_cookie(first) is not None
    assert not has_set_cookie(get(app, "/admin", cookie=cookie(first)))


def test_view_overrides_cookie_defaults(make_app) -> None:
    """session() req.session .cookie .* should override defaults"""

    def view() -> str:
        session.cookie.secure = False
        return ""

    opts = {"http_only": False, "max_age": 5, "path": "/admin", "priority": "high", "secure": True}
    found = set_cookie(get(express_app(make_app, view, cookie=opts), "/admin"))
    assert found is not None
    attributes = found[1]
    assert "expires" in attributes
    assert "httponly" not in attributes
    assert attributes["path"] == "/admin"
    assert "secure" not in attributes
    assert attributes["priority"] == "High"


def test_invalid_cookie_option_fails_at_init_app(make_app) -> None:
    """session() req.session .cookie .* should forward errors setting cookie

    Deviation: invalid cookie options are rejected by ``init_app``, not at
    the first response.
    """
    with pytest.raises(ValueError, match="expires"):
        express_app(make_app, cookie={"expires": datetime(2030, 1, 1)})  # naive
    with pytest.raises(ValueError, match="priority"):
        express_app(make_app, cookie={"priority": "urgent"})


def test_cookies_set_by_view_are_preserved(make_app) -> None:
    """session() req.session .cookie .* should preserve cookies set before writeHead is called"""

    def view() -> Response:
        session["x"] = 1
        response = Response("")
        response.set_cookie("previous", "cookieValue")
        return response

    response = get(express_app(make_app, view))
    assert set_cookie(response, "previous")[0] == "cookieValue"  # type: ignore[index]
    assert set_cookie(response) is not None


def test_cookies_in_returned_headers_are_preserved(make_app) -> None:
    """session() req.session .cookie .* should preserve cookies set in writeHead"""

    def view() -> tuple[str, int, dict[str, str]]:
        session["x"] = 1
        return "", 200, {"Set-Cookie": "previous=cookieValue; Path=/; HttpOnly"}

    response = get(express_app(make_app, view))
    assert set_cookie(response, "previous")[0] == "cookieValue"  # type: ignore[index]
    assert set_cookie(response) is not None
    assert len(response.headers.getlist("Set-Cookie")) == 2


# -- session() req.session .cookie .originalMaxAge -------------------------------------------------


def original_max_age_view() -> str:
    return repr(session.cookie.original_max_age)


def test_original_max_age_on_new_session(make_app) -> None:
    """session() req.session .cookie .originalMaxAge should equal original maxAge

    Seconds, and exact (express reports 2000 or 1999 ms).
    """
    assert get(express_app(make_app, original_max_age_view, cookie={"max_age": 2})).text == "2.0"


def test_original_max_age_survives_requests(make_app) -> None:
    """session() req.session .cookie .originalMaxAge should equal original maxAge for all requests"""
    app = express_app(make_app, original_max_age_view, cookie={"max_age": 2})
    with freeze_time(NOW) as frozen:
        first = get(app)
        frozen.tick(0.1)
        second = get(app, cookie=cookie(first))
    assert first.text == "2.0"
    assert second.text == "2.0"


class DatetimeStore(MemoryStore):
    """Returns ``cookie.expires`` as a datetime, like a BSON store (upstream's SmartStore)."""

    def get(self, sid: str) -> StoredSession | None:
        stored = super().get(sid)
        if stored and stored["cookie"].get("expires"):
            text = stored["cookie"]["expires"]
            stored["cookie"]["expires"] = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return stored


def test_original_max_age_survives_datetime_store(make_app) -> None:
    """session() req.session .cookie .originalMaxAge should equal original maxAge for all requests (SmartStore)

    Upstream's SmartStore returns ``expires`` as a Date; ours returns a datetime, as
    BSON stores do.
    """
    store: Store = DatetimeStore()
    app = express_app(make_app, original_max_age_view, cookie={"max_age": 2}, store=store)
    with freeze_time(NOW) as frozen:
        first = get(app)
        frozen.tick(0.1)
        second = get(app, cookie=cookie(first))
    assert first.text == "2.0"
    assert second.text == "2.0"
    assert second.status_code == 200


# -- session() req.session .cookie .secure --------------------------------------------------------


def test_secure_cookie_sent_over_https(make_app) -> None:
    """session() req.session .cookie .secure should set cookie when secure

    An ``https://`` base URL instead of a TLS server.
    """
    app = express_app(make_app, cookie={"secure": True})
    found = set_cookie(get(app, base_url="https://localhost"))
    assert found is not None
    assert "secure" in found[1]


def test_secure_cookie_withheld_over_http(make_app, store) -> None:
    """session() req.session .cookie .secure should not set-cookie when insecure"""
    app = express_app(make_app, cookie={"secure": True})
    response = get(app)
    assert response.status_code == 200
    assert not has_set_cookie(response)
    assert store.methods() == ["set"]  # still saved, as in express


# -- session() req.session .cookie .maxAge ----------------------------------------------------------


def max_age_view() -> str:
    count = session.get("count", 0) + 1
    session["count"] = count
    if count == 2:
        session.cookie.max_age = 5
    elif count == 3:
        session.cookie.max_age = 3_000_000
    elif count > 3:
        session["count"] = 0
    return str(session["count"])


def test_cookie_expiry_relative_to_max_age(make_app) -> None:
    """session() req.session .cookie .maxAge should set cookie expires relative to maxAge"""
    app = express_app(make_app, max_age_view, cookie={"max_age": 2})
    with freeze_time(NOW):
        response = get(app)
    assert response.text == "1"
    assert expires(response) == datetime(2026, 11, 25, 10, 0, 2, tzinfo=timezone.utc)


def test_cookie_expiry_follows_changed_max_age(make_app) -> None:
    """session() req.session .cookie .maxAge should modify cookie expires when changed"""
    app = express_app(make_app, max_age_view, cookie={"max_age": 2})
    with freeze_time(NOW) as frozen:
        first = get(app)
        frozen.tick(1)
        second = get(app, cookie=cookie(first))
    assert second.text == "2"
    assert expires(second) == datetime(2026, 11, 25, 10, 0, 6, tzinfo=timezone.utc)


def test_cookie_expiry_follows_large_max_age(make_app) -> None:
    """session() req.session .cookie .maxAge should modify cookie expires when changed to large value"""
    app = express_app(make_app, max_age_view, cookie={"max_age": 2})
    with freeze_time(NOW) as frozen:
        first = get(app)
        frozen.tick(1)
        second = get(app, cookie=cookie(first))
        frozen.tick(1)
        third = get(app, cookie=cookie(second))
    assert third.text == "3"
    start = datetime(2026, 11, 25, 10, 0, 2, tzinfo=timezone.utc)
    assert expires(third) == start + timedelta(seconds=3_000_000)


# -- session() req.session .cookie .expires ----------------------------------------------------------


def test_expires_set_to_datetime_is_absolute(make_app) -> None:
    """session() req.session .cookie .expires when given a Date should set absolute"""

    def view() -> str:
        session.cookie.expires = datetime(1970, 1, 1, tzinfo=timezone.utc)
        return ""

    with freeze_time(NOW):
        found = set_cookie(get(express_app(make_app, view)))
    assert found is not None
    assert found[1]["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def null_expires_view() -> str:
    session.cookie.expires = None
    return ""


def test_expires_none_gives_browser_session_cookie(make_app) -> None:
    """session() req.session .cookie .expires when null should be a browser-session cookie"""
    found = set_cookie(get(express_app(make_app, null_expires_view)))
    assert found is not None
    assert "expires" not in found[1]


def test_browser_session_cookie_not_resent(make_app) -> None:
    """session() req.session .cookie .expires when null should not reset cookie"""
    app = express_app(make_app, null_expires_view)
    first = get(app)
    assert "expires" not in set_cookie(first)[1]  # type: ignore[index]
    assert not has_set_cookie(get(app, cookie=cookie(first)))


def test_browser_session_cookie_not_resent_when_modified(make_app, store) -> None:
    """session() req.session .cookie .expires when null should not reset cookie when modified

    Saved to the store, just not re-cookied (express rule for browser-session cookies).
    """

    def view() -> str:
        session.cookie.expires = None
        session["hit"] = session.get("hit", 0) + 1
        return ""

    app = express_app(make_app, view)
    first = get(app)
    assert "expires" not in set_cookie(first)[1]  # type: ignore[index]
    store.methods()
    second = get(app, cookie=cookie(first))
    assert not has_set_cookie(second)
    assert store.methods() == ["get", "set"]  # saved, just not re-cookied


# -- session() req.session .cookie .partitioned ------------------------------------------------------


def test_partitioned_absent_by_default(make_app) -> None:
    """session() req.session .cookie .partitioned by default should not set partitioned attribute"""
    assert "partitioned" not in set_cookie(get(express_app(make_app)))[1]  # type: ignore[index]


def test_partitioned_false_omits_attribute(make_app) -> None:
    """session() req.session .cookie .partitioned when "false" should not set partitioned attribute"""
    app = express_app(make_app, cookie={"partitioned": False})
    assert "partitioned" not in set_cookie(get(app))[1]  # type: ignore[index]


def test_partitioned_true_sets_attribute(make_app) -> None:
    """session() req.session .cookie .partitioned when "true" should set partitioned attribute"""
    app = express_app(make_app, cookie={"partitioned": True})
    assert "partitioned" in set_cookie(get(app))[1]  # type: ignore[index]


# -- session() synchronous store --------------------------------------------------------------------


def test_synchronous_store_save(make_app) -> None:
    """session() synchronous store should respond correctly on save

    Every Python store is synchronous.
    """
    assert get(express_app(make_app, hits_view)).text == "hits: 1"


def test_synchronous_store_destroy(make_app, store) -> None:
    """session() synchronous store should respond correctly on destroy

    Every Python store is synchronous; ``session.clear()`` with ``unset='destroy'``
    stands in for ``req.session = null``.
    """

    def view() -> Response:
        session["count"] = session.get("count", 0) + 1
        count = session["count"]
        parts = []
        if count > 1:
            session.clear()
            parts.append("destroyed\n")
        parts.append(f"hits: {count}")
        return Response(iter(parts))

    app = express_app(make_app, view, unset="destroy")
    first = get(app)
    assert first.text == "hits: 1"
    second = get(app, cookie=cookie(first))
    assert second.text == "destroyed\nhits: 2"
    assert store.length() == 0


# -- session() cookieParser() ------------------------------------------------------------------------


def test_session_cookie_found_among_other_cookies(make_app) -> None:
    """session() cookieParser() should read from req.cookies

    No cookie-parser: ported as a ``Cookie`` header carrying another cookie first.
    """
    app = express_app(make_app, lambda: str(hits_view()[len("hits: ") :]))
    first = get(app)
    assert first.text == "1"
    assert get(app, cookie="foo=bar; " + cookie(first)).text == "2"


def test_unsigned_cookie_among_other_cookies_rejected(make_app) -> None:
    """session() cookieParser() should reject unsigned from req.cookies

    No cookie-parser: ported as a ``Cookie`` header carrying another cookie first.
    """
    app = express_app(make_app, lambda: str(hits_view()[len("hits: ") :]), name="sessid")
    first = get(app)
    assert get(app, cookie="foo=bar; sessid=" + sid(first, "sessid")).text == "1"


def test_forged_cookie_among_other_cookies_rejected(make_app) -> None:
    """session() cookieParser() should reject invalid signature from req.cookies

    No cookie-parser: ported as a ``Cookie`` header carrying another cookie first.
    """
    app = express_app(make_app, lambda: str(hits_view()[len("hits: ") :]), name="sessid")
    first = get(app)
    forged = cookie(first, "sessid")
    forged = forged[: forged.rindex(".") - 3] + forged[forged.rindex(".") :]
    assert get(app, cookie="foo=bar; " + forged).text == "1"


# -- deviations without an upstream title ------------------------------------------------------------


def test_view_ignoring_session_never_calls_store(make_app, store) -> None:
    """(deviation) lazy loading: a request that never touches the session never calls the store"""
    app = express_app(make_app, hits_view, save_uninitialized=True, rolling=True)

    @app.route("/hello")
    def hello() -> str:
        return "hello"

    first = get(app)
    assert store.methods() == ["set"]
    # a new visitor is given a session even here (save_uninitialized's purpose, api.md v2)
    assert has_set_cookie(get(app, "/hello"))
    assert store.methods() == ["set"]
    response = get(app, "/hello", cookie=cookie(first))  # a returning one: not even a read
    assert response.text == "hello"
    assert not has_set_cookie(response)
    assert store.methods() == []


def test_regenerate_keep_data_moves_data_to_new_id(make_app, store) -> None:
    """(deviation) regenerate(keep_data=True) keeps the data under a new ID"""
    app = express_app(make_app, hits_view)

    @app.route("/login")
    def login() -> str:
        session.regenerate(keep_data=True)
        session["user"] = "bob"
        return str(session["count"])

    first = get(app)
    second = get(app, "/login", cookie=cookie(first))
    assert second.text == "1"
    assert sid(second) != sid(first)
    assert store.get(sid(first)) is None
    assert store.get(sid(second))["count"] == 1
    assert store.get(sid(second))["user"] == "bob"
