"""Express interop over Redis: a real Express app and a Flask app share one login.

The Node side is tests/interop/node/app_redis.js: express, express-session,
connect-redis and the ``redis`` client from npm (``npm ci`` in that folder;
``make test`` does it).  The Flask side is :class:`SessionStore` with a
:class:`RedisStore`.  Both run as real HTTP servers on 127.0.0.1 against one
redis-server, with the same prefix, cookie name (``connect.sid``) and secret;
a :class:`~tests.test_interop_express.Browser` carries the one cookie
between them.  Nothing here is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from flask import Flask, jsonify, request, session

from flask_sessionstore import RedisStore, ServerSession, SessionStore
from tests.processes import die_with_parent
from tests.redis_server import redis_url
from tests.test_interop_express import (
    COOKIE_NAME,
    JSON_VALUES,
    LARGE_INTS,
    MAX_AGE,
    NODE_DIR,
    SECRET,
    Browser,
    flask_server,
    same_json,
    stop,
    wait_until_ready,
)

__all__ = ["redis_url"]  # the fixture, imported for pytest

pytestmark = pytest.mark.interop

NPM_PACKAGES = ("express", "express-session", "connect-redis", "redis")


@pytest.fixture(scope="session")
def node_redis() -> str:
    """The ``node`` binary, with connect-redis and the redis client installed."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail("The Redis interop tests need Node.js (`node` is not on PATH).", pytrace=False)
    missing = [name for name in NPM_PACKAGES if not (NODE_DIR / "node_modules" / name).is_dir()]
    if missing:
        pytest.fail(
            f"The Redis interop tests need the npm packages {', '.join(missing)}: run "
            f"`npm ci` in {NODE_DIR} (`make test` does it).",
            pytrace=False,
        )
    return binary


@contextmanager
def express_app(node: str, url: str, prefix: str) -> Iterator[str]:
    """Run app_redis.js on a free port; stop it by PID at the end."""
    env = {
        **os.environ,
        "PORT": "0",
        "REDIS_URL": url,
        "PREFIX": prefix,
        "SECRET": SECRET,
        "MAX_AGE_MS": str(MAX_AGE * 1000),
    }
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            [node, "app_redis.js"],
            cwd=NODE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            preexec_fn=die_with_parent,
        )
        try:
            port = wait_until_ready(process, stderr)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(process)
            stderr.seek(0)
            sys.stderr.write(stderr.read())


def create_flask_app(store: RedisStore) -> Flask:
    """The Flask twin of app_redis.js: same routes, same JSON, same cookie."""
    app = Flask("interop_redis")
    SessionStore(
        app,
        name=COOKIE_NAME,
        secret=SECRET,
        store=store,
        cookie={"max_age": MAX_AGE},
        user_key="user",
    )

    def server_session() -> ServerSession:
        assert isinstance(session, ServerSession)
        return session

    def describe() -> Any:
        current = server_session()
        return jsonify(id=current.id, data=dict(current))

    @app.get("/login")
    def login() -> Any:
        server_session().regenerate()
        session["user"] = request.args["user"]
        return describe()

    @app.get("/whoami")
    def whoami() -> Any:
        return describe()

    @app.get("/set")
    def set_values() -> Any:
        session.update(request.args)
        return describe()

    @app.get("/json")
    def set_json() -> Any:
        session.update({key: json.loads(value) for key, value in request.args.items()})
        return describe()

    @app.get("/incr")
    def incr() -> Any:
        for key, value in request.args.items():
            session[key] = session.get(key, 0) + int(value)
        return describe()

    @app.get("/regenerate")
    def regenerate() -> Any:
        server_session().regenerate(keep_data=True)
        return describe()

    @app.get("/logout")
    def logout() -> Any:
        server_session().destroy()
        return jsonify(ok=True)

    return app


@dataclass
class Apps:
    express: str
    flask: str
    store: RedisStore
    raw: redis.Redis

    def value(self, sid: str | None) -> bytes:
        assert sid is not None
        stored = self.raw.get(self.store.keys.session(sid))
        assert isinstance(stored, bytes), f"no value for {sid}"
        return stored


@pytest.fixture(scope="module")
def apps(node_redis: str, redis_url: str) -> Iterator[Apps]:
    prefix = f"interop-{uuid.uuid4().hex[:8]}:"
    store = RedisStore(url=redis_url, prefix=prefix)
    raw = redis.Redis.from_url(redis_url)
    try:
        with (
            express_app(node_redis, redis_url, prefix) as express,
            flask_server(create_flask_app(store)) as flask,
        ):
            yield Apps(express, flask, store, raw)
    finally:
        store.clear()
        store.close()
        raw.close()


@pytest.fixture
def browser() -> Browser:
    return Browser()


def test_login_on_express_is_seen_by_flask(apps: Apps, browser: Browser) -> None:
    express = browser.get(apps.express, "/login", user="alice")
    assert browser.get(apps.flask, "/whoami") == {"id": express["id"], "data": {"user": "alice"}}


def test_login_on_flask_is_seen_by_express(apps: Apps, browser: Browser) -> None:
    flask = browser.get(apps.flask, "/login", user="bob")
    express = browser.get(apps.express, "/whoami")
    assert (express["id"], express["data"]) == (flask["id"], {"user": "bob"})
    assert [r.id for r in apps.store.sessions_of("bob")] == [flask["id"]]


def test_changes_travel_both_ways(apps: Apps, browser: Browser) -> None:
    browser.get(apps.express, "/login", user="carol")
    browser.get(apps.flask, "/incr", visits=1)
    browser.get(apps.express, "/incr", visits=2)
    browser.get(apps.express, "/set", lang="fr")
    flask = browser.get(apps.flask, "/incr", visits=4)
    assert same_json(flask["data"], {"user": "carol", "visits": 7, "lang": "fr"})
    assert same_json(browser.get(apps.express, "/whoami")["data"], flask["data"])


@pytest.mark.parametrize(("first", "second"), [("express", "flask"), ("flask", "express")])
def test_regenerate_on_one_app_makes_the_other_reject_the_old_cookie(
    apps: Apps, browser: Browser, first: str, second: str
) -> None:
    user = f"dave-{first}"
    browser.get(getattr(apps, first), "/login", user=user)
    old_cookie, old_sid = browser.cookie, browser.sid
    regenerated = browser.get(getattr(apps, second), "/regenerate")
    assert regenerated["id"] != old_sid and regenerated["data"] == {"user": user}
    assert apps.raw.exists(apps.store.keys.session(old_sid or "")) == 0
    record_ttl = apps.raw.pttl(apps.store.keys.record(old_sid or ""))
    if second == "flask":
        assert record_ttl == -2  # deleted with the session
    else:  # connect-redis deletes only its key: the record goes with its own TTL
        assert 0 < record_ttl <= MAX_AGE * 1000
    owned = [regenerated["id"]] if second == "flask" else []  # Express keeps no records
    assert [r.id for r in apps.store.sessions_of(user)] == owned

    thief = Browser()
    thief.cookie = old_cookie
    for app in (apps.express, apps.flask):
        stale = thief.get(app, "/whoami")
        assert stale["id"] != old_sid and stale["data"] == {}
    assert browser.get(getattr(apps, first), "/whoami")["data"] == {"user": user}


@pytest.mark.parametrize("logout_on", ["express", "flask"])
def test_logout_on_either_app_ends_the_session_on_both(
    apps: Apps, browser: Browser, logout_on: str
) -> None:
    browser.get(apps.flask, "/login", user="erin")
    sid, cookie = browser.sid, browser.cookie
    browser.get(getattr(apps, logout_on), "/logout")
    assert apps.raw.exists(apps.store.keys.session(sid or "")) == 0
    for base_url in (apps.express, apps.flask):
        replay = Browser()
        replay.cookie = cookie
        assert replay.get(base_url, "/whoami")["data"] == {}
    assert apps.store.sessions_of("erin") == []


def test_both_apps_give_the_same_ttl(apps: Apps) -> None:
    by_express, by_flask = Browser(), Browser()
    by_express.get(apps.express, "/login", user="node")
    by_flask.get(apps.flask, "/login", user="python")
    express_ttl = apps.raw.pttl(apps.store.keys.session(by_express.sid or ""))
    flask_ttl = apps.raw.pttl(apps.store.keys.session(by_flask.sid or ""))
    assert MAX_AGE * 1000 - 2000 < express_ttl <= MAX_AGE * 1000
    assert abs(express_ttl - flask_ttl) < 1000


def _same_moment(value: bytes) -> bytes:
    """The value with its cookie's expiry (the only thing that depends on when) fixed."""
    session = json.loads(value)
    expires = session["cookie"]["expires"]
    return value.replace(expires.encode(), b"2099-01-01T00:00:00.000Z")


def test_both_apps_write_byte_identical_values(apps: Apps) -> None:
    by_express, by_flask = Browser(), Browser()
    query = {key: json.dumps(value) for key, value in {**JSON_VALUES, **LARGE_INTS}.items()}
    for browser, app in ((by_express, apps.express), (by_flask, apps.flask)):
        browser.get(app, "/login", user="same")
        browser.get(app, "/json", **query)
    written_by_express = apps.value(by_express.sid)
    written_by_flask = apps.value(by_flask.sid)
    assert _same_moment(written_by_flask) == _same_moment(written_by_express)
    assert "日本語".encode() in written_by_flask  # non-ASCII kept, not escaped

    # and the very bytes connect-redis wrote, written again by RedisStore
    apps.store.set("copy", json.loads(written_by_express))
    assert apps.value("copy") == written_by_express
    apps.store.destroy("copy")


@pytest.mark.parametrize(("writer", "reader"), [("flask", "express"), ("express", "flask")])
def test_json_data_round_trips_between_the_apps(
    apps: Apps, browser: Browser, writer: str, reader: str
) -> None:
    values = {**JSON_VALUES, **LARGE_INTS}
    browser.get(getattr(apps, writer), "/login", user="json")
    query = {key: json.dumps(value) for key, value in values.items()}
    written = browser.get(getattr(apps, writer), "/json", **query)
    assert same_json(written["data"], {"user": "json", **values})
    assert same_json(browser.get(getattr(apps, reader), "/whoami")["data"], written["data"])


def test_a_session_express_keeps_alive_by_touch_stays_live_in_flask(
    apps: Apps, browser: Browser
) -> None:
    """connect-redis's touch moves only the key's TTL, so the stored ``cookie.expires``
    goes stale (here: already past) while the key is live; Flask must judge by the key."""
    browser.get(apps.express, "/login", user="frank")
    key = apps.store.keys.session(browser.sid or "")
    stale = json.loads(apps.raw.get(key) or b"")
    stale["cookie"]["expires"] = "2020-01-01T00:00:00.000Z"
    apps.raw.set(key, json.dumps(stale, separators=(",", ":")), keepttl=True)

    assert browser.get(apps.flask, "/whoami") == {"id": browser.sid, "data": {"user": "frank"}}
    assert browser.get(apps.express, "/whoami")["data"] == {"user": "frank"}


def test_connect_redis_listings_never_see_records_or_owner_sets(apps: Apps) -> None:
    for user in ("gina", "gina", "hank"):
        Browser().get(apps.flask, "/login", user=user)
    ours = sorted(apps.store.all())
    assert apps.raw.exists(apps.store.keys.owner("gina")) == 1
    assert Browser().get(apps.express, "/store/ids")["ids"] == ours
    assert Browser().get(apps.express, "/store/all")["ids"] == ours
    assert (
        Browser().get(apps.express, "/store/length")["length"] == len(ours) == apps.store.length()
    )
