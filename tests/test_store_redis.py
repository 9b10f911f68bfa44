"""RedisStore on a real redis-server: both store contracts, and its own promises.

Time: the contracts freeze Python's clock (freezegun) while Redis's keys
expire on the server's clock.  RedisStore computes every expiry from the
app's clock (an absolute ``PXAT``) and judges a key live by comparing that
absolute expiry, read back from Redis, with the app's clock, so the
contracts' ``advance`` is honoured by what the store returns; the tests
marked *real time* below check that the server itself removes the keys.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import redis

from flask_sessionstore import Cookie, RedisStore, SessionTooLargeError, Store
from flask_sessionstore.records import Record
from flask_sessionstore.stores.base import Write
from flask_sessionstore.stores.redis_format import Keys, expire_at, meta_prefix_for
from tests.records_contract import USER_KEY, SessionStoreContract, record, write
from tests.redis_server import (
    RedisClusterServers,
    RedisSentinel,
    RedisServer,
    redis_cluster,
    redis_url,
    unique_prefix,
)
from tests.store_contract import Advance, stored

__all__ = ["redis_cluster", "redis_url", "unique_prefix"]  # fixtures, imported for pytest


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client on the shared server, to look at the keys themselves."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


class TestRedisStoreContract(SessionStoreContract):
    @pytest.fixture
    def contract_store(self, redis_url: str, unique_prefix: str) -> Iterator[Store]:
        store = RedisStore(url=redis_url, prefix=unique_prefix)
        yield store
        store.clear()
        store.close()

    def populate(self, store: Store, count: int, owner: str | None) -> None:
        """10,000 sessions in a few pipelines, as the store's own writes would lay them out."""
        assert isinstance(store, RedisStore)
        client = store.client()
        now = datetime.now(timezone.utc)
        pipe = client.pipeline(transaction=False)
        for i in range(count):
            sid = f"other-{owner}-{i}"
            data = {USER_KEY: owner} if owner is not None else {"n": i}
            session = stored(3600, **data)
            at = expire_at(Cookie.from_dict(session["cookie"]).expires, now, store.ttl)
            pipe.set(store.keys.session(sid), json.dumps(session, separators=(",", ":")), pxat=at)
            fields = {
                "createdAt": "2026-01-01T00:00:00.000Z",
                "lastSeenAt": "2026-01-01T00:00:00.000Z",
            }
            if owner is not None:
                fields["user"] = owner
                pipe.zadd(store.keys.owner(owner), {sid: i})
                pipe.pexpireat(store.keys.owner(owner), at)
            pipe.hset(store.keys.record(sid), mapping=fields)
            pipe.pexpireat(store.keys.record(sid), at)
            if len(pipe) >= 3000:
                pipe.execute()
        pipe.execute()

    def test_touch_updates_stored_cookie(self, store: Store, advance: Advance) -> None:
        """connect-redis's touch moves only the key's expiry (the value is not rewritten);
        the store hands back the cookie with that expiry, so the renewed one is seen."""
        super().test_touch_updates_stored_cookie(store, advance)

    def test_an_owner_set_lives_as_long_as_its_longest_session(self, store: Store) -> None:
        assert isinstance(store, RedisStore)
        write(store, "long", None, max_age=7200, **{USER_KEY: "alice"})
        write(store, "short", None, max_age=60, **{USER_KEY: "alice"})
        ttl = store.client().pttl(store.keys.owner("alice"))
        assert 7_100_000 < ttl <= 7_200_000
        assert {r.id for r in store.sessions_of("alice")} == {"long", "short"}

    def test_expired_session_is_removed_by_the_server_in_real_time(self, store: Store) -> None:
        assert isinstance(store, RedisStore)
        store.set("short", stored(max_age=1, n=1))
        client = store.client()
        key = store.keys.session("short")
        assert client.exists(key) == 1
        deadline = time.monotonic() + 5
        while client.exists(key) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.exists(key) == 0
        assert store.get("short") is None


# -- connect-redis's format, byte for byte --------------------------------------------


@pytest.fixture
def store(redis_url: str, unique_prefix: str) -> Iterator[RedisStore]:
    store = RedisStore(url=redis_url, prefix=unique_prefix)
    yield store
    store.clear()
    store.close()


def test_the_value_is_json_stringify_output(store: RedisStore, raw: redis.Redis) -> None:
    session = {
        "cookie": {
            "originalMaxAge": 60000,
            "expires": "2099-01-01T00:00:00.000Z",
            "httpOnly": True,
            "path": "/",
        },
        "user": "zoë ☕ 日本",
        "n": 1.5,
        "z": [1, {"b": None, "a": True}],
    }
    store.set("sid", session)
    assert (
        raw.get(store.keys.session("sid"))
        == (
            '{"cookie":{"originalMaxAge":60000,"expires":"2099-01-01T00:00:00.000Z",'
            '"httpOnly":true,"path":"/"},"user":"zoë ☕ 日本","n":1.5,"z":[1,{"b":null,"a":true}]}'
        ).encode()
    )


def test_the_ttl_is_the_cookie_expiry_in_whole_seconds_rounded_up(
    store: RedisStore, raw: redis.Redis
) -> None:
    expires = datetime.now(timezone.utc) + timedelta(seconds=90.2)
    store.set("sid", {"cookie": Cookie(expires=expires).to_dict()})
    ttl = raw.pttl(store.keys.session("sid"))
    assert 90_000 < ttl <= 91_000


def test_a_browser_session_lives_for_ttl(
    redis_url: str, unique_prefix: str, raw: redis.Redis
) -> None:
    store = RedisStore(url=redis_url, prefix=unique_prefix, ttl=120)
    store.set("sid", stored(max_age=None))
    assert 119_000 < raw.pttl(store.keys.session("sid")) <= 120_000
    store.clear()


def test_an_expired_session_is_deleted_not_written(store: RedisStore, raw: redis.Redis) -> None:
    store.set("sid", stored(max_age=60, n=1))
    gone = {"cookie": Cookie(expires=datetime.now(timezone.utc) - timedelta(seconds=1)).to_dict()}
    store.set("sid", gone)
    assert raw.exists(store.keys.session("sid")) == 0


def test_touch_moves_the_ttl_only(store: RedisStore, raw: redis.Redis) -> None:
    store.set("sid", stored(max_age=60, n=1))
    before = raw.get(store.keys.session("sid"))
    store.touch("sid", stored(max_age=600, n=2))
    assert raw.get(store.keys.session("sid")) == before
    assert raw.pttl(store.keys.session("sid")) > 500_000


def test_disable_touch_and_disable_ttl(
    redis_url: str, unique_prefix: str, raw: redis.Redis
) -> None:
    untouched = RedisStore(url=redis_url, prefix=unique_prefix, disable_touch=True)
    untouched.set("a", stored(max_age=60))
    untouched.touch("a", stored(max_age=600))
    assert raw.pttl(untouched.keys.session("a")) <= 60_000
    loaded = untouched.load("a")
    assert loaded is not None
    assert untouched.refresh("a", Write(stored(max_age=600), base=loaded)) is None

    forever = RedisStore(url=redis_url, prefix=unique_prefix, disable_ttl=True)
    written = write(forever, "b", None, **{USER_KEY: "alice"})
    assert written is not None and written.expires_at is None
    assert raw.pttl(forever.keys.session("b")) == -1
    assert raw.pttl(forever.keys.record("b")) == -1
    assert forever.load("b") is not None
    forever.clear()


def test_record_and_owner_keys_are_outside_the_prefix_and_expire_with_the_session(
    store: RedisStore, raw: redis.Redis
) -> None:
    write(store, "sid", None, max_age=600, **{USER_KEY: "alice@example.com"})
    prefix = store.keys.prefix
    names = sorted(k.decode() for k in raw.scan_iter(match=prefix[:-1] + "*"))
    assert names == sorted(
        [
            prefix + "sid",
            f"{prefix[:-1]}#rec:{{{prefix}sid}}",
            f"{prefix[:-1]}#own:alice@example.com",
        ]
    )
    assert [k.decode() for k in raw.scan_iter(match=prefix + "*")] == [prefix + "sid"]
    ttls = {name: raw.pttl(name) for name in names}
    assert max(ttls.values()) - min(ttls.values()) < 50, ttls
    assert store.revoke("sid") is True
    assert [k.decode() for k in raw.scan_iter(match=prefix[:-1] + "*")] == [
        f"{prefix[:-1]}#own:alice@example.com"  # a stale member, cleaned by the next read
    ]
    assert store.sessions_of("alice@example.com") == []
    assert list(raw.scan_iter(match=prefix[:-1] + "*")) == []


def test_keys_layout_and_glob_escaping() -> None:
    keys = Keys("a*[b]:", meta_prefix_for("a*[b]:"))
    assert keys.meta == "a*[b]#"
    assert keys.sessions_pattern == "a\\*\\[b\\]:*"
    assert keys.record("x") == "a*[b]#rec:{a*[b]:x}"
    tagged = Keys("{app}:", "{app}#")
    assert tagged.record("x") == "{app}#rec:{app}:x"  # the session key's own hash tag


def test_a_concurrent_connect_redis_write_is_detected(store: RedisStore, raw: redis.Redis) -> None:
    write(store, "sid", None, a=1, b=1)
    loaded = store.load("sid")
    assert loaded is not None
    node = json.loads(raw.get(store.keys.session("sid")))
    node["b"] = 2  # what connect-redis's set writes, knowing no version
    raw.set(store.keys.session("sid"), json.dumps(node, separators=(",", ":")), ex=600)
    assert write(store, "sid", loaded, a=2) is not None
    final = store.load("sid")
    assert final is not None and final.data == {"a": 2, "b": 2}


def test_a_too_big_session_fails_before_any_io(redis_url: str, unique_prefix: str) -> None:
    small = RedisStore(url=redis_url, prefix=unique_prefix, max_session_size=1000)
    write(small, "sid", None, n=1)
    loaded = small.load("sid")
    with pytest.raises(SessionTooLargeError) as caught:
        write(small, "sid", loaded, blob="x" * 2000)
    assert "'blob'" in str(caught.value) and caught.value.limit == 1000
    again = small.load("sid")
    assert again is not None and again.data == {"n": 1}
    small.clear()


def test_construction_never_touches_the_network() -> None:
    started = time.monotonic()
    store = RedisStore(url="redis://:hunter2@127.0.0.1:1/0", timeout=0.2)
    assert time.monotonic() - started < 0.1
    assert "hunter2" not in repr(store) and "hunter2" not in store.name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of client"),
        ({"url": "redis://x", "client": redis.Redis()}, "exactly one of client"),
        ({"url": "http://x"}, "redis:// or rediss://"),
        ({"url": "redis://x", "prefix": ""}, "prefix must be a non-empty"),
        ({"url": "redis://x", "ttl": 0}, "ttl must be a positive"),
        ({"url": "redis://x", "scan_count": 0}, "scan_count"),
        ({"url": "redis://x", "meta_prefix": "sess:x"}, "meta_prefix"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        RedisStore(**kwargs)


def test_an_asyncio_client_is_refused_clearly() -> None:
    import redis.asyncio

    with pytest.raises(TypeError, match=r"redis\.asyncio client"):
        RedisStore(redis.asyncio.Redis())


def test_a_missing_redis_py_is_an_import_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"flask-express-session\[redis\]"):
        RedisStore(url="redis://127.0.0.1:6379/0")


def test_a_record_without_timestamps_is_an_express_session(store: RedisStore) -> None:
    store.set("express", stored(max_age=60, n=1))
    loaded = store.load("express")
    assert loaded is not None and loaded.record == Record()
    written = store.write(
        "express",
        Write(stored(60, n=2), base=loaded, changed=("n",), record=record(), user_key=USER_KEY),
    )
    assert written is not None and written.record.created_at is not None


# -- Redis Cluster: three masters of our own ---------------------------------------


class TestRedisClusterStoreContract(TestRedisStoreContract):
    """The same contracts through ``redis.RedisCluster``: a session's key and its
    record share a hash slot, the owner sets live elsewhere."""

    @pytest.fixture
    def contract_store(
        self, redis_cluster: RedisClusterServers, unique_prefix: str
    ) -> Iterator[Store]:
        client = redis.RedisCluster(host="127.0.0.1", port=redis_cluster.port, socket_timeout=5)
        store = RedisStore(client, prefix=unique_prefix)
        yield store
        store.clear()
        client.close()

    def test_expired_session_is_removed_by_the_server_in_real_time(self, store: Store) -> None:
        super().test_expired_session_is_removed_by_the_server_in_real_time(store)


def test_a_session_and_its_record_share_a_cluster_slot(redis_cluster: RedisClusterServers) -> None:
    client = redis.RedisCluster(host="127.0.0.1", port=redis_cluster.port)
    keys = RedisStore(client).keys
    for sid in ("abc", "Qx8kVgN0y3H1a3nq1k3Zl2f5rT7wXyZa", "-_x"):
        assert client.keyslot(keys.session(sid)) == client.keyslot(keys.record(sid))
    client.close()


def test_a_sentinel_master_client_serves_sessions() -> None:
    from redis.sentinel import Sentinel

    with RedisServer() as master, RedisSentinel(master) as sentinel:
        sentinels = Sentinel([("127.0.0.1", sentinel.port)], socket_timeout=2)
        client = sentinels.master_for("mymaster", socket_timeout=2, socket_connect_timeout=2)
        store = RedisStore(client, prefix="sentinel:")
        assert store.name == "RedisStore(sentinel master mymaster)"
        written = write(store, "sid", None, **{USER_KEY: "alice"})
        assert written is not None
        loaded = store.load("sid")
        assert loaded is not None and loaded.record.user == "alice"
        assert write(store, "sid", loaded, n=1) is not None
        assert [r.id for r in store.sessions_of("alice")] == ["sid"]
        assert redis.Redis(port=master.port).exists("sentinel:sid") == 1
        client.close()


@pytest.mark.parametrize(
    "kwargs", [{"prefix": ""}, {"ttl": -1}, {"client": object()}, {"scan_count": "x"}]
)
def test_a_construction_error_never_shows_the_password(kwargs: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)) as caught:
        RedisStore(url="redis://user:hunter2@127.0.0.1:6379/0", **kwargs)
    seen = [str(caught.value)]
    trace = caught.value.__traceback__
    while trace is not None:  # as an error tracker renders it: every frame's locals
        if trace.tb_frame.f_code.co_name != "test_a_construction_error_never_shows_the_password":
            seen.extend(repr(value) for value in trace.tb_frame.f_locals.values())
        trace = trace.tb_next
    assert len(seen) > 3 and not [text for text in seen if "hunter2" in text]
