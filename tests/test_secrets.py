"""No secret in any repr, log line, error message or frame local (api.md section 3).

The signing secrets (``SECRET_KEY`` and its fallbacks), a crypto secret and a
password in a MongoDB URL must never appear in what an error tracker records:
``repr()`` of every public object, every log line at DEBUG during a full
request cycle with a failing store, and the rendering of a store error raised
inside a request with each frame's local variables
(``traceback.TracebackException(capture_locals=True)``, as Sentry does).
"""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, session

from flask_sessionstore import MemoryStore, MongoStore, SessionStore, SessionUnavailable, Store
from flask_sessionstore.extension import options_of

SIGNING = "signing-secret-0f3c9a"
FALLBACK = "fallback-secret-77d1e2"
CRYPTO = "crypto-secret-5b8e4d"
PASSWORD = "url-password-c0ffee"
SECRETS = (SIGNING, FALLBACK, CRYPTO, PASSWORD)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


class FailingStore(MemoryStore):
    """Works until ``failing`` is set, then every session-side call raises."""

    failing = False

    def load(self, sid: str) -> Any:
        if self.failing:
            raise ConnectionError("the store is down")
        return super().load(sid)


def stores() -> Iterator[tuple[str, Store]]:
    yield "memory", FailingStore()
    url = f"mongodb://admin:{PASSWORD}@127.0.0.1:{closed_port()}/app?authSource=admin"
    yield "mongo", MongoStore(mongo_url=url, crypto={"secret": CRYPTO}, timeout=0.5)


@pytest.fixture(params=["memory", "mongo"])
def app(request: pytest.FixtureRequest) -> Flask:
    store = dict(stores())[request.param]
    app = Flask("secrets")
    app.config.update(SECRET_KEY=SIGNING, SECRET_KEY_FALLBACKS=[FALLBACK])
    SessionStore(app, store=store)

    @app.get("/use")
    def use() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    return app


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked"


def test_no_secret_in_the_repr_of_any_public_object(app: Flask) -> None:
    import flask_sessionstore

    options = options_of(app)
    objects: list[Any] = [
        options,
        options.store,
        app.session_interface,
        app.extensions["sessionstore"],
        SessionStore(secret=[SIGNING, FALLBACK]),
    ]
    with app.test_request_context("/"):
        objects.append(session._get_current_object())  # type: ignore[attr-defined]
    for name in flask_sessionstore.__all__:
        objects.append(getattr(flask_sessionstore, name))
    for thing in objects:
        assert_clean(repr(thing))
        assert_clean(str(thing))


def test_no_secret_in_any_log_line_of_a_request_cycle_with_a_failing_store(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    store = options_of(app).store
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    first = client.get("/use")
    if isinstance(store, FailingStore):
        assert first.status_code == 200
        store.failing = True
    failed = client.get("/use")
    assert failed.status_code == 503
    assert failed.headers["Retry-After"].isdigit()
    assert caplog.records, "the failure is logged"
    for record in caplog.records:
        assert_clean(record.getMessage())
        if record.exc_info:
            assert_clean("".join(traceback.format_exception(*record.exc_info)))
    assert_clean(failed.get_data(as_text=True))


def test_no_secret_in_the_frame_locals_of_a_store_error_raised_in_a_request(app: Flask) -> None:
    store = options_of(app).store
    caught: list[BaseException] = []

    @app.get("/catch")
    def catch() -> str:
        try:
            session["n"] = 1  # loads a stored session (memory)...
            session.save()  # ...or writes a new one (mongo, down from the start)
        except SessionUnavailable as exc:
            caught.append(exc)
            raise
        return "unreachable"

    client = app.test_client()
    client.get("/use")
    if isinstance(store, FailingStore):
        store.failing = True
    assert client.get("/catch").status_code == 503
    (exc,) = caught
    assert exc.__cause__ is not None  # the store's own error, with its frames
    rendered = "".join(
        traceback.TracebackException.from_exception(exc, capture_locals=True).format()
    )
    assert "self" in rendered and "session" in rendered  # locals were rendered
    assert_clean(rendered)


def test_no_secret_in_the_frame_locals_of_a_failed_save(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save runs in the session interface, whose frames hold the options."""
    from flask_sessionstore import interface

    store = options_of(app).store
    caught: list[BaseException] = []
    original = interface.unavailable

    def record(app: Flask, response: Any, exc: SessionUnavailable) -> None:
        caught.append(exc)
        original(app, response, exc)

    monkeypatch.setattr(interface, "unavailable", record)
    if isinstance(store, FailingStore):
        monkeypatch.setattr(store, "write", lambda *args: FailingStore.load(store, "x"))
        store.failing = True
    assert app.test_client().get("/use").status_code == 503
    (exc,) = caught
    rendered = "".join(
        traceback.TracebackException.from_exception(exc, capture_locals=True).format()
    )
    assert "options" in rendered  # the interface's frames, with their locals
    assert_clean(rendered)
