"""A failing store: 503 with Retry-After, once per request, never a false success.

api.md section 3.  The store here is a MemoryStore whose calls can be made to
fail; real outages of real servers (killed, hung, unreachable) are tested per
store against SecantusDB and redis-server.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, redirect, session
from werkzeug.wrappers import Response

from flask_sessionstore import SessionStore, SessionTooLargeError, StoreUnavailableError
from tests.conftest import SECRET, RecordingStore


class FlakyStore(RecordingStore):
    """Records calls; raises ``error`` from the named request-path methods."""

    def __init__(self) -> None:
        super().__init__(touch_after=0)
        self.broken: set[str] = set()
        self.error: Exception = ConnectionError("connection refused")

    def _maybe_fail(self, method: str, recorded: str, sid: str) -> None:
        if method in self.broken:
            self.calls.append((recorded, sid))  # an attempt is a call
            raise self.error

    def load(self, sid: str) -> Any:
        self._maybe_fail("load", "get", sid)
        return super().load(sid)

    def write(self, sid: str, write: Any) -> Any:
        self._maybe_fail("write", "set", sid)
        return super().write(sid, write)

    def refresh(self, sid: str, write: Any) -> Any:
        self._maybe_fail("refresh", "touch", sid)
        return super().refresh(sid, write)


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def app(store: FlakyStore) -> Flask:
    app = Flask("errors")
    app.config.update(SECRET_KEY=SECRET, TESTING=True)
    SessionStore(app, store=store)

    @app.post("/login")
    def login() -> Response:
        session["user"] = "alice"
        return redirect("/")

    @app.get("/me")
    def me() -> str:
        return str(session.get("user"))

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app


def test_a_load_failure_is_a_503_with_retry_after_and_one_store_call(
    app: Flask, store: FlakyStore
) -> None:
    client = app.test_client()
    client.post("/login")
    store.broken = {"load"}
    store.methods()
    response = client.get("/me")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert store.methods() == ["get"]  # once: not again for the error response
    assert "Set-Cookie" not in response.headers


def test_a_failed_save_is_never_reported_as_success(app: Flask, store: FlakyStore) -> None:
    store.broken = {"write"}
    response = app.test_client().post("/login")
    assert response.status_code == 503  # not the view's redirect
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert store.methods() == ["set"]  # Flask saves again for an error response; we don't


def test_the_store_error_says_how_long_to_wait(app: Flask, store: FlakyStore) -> None:
    client = app.test_client()
    client.post("/login")
    store.broken = {"load"}
    store.error = StoreUnavailableError("down", retry_after=12.2)
    assert client.get("/me").headers["Retry-After"] == "13"


def test_the_app_s_own_503_page_is_used(app: Flask, store: FlakyStore) -> None:
    @app.errorhandler(503)
    def busy(error: Exception) -> tuple[str, int]:
        return "We'll be right back", 503

    store.broken = {"write"}
    response = app.test_client().post("/login")
    assert (response.status_code, response.text) == (503, "We'll be right back")
    assert response.headers["Retry-After"] == "5"


def test_an_error_handler_can_read_the_unavailable_session_as_empty(
    app: Flask, store: FlakyStore
) -> None:
    @app.errorhandler(503)
    def busy(error: Exception) -> tuple[str, int]:
        return f"sorry, {session.get('user', 'guest')}", 503  # reads as empty now

    client = app.test_client()
    client.post("/login")
    store.broken = {"load"}
    store.methods()
    response = client.get("/me")
    assert (response.status_code, response.text) == (503, "sorry, guest")
    assert response.headers["Retry-After"] == "5"
    assert store.methods() == ["get"]


def test_a_failed_refresh_fails_the_request(app: Flask, store: FlakyStore) -> None:
    client = app.test_client()
    client.post("/login")
    store.broken = {"refresh"}
    assert client.get("/me").status_code == 503


def test_requests_that_do_not_use_the_session_are_unaffected(app: Flask, store: FlakyStore) -> None:
    client = app.test_client()
    client.post("/login")
    store.broken = {"load", "write", "refresh"}
    store.methods()
    assert client.get("/health").text == "ok"
    assert store.methods() == []


def test_a_session_too_large_is_a_programming_error_not_an_outage(
    app: Flask, store: FlakyStore
) -> None:
    store.max_session_size = 1000

    @app.post("/big")
    def big() -> str:
        session["blob"] = "x" * 5000
        return "ok"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(SessionTooLargeError, match="'blob'"):
        app.test_client().post("/big")
    assert store.length() == 0
