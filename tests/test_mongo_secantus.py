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
import os
import signal
import statistics
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pymongo
import pytest
from flask import Flask, session

from flask_sessionstore import (
    Cookie,
    MongoStore,
    SessionStore,
    SessionTooLargeError,
    StoreUnavailableError,
)
from tests.mongo_checks import DB_NAME, CommandLog, WireChecks, WireContract
from tests.mongo_server import SecantusServer, free_port, secantus_uri
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


# -- outages: a server of our own, killed, hung and unreachable mid-test ---------------

#: The store's timeout in the outage tests (seconds).
TIMEOUT = 1.0
#: How many requests measure the fail-fast path while the store is known down.
FAST_REQUESTS = 25
#: The contract says under 50 ms; asserted generously (2 loaded cores), measured exactly.
FAST_BOUND = 0.2


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[SecantusServer]:
    """A server of this test, whose data survives a clean stop and start."""
    server = SecantusServer(storage_path=str(tmp_path / "db"))
    yield server
    if server.pid is not None:
        os.kill(server.pid, signal.SIGCONT)  # (a stopped process cannot exit cleanly)
    server.stop()


class Outage:
    """How a scenario takes the server away and brings it back."""

    def __init__(self, kind: str, server: SecantusServer) -> None:
        self.kind, self.server = kind, server

    def begin(self) -> None:
        if self.kind == "killed":
            self.server.kill()
        elif self.kind == "hung":
            assert self.server.pid is not None
            os.kill(self.server.pid, signal.SIGSTOP)
            wait_until_stopped(self.server.pid)  # (signals are delivered asynchronously)
        # "unreachable": nothing ever listened on the port

    def end(self) -> None:
        if self.kind == "hung":
            assert self.server.pid is not None
            os.kill(self.server.pid, signal.SIGCONT)
        else:
            self.server.start()


def wait_until_stopped(pid: int) -> None:
    """Return once process ``pid`` is in state T (stopped), at most 5 s later."""
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert time.monotonic() < deadline, f"process {pid} did not stop"
        time.sleep(0.005)


def outage_app(store: MongoStore) -> Flask:
    app = Flask(__name__)
    # Not TESTING: a store error must become an error response, as in production.
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


def count_calls(store: MongoStore) -> list[str]:
    """Record every call the session layer makes to ``store``."""
    calls: list[str] = []
    for name in ("load", "write", "refresh", "destroy"):
        method = getattr(store, name)

        def counted(*args: Any, _name: str = name, _method: Any = method) -> Any:
            calls.append(_name)
            return _method(*args)

        setattr(store, name, counted)
    return calls


def timed(web: Any, path: str) -> tuple[Any, float]:
    started = time.monotonic()
    response = web.get(path)
    return response, time.monotonic() - started


@pytest.mark.parametrize(
    ("kind", "client_passed_in"),
    [("killed", False), ("hung", False), ("unreachable", False), ("hung", True)],
    ids=["killed", "hung", "unreachable", "hung-client-passed-in"],
)
def test_an_outage_is_a_bounded_503_then_fails_fast_and_recovers_without_restart(
    own_server: SecantusServer, kind: str, client_passed_in: bool, caplog: pytest.LogCaptureFixture
) -> None:
    outage = Outage(kind, own_server)
    if client_passed_in:  # pymongo's defaults: 30 s selection, no socket timeout at all
        client: Any = pymongo.MongoClient(own_server.uri, connect=False)
        store = MongoStore(client, db_name=DB_NAME, timeout=TIMEOUT)
    else:
        store = MongoStore(mongo_url=own_server.uri, db_name=DB_NAME, timeout=TIMEOUT)
    store.connection.breaker.cooldown = store.connection.breaker.max_cooldown = 2.0
    web = outage_app(store).test_client()
    path = "/write"
    if kind != "unreachable":
        own_server.start()
        assert web.get("/write").get_json() == {"n": 1}
        path = "/read"  # a returning visitor: its load fails
    calls = count_calls(store)
    outage.begin()

    response, first = timed(web, path)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    assert first <= 1.5 * TIMEOUT, first  # about the store's timeout, never much more
    assert len(calls) == 1  # the store was called once for the failing request

    fast = []
    for _ in range(FAST_REQUESTS):  # known down: no thread is held for a timeout
        calls.clear()
        response, elapsed = timed(web, path)
        assert response.status_code == 503 and "Retry-After" in response.headers
        assert len(calls) == 1
        fast.append(elapsed)
    assert max(fast) < FAST_BOUND, fast
    response, health = timed(web, "/health")  # no session: no store call, normal latency
    assert response.status_code == 200 and health < FAST_BOUND and len(calls) == 1
    print(  # (shown with -s; the report quotes these)
        f"\n{kind}: first 503 after {first * 1000:.0f} ms; known down: median "
        f"{statistics.median(fast) * 1000:.2f} ms, max {max(fast) * 1000:.2f} ms"
    )

    outage.end()
    deadline = time.monotonic() + 30
    while (response := web.get(path)).status_code != 200:  # same app: no restart
        assert response.status_code == 503 and time.monotonic() < deadline
        time.sleep(0.1)
    if kind == "hung":
        assert response.get_json() == {"n": 1}  # same cookie, data intact
    assert web.get("/write").status_code == 200
    assert [r for r in caplog.records if r.levelname == "ERROR"]  # the first one was logged
    store.close()
    if client_passed_in:
        client.close()


def test_new_visitors_are_served_while_the_server_is_down(own_server: SecantusServer) -> None:
    store = MongoStore(mongo_url=own_server.uri, db_name=DB_NAME, timeout=TIMEOUT)
    web = outage_app(store).test_client()  # the server was never started
    response = web.get("/health")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    own_server.start()
    assert web.get("/write").get_json() == {"n": 1}  # the indexes are created once it is up
    store.close()


def test_options_in_the_url_win_over_the_stores_timeout() -> None:
    """``serverSelectionTimeoutMS=300`` in the URL: 0.3 s, not the default 5 s timeout."""
    url = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"
    store = MongoStore(mongo_url=url)
    assert store.timeout == 5
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="ServerSelectionTimeoutError"):
        store.get("sid")
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed  # (measured: about 0.3 s)
    print(f"\nserverSelectionTimeoutMS=300 in the URL: failed after {elapsed * 1000:.0f} ms")
    store.close()


def test_an_authentication_error_shows_no_password_in_its_frames(secantus_uri: str) -> None:
    """pymongo's frames hold the credentials in local variables; the store cuts them off."""
    password = "pa55-w0rd!secret"
    url = secantus_uri.replace("mongodb://", f"mongodb://alice:{password}@") + "app"
    store = MongoStore(mongo_url=url, db_name=DB_NAME, timeout=TIMEOUT)
    with pytest.raises(pymongo.errors.OperationFailure) as info:  # refused credentials
        store.get("sid")
    tb = info.value.__traceback__
    assert tb is not None  # (the test's own frame left out: its locals are its own)
    error = info.value.with_traceback(tb.tb_next)
    text = "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())
    assert "flask_sessionstore/stores/mongo.py" in text and password not in text
    assert not store.connection.breaker.is_open  # an answer, not an outage

    # Through a request: the 503 and everything chained to it.
    app = outage_app(store)
    raised: list[BaseException] = []
    app.register_error_handler(503, lambda exc: (raised.append(exc), ("down", 503))[1])
    assert app.test_client().get("/write").status_code == 503
    text = "".join(  # (pymongo reports it as OperationFailure or, after its
        # retries, as ServerSelectionTimeoutError: "authentication failed")
        traceback.TracebackException.from_exception(raised[0], capture_locals=True).format()
    )
    assert "authentication failed" in text.lower() and password not in text
    store.close()


# -- big sessions ------------------------------------------------------------------------


def big_app(store: MongoStore) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    SessionStore(app, store=store, cookie={"max_age": 3600})

    @app.get("/put/<mb>")
    def put(mb: str) -> dict[str, Any]:
        session["blob"] = "x" * int(float(mb) * 1_000_000)
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"n": session.get("n"), "size": len(session.get("blob", ""))}

    @app.get("/change")
    def change() -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    return app


@pytest.mark.parametrize("mb", [4, 8.5, 12])
def test_a_big_session_round_trips_through_real_requests(secantus_uri: str, mb: float) -> None:
    log = CommandLog(keep_documents=False)
    client: Any = pymongo.MongoClient(secantus_uri, event_listeners=[log])
    store = MongoStore(client, db_name=DB_NAME, collection_name=f"big_{uuid.uuid4().hex[:8]}")
    web = big_app(store).test_client()
    size = int(mb * 1_000_000)

    assert web.get(f"/put/{mb}").get_json() == {"n": 1}
    for _ in range(2):  # read-only requests
        assert web.get("/read").get_json() == {"n": 1, "size": size}
    log.take()
    assert web.get("/change").get_json() == {"n": 2}  # a change to a big session
    [(_, sent)] = [item for item in log.sizes if item[0] == "update"]
    assert sent <= size + 1024, sent  # the new value plus a constant, never the old one too
    assert web.get("/read").get_json() == {"n": 2, "size": size}
    client[DB_NAME].drop_collection(store.collection_name)
    client.close()


def test_a_session_too_big_for_a_document_fails_its_save_and_keeps_the_stored_copy(
    secantus_uri: str,
) -> None:
    log = CommandLog(keep_documents=False)
    client: Any = pymongo.MongoClient(secantus_uri, event_listeners=[log])
    store = MongoStore(client, db_name=DB_NAME, collection_name=f"big_{uuid.uuid4().hex[:8]}")
    web = big_app(store).test_client()
    assert web.get("/put/4").get_json() == {"n": 1}
    log.take()
    with pytest.raises(SessionTooLargeError, match=r"over the 16\.0 MB limit.*'blob'"):
        web.get("/put/20")
    assert [name for name, _ in log.sizes] == ["find"]  # the load; no write was sent
    assert web.get("/read").get_json() == {"n": 1, "size": 4_000_000}  # the stored copy
    client[DB_NAME].drop_collection(store.collection_name)
    client.close()


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
