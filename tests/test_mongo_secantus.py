"""MongoStore on SecantusDB: a real MongoDB wire-protocol server in another process.

SecantusDB is not MongoDB, but a real TCP server that a real pymongo client
talks to unchanged, with a TTL monitor (swept every second here).  The
shared checks of tests/mongo_checks.py run here, plus what only a server we
start and stop ourselves can show: TTL expiry and outages.  The server's
clock is real, so expiry tests use sessions that are already (or nearly)
expired and poll with a bounded loop.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, session

from flask_sessionstore import Cookie, MongoStore, SessionStore
from tests.mongo_checks import DB_NAME, WireChecks, WireContract
from tests.mongo_server import SecantusServer, secantus_uri
from tests.store_contract import stored

__all__ = ["secantus_uri"]  # the fixture, imported for pytest

pytestmark = pytest.mark.secantus


class TestSecantusStoreContract(WireContract):
    @pytest.fixture
    def mongo_uri(self, secantus_uri: str) -> str:
        return secantus_uri


class TestSecantusWire(WireChecks):
    @pytest.fixture
    def mongo_uri(self, secantus_uri: str) -> str:
        return secantus_uri

    def test_ttl_monitor_removes_expired_sessions(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name)
        store.set("short", stored(max_age=1))
        store.set("long", stored(max_age=3600))
        assert store.get("short") is not None
        deadline = time.monotonic() + 20  # the server sweeps every second
        while raw.count_documents({"_id": "short"}) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert raw.count_documents({"_id": "short"}) == 0
        assert store.get("short") is None and store.get("long") is not None

    def test_expired_session_is_hidden_then_pruned_by_the_server(
        self, client: Any, collection_name: str, raw: Any
    ) -> None:
        store = self.make_store(client, collection_name)
        expired = {
            "cookie": Cookie(expires=datetime.now(timezone.utc) - timedelta(seconds=5)).to_dict()
        }
        store.set("gone", expired)
        assert store.get("gone") is None and store.length() == 0
        client.admin.command("secantusAdmin.pruneTtl")
        assert raw.count_documents({"_id": "gone"}) == 0


# -- outages: a server of our own, stopped and started mid-test -------------------------


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[SecantusServer]:
    """A server whose data survives a stop and start, like a restarted mongod."""
    server = SecantusServer(storage_path=str(tmp_path / "db")).start()
    yield server
    server.stop()


def outage_app(store: MongoStore) -> Flask:
    app = Flask(__name__)
    # Not TESTING: a store error must become a 500 response, as in production.
    app.config.update(SECRET_KEY="keyboard cat", PROPAGATE_EXCEPTIONS=False)
    SessionStore(app, store=store, cookie={"max_age": 3600})

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"n": session.get("n")}

    @app.get("/write")
    def write() -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    return app


def test_outage_fails_fast_and_the_app_recovers_without_restart(
    own_server: SecantusServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = MongoStore(mongo_url=own_server.uri, db_name=DB_NAME, timeout=1)
    web = outage_app(store).test_client()
    assert web.get("/write").get_json() == {"n": 1}

    own_server.stop()
    assert web.get("/health").status_code == 200  # never touches the session: no store call
    with caplog.at_level(logging.ERROR, logger="flask_sessionstore"):
        started = time.monotonic()
        assert web.get("/read").status_code == 500
        elapsed = time.monotonic() - started
        assert web.get("/write").status_code == 500  # a lost save is never a success
    assert elapsed < 30  # sanity only: bounded by timeout=1, not pymongo's 30 s default
    store_errors = [
        r for r in caplog.records if r.name == "flask_sessionstore" and r.levelname == "ERROR"
    ]
    assert len(store_errors) == 2
    assert all(f"MongoStore({DB_NAME}.sessions)" in r.getMessage() for r in store_errors)

    own_server.start()
    assert web.get("/read").get_json() == {"n": 1}  # same app, same cookie, data intact
    assert web.get("/write").get_json() == {"n": 2}
    store.close()


def test_new_visitors_are_served_while_the_server_is_down(own_server: SecantusServer) -> None:
    store = MongoStore(mongo_url=own_server.uri, db_name=DB_NAME, timeout=1)
    own_server.stop()  # down before the store was ever used
    web = outage_app(store).test_client()
    response = web.get("/health")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    own_server.start()
    assert web.get("/write").get_json() == {"n": 1}  # the index is created once it is back
    store.close()


def test_a_node_style_document_round_trips(secantus_uri: str) -> None:
    import pymongo

    with pymongo.MongoClient(secantus_uri, serverSelectionTimeoutMS=5000) as client:
        raw = client[DB_NAME]["node_shaped"]
        raw.drop()
        text = (
            '{"cookie":{"originalMaxAge":60000,"expires":"2099-11-23T09:06:53.164Z",'
            '"httpOnly":true,"path":"/"},"n":1,"flash":{}}'
        )
        raw.insert_one(
            {"_id": "nodeSid", "expires": datetime(2099, 11, 23, 9, 6, 53, 164000), "session": text}
        )
        store = MongoStore(client, db_name=DB_NAME, collection_name="node_shaped")
        loaded = store.get("nodeSid")
        assert loaded == json.loads(text)
        store.set("nodeSid", {**loaded, "n": 2})
        assert json.loads(raw.find_one({"_id": "nodeSid"})["session"])["n"] == 2
        raw.drop()
