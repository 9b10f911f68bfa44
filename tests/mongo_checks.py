"""Checks of MongoStore against a real server speaking MongoDB's wire protocol.

Written once and run by two tiers: SecantusDB (test_mongo_secantus.py, always)
and a genuine MongoDB (test_mongo_genuine.py, when ``MONGODB_URI`` is set).
A tier subclasses :class:`WireChecks` and :class:`WireContract` and provides a
``mongo_uri`` fixture.  Round trips are counted with pymongo's command
monitoring, so they are the commands that really reach the server.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import bson
import pymongo
import pytest
from flask import Flask, session
from freezegun import freeze_time
from pymongo import monitoring

from flask_sessionstore import MongoStore, SessionStore, Store
from flask_sessionstore.cookie import format_iso
from flask_sessionstore.stores import mongo_indexes
from tests.records_contract import USER_KEY, SessionStoreContract, write
from tests.store_contract import Advance, stored

DB_NAME = "flask_sessionstore_tests"
# Handshakes, heartbeats and driver housekeeping are not round trips of a request.
_NOT_ROUND_TRIPS = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"}


class CommandLog(monitoring.CommandListener):
    """Records the commands a client sends (pymongo command monitoring), and their sizes."""

    def __init__(self, keep_documents: bool = True) -> None:
        self._lock = threading.Lock()
        self.keep_documents = keep_documents
        self.commands: list[tuple[str, dict[str, Any]]] = []
        #: (command name, bytes of the command as BSON)
        self.sizes: list[tuple[str, int]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in _NOT_ROUND_TRIPS:
            size = len(bson.encode(event.command))
            with self._lock:
                document = dict(event.command) if self.keep_documents else {}
                self.commands.append((event.command_name, document))
                self.sizes.append((event.command_name, size))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def take(self) -> list[str]:
        """The names of the commands sent since the last call, then forget them."""
        with self._lock:
            names = [name for name, _ in self.commands]
            self.commands.clear()
            self.sizes.clear()
        return names


def round_trip_app(store: MongoStore) -> Flask:
    """express's defaults as this package sets them: resave and save_uninitialized off."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    SessionStore(app, store=store, resave=False, save_uninitialized=False, cookie={"max_age": 3600})

    @app.get("/none")
    def untouched() -> str:
        return "no session here"

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"n": session.get("n")}

    @app.get("/write")
    def write() -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    @app.get("/save")
    def save() -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        session.save()  # explicit save; nothing changes afterwards
        return {"n": session["n"]}

    @app.get("/regenerate")
    def regenerate() -> dict[str, Any]:
        session.regenerate(keep_data=True)
        return {"n": session.get("n")}

    return app


class FakeMonotonic:
    """Stands in for the ``time`` module of the index checks: a clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def uses_index(explained: dict[str, Any], name: str) -> bool:
    """Whether an ``explain`` result's winning plan scans the index ``name``."""
    return f"'indexName': '{name}'" in str(explained["queryPlanner"]["winningPlan"])


def session_doc(client: Any, collection_name: str) -> dict[str, Any]:
    """The one session document of a collection."""
    doc: dict[str, Any] = client[DB_NAME][collection_name].find_one()
    return doc


class WireFixtures:
    """A client with a command log, and a fresh collection per test."""

    @pytest.fixture
    def commands(self) -> CommandLog:
        return CommandLog()

    @pytest.fixture
    def client(self, mongo_uri: str, commands: CommandLog) -> Iterator[Any]:
        client: Any = pymongo.MongoClient(
            mongo_uri, serverSelectionTimeoutMS=5000, event_listeners=[commands]
        )
        yield client
        client.close()

    @pytest.fixture
    def collection_name(self, client: Any) -> Iterator[str]:
        name = f"sessions_{uuid.uuid4().hex[:12]}"
        yield name
        client[DB_NAME].drop_collection(name)

    @pytest.fixture
    def raw(self, client: Any, collection_name: str) -> Any:
        """The collection itself, for looking behind the store's back."""
        return client[DB_NAME][collection_name]

    @staticmethod
    def make_store(client: Any, collection_name: str, **options: Any) -> MongoStore:
        return MongoStore(client, db_name=DB_NAME, collection_name=collection_name, **options)


def bulk_insert(store: MongoStore, count: int, owner: str | None) -> None:
    """Store ``count`` live sessions of ``owner`` with one ``insert_many`` (the store's format)."""
    expires = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=1)
    value = store._format.codec.encode(stored(3600, n=1))  # one valid value for all
    fields = {"expires": expires, "session": value, "user": owner, "lastSeenAt": expires}
    docs = [{"_id": f"bulk-{owner}-{i}", **fields} for i in range(count)]
    with store.connection.operation() as coll:
        coll.insert_many(docs)


class WireContract(WireFixtures, SessionStoreContract):
    """The shared contracts (express's and the session's) on a real server.

    The client's clock is frozen; the driver keeps real time.
    """

    def populate(self, store: Store, count: int, owner: str | None) -> None:
        assert isinstance(store, MongoStore)
        bulk_insert(store, count, owner)

    @pytest.fixture
    def advance(self) -> Iterator[Advance]:
        # The driver keeps real time for its timeouts and heartbeats.
        with freeze_time(datetime.now(timezone.utc), ignore=["pymongo", "bson"]) as frozen:
            yield lambda seconds: frozen.tick(seconds)

    @pytest.fixture
    def contract_store(self, client: Any, collection_name: str) -> Store:
        return self.make_store(client, collection_name)


class WireChecks(WireFixtures):
    """Round trips, schema, expiry filtering and the TTL index on a real server."""

    def test_round_trips_per_request(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        web = round_trip_app(self.make_store(client, collection_name)).test_client()

        def sent(path: str) -> list[str]:
            commands.take()
            assert web.get(path).status_code == 200
            return commands.take()

        assert sent("/none") == []  # new visitor who never touches the session
        assert sent("/write") == ["createIndexes", "update"]  # start-up: the indexes, once
        assert sent("/read") == ["find"]  # returning reader: the expiry barely moved
        assert sent("/write") == ["find", "update"]  # returning writer: read + write
        assert sent("/save") == ["find", "update"]  # explicit save(): no second write
        assert sent("/regenerate") == ["find", "delete", "update"]
        assert sent("/none") == []  # returning visitor who never touches the session

    def test_round_trips_of_a_reader_with_touch_after_zero(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        store = self.make_store(client, collection_name, touch_after=0)
        web = round_trip_app(store).test_client()
        web.get("/write")
        commands.take()
        assert web.get("/read").get_json() == {"n": 1}
        assert commands.take() == ["find", "update"]  # connect-mongo's touch on every read

    def test_round_trips_with_touch_after(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        store = self.make_store(client, collection_name, touch_after=60)
        web = round_trip_app(store).test_client()
        web.get("/write")
        commands.take()
        assert web.get("/read").get_json() == {"n": 1}
        assert commands.take() == ["find"]  # 1 read, 0 writes within touch_after
        assert web.get("/write").get_json() == {"n": 2}
        assert commands.take() == ["find", "update"]

    def test_writes_are_a_compare_and_set_and_only_new_sessions_upsert(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        store = self.make_store(client, collection_name, touch_after=0)
        web = round_trip_app(store).test_client()
        web.get("/write")  # a new session
        web.get("/read")  # a refresh
        web.get("/write")  # a write of a loaded session
        updates = [cmd["updates"][0] for name, cmd in commands.commands if name == "update"]
        assert [bool(u.get("upsert")) for u in updates] == [True, False, False]
        assert set(updates[0]["q"]) == {"_id"}
        for update in updates[1:]:  # only while nobody wrote it since the read
            assert set(update["q"]) == {"_id", "rev", "expires"}
            assert isinstance(update["q"]["rev"], str) and update["u"]["$set"]["rev"]

    def test_a_write_sends_the_new_value_plus_a_constant(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        store = self.make_store(client, collection_name)
        app = round_trip_app(store)

        @app.get("/big/<int:size>/<fill>")
        def big(size: int, fill: str) -> str:
            session["blob"] = fill * size
            return "ok"

        web = app.test_client()
        web.get("/big/200000/a")
        for path, size in (("/big/200000/b", 200_000), ("/big/1000/c", 1000)):
            commands.take()
            assert web.get(path).status_code == 200
            [sent] = [size for name, size in commands.sizes if name == "update"]
            value = len(json.dumps(session_doc(client, collection_name)["session"]))
            assert sent <= value + 1024, (path, sent, value)  # never the old value too
            assert size <= value

    def test_the_owner_index_serves_sessions_of_and_revoke_user(
        self, client: Any, collection_name: str, raw: Any, commands: CommandLog
    ) -> None:
        store = self.make_store(client, collection_name)
        write(store, "mine", None, **{USER_KEY: "alice"})
        write(store, "other", None, **{USER_KEY: "bob"})
        owner_index = raw.index_information()["user_1_expires_1"]
        assert list(owner_index["key"]) == [("user", 1), ("expires", 1)]
        commands.take()
        assert [r.id for r in store.sessions_of("alice")] == ["mine"]
        [(name, find)] = commands.commands
        assert name == "find"  # one query...
        assert uses_index(raw.find(find["filter"]).explain(), "user_1_expires_1")  # ...indexed
        commands.take()
        assert store.revoke_user("alice") == 1
        [(name, delete)] = commands.commands
        assert name == "delete"
        # (the servers plan a delete's filter as they plan a find's)
        assert uses_index(raw.find(delete["deletes"][0]["q"]).explain(), "user_1_expires_1")

    def test_indexes_come_back_after_the_collection_is_dropped(
        self,
        client: Any,
        collection_name: str,
        raw: Any,
        commands: CommandLog,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        clock = FakeMonotonic()
        monkeypatch.setattr(mongo_indexes, "time", clock)
        app = round_trip_app(self.make_store(client, collection_name))
        app.test_client().get("/write")
        raw.drop()  # while the app runs
        commands.take()
        app.test_client().get("/write")  # a new session within the minute: no check
        assert commands.take() == ["update"]
        assert "expires_1" not in raw.index_information()
        clock.now += mongo_indexes.RECHECK_SECONDS
        commands.take()
        app.test_client().get("/write")  # the first new session a minute later
        sent = commands.take()
        assert sent == ["createIndexes", "update"], sent
        indexes = raw.index_information()
        assert indexes["expires_1"]["expireAfterSeconds"] == 0 and "user_1_expires_1" in indexes

    def test_a_connect_mongo_write_leaves_the_record_in_place(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name)
        write(store, "sid", None, **{USER_KEY: "alice", "n": 1})
        before = raw.find_one({"_id": "sid"})
        node = stored(3600, **{USER_KEY: "alice", "n": 2})
        expires = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=1)
        raw.update_one(  # connect-mongo's set, exactly
            {"_id": "sid"}, {"$set": {"session": json.dumps(node), "expires": expires}}, upsert=True
        )
        after = raw.find_one({"_id": "sid"})
        for field in ("rev", "user", "createdAt", "lastSeenAt", "ip", "userAgent"):
            assert after[field] == before[field], field
        loaded = store.load("sid")
        assert loaded is not None and loaded.data == {USER_KEY: "alice", "n": 2}
        assert loaded.record.user == "alice"

    def test_a_connect_mongo_session_gets_its_record_at_its_first_refresh(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name)
        app = round_trip_app(store)
        web = app.test_client()
        web.get("/write")
        sid = raw.find_one()["_id"]
        raw.update_one(  # as connect-mongo wrote it: no rev, no record
            {"_id": sid},
            {
                "$unset": {
                    f: "" for f in ("rev", "user", "createdAt", "lastSeenAt", "ip", "userAgent")
                }
            },
        )
        loaded = store.load(sid)
        assert loaded is not None and loaded.record.created_at is None
        assert web.get("/read").get_json() == {"n": 1}  # read only: refreshed, since unrecorded
        doc = raw.find_one({"_id": sid})
        assert isinstance(doc["createdAt"], datetime) and isinstance(doc["lastSeenAt"], datetime)
        assert isinstance(doc["rev"], str)

    def test_read_is_one_find_on_id_with_expires(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        store = self.make_store(client, collection_name)
        store.get("sid1")
        [(_, find)] = [c for c in commands.commands if c[0] == "find"]
        # one find on _id that fetches expires; the expiry is checked on our side
        assert find["filter"] == {"_id": "sid1"}
        assert find["projection"]["expires"] == 1
        assert find.get("limit") == 1

    def test_touch_keeps_stored_cookie_in_step_351(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        web = round_trip_app(self.make_store(client, collection_name)).test_client()
        web.get("/write")
        before = raw.find_one()
        web.get("/read")
        after = raw.find_one()
        cookie_expires = json.loads(after["session"])["cookie"]["expires"]
        assert after["expires"] >= before["expires"]
        assert format_iso(after["expires"].replace(tzinfo=timezone.utc)) == cookie_expires
        assert json.loads(after["session"])["n"] == 1

    def test_expired_document_still_present_is_not_returned(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name, auto_remove="disabled")
        past = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=5)
        raw.insert_one({"_id": "old", "expires": past, "session": json.dumps(stored())})
        raw.insert_one({"_id": "live", "session": json.dumps(stored())})
        assert store.get("old") is None
        assert store.length() == 1 and set(store.all()) == {"live"}
        assert raw.count_documents({}) == 2

    def test_ttl_index_created_lazily_with_connect_mongo_options(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name)
        assert collection_name not in client[DB_NAME].list_collection_names()
        store.set("sid1", stored())
        index = raw.index_information()["expires_1"]
        assert index["key"] == [("expires", 1)]
        assert index["expireAfterSeconds"] == 0
        assert self.make_store(client, collection_name).get("sid1") is not None  # idempotent

    def test_disabled_auto_remove_never_creates_the_index(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name, auto_remove="disabled")
        store.set("sid1", stored())
        assert store.get("sid1") is not None
        assert "expires_1" not in raw.index_information()

    def test_equivalent_index_without_background_is_accepted(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        raw.create_index([("expires", 1)], expireAfterSeconds=0)
        store = self.make_store(client, collection_name)
        store.set("sid1", stored())
        assert store.get("sid1") is not None

    def test_conflicting_index_is_a_clear_error_then_retried(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        raw.create_index([("expires", 1)], expireAfterSeconds=3600)
        store = self.make_store(client, collection_name)
        with pytest.raises(RuntimeError, match=r"expireAfterSeconds=0.*auto_remove="):
            store.set("sid1", stored())
        raw.drop_index("expires_1")
        store.set("sid1", stored())  # retried on the next call
        assert raw.index_information()["expires_1"]["expireAfterSeconds"] == 0

    def test_encrypted_session_round_trip(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name, crypto={"secret": "s", "iterations": 1000})
        web = round_trip_app(store).test_client()
        web.get("/write")
        assert '"n"' not in raw.find_one()["session"]
        assert web.get("/write").get_json() == {"n": 2}
        assert web.get("/read").get_json() == {"n": 2}

    def test_write_concern_is_sent(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        store = self.make_store(client, collection_name, write_concern={"w": 1, "wtimeout": 1000})
        store.set("sid1", stored())
        [update] = [cmd for name, cmd in commands.commands if name == "update"]
        # Under pymongo.timeout() (CSOT) the store's timeout bounds the wait for
        # replication: pymongo drops wtimeout and sends maxTimeMS instead.
        assert update["writeConcern"] == {"w": 1}
        assert 0 < update["maxTimeMS"] <= store.timeout * 1000

    def test_timestamps_from_the_server_clock(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        web = round_trip_app(
            self.make_store(client, collection_name, timestamps=True)
        ).test_client()
        web.get("/write")
        first = raw.find_one()
        assert isinstance(first["createdAt"], datetime) and isinstance(first["updatedAt"], datetime)
        web.get("/read")  # a touch
        web.get("/write")  # a set
        last = raw.find_one()
        assert last["createdAt"] == first["createdAt"]  # $setOnInsert: only on insert
        assert last["updatedAt"] >= first["updatedAt"]  # $currentDate on every write and touch

    def test_overlapping_requests_changing_different_keys_keep_both(
        self, client: Any, collection_name: str, commands: CommandLog
    ) -> None:
        app = round_trip_app(self.make_store(client, collection_name))

        @app.get("/start")
        def start() -> str:
            session["cart"] = []
            session["theme"] = "light"
            return "ok"

        web = app.test_client()
        web.get("/start")
        cookie = f"session={web.get_cookie('session').value}"  # type: ignore[union-attr]
        sids: list[str] = []

        def request(key: str, value: Any, loaded: threading.Event, go: threading.Event) -> None:
            with app.test_request_context(headers={"Cookie": cookie}):
                current = session._get_current_object()  # type: ignore[attr-defined]
                current[key] = value
                sids.append(current.id)
                loaded.set()
                go.wait(10)
                app.session_interface.save_session(app, current, app.response_class())

        events = [(threading.Event(), threading.Event()) for _ in range(2)]
        threads = [
            threading.Thread(target=request, args=("cart", ["book"], *events[0])),
            threading.Thread(target=request, args=("theme", "dark", *events[1])),
        ]
        for thread, (loaded, _) in zip(threads, events, strict=True):
            thread.start()
            assert loaded.wait(10)  # both requests load before either saves
        commands.take()
        for thread, (_, go) in zip(threads, events, strict=True):
            go.set()
            thread.join(10)
        # the first writes; the second's compare-and-set misses, re-reads and merges
        assert commands.take() == ["update", "update", "find", "update"]
        stored_now = self.make_store(client, collection_name).get(sids[0])
        assert stored_now is not None
        assert stored_now["cart"] == ["book"] and stored_now["theme"] == "dark"
