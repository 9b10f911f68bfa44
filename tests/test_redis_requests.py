"""RedisStore under real requests: commands per request, big sessions, the CLI.

Commands and bytes are counted by the server itself (``INFO commandstats``
and ``INFO stats``' ``total_net_input_bytes``) on a redis-server of the
test's own, so nothing else talks to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask, session
from flask.testing import FlaskClient

from flask_sessionstore import RedisStore, ServerSession, SessionStore, SessionTooLargeError
from flask_sessionstore.stores.base import Write
from tests.redis_server import RedisServer, redis_url, unique_prefix

__all__ = ["redis_url", "unique_prefix"]  # fixtures, imported for pytest

MB = 1024 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as own:
        yield own


class Counter:
    """The server's own count of commands (by name) and of bytes received."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.commands, self.bytes = self._read()

    def _read(self) -> tuple[dict[str, int], int]:
        stats = self.client.info("commandstats")
        commands = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
        return commands, int(self.client.info("stats")["total_net_input_bytes"])

    def delta(self) -> tuple[dict[str, int], int]:
        """Commands (INFO excluded) and bytes since the last call (this call's INFOs excluded)."""
        commands, received = self._read()
        changed = {
            name: n - self.commands.get(name, 0)
            for name, n in commands.items()
            if n != self.commands.get(name, 0) and name != "info"
        }
        baseline = self._read()  # what two INFO commands cost, to subtract
        sent = received - self.bytes - (baseline[1] - received) * 1
        self.commands, self.bytes = baseline
        return changed, sent


def make_app(store: RedisStore) -> FlaskClient:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    SessionStore(app, store=store, cookie={"max_age": 3600})

    @app.get("/hello")
    def hello() -> str:
        return "no session here"

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"n": session.get("n"), "size": len(session.get("blob", ""))}

    @app.get("/write")
    def write() -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    @app.get("/big/<int:size>")
    def big(size: int) -> dict[str, Any]:
        session["blob"] = "x" * size
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    return app.test_client()


class CountingConnection(redis.Connection):
    """A redis-py connection that records the name of every command it sends."""

    sent: list[str] = []

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        CountingConnection.sent.append(str(args[0]).lower())
        super().send_command(*args, **kwargs)


def sent_since(counter: Counter) -> dict[str, int]:
    """Commands our client sent since the last call, checked against the server's count."""
    names = list(CountingConnection.sent)
    CountingConnection.sent.clear()
    sent = {name: names.count(name) for name in names}
    server_side = counter.delta()[0]  # scripts' own commands included: compare the EVALSHAs
    assert server_side.get("evalsha", 0) == sent.get("evalsha", 0)
    return sent


def test_commands_per_request(server: RedisServer) -> None:
    pool = redis.ConnectionPool.from_url(server.url, connection_class=CountingConnection)
    store = RedisStore(redis.Redis(connection_pool=pool), prefix="count:")
    web, other = make_app(store), make_app(store)
    web.get("/write")
    web.get("/read")  # warm up: connection made, scripts loaded
    CountingConnection.sent.clear()
    counter = Counter(server.url)

    assert other.get("/hello").status_code == 200
    assert sent_since(counter) == {}  # a new visitor who never uses the session: 0

    other.get("/write")
    assert sent_since(counter) == {"evalsha": 1}  # a new visitor who writes: 1

    for _ in range(3):
        web.get("/read")
        assert sent_since(counter) == {"evalsha": 1}  # a returning reader: 1 (steady state)

    for _ in range(3):
        web.get("/write")
        assert sent_since(counter) == {"evalsha": 2}  # a returning writer: load + write
    pool.disconnect()


def test_a_12_mb_session_round_trips_and_a_write_sends_the_value_plus_a_constant(
    server: RedisServer,
) -> None:
    store = RedisStore(url=server.url, prefix="twelve:")
    web = make_app(store)
    web.get("/write")
    counter = Counter(server.url)
    assert web.get(f"/big/{12 * MB}").get_json() == {"n": 2}
    commands, sent = counter.delta()
    assert commands["evalsha"] == 2
    value = redis.Redis.from_url(server.url).get(store.keys.session(_sid(store)))
    assert value is not None and len(value) > 12 * MB
    assert sent <= len(value) + 1024, f"{sent - len(value)} bytes beyond the value"

    assert web.get("/read").get_json() == {"n": 2, "size": 12 * MB}
    counter.delta()
    assert web.get(f"/big/{12 * MB + 1}").get_json() == {"n": 3}  # a rewrite: no old value sent
    assert counter.delta()[1] <= len(value) + 1 + 1024
    store.clear()
    store.close()


def test_a_too_big_session_fails_its_save_and_the_stored_copy_stays(server: RedisServer) -> None:
    store = RedisStore(url=server.url, prefix="big:")
    web = make_app(store)
    web.get("/big/1000")
    sid = _sid(store)
    before = redis.Redis.from_url(server.url).get(store.keys.session(sid))
    counter = Counter(server.url)
    with pytest.raises(SessionTooLargeError) as caught:
        web.get(f"/big/{17 * MB}")
    assert caught.value.limit == 16 * MB and "'blob'" in str(caught.value)
    commands, _ = counter.delta()
    assert commands == {"evalsha": 1, "get": 1, "hgetall": 1, "pexpiretime": 2}  # the load only
    assert redis.Redis.from_url(server.url).get(store.keys.session(sid)) == before
    assert web.get("/read").get_json() == {"n": 1, "size": 1000}
    store.clear()
    store.close()


def _sid(store: RedisStore) -> str:
    (sid,) = store.all()
    return sid


# -- flask sessions ... on RedisStore ------------------------------------------------


@pytest.fixture
def cli_app(redis_url: str, unique_prefix: str) -> Iterator[tuple[Flask, RedisStore]]:
    store = RedisStore(url=redis_url, prefix=unique_prefix)
    app = Flask(__name__)
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    SessionStore(app, store=store, cookie={"max_age": 3600})

    @app.get("/login/<user>")
    def login(user: str) -> str:
        session["_user_id"] = user
        return "ok"

    yield app, store
    store.clear()
    store.close()


def test_the_cli_works_on_redis(cli_app: tuple[Flask, RedisStore]) -> None:
    app, store = cli_app
    for user in ("alice", "alice", "bob"):
        app.test_client().get(f"/login/{user}")
    runner = app.test_cli_runner()

    assert runner.invoke(args=["sessions", "count"]).output.strip() == "3"
    listed = json.loads(runner.invoke(args=["sessions", "list", "--json"]).output)
    assert sorted(row["id"] for row in listed) == sorted(store.all())
    assert all(row["expires"] for row in listed)

    sid = listed[0]["id"]
    shown = runner.invoke(args=["sessions", "show", sid])
    assert shown.exit_code == 0 and json.loads(shown.output)["cookie"]["originalMaxAge"] == 3600000
    assert runner.invoke(args=["sessions", "show", "nope"]).exit_code != 0

    assert runner.invoke(args=["sessions", "destroy", sid]).exit_code == 0
    assert runner.invoke(args=["sessions", "count"]).output.strip() == "2"

    pruned = runner.invoke(args=["sessions", "prune"])
    assert (
        pruned.exit_code == 0 and "RedisStore removes expired sessions by itself" in pruned.output
    )

    assert runner.invoke(args=["sessions", "clear", "--yes"]).exit_code == 0
    assert runner.invoke(args=["sessions", "count"]).output.strip() == "0"
    assert store.sessions_of("alice") == []


# -- account control and timeouts through the extension ------------------------------


def accounts_app(store: RedisStore, **options: Any) -> tuple[Flask, SessionStore]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    sessions = SessionStore(app, store=store, cookie={"max_age": 3600}, **options)

    @app.get("/login/<user>")
    def login(user: str) -> str:
        assert isinstance(session, ServerSession)
        session.regenerate()
        session["_user_id"] = user
        return session.id

    @app.get("/me")
    def me() -> dict[str, Any]:
        return {"user": session.get("_user_id")}

    @app.get("/logout-others")
    def logout_others() -> dict[str, Any]:
        return {"revoked": sessions.revoke_user(session["_user_id"], keep_current=True)}

    return app, sessions


def test_revoking_a_users_other_devices(redis_url: str, unique_prefix: str) -> None:
    store = RedisStore(url=redis_url, prefix=unique_prefix)
    app, sessions = accounts_app(store)
    phone, laptop, tablet = (app.test_client() for _ in range(3))
    for device in (phone, laptop, tablet):
        device.get("/login/alice@example.com")
    app.test_client().get("/login/bob")
    with app.app_context():
        assert len(sessions.sessions_of("alice@example.com")) == 3
    assert laptop.get("/logout-others").get_json() == {"revoked": 2}
    assert phone.get("/me").get_json() == {"user": None}  # its old cookie is worthless now
    assert laptop.get("/me").get_json() == {"user": "alice@example.com"}
    with app.app_context():
        (kept,) = sessions.sessions_of("alice@example.com")
        assert kept.ip == "127.0.0.1" and kept.created_at is not None
        assert len(sessions.sessions_of("bob")) == 1
    store.clear()


def test_max_sessions_per_user_revokes_the_least_recently_seen(
    redis_url: str, unique_prefix: str
) -> None:
    store = RedisStore(url=redis_url, prefix=unique_prefix)
    app, sessions = accounts_app(store, max_sessions_per_user=2)
    first, second, third = (app.test_client() for _ in range(3))
    for device in (first, second, third):
        device.get("/login/carol")
    assert first.get("/me").get_json() == {"user": None}
    assert third.get("/me").get_json() == {"user": "carol"}
    with app.app_context():
        assert len(sessions.sessions_of("carol")) == 2
    store.clear()


def test_the_absolute_timeout_caps_the_key_ttl(redis_url: str, unique_prefix: str) -> None:
    store = RedisStore(url=redis_url, prefix=unique_prefix)
    app, _ = accounts_app(store, absolute_timeout=60, idle_timeout=600)
    sid = app.test_client().get("/login/dave").get_data(as_text=True)
    raw = redis.Redis.from_url(redis_url)
    for key in (store.keys.session(sid), store.keys.record(sid), store.keys.owner("dave")):
        assert 55_000 < raw.pttl(key) <= 60_000, key
    raw.close()
    store.clear()


def test_a_forked_worker_gets_its_own_client(redis_url: str, unique_prefix: str) -> None:
    """gunicorn --preload: the store is built (and here even used) before the fork."""
    import multiprocessing

    global _preloaded
    store = _preloaded = RedisStore(url=redis_url, prefix=unique_prefix)
    store.set("parent", {"cookie": {"originalMaxAge": None, "expires": None}, "n": 1})
    parent_client = store.client()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        seen = pool.map(_child_uses_the_preloaded_store, [(id(parent_client), n) for n in (1, 2)])
    assert seen == [True, True]
    assert store.client() is parent_client
    final = store.get("parent")
    assert final is not None and final["n"] == 1
    assert len([key for key in final if key.startswith("child")]) == 2
    store.clear()


_preloaded: RedisStore | None = None


def _child_uses_the_preloaded_store(args: tuple[int, int]) -> bool:
    parent_client, n = args
    store = _preloaded
    assert store is not None
    loaded = store.load("parent")
    assert loaded is not None
    key = f"child{n}"  # disjoint keys: both writes must survive
    written = store.write("parent", Write({**loaded.session, key: 1}, base=loaded, changed=(key,)))
    return written is not None and id(store.client()) != parent_client
