"""Concurrent requests of one session: changes to different keys are both kept."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, request, session

from flask_sessionstore import MongoStore, RedisStore, ServerSession, Store
from tests.mongo_server import secantus_uri
from tests.redis_server import redis_url

__all__ = ["redis_url", "secantus_uri"]  # the fixtures, imported for pytest


@pytest.fixture(params=["memory", "mongo", "redis"])
def store(request: pytest.FixtureRequest) -> Store:
    """Every test here runs against MemoryStore, MongoStore on a real wire-protocol
    server and RedisStore on a real redis-server (mongomock and fakeredis are not
    thread-safe servers, so they cannot judge races)."""
    if request.param == "memory":
        from tests.conftest import RecordingStore

        return RecordingStore()
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return RedisStore(url=url, prefix=f"concurrency-{uuid.uuid4().hex}:")
    uri = request.getfixturevalue("secantus_uri")
    return MongoStore(mongo_url=uri, db_name="concurrency", collection_name=uuid.uuid4().hex)


def _start(app: Flask, **data: Any) -> str:
    """Store a session holding ``data``; return the ``Cookie`` pair that sends it."""
    with app.test_request_context():
        opened = app.session_interface.open_session(app, request)
        assert isinstance(opened, ServerSession)
        opened.update(data)
        response = app.response_class()
        app.session_interface.save_session(app, opened, response)
    return str(response.headers["Set-Cookie"].split(";")[0])


def _open(app: Flask, cookie: str) -> ServerSession:
    """The session of a request carrying ``cookie``; it loads on first use."""
    with app.test_request_context(headers={"Cookie": cookie}):
        opened = app.session_interface.open_session(app, request)
    assert isinstance(opened, ServerSession)
    return opened


def _finish(app: Flask, *sessions: ServerSession) -> None:
    """End the requests, saving their sessions in the order given."""
    for opened in sessions:
        with app.test_request_context():
            app.session_interface.save_session(app, opened, app.response_class())


def test_overlapping_requests_changing_different_keys_keep_both(
    make_app: Callable[..., Flask], store: Store
) -> None:
    app = make_app()
    cookie = _start(app, cart=[], theme="light")

    # two requests load the same session before either saves
    first, second = _open(app, cookie), _open(app, cookie)
    first["cart"] = ["book"]
    second["theme"] = "dark"
    _finish(app, first, second)

    stored = store.get(first.id)
    assert stored is not None
    assert stored["cart"] == ["book"]
    assert stored["theme"] == "dark"


def test_removal_in_one_request_survives_a_concurrent_change(
    make_app: Callable[..., Flask], store: Store
) -> None:
    app = make_app()
    cookie = _start(app, user="alice", n=1)
    first, second = _open(app, cookie), _open(app, cookie)
    del first["user"]
    second["n"] = 2
    _finish(app, first, second)

    stored = store.get(first.id)
    assert stored is not None
    assert "user" not in stored
    assert stored["n"] == 2


def test_many_threads_incrementing_distinct_keys_lose_nothing(
    make_app: Callable[..., Flask], store: Store
) -> None:
    app = make_app()
    cookie = _start(app, start=True)

    @app.get("/hit/<key>")
    def hit(key: str) -> str:
        session[key] = session.get(key, 0) + 1
        return "ok"

    def worker(key: str) -> None:
        client = app.test_client(use_cookies=False)
        for _ in range(20):
            assert client.get(f"/hit/{key}", headers={"Cookie": cookie}).status_code == 200

    threads = [threading.Thread(target=worker, args=(f"k{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = store.all()
    (data,) = stored.values()
    assert {key: data[key] for key in data if key.startswith("k")} == {
        f"k{i}": 20 for i in range(6)
    }


def test_logout_in_another_tab_wins_over_a_concurrent_change(
    make_app: Callable[..., Flask], store: Store
) -> None:
    app = make_app()
    cookie = _start(app, user="alice")
    changer = _open(app, cookie)
    changer["cart"] = ["book"]  # loads the session, then changes it...
    logout = _open(app, cookie)
    logout.destroy()  # ...while another tab logs out
    _finish(app, logout, changer)

    assert store.get(changer.id) is None  # the change does not bring the session back
