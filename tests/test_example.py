"""The example app (``make demo``) through Flask's test client."""

from __future__ import annotations

import importlib
import warnings

import mongomock
import pytest
from flask import Flask

from examples.app import create_app, make_store
from flask_sessionstore import MemoryStore, MongoStore, Store
from tests.redis_server import redis_url

__all__ = ["redis_url"]  # the fixture, imported for pytest


def memory() -> Store:
    return MemoryStore()


def mongo() -> Store:
    return MongoStore(client=mongomock.MongoClient(), db_name="demo")


@pytest.fixture(params=[memory, mongo], ids=["memory", "mongo"])
def app(request: pytest.FixtureRequest) -> Flask:
    return create_app(request.param(), TESTING=True)


def test_login_flash_counter_logout(app: Flask) -> None:
    client = app.test_client()
    assert 'id="login"' in client.get("/").text

    response = client.post("/login", data={"username": "alice"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "HttpOnly" in response.headers["Set-Cookie"]
    page = client.get("/").text
    assert 'id="user">alice<' in page
    assert "Welcome, alice!" in page
    assert "Welcome, alice!" not in client.get("/").text

    client.post("/count")
    client.post("/count")
    assert '<strong id="count">2</strong>' in client.get("/").text

    response = client.post("/logout")
    assert response.status_code == 302
    page = client.get("/").text
    assert "Goodbye, alice. You are logged out." in page
    assert 'id="login"' in page


def test_login_regenerates_the_session_id(app: Flask) -> None:
    client = app.test_client()
    client.post("/login", data={"username": ""})  # a flash: now there is a session
    before = client.get_cookie("session")
    assert before is not None
    client.post("/login", data={"username": "alice"})
    after = client.get_cookie("session")
    assert after is not None
    assert after.value != before.value


def test_empty_name_and_count_without_login_flash_errors(app: Flask) -> None:
    client = app.test_client()
    client.post("/login", data={"username": "  "})
    assert "Please enter a name." in client.get("/").text
    client.post("/count")
    assert "Log in first." in client.get("/").text


def test_memory_store_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(make_store(), MemoryStore)


def test_mongo_store_when_mongodb_uri_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 1: constructing the store must not connect.
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/demo")
    store = make_store()
    assert isinstance(store, MongoStore)


def test_redis_store_when_redis_url_is_set(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    from flask_sessionstore import RedisStore

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/demo")  # Redis wins
    store = make_store()
    assert isinstance(store, RedisStore)
    app = create_app(store, TESTING=True)
    client = app.test_client()
    client.post("/login", data={"username": "rita"})
    assert 'id="user">rita<' in client.get("/").text
    assert "session is in Redis" in client.get("/").text


def test_the_demo_imports_without_the_memory_store_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MONGODB_URI", raising=False)
    import examples.app

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module = importlib.reload(examples.app)
    assert not module.app.debug
    assert not module.app.testing


def test_what_to_try_with_the_memory_store() -> None:
    page = create_app(MemoryStore(), TESTING=True).test_client().get("/").text
    assert 'id="what-to-try"' in page
    assert "only a signed session ID" in page
    assert "you are logged out" in page
    assert "REDIS_URL=redis://localhost:6379/0 make demo" in page
    assert "Log in from a second browser" in page and "Wait 120 seconds" in page


def test_what_to_try_with_mongodb() -> None:
    page = create_app(mongo(), TESTING=True).test_client().get("/").text
    assert "you stay logged in" in page
    assert "flask --app examples.app sessions list" in page
    assert "MONGODB_URI=" not in page


def test_a_long_name_keeps_its_full_text_for_the_tooltip(app: Flask) -> None:
    client = app.test_client()
    name = "x" * 200
    client.post("/login", data={"username": name})
    assert f'<span title="{name}" id="user">{name}</span>' in client.get("/").text


def test_the_devices_page_revokes_one_device_and_the_others() -> None:
    import re

    from examples.app import create_app
    from flask_sessionstore import MemoryStore

    app = create_app(MemoryStore(), TESTING=True)
    clients = [app.test_client() for _ in range(3)]
    for client, agent in zip(
        clients,
        ("Firefox/140 (Windows)", "iPhone Safari/604", "X11 Linux Chrome/1 Safari/5"),
        strict=True,
    ):
        client.environ_base["HTTP_USER_AGENT"] = agent
        client.post("/login", data={"username": "carol"})
    me = clients[2]
    page = me.get("/devices").text
    ids = re.findall(r'data-id="([^"]+)"', page)
    assert len(ids) == 3 and page.count("this device") == 1
    me.post(f"/devices/{ids[1]}/revoke")  # someone else's row on this page
    assert len(re.findall(r'data-id="', me.get("/devices").text)) == 2
    response = me.post("/password", follow_redirects=True)
    assert "1 other device(s) logged out" in response.text
    for other in clients[:2]:
        assert 'id="login"' in other.get("/").text
    assert 'id="user">carol<' in me.get("/").text


def test_the_devices_page_needs_a_login() -> None:
    from examples.app import create_app
    from flask_sessionstore import MemoryStore

    client = create_app(MemoryStore(), TESTING=True).test_client()
    response = client.get("/devices", follow_redirects=True)
    assert "Log in first." in response.text
