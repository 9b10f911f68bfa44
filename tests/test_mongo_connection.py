"""MongoStore's connection, unit tier: client options, indexes, failures, secrets.

The client is replaced by mongomock (or a collection that fails on demand),
so these run without a server; timeouts against real servers, outages and
the breaker's latency are in test_mongo_secantus.py.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import mongomock
import pymongo
import pytest
from pymongo import errors

from flask_sessionstore import MongoStore, StoreUnavailableError
from flask_sessionstore.stores import mongo_indexes
from flask_sessionstore.stores.breaker import Breaker
from flask_sessionstore.stores.mongo_options import HiddenURL
from tests.records_contract import write
from tests.store_contract import stored

PASSWORD = "pa55-w0rd!secret"
CRYPTO_SECRET = "crypto-s3cret-value"


@pytest.fixture
def client() -> mongomock.MongoClient:
    return mongomock.MongoClient()


# -- the client the store makes from mongo_url --------------------------------------


class FakeClients:
    """Stands in for ``pymongo.MongoClient``: mongomock clients, recording the options."""

    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.server = mongomock.MongoClient()

    def __call__(self, url: str, **options: Any) -> Any:
        self.created.append((url, options))
        return self.server


@pytest.fixture
def fake_clients(monkeypatch: pytest.MonkeyPatch) -> FakeClients:
    fake = FakeClients()
    monkeypatch.setattr(pymongo, "MongoClient", fake)
    return fake


def test_client_is_created_on_first_use_with_the_stores_defaults(
    fake_clients: FakeClients,
) -> None:
    store = MongoStore(mongo_url="mongodb://db.example:27017/app")
    assert fake_clients.created == []
    store.set("sid1", stored())
    assert store.get("sid1") is not None
    [(url, options)] = fake_clients.created
    assert url == "mongodb://db.example:27017/app"
    assert options == {
        "serverSelectionTimeoutMS": 5000,
        "connectTimeoutMS": 5000,
        "appname": "flask-sessionstore",
        "connect": False,
    }
    assert store.name == "MongoStore(app.sessions)"  # the URL's database, read without pymongo


@pytest.mark.parametrize(
    "query",
    [
        "serverSelectionTimeoutMS=300&connectTimeoutMS=700&appName=mine",
        "SERVERSELECTIONTIMEOUTMS=300;connecttimeoutms=700;APPNAME=mine",  # any case, ';' too
    ],
)
def test_options_in_the_url_win_over_the_stores_defaults(
    fake_clients: FakeClients, query: str
) -> None:
    MongoStore(mongo_url=f"mongodb://h/app?{query}", timeout=2).length()
    [(url, options)] = fake_clients.created
    assert url.endswith(query)  # pymongo reads them from the URL...
    assert options == {"connect": False}  # ...and no keyword of ours overrides them


def test_mongo_options_win_over_the_stores_defaults(fake_clients: FakeClients) -> None:
    store = MongoStore(
        mongo_url="mongodb://h/",
        timeout=1.5,
        mongo_options={"serverselectiontimeoutms": 200, "socketTimeoutMS": 2000, "connect": True},
    )
    store.length()
    [(_, options)] = fake_clients.created
    assert options == {
        "connectTimeoutMS": 1500,
        "appname": "flask-sessionstore",
        "serverselectiontimeoutms": 200,
        "socketTimeoutMS": 2000,
        "connect": True,
    }


def test_timeout_comes_from_timeout_ms_unless_given() -> None:
    assert MongoStore(mongo_url="mongodb://h/?timeoutMS=1500").timeout == 1.5
    assert MongoStore(mongo_url="mongodb://h/", mongo_options={"timeoutMS": 800}).timeout == 0.8
    assert MongoStore(mongo_url="mongodb://h/?timeoutMS=1500", timeout=3).timeout == 3
    assert MongoStore(mongo_url="mongodb://h/").timeout == 5
    client = pymongo.MongoClient("mongodb://127.0.0.1:1/", timeoutMS=700, connect=False)
    assert MongoStore(client).timeout == 0.7  # a client passed in: its own timeoutMS
    client.close()


def test_a_forked_process_gets_its_own_client(
    fake_clients: FakeClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MongoStore(mongo_url="mongodb://h/")
    store.length()
    store.length()
    assert len(fake_clients.created) == 1
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)  # as after gunicorn --preload
    store.length()
    assert len(fake_clients.created) == 2


def test_racing_first_requests_build_clients_without_a_lock_and_keep_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building a client may resolve DNS (mongodb+srv), so no lock is held around it."""
    both_building = threading.Barrier(2, timeout=10)
    built: list[Any] = []

    def slow_client(url: str, **options: Any) -> Any:
        both_building.wait()  # would deadlock if building held a lock
        client = mongomock.MongoClient()
        built.append(client)
        return client

    monkeypatch.setattr(pymongo, "MongoClient", slow_client)
    store = MongoStore(mongo_url="mongodb://h/")
    threads = [threading.Thread(target=store.length) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(built) == 2
    kept = store.connection.collection().database.client
    assert sum(client is kept for client in built) == 1  # one kept, the other closed


# -- indexes --------------------------------------------------------------------------


def test_the_first_write_creates_the_ttl_and_owner_indexes(client: Any) -> None:
    store = MongoStore(client)
    store.get("anything")
    assert "expires_1" not in client.test.sessions.index_information()  # reads never do
    write(store, "sid", None, n=1)
    indexes = client.test.sessions.index_information()
    assert indexes["expires_1"]["expireAfterSeconds"] == 0
    assert list(indexes["expires_1"]["key"]) == [("expires", 1)]
    assert list(indexes["user_1_expires_1"]["key"]) == [("user", 1), ("expires", 1)]
    MongoStore(client).set("again", stored())  # a second store accepts them


@pytest.mark.parametrize("mode", ["disabled", "interval"])
def test_other_auto_remove_modes_create_only_the_owner_index(client: Any, mode: str) -> None:
    store = MongoStore(client, auto_remove=mode)  # type: ignore[arg-type]
    store.set("sid1", stored())
    assert set(client.test.sessions.index_information()) == {"_id_", "user_1_expires_1"}
    store.close()


def test_equivalent_existing_index_is_fine(client: Any) -> None:
    client.test.sessions.create_index("expires", expireAfterSeconds=0)
    store = MongoStore(client)
    store.set("sid1", stored())
    assert store.get("sid1") is not None


def test_a_conflicting_index_is_a_clear_error_and_retried_later(client: Any) -> None:
    client.test.sessions.create_index("expires", expireAfterSeconds=3600)
    store = MongoStore(client)
    with pytest.raises(RuntimeError, match=r"TTL index expires_1.*auto_remove="):
        store.set("sid1", stored())
    client.test.sessions.drop_index("expires_1")
    store.set("sid1", stored())  # retried by the next write, and it works now
    assert {"expires_1", "user_1_expires_1"} <= set(client.test.sessions.index_information())


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_indexes_come_back_after_the_collection_is_dropped_without_a_check_per_request(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(mongo_indexes, "time", clock)
    calls: list[str] = []
    real = mongomock.collection.Collection.create_indexes

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append("createIndexes")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.Collection, "create_indexes", counting)
    store = MongoStore(client)
    write(store, "first", None, n=1)
    assert calls == ["createIndexes"]
    client.test.drop_collection("sessions")  # dropped while the app runs
    for i in range(5):
        write(store, f"new{i}", None, n=i)
        write(store, f"new{i}", store.load(f"new{i}"), n=i + 1)
    assert calls == ["createIndexes"]  # no round trip per request
    clock.now += mongo_indexes.RECHECK_SECONDS
    write(store, "loaded", store.load("new0"), n=9)  # a write of a loaded session: no check
    assert calls == ["createIndexes"]
    write(store, "after", None, n=1)  # the first new session a minute later: checked
    assert calls == ["createIndexes", "createIndexes"]
    assert {"expires_1", "user_1_expires_1"} <= set(client.test.sessions.index_information())


def test_prune_is_a_no_op_for_native_and_deletes_otherwise(client: Any) -> None:
    past = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)
    for sid in ("a", "b"):
        client.test.plain.insert_one({"_id": sid, "expires": past, "session": "{}"})
    native = MongoStore(client, collection_name="plain")
    assert native.prune() == 0
    disabled = MongoStore(client, collection_name="plain", auto_remove="disabled")
    assert disabled.prune() == 2
    assert client.test.plain.count_documents({}) == 0


def test_interval_mode_removes_expired_sessions_in_the_background(client: Any) -> None:
    store = MongoStore(client, auto_remove="interval", auto_remove_interval=0.05)
    past = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)
    client.test.sessions.insert_one({"_id": "old", "expires": past, "session": "{}"})
    store.set("live", stored())
    deadline = time.monotonic() + 10
    while client.test.sessions.count_documents({"_id": "old"}) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.test.sessions.count_documents({"_id": "old"}) == 0
    assert store.get("live") is not None
    sweepers = [t for t in threading.enumerate() if t.name.endswith("sweeper")]
    assert sweepers and all(t.daemon for t in sweepers)
    store.close()


class RecordingCollection:
    """A collection whose ``with_options`` is recorded; everything else is mongomock's."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.options: dict[str, Any] = {}
        self.full_name = inner.full_name

    def with_options(self, **options: Any) -> Any:
        self.options = options
        return self.inner.with_options(**options)


def test_write_concern_and_primary_reads(client: Any) -> None:
    recording = RecordingCollection(client.test.sessions)
    store = MongoStore(collection=recording, write_concern={"w": "majority", "wtimeout": 500})
    store.set("sid1", stored())
    assert recording.options["write_concern"].document == {"w": "majority", "wtimeout": 500}
    assert recording.options["read_preference"] == pymongo.ReadPreference.PRIMARY


# -- failures: outages, answers and the breaker ---------------------------------------


class FailingCollection:
    """A collection that raises ``error`` on every call while it is set (counting calls)."""

    full_name = "app.sessions"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.error: BaseException | None = None
        self.calls = 0

    def with_options(self, **options: Any) -> FailingCollection:
        return self

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.error is not None:
                raise self.error
            return method(*args, **kwargs)

        return call


@pytest.fixture
def failing(client: Any) -> FailingCollection:
    return FailingCollection(client.test.sessions)


OUTAGES: list[Callable[[], BaseException]] = [
    lambda: errors.ServerSelectionTimeoutError("127.0.0.1:1: [Errno 111] Connection refused"),
    lambda: errors.AutoReconnect("connection closed"),
    lambda: errors.NetworkTimeout("127.0.0.1:27017: timed out"),
    lambda: errors.NotPrimaryError("not primary"),
    lambda: errors.WaitQueueTimeoutError("pool exhausted"),
    lambda: errors.ExecutionTimeout("operation exceeded time limit", 50),
    lambda: errors.WTimeoutError("waiting for replication timed out", 64),
    lambda: errors.BulkWriteError(  # any other driver error with .timeout True
        {"writeErrors": [], "writeConcernErrors": [{"code": 50, "errmsg": "timed out"}]}
    ),
]
ANSWERS: list[Callable[[], BaseException]] = [
    lambda: errors.DuplicateKeyError("E11000 duplicate key", 11000),
    lambda: errors.OperationFailure("not authorized", 13),
    lambda: errors.WriteError("document failed validation", 121),
]


@pytest.mark.parametrize("error", OUTAGES)
def test_connection_and_timeout_errors_are_outages(
    failing: FailingCollection, error: Callable[[], BaseException]
) -> None:
    store = MongoStore(collection=failing, auto_remove="disabled")
    failing.error = error()
    with pytest.raises(StoreUnavailableError, match=r"MongoStore\(app\.sessions\) is unavailable"):
        store.get("sid")
    assert store.connection.breaker.is_open


@pytest.mark.parametrize("error", ANSWERS)
def test_errors_the_server_answered_are_raised_as_they_are(
    failing: FailingCollection, error: Callable[[], BaseException]
) -> None:
    store = MongoStore(collection=failing, auto_remove="disabled")
    failing.error = error()
    with pytest.raises(type(failing.error)):
        store.get("sid")
    assert not store.connection.breaker.is_open  # the server is up: it answered


def test_while_known_down_calls_fail_fast_until_a_probe_succeeds(
    failing: FailingCollection,
) -> None:
    store = MongoStore(collection=failing, auto_remove="disabled")
    clock = Clock()
    store.connection.breaker = Breaker(store.name, clock=clock.monotonic)
    store.set("sid", stored(n=1))
    failing.error = errors.ServerSelectionTimeoutError("127.0.0.1:1: connection refused")
    with pytest.raises(StoreUnavailableError) as first:
        store.get("sid")
    assert first.value.fast_fail is False and first.value.retry_after >= 1
    assert isinstance(first.value.__cause__, errors.ServerSelectionTimeoutError)
    calls = failing.calls
    for operation in (lambda: store.get("sid"), lambda: store.set("sid", stored())):
        with pytest.raises(StoreUnavailableError) as fast:
            operation()
        assert fast.value.fast_fail is True
    assert failing.calls == calls  # not contacted while known down
    failing.error = None  # the server is back...
    clock.now += 1.0  # ...and the cool-down is over: the next call is the probe
    assert store.get("sid") is not None
    assert not store.connection.breaker.is_open


# -- secrets: never in a repr, a message or a traceback's local variables ---------------


def rendered(exc: BaseException) -> str:
    """An error as error trackers render it: every frame with its local variables.

    The test's own frame (the caller, whose locals are the caller's business)
    is left out.
    """
    assert exc.__traceback__ is not None
    exc = exc.with_traceback(exc.__traceback__.tb_next)
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def test_the_url_password_and_crypto_secret_are_in_no_repr() -> None:
    url = f"mongodb://alice:{PASSWORD}@db.example:27017/app?authSource=admin"
    store = MongoStore(mongo_url=url, crypto={"secret": CRYPTO_SECRET, "iterations": 1000})
    shown = " ".join(
        repr(x) for x in (store, store.connection, store._format, store._format.codec, vars(store))
    )
    assert PASSWORD not in shown and CRYPTO_SECRET not in shown
    assert HiddenURL(url).masked == "mongodb://alice:***@db.example:27017/app?..."


@pytest.mark.parametrize(
    "options",
    [
        {"ttl": -1},  # a ValueError after the URL is known
        {"crypto": {"secret": CRYPTO_SECRET, "algorithm": "AES-CBC"}},  # a crypto error
        {"crypto": {"secret": CRYPTO_SECRET, "iterations": 0}},
        {"crypto": {"secret": 918273645}},  # a secret of the wrong type: not in the message
        {"mongo_options": {"password": PASSWORD}, "write_concern": "bad"},
    ],
)
def test_construction_errors_show_no_secret_in_their_frames(options: dict[str, Any]) -> None:
    url = f"mongodb://alice:{PASSWORD}@db.example/app"
    with pytest.raises((ValueError, TypeError)) as info:
        MongoStore(mongo_url=url, **options)
    text = rendered(info.value)
    assert PASSWORD not in text and CRYPTO_SECRET not in text and "918273645" not in text


def test_a_failing_dns_lookup_is_an_outage_with_no_password_in_its_frames() -> None:
    store = MongoStore(mongo_url=f"mongodb+srv://alice:{PASSWORD}@cluster.example.invalid/app")
    with pytest.raises(StoreUnavailableError, match="DNS") as info:
        store.get("sid")
    assert PASSWORD not in rendered(info.value)


def test_a_call_keeps_pymongos_selection_step_inside_the_timeout() -> None:
    """pymongo may end a server selection up to 0.5 s after the deadline; half is budgeted."""
    store = MongoStore(mongo_url="mongodb://127.0.0.1:1/", timeout=2)
    connection = store.connection
    assert connection._seconds(connection.collection()) == 1.75
    tiny = MongoStore(mongo_url="mongodb://127.0.0.1:1/", timeout=0.4).connection
    assert tiny._seconds(tiny.collection()) == pytest.approx(0.3)
    # while no server is known, a shorter serverSelectionTimeoutMS of the URL applies
    short = MongoStore(mongo_url="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300").connection
    assert short._seconds(short.collection()) == 0.3
    store.close()
