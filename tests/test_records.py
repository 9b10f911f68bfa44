"""Session records and account control through real requests (api.md section 8).

Runs on MemoryStore; the store-level promises are in tests/records_contract.py,
which every bundled store passes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, session

from flask_sessionstore import MemoryStore, SessionRecord, SessionStore, Store
from flask_sessionstore.extension import options_of
from tests.conftest import SECRET, RecordingStore

Advance = Callable[[float], None]


def make(store: Store | None = None, **options: Any) -> tuple[Flask, SessionStore]:
    app = Flask("records")
    app.config.update(SECRET_KEY=SECRET, TESTING=True)
    sessions = SessionStore(app, store=store or MemoryStore(), **options)

    @app.post("/login/<user>")
    def login(user: str) -> str:
        session.regenerate()
        session["_user_id"] = user
        return session.id

    @app.get("/me")
    def me() -> dict[str, Any]:
        return {
            "id": session.id,
            "user": session.get("_user_id"),
            "created": session.created_at and session.created_at.isoformat(),
            "seen": session.last_seen_at and session.last_seen_at.isoformat(),
        }

    @app.get("/devices")
    def devices() -> list[dict[str, Any]]:
        return [
            {"id": r.id, "current": r.current, "ip": r.ip, "agent": r.user_agent}
            for r in sessions.sessions_of(session["_user_id"])
        ]

    @app.post("/others/logout")
    def logout_others() -> str:
        return str(sessions.revoke_user(session["_user_id"], keep_current=True))

    @app.post("/count")
    def count() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    return app, sessions


def browser(app: Flask, agent: str = "Firefox", ip: str = "203.0.113.1") -> Any:
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    return client


def test_a_logged_in_session_is_listed_with_its_client_and_marked_current() -> None:
    app, sessions = make()
    phone = browser(app, "Phone Safari", "198.51.100.7")
    laptop = browser(app, "Laptop Firefox", "203.0.113.9")
    laptop.post("/login/alice")
    phone_sid = phone.post("/login/alice").text
    listed = phone.get("/devices").json
    assert [d["current"] for d in listed] == [True, False]  # phone was seen last
    assert listed[0] == {
        "id": phone_sid,
        "current": True,
        "ip": "198.51.100.7",
        "agent": "Phone Safari",
    }
    assert listed[1]["agent"] == "Laptop Firefox"
    with app.app_context():
        (record,) = [r for r in sessions.sessions_of("alice") if r.id == phone_sid]
    assert isinstance(record, SessionRecord) and record.current is False  # no request here


def test_records_are_not_in_the_session_data() -> None:
    app, _ = make()
    client = browser(app)
    client.post("/login/alice")
    store = options_of(app).store
    (stored,) = store.all().values()
    assert set(stored) == {"cookie", "_user_id"}


def test_the_user_agent_is_cut_to_512_characters_and_tracking_can_be_off() -> None:
    app, sessions = make()
    browser(app, "x" * 2000).post("/login/alice")
    with app.app_context():
        (record,) = sessions.sessions_of("alice")
    assert record.user_agent == "x" * 512
    app, sessions = make(track_client=False)
    browser(app).post("/login/bob")
    with app.app_context():
        (record,) = sessions.sessions_of("bob")
    assert (record.ip, record.user_agent) == (None, None)
    assert record.last_seen_at is not None


def test_log_out_other_devices_keeps_this_one_and_the_others_become_anonymous() -> None:
    app, _ = make()
    phone, laptop, tablet = browser(app), browser(app), browser(app)
    for client in (laptop, tablet, phone):
        client.post("/login/alice")
    browser(app).post("/login/bob")
    assert phone.post("/others/logout").text == "2"
    assert phone.get("/me").json["user"] == "alice"
    for client in (laptop, tablet):
        assert client.get("/me").json["user"] is None  # their next request is anonymous
    assert len(phone.get("/devices").json) == 1
    with app.test_request_context():
        assert len(SessionStore().sessions_of("bob")) == 1  # acts on current_app's store


def test_revoke_outside_a_request_and_keep_current_needs_one() -> None:
    app, sessions = make()
    client = browser(app)
    sid = client.post("/login/alice").text
    with app.app_context():
        assert sessions.revoke(sid) is True
        assert sessions.revoke(sid) is False
        with pytest.raises(RuntimeError, match="needs a request context"):
            sessions.revoke_user("alice", keep_current=True)
    assert client.get("/me").json["user"] is None


def test_a_request_in_flight_cannot_write_back_a_revoked_session() -> None:
    app, sessions = make()
    loaded, revoked = threading.Event(), threading.Event()

    @app.post("/slow")
    def slow() -> str:
        session["cart"] = ["book"]  # loaded before the revoke...
        loaded.set()
        assert revoked.wait(10)
        return "saved?"  # ...saved after it

    client = browser(app)
    sid = client.post("/login/alice").text
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = app.test_client(use_cookies=False)
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            other.post("/slow", headers={"Cookie": f"session={cookie.value}"}).status_code
        )
    )
    thread.start()
    assert loaded.wait(10)
    with app.app_context():
        assert sessions.revoke(sid) is True
    revoked.set()
    thread.join(10)
    assert result == [200]
    assert options_of(app).store.get(sid) is None  # not resurrected
    assert client.get("/me").json["user"] is None


def test_the_limit_per_user_revokes_the_least_recently_seen(advance: Advance) -> None:
    app, sessions = make(max_sessions_per_user=2)
    first, second, third = browser(app, "1"), browser(app, "2"), browser(app, "3")
    first.post("/login/alice")
    advance(5)
    second.post("/login/alice")
    advance(5)
    first.post("/count")  # first is now more recently seen than second
    advance(5)
    third.post("/login/alice")
    assert first.get("/me").json["user"] == "alice"
    assert third.get("/me").json["user"] == "alice"
    assert second.get("/me").json["user"] is None
    with app.app_context():
        assert len(sessions.sessions_of("alice")) == 2


def test_the_limit_needs_a_store_with_an_owner_index() -> None:
    class Minimal(Store):
        def get(self, sid: str) -> Any:
            return None

        def set(self, sid: str, session: Any) -> None:
            pass

        def destroy(self, sid: str) -> None:
            pass

    app = Flask("minimal")
    app.config["SECRET_KEY"] = "k"
    with pytest.raises(ValueError, match="max_sessions_per_user needs a store with an owner"):
        SessionStore(app, store=Minimal(), max_sessions_per_user=3)


def test_created_at_is_kept_by_regenerate_keep_data_and_new_otherwise(advance: Advance) -> None:
    app, _ = make()

    @app.post("/rotate/<keep>")
    def rotate(keep: str) -> str:
        session.regenerate(keep_data=keep == "keep")
        session["rotated"] = True
        return "ok"

    client = browser(app)
    client.post("/count")
    created = client.get("/me").json["created"]
    advance(60)
    client.post("/rotate/keep")
    assert client.get("/me").json["created"] == created
    advance(60)
    client.post("/rotate/drop")
    assert client.get("/me").json["created"] != created


def test_last_seen_moves_with_use_and_created_stays(advance: Advance) -> None:
    app, _ = make(store=MemoryStore(touch_after=0))
    client = browser(app)
    client.post("/count")
    first = client.get("/me").json
    advance(120)
    client.post("/count")
    second = client.get("/me").json
    assert second["created"] == first["created"]
    assert second["seen"] > first["seen"]


def test_owners_can_be_turned_off_and_another_key_used() -> None:
    app, sessions = make(user_key=False)
    browser(app).post("/login/alice")
    with app.app_context():
        assert sessions.sessions_of("alice") == []
    app, sessions = make(user_key="email")

    @app.post("/email")
    def email() -> str:
        session["email"] = "alice@example.com"
        return "ok"

    browser(app).post("/email")
    with app.app_context():
        assert [r.user for r in sessions.sessions_of("alice@example.com")] == ["alice@example.com"]
    with app.app_context(), pytest.raises(TypeError, match="owner as a str"):
        sessions.sessions_of(42)  # type: ignore[arg-type]


def test_sessions_of_on_a_store_without_owners_says_not_supported() -> None:
    from flask_sessionstore.stores.base import Store as Base

    class Minimal(Base):
        def get(self, sid: str) -> Any:
            return None

        def set(self, sid: str, session: Any) -> None:
            pass

        def destroy(self, sid: str) -> None:
            pass

    app = Flask("minimal")
    app.config.update(SECRET_KEY="k", TESTING=True)
    sessions = SessionStore(app, store=Minimal())
    with app.app_context(), pytest.raises(NotImplementedError, match="Minimal keeps no owner"):
        sessions.sessions_of("alice")


def test_a_session_written_by_express_gets_its_record_on_first_use() -> None:
    store = RecordingStore(touch_after=None)
    app, sessions = make(store=store)
    client = browser(app)
    sid = client.post("/login/alice").text
    stored = store.get(sid)
    assert stored is not None
    store.clear()
    store.set(sid, stored)  # as connect-mongo would write it: data, no record
    assert store.load(sid).record.created_at is None  # type: ignore[union-attr]
    store.methods()
    client.get("/me")
    assert store.methods() == ["get", "touch"]  # a refresh records it at once
    with app.app_context():
        assert [r.id for r in sessions.sessions_of("alice")] == [sid]


def test_timestamps_are_aware_utc() -> None:
    app, sessions = make()
    browser(app).post("/login/alice")
    with app.app_context():
        (record,) = sessions.sessions_of("alice")
    for moment in (record.created_at, record.last_seen_at, record.expires_at):
        assert moment is not None and moment.utcoffset() == timedelta(0)


def test_a_revoked_session_stays_gone_through_several_saves_of_one_request() -> None:
    app, sessions = make()
    loaded, revoked = threading.Event(), threading.Event()

    @app.post("/save-twice")
    def save_twice() -> str:
        session["cart"] = ["book"]
        loaded.set()
        assert revoked.wait(10)
        session.save()  # finds the session revoked: writes nothing
        session["cart"] = ["book", "pen"]
        session.save()  # ...and must not insert it again now
        session["more"] = True
        return "done"  # nor at the end of the request

    client = browser(app)
    sid = client.post("/login/alice").text
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = app.test_client(use_cookies=False)
    thread = threading.Thread(
        target=lambda: other.post("/save-twice", headers={"Cookie": f"session={cookie.value}"})
    )
    thread.start()
    assert loaded.wait(10)
    with app.app_context():
        assert sessions.revoke(sid) is True
    revoked.set()
    thread.join(10)
    assert options_of(app).store.get(sid) is None
    assert options_of(app).store.length() == 0
