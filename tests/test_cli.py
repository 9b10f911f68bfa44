"""``flask sessions ...`` through Flask's CLI runner, against every store.

MongoStore runs on mongomock, with native expiry (TTL index) and with
``auto_remove="interval"`` (no native expiry, so ``prune`` has work to do).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import mongomock
import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from freezegun import freeze_time

from flask_sessionstore import Cookie, MemoryStore, MongoStore, SessionStore, Store
from flask_sessionstore import cli as cli_module
from flask_sessionstore.extension import options_of
from flask_sessionstore.stores.base import StoredSession
from tests.mongo_server import secantus_uri

__all__ = ["secantus_uri"]  # the fixture, imported for pytest

SECRET = "cli secret"


def memory_store() -> Store:
    return MemoryStore()


def mongo_store() -> Store:
    return MongoStore(client=mongomock.MongoClient(), db_name="cli")


def mongo_interval_store() -> Store:
    return MongoStore(client=mongomock.MongoClient(), db_name="cli", auto_remove="interval")


STORES: dict[str, Callable[[], Store]] = {
    "memory": memory_store,
    "mongo": mongo_store,
    "mongo-interval": mongo_interval_store,
}


@pytest.fixture(params=sorted(STORES))
def cli_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    store = STORES[request.param]()
    yield store
    if isinstance(store, MongoStore):
        store.close()


def build_app(store: Store, **options: Any) -> Flask:
    app = Flask("cli_app")
    app.config.update(SECRET_KEY=SECRET, TESTING=True)
    SessionStore(app, store=store, **options)

    @app.get("/login/<name>")
    def login(name: str) -> str:
        session["user"] = name
        session["_user_id"] = name  # the owner in the session's record
        return session.id

    @app.get("/whoami")
    def whoami() -> str:
        return str(session.get("user", "anonymous"))

    return app


@pytest.fixture
def app(cli_store: Store) -> Flask:
    return build_app(cli_store)


def log_in(app: Flask, name: str) -> tuple[str, FlaskClient]:
    """Log ``name`` in with a fresh client; returns the session ID and the client."""
    client = app.test_client()
    sid = client.get(f"/login/{name}").get_data(as_text=True)
    return sid, client


def run(app: Flask, *args: str, **kwargs: Any) -> Any:
    return app.test_cli_runner().invoke(args=["sessions", *args], **kwargs)


def rows(output: str) -> dict[str, dict[str, str]]:
    """``list``'s table as ``{id: {"expires": ..., "user": ..., "seen": ...}}``."""
    header, *lines = output.splitlines()
    assert header.split("  ")[0] == "ID" and "LAST SEEN (UTC)" in header
    result = {}
    for line in lines:
        sid, expires, user, seen = [cell for cell in line.split("  ") if cell]
        result[sid] = {"expires": expires.strip(), "user": user.strip(), "seen": seen}
    return result


# -- registration ------------------------------------------------------------


def test_init_app_registers_the_sessions_group(app: Flask) -> None:
    result = run(app, "--help")
    assert result.exit_code == 0
    for command in ("count", "list", "show", "destroy", "clear", "prune"):
        assert command in result.output


# -- count ---------------------------------------------------------------------


def test_count_prints_the_number_of_live_sessions(app: Flask) -> None:
    assert run(app, "count").output.strip() == "0"
    log_in(app, "alice")
    log_in(app, "bob")
    result = run(app, "count")
    assert result.exit_code == 0
    assert result.output.strip() == "2"


# -- list ----------------------------------------------------------------------


def test_list_prints_ids_with_the_store_expiry_owner_and_last_seen(app: Flask) -> None:
    with freeze_time("2026-11-25 10:00:00"):
        alice, _ = log_in(app, "alice")
        bob, _ = log_in(app, "bob")
        result = run(app, "list")
    assert result.exit_code == 0
    listed = rows(result.output)
    assert set(listed) == {alice, bob}
    # browser-session cookies: the store's own expiry (ttl, 14 days), not "browser session"
    assert {row["expires"] for row in listed.values()} == {"2026-12-09 10:00"}
    assert listed[alice]["user"] == "alice" and listed[bob]["user"] == "bob"
    assert listed[alice]["seen"] == "2026-11-25 10:00"


def test_list_shows_the_expiry_of_persistent_sessions(cli_store: Store) -> None:
    app = build_app(cli_store, cookie={"max_age": 3600})
    with freeze_time("2026-11-25 10:00:00"):
        sid, _ = log_in(app, "alice")
        result = run(app, "list")
    assert rows(result.output) == {
        sid: {"expires": "2026-11-25 11:00", "user": "alice", "seen": "2026-11-25 10:00"}
    }


def test_list_user_shows_one_owner_s_sessions(app: Flask) -> None:
    first, _ = log_in(app, "alice")
    second, _ = log_in(app, "alice")
    log_in(app, "bob")
    result = run(app, "list", "--user", "alice")
    assert result.exit_code == 0
    assert set(rows(result.output)) == {first, second}
    listed = json.loads(run(app, "list", "--user", "alice", "--json").output)
    assert {row["id"] for row in listed} == {first, second}
    assert {row["user"] for row in listed} == {"alice"}
    assert all(row["last_seen_at"] for row in listed)
    assert run(app, "list", "--user", "nobody").output.strip() == "no live sessions of 'nobody'"


def test_list_says_so_when_there_are_no_sessions(app: Flask) -> None:
    result = run(app, "list")
    assert result.exit_code == 0
    assert result.output.strip() == "no live sessions"


def test_list_limit_shows_at_most_n_sessions(app: Flask) -> None:
    for name in ("a", "b", "c"):
        log_in(app, name)
    result = run(app, "list", "--limit", "2")
    assert result.exit_code == 0
    assert len(rows(result.stdout)) == 2
    assert "more sessions (raise --limit" in result.stderr


def test_list_json_prints_an_array_of_id_expires_user_and_last_seen(cli_store: Store) -> None:
    app = build_app(cli_store, cookie={"max_age": timedelta(days=1)})
    sids = {log_in(app, name)[0] for name in ("alice", "bob")}
    result = run(app, "list", "--json")
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert {row["id"] for row in listed} == sids
    assert {row["user"] for row in listed} == {"alice", "bob"}
    for row in listed:
        assert row["last_seen_at"].endswith("Z")
        expires = datetime.fromisoformat(row["expires"].replace("Z", "+00:00"))
        assert timedelta(hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=1)


def test_list_json_with_limit_zero_is_an_empty_array(app: Flask) -> None:
    log_in(app, "alice")
    result = run(app, "list", "--json", "--limit", "0")
    assert json.loads(result.output) == []


# -- show ----------------------------------------------------------------------


def test_show_pretty_prints_the_stored_session(app: Flask) -> None:
    sid, _ = log_in(app, "alice")
    result = run(app, "show", sid)
    assert result.exit_code == 0
    assert '\n  "user": "alice"' in result.output
    stored = json.loads(result.output)
    assert stored["user"] == "alice"
    assert stored["cookie"]["httpOnly"] is True


def test_show_unknown_sid_exits_non_zero_naming_it(app: Flask) -> None:
    result = run(app, "show", "no-such-session")
    assert result.exit_code != 0
    assert "no live session with ID 'no-such-session'" in result.output


# -- destroy -------------------------------------------------------------------


def test_destroy_logs_the_browser_out(app: Flask) -> None:
    alice, client = log_in(app, "alice")
    bob, _ = log_in(app, "bob")
    assert client.get("/whoami").get_data(as_text=True) == "alice"
    result = run(app, "destroy", alice)
    assert result.exit_code == 0
    assert result.output.strip() == f"destroyed {alice}"
    assert client.get("/whoami").get_data(as_text=True) == "anonymous"
    assert run(app, "count").output.strip() == "1"
    assert run(app, "show", bob).exit_code == 0


def test_destroy_unknown_sid_exits_non_zero_naming_it(app: Flask) -> None:
    result = run(app, "destroy", "nope")
    assert result.exit_code != 0
    assert "no live session with ID 'nope'" in result.output


def test_destroy_user_logs_every_session_of_that_owner_out(app: Flask) -> None:
    _, phone = log_in(app, "alice")
    _, laptop = log_in(app, "alice")
    _, other = log_in(app, "bob")
    result = run(app, "destroy", "--user", "alice")
    assert result.exit_code == 0
    assert result.output.strip() == "destroyed 2 session(s) of 'alice'"
    assert phone.get("/whoami").text == "anonymous"
    assert laptop.get("/whoami").text == "anonymous"
    assert other.get("/whoami").text == "bob"
    assert run(app, "destroy", "--user", "alice").output.strip() == (
        "destroyed 0 session(s) of 'alice'"
    )


def test_destroy_needs_a_sid_or_a_user_not_both(app: Flask) -> None:
    assert run(app, "destroy").exit_code == 2
    assert run(app, "destroy", "abc", "--user", "alice").exit_code == 2


# -- clear ---------------------------------------------------------------------


def test_clear_asks_for_confirmation_and_keeps_sessions_on_no(app: Flask) -> None:
    log_in(app, "alice")
    result = run(app, "clear", input="n\n")
    assert result.exit_code != 0
    assert "Remove all 1 live session(s)" in result.output
    assert "Aborted" in result.output
    assert run(app, "count").output.strip() == "1"


def test_clear_removes_every_session_on_yes(app: Flask) -> None:
    _, client = log_in(app, "alice")
    log_in(app, "bob")
    result = run(app, "clear", input="y\n")
    assert result.exit_code == 0
    assert "all sessions removed" in result.output
    assert run(app, "count").output.strip() == "0"
    assert client.get("/whoami").get_data(as_text=True) == "anonymous"


def test_clear_yes_does_not_ask(app: Flask) -> None:
    log_in(app, "alice")
    result = run(app, "clear", "--yes")
    assert result.exit_code == 0
    assert "Remove" not in result.output
    assert run(app, "count").output.strip() == "0"


# -- prune ---------------------------------------------------------------------


def test_prune_removes_expired_sessions_and_keeps_live_ones(cli_store: Store) -> None:
    short = build_app(cli_store, cookie={"max_age": 60})
    long = build_app(cli_store, cookie={"max_age": 3600})
    with freeze_time("2026-11-25 10:00:00") as frozen:
        expired, _ = log_in(short, "alice")
        live, _ = log_in(long, "bob")
        frozen.tick(120)
        result = run(long, "prune")
        assert result.exit_code == 0
        native = "removes expired sessions by itself" in result.output  # (a TTL index)
        assert native == cli_store.expires_natively
        assert native or "expired session(s)" in result.output
        assert run(long, "show", expired).exit_code != 0
        assert run(long, "show", live).exit_code == 0
        assert run(long, "count").output.strip() == "1"


def test_prune_counts_what_a_store_without_native_expiry_removed() -> None:
    store = mongo_interval_store()
    app = build_app(store, cookie={"max_age": 60})
    try:
        with freeze_time("2026-11-25 10:00:00") as frozen:
            for name in ("alice", "bob"):
                log_in(app, name)
            frozen.tick(120)
            live, _ = log_in(app, "carol")
            result = run(app, "prune")
            assert result.exit_code == 0
            assert result.output.strip() == "removed 2 expired session(s)"
            assert run(app, "list", "--json").output.count('"id"') == 1
            assert json.loads(run(app, "show", live).output)["user"] == "carol"
    finally:
        store.close()


def test_prune_with_native_expiry_says_the_store_does_it() -> None:
    store = mongo_store()
    app = build_app(store)
    log_in(app, "alice")
    result = run(app, "prune")
    assert result.exit_code == 0
    assert result.output.strip() == (
        "nothing to do: MongoStore removes expired sessions by itself (a TTL index or key expiry)"
    )
    store.close()


def test_prune_on_an_empty_store_removes_nothing(app: Flask, cli_store: Store) -> None:
    result = run(app, "prune")
    assert result.exit_code == 0
    if not cli_store.expires_natively:
        assert result.output.strip() == "removed 0 expired session(s)"


class BatchedStore(MemoryStore):
    """A store that prunes in batches and pretends to be large."""

    def length(self) -> int:
        return cli_module.LARGE_STORE

    def prune_batches(self, batch_size: int = 1000) -> Iterator[int]:
        self.batch_size = batch_size
        yield from (3, 4, 5)


def test_prune_shows_a_progress_bar_on_large_stores() -> None:
    store = BatchedStore()
    app = build_app(store)
    result = run(app, "prune", "--batch-size", "500")
    assert result.exit_code == 0
    assert store.batch_size == 500
    assert "Pruning expired sessions" in result.output
    assert result.output.strip().endswith("removed 12 expired session(s)")


def test_prune_without_a_bar_on_small_stores() -> None:
    class SmallBatchedStore(BatchedStore):
        def length(self) -> int:
            return 5

    result = run(build_app(SmallBatchedStore()), "prune")
    assert result.exit_code == 0
    assert result.output.strip() == "removed 12 expired session(s)"


# -- stores without the optional methods -----------------------------------------


class MinimalStore(Store):
    """Only the three required methods, as a third-party store might have."""

    def __init__(self) -> None:
        self.sessions: dict[str, StoredSession] = {}

    def get(self, sid: str) -> StoredSession | None:
        return self.sessions.get(sid)

    def set(self, sid: str, session: StoredSession) -> None:
        self.sessions[sid] = session

    def destroy(self, sid: str) -> None:
        self.sessions.pop(sid, None)


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (("count",), "count"),
        (("list",), "list"),
        (("list", "--json"), "list"),
        (("clear", "--yes"), "clear"),
        (("prune",), "prune"),
    ],
)
def test_a_store_without_the_optional_method_says_the_command_is_not_supported(
    args: tuple[str, ...], command: str
) -> None:
    result = run(build_app(MinimalStore()), *args)
    assert result.exit_code == 1
    assert f"'flask sessions {command}' is not supported by MinimalStore" in result.output
    assert "Traceback" not in result.output


def test_clear_confirmation_works_without_length() -> None:
    store = MinimalStore()
    result = run(build_app(store), "clear", input="y\n")
    assert "Remove every session from MinimalStore?" in result.output
    assert "'flask sessions clear' is not supported by MinimalStore" in result.output


def test_show_and_destroy_work_with_only_the_required_methods() -> None:
    store = MinimalStore()
    app = build_app(store)
    sid, _ = log_in(app, "alice")
    assert json.loads(run(app, "show", sid).output)["user"] == "alice"
    assert run(app, "destroy", sid).exit_code == 0
    assert store.sessions == {}


def test_user_commands_on_a_store_without_owners_say_not_supported() -> None:
    app = build_app(MinimalStore())
    for args in (["list", "--user", "alice"], ["destroy", "--user", "alice"]):
        result = run(app, *args)
        assert result.exit_code == 1
        assert "is not supported by MinimalStore" in result.output
        assert "Traceback" not in result.output


# -- a store that cannot be reached ----------------------------------------------


def test_a_database_that_is_down_gives_one_line_not_a_traceback() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = MongoStore(mongo_url=f"mongodb://127.0.0.1:{port}/cli", timeout=0.3)
    app = build_app(store)
    for args in (["count"], ["list"], ["show", "abc"], ["destroy", "abc"], ["clear", "--yes"]):
        result = run(app, *args)
        assert result.exit_code == 1, args
        assert "could not be reached" in result.output and "MongoStore" in result.output
        assert "Traceback" not in result.output
    store.close()


# -- transform_id ---------------------------------------------------------------


def test_ids_printed_by_list_work_with_show_and_destroy_whatever_transform_id_does() -> None:
    import hashlib

    def hashed(sid: str) -> str:  # a one-way transform: the session ID cannot be listed
        return "session:" + hashlib.sha256(sid.encode()).hexdigest()

    store = MongoStore(client=mongomock.MongoClient(), db_name="cli", transform_id=hashed)
    app = build_app(store)
    sid, client = log_in(app, "alice")
    (row,) = json.loads(run(app, "list", "--json").output)
    assert row["id"] == hashed(sid)  # what the store has; show and destroy take it
    assert json.loads(run(app, "show", row["id"]).output)["user"] == "alice"
    assert json.loads(run(app, "show", sid).output)["user"] == "alice"  # and the ID too
    assert run(app, "destroy", row["id"]).exit_code == 0
    assert client.get("/whoami").text == "anonymous"
    store.close()


# -- the MemoryStore note ------------------------------------------------------


def test_memory_store_outside_testing_notes_that_it_is_per_process() -> None:
    app = build_app(MemoryStore())
    app.testing = False
    result = run(app, "count")
    assert result.exit_code == 0
    assert result.stdout.strip() == "0"
    assert "only sees the store of its own process" in result.stderr


# -- a separate process, as in production -----------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.secantus
def test_the_cli_process_sees_and_revokes_the_servers_mongo_sessions(secantus_uri: str) -> None:
    """``flask sessions`` in its own process, on the demo app, over the wire protocol."""
    from examples.app import create_app

    db_name = f"cli_{uuid.uuid4().hex[:8]}"
    store = MongoStore(mongo_url=secantus_uri, db_name=db_name)
    app = create_app(store, TESTING=True)
    client = app.test_client()
    client.post("/login", data={"username": "alice"})
    assert 'id="user">alice<' in client.get("/").text

    env = {**os.environ, "MONGODB_URI": secantus_uri, "MONGODB_DB": db_name}

    def flask_sessions(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "examples.app", "sessions", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    listed = flask_sessions("list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    sid = row["id"]
    shown = flask_sessions("show", sid)
    assert json.loads(shown.stdout)["user"] == "alice"

    destroyed = flask_sessions("destroy", sid)
    assert destroyed.returncode == 0, destroyed.stderr
    assert 'id="login"' in client.get("/").text  # the browser is logged out
    assert flask_sessions("count").stdout.strip() == "0"
    store.close()


def test_sid_starting_with_a_dash_is_an_argument_not_an_option(app: Flask) -> None:
    store = options_of(app).store
    store.set("-dash-sid", {"cookie": Cookie(max_age=60).to_dict(), "user": "dash"})
    shown = run(app, "show", "-dash-sid")
    assert shown.exit_code == 0, shown.output
    assert '"user": "dash"' in shown.output
    destroyed = run(app, "destroy", "-dash-sid")
    assert destroyed.exit_code == 0, destroyed.output
    assert store.get("-dash-sid") is None
