# ruff: noqa: E501  (docstrings quote the upstream titles verbatim)
"""Conformance: connect-flash 0.1.1's vows suite, replayed against ``flask_sessionstore.flash``.

connect-flash is middleware that installs ``req.flash``; here ``flash`` is a
plain function working on ``flask.session``, so "the middleware" is the
extension being installed.  The 12 upstream tests under "when handling a
request" share one ``req``; each port below rebuilds the state it relies on
over real requests, carrying the session cookie from one to the next.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import flask
import pytest
from flask import Flask

import flask_sessionstore
from flask_sessionstore import flash


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app whose ``/do`` runs the flash call described by the JSON query ``args``."""
    app = make_app()

    @app.route("/do")
    def do() -> Any:
        args = json.loads(flask.request.args.get("args", "[]"))
        return flask.jsonify(result=flash(*args))

    return app


def call(client: Any, *args: Any) -> Any:
    """Run ``flash(*args)`` in a request of ``client`` and return its result."""
    response = client.get("/do", query_string={"args": json.dumps(args)})
    assert response.status_code == 200, response.text
    return response.json["result"]


# -- flash middleware when handling a request -------------------------------------


def test_app_with_extension_serves_flash_requests(app) -> None:
    """flash middleware when handling a request should not error

    There is no middleware: installing the extension is the setup.
    """
    response = app.test_client().get("/do", query_string={"args": "[]"})
    assert response.status_code == 200
    assert response.json == {"result": {}}


def test_flash_is_a_callable_using_the_session(app) -> None:
    """flash middleware when handling a request should add a flash function"""
    assert callable(flash)
    with app.test_request_context("/"):
        assert flash("info", "x") == 1
        assert flask.session["_flashes"] == [("info", "x")]


def test_flash_appends_message_and_returns_count(app, store) -> None:
    """flash middleware when handling a request should set flash message"""
    client = app.test_client()
    assert call(client, "error", "Something went wrong") == 1
    (stored,) = store.all().values()
    ((tagged),) = stored["_flashes"]  # Flask's tuple tag, marked as ours (see serialization)
    assert tagged[" t"] == ["error", "Something went wrong"]
    assert set(tagged) == {" t", " s"}


def test_reading_category_returns_and_clears(app) -> None:
    """flash middleware when handling a request should get and clear previously set flash message"""
    client = app.test_client()
    call(client, "error", "Something went wrong")
    assert call(client, "error") == ["Something went wrong"]
    assert call(client, "error") == []


def test_flash_appends_several_messages(app) -> None:
    """flash middleware when handling a request should set multiple flash messages"""
    client = app.test_client()
    assert call(client, "info", "Welcome") == 1
    assert call(client, "info", "Check out this great new feature") == 2


def test_flash_list_appends_each_element(app) -> None:
    """flash middleware when handling a request should set flash messages in one call"""
    client = app.test_client()
    assert call(client, "warning", ["username required", "password required"]) == 2
    assert call(client, "warning") == ["username required", "password required"]


def test_reading_category_returns_all_its_messages_and_clears(app) -> None:
    """flash middleware when handling a request should get and clear multiple previously set flash messages"""
    client = app.test_client()
    call(client, "info", "Welcome")
    call(client, "info", "Check out this great new feature")
    assert call(client, "info") == ["Welcome", "Check out this great new feature"]
    assert call(client, "info") == []


def test_categories_are_counted_separately(app) -> None:
    """flash middleware when handling a request should set flash messages of multiple types"""
    client = app.test_client()
    assert call(client, "info", "Welcome back") == 1
    assert call(client, "notice", "Last login was yesterday") == 1
    assert call(client, "info", "And again") == 2


def test_categories_are_read_separately(app) -> None:
    """flash middleware when handling a request should independently get and clear messages of multiple types"""
    client = app.test_client()
    call(client, "info", "Welcome back")
    call(client, "notice", "Last login was yesterday")
    assert call(client, "info") == ["Welcome back"]
    assert call(client, "notice") == ["Last login was yesterday"]
    assert call(client, "info") == []


def test_flash_without_arguments_takes_everything(app) -> None:
    """flash middleware when handling a request should return all messages"""
    client = app.test_client()
    call(client, "error", "Database error")
    call(client, "error", "Message queue error")
    call(client, "notice", "Things are looking bleak")
    assert call(client) == {
        "error": ["Database error", "Message queue error"],
        "notice": ["Things are looking bleak"],
    }
    assert call(client) == {}


def test_flash_formats_like_util_format(app) -> None:
    """flash middleware when handling a request should format messages"""
    client = app.test_client()
    assert call(client, "info", "Hello %s", "Jared") == 1
    assert call(client, "info", "Hello %s %s", "Jared", "Hanson") == 2
    assert call(client, "info", "%d%% sure, %s", 100, "extra", "args") == 3
    assert call(client, "info") == ["Hello Jared", "Hello Jared Hanson", "100% sure, extra args"]


def test_unknown_category_reads_empty_list(app) -> None:
    """flash middleware when handling a request should return empty array for flash type with no messages"""
    client = app.test_client()
    assert call(client, "what") == []
    call(client, "info", "x")
    assert call(client, "what") == []
    assert call(client, "info") == ["x"]


# -- flash middleware when handling a request with an existing flash function ---------


def test_flask_flash_and_ours_coexist(app) -> None:
    """flash middleware when handling a request with an existing flash function should not error

    Flask's own ``flask.flash`` is the "existing flash function"; both share
    ``session['_flashes']``.
    """

    @app.route("/both")
    def both() -> Any:
        flask.flash("from flask", "info")
        return flask.jsonify(count=flash("info", "from us"))

    client = app.test_client()
    assert client.get("/both").json == {"count": 2}
    assert call(client, "info") == ["from flask", "from us"]


def test_flask_flash_is_not_replaced(app) -> None:
    """flash middleware when handling a request with an existing flash function should not overwrite flash function

    Flask's own ``flask.flash`` is the "existing flash function".
    """
    assert flask.flash.__module__ == "flask.helpers"
    assert flash is not flask.flash
    with app.test_request_context("/"):
        flask.flash("kept", "notice")
        assert flask.get_flashed_messages(with_categories=True) == [("notice", "kept")]


# -- flash middleware when handling a request without a session -------------------------


@pytest.fixture
def sessionless(make_app: Callable[..., Flask]) -> Flask:
    """An app whose only route lies outside the session cookie's path: no session there."""
    app = make_app(cookie={"path": "/account"})

    @app.route("/public/read")
    def read() -> Any:
        return flask.jsonify(result=flash("info"), everything=flash())

    @app.route("/public/write")
    def write() -> Any:
        try:
            flash("info", "hello")
        except RuntimeError as error:
            return str(error), 500
        return "written"

    return app


def test_request_without_session_still_served(sessionless, store) -> None:
    """flash middleware when handling a request without a session should not error

    A request outside the cookie path has no session (Flask's null session).
    """
    response = sessionless.test_client().get("/public/read")
    assert response.status_code == 200
    assert store.methods() == []


def test_flash_reads_nothing_without_session(sessionless) -> None:
    """flash middleware when handling a request without a session should add a flash function

    Reading works there and finds nothing.
    """
    response = sessionless.test_client().get("/public/read")
    assert response.json == {"result": [], "everything": {}}
    assert "Set-Cookie" not in response.headers


def test_flash_write_without_session_raises(sessionless, store) -> None:
    """flash middleware when handling a request without a session should throw when attempting to set a flash message

    ``RuntimeError`` where connect-flash throws ``req.flash() requires sessions``.
    """
    response = sessionless.test_client().get("/public/write")
    assert response.status_code == 500
    assert "no session on this request" in response.text
    assert store.methods() == []


# -- connect-flash module -----------------------------------------------------------------


def test_package_exports_flash() -> None:
    """connect-flash module should export middleware

    The helper is a function exported by the package, not middleware.
    """
    assert flask_sessionstore.flash is flash
    assert "flash" in flask_sessionstore.__all__


# -- deviations without an upstream title ----------------------------------------------------


def test_reading_flash_never_creates_session(app, store) -> None:
    """(deviation, connect-flash#33) an anonymous visitor reading flash gets no session"""
    client = app.test_client()
    response = client.get("/do", query_string={"args": json.dumps(["info"])})
    assert response.json == {"result": []}
    assert "Set-Cookie" not in response.headers
    assert store.methods() == []
    response = client.get("/do", query_string={"args": "[]"})
    assert response.json == {"result": {}}
    assert "Set-Cookie" not in response.headers


def test_empty_message_is_appended(app) -> None:
    """(deviation) flash("info", "") appends an empty message instead of reading"""
    client = app.test_client()
    call(client, "info", "first")
    assert call(client, "info", "") == 2
    assert call(client, "info") == ["first", ""]


def test_reading_empty_category_does_not_modify_session(app, store) -> None:
    """(deviation) reading a category with no messages leaves a stored session untouched"""
    client = app.test_client()
    call(client, "info", "x")
    store.methods()
    response = client.get("/do", query_string={"args": json.dumps(["error"])})
    assert response.json == {"result": []}
    assert "set" not in store.methods()
