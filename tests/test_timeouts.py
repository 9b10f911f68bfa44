"""Idle and absolute timeouts, silent requests, the automatic touch interval.

api.md sections 5 (``touch_after=None``) and 9.  Time is frozen and moved
with ``advance``; store calls are counted with RecordingStore.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask, session

from flask_sessionstore import SessionStore, silent
from flask_sessionstore.timeouts import Timeouts, refresh_due, touch_interval
from tests.conftest import SECRET, RecordingStore

Advance = Callable[[float], None]


def make(store: RecordingStore, **options: Any) -> Flask:
    app = Flask("timeouts")
    app.config.update(SECRET_KEY=SECRET, TESTING=True)
    SessionStore(app, store=store, **options)

    @app.post("/login")
    def login() -> str:
        session["_user_id"] = "alice"
        return "ok"

    @app.get("/me")
    def me() -> str:
        return str(session.get("_user_id"))

    @app.get("/poll")
    @silent
    def poll() -> str:
        return str(session.get("_user_id"))

    @app.post("/poll-and-note")
    @silent
    def poll_and_note() -> str:
        session["note"] = "seen by the poller"
        return "ok"

    @app.get("/expires")
    def expires() -> str:
        return str(session.expires_at and session.expires_at.isoformat())

    return app


def cookie_expires(response: Any) -> datetime | None:
    header = response.headers.get("Set-Cookie", "")
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "expires":
            return parsedate_to_datetime(value)
    return None


# -- idle timeout ---------------------------------------------------------------


def test_an_idle_session_ends_and_its_id_is_destroyed(advance: Advance) -> None:
    store = RecordingStore()
    client = make(store, idle_timeout=600).test_client()
    client.post("/login")
    (sid,) = store.all()
    advance(599)
    assert client.get("/me").text == "alice"  # used just in time: activity
    advance(599)
    assert client.get("/me").text == "alice"
    advance(601)
    assert client.get("/me").text == "None"  # idle for longer than 600 s
    assert store.get(sid) is None


def test_the_store_expiry_never_outlives_the_idle_timeout() -> None:
    store = RecordingStore()
    client = make(store, idle_timeout=timedelta(minutes=10)).test_client()
    client.post("/login")
    ((sid, _),) = store.all().items()
    loaded = store.load(sid)
    assert loaded is not None and loaded.expires_at is not None
    assert loaded.record.last_seen_at is not None
    assert loaded.expires_at <= loaded.record.last_seen_at + timedelta(minutes=10)


def test_a_poller_does_not_keep_an_idle_session_alive(advance: Advance) -> None:
    store = RecordingStore()
    client = make(store, idle_timeout=600).test_client()
    client.post("/login")
    for _ in range(11):  # a 60-second poller for 11 minutes
        advance(60)
        assert client.get("/poll").text in ("alice", "None")
    assert client.get("/me").text == "None"


# -- absolute timeout -------------------------------------------------------------


def test_an_active_session_still_ends_at_the_absolute_timeout(advance: Advance) -> None:
    store = RecordingStore(touch_after=0)
    client = make(store, absolute_timeout=3600, rolling=True).test_client()
    client.post("/login")
    for _ in range(5):
        advance(700)
        assert client.get("/me").text == "alice"
    advance(200)  # 3700 s after login
    assert client.get("/me").text == "None"


def test_cookie_and_store_expiry_are_capped_at_the_absolute_timeout(advance: Advance) -> None:
    store = RecordingStore(touch_after=0)
    app = make(store, absolute_timeout=3600, rolling=True, cookie={"max_age": 86400})
    client = app.test_client()
    login = client.post("/login")
    created = datetime.now(timezone.utc)
    first = cookie_expires(login)
    assert first is not None and first <= created + timedelta(seconds=3600)
    advance(1800)
    later = cookie_expires(client.get("/me"))
    assert later is not None and later <= created + timedelta(seconds=3601)
    (sid,) = store.all()
    loaded = store.load(sid)
    assert loaded is not None and loaded.expires_at is not None
    assert loaded.expires_at <= created + timedelta(seconds=3601)


def test_expires_at_is_the_earliest_end(advance: Advance) -> None:
    store = RecordingStore()
    client = make(store, idle_timeout=600, absolute_timeout=3600).test_client()
    client.post("/login")
    now = datetime.now(timezone.utc)
    idle_end = datetime.fromisoformat(client.get("/expires").text)
    assert abs((idle_end - (now + timedelta(seconds=600))).total_seconds()) < 2
    for _ in range(7):  # active every 500 s: by 3500 s the absolute end is the nearer one
        advance(500)
        assert client.get("/me").text == "alice"
    end = datetime.fromisoformat(client.get("/expires").text)
    assert abs((end - (now + timedelta(seconds=3600))).total_seconds()) < 2


def test_expires_at_is_none_without_any_end() -> None:
    client = make(RecordingStore()).test_client()
    client.post("/login")
    assert client.get("/expires").text == "None"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("idle_timeout", 0, "idle_timeout must be a positive"),
        ("idle_timeout", "10m", "idle_timeout must be seconds"),
        ("absolute_timeout", -5, "absolute_timeout must not be negative"),
        ("max_sessions_per_user", 0, "max_sessions_per_user must be a positive int"),
    ],
)
def test_bad_timeouts_fail_at_init_app(option: str, value: object, message: str) -> None:
    app = Flask("bad")
    app.config["SECRET_KEY"] = "k"
    with pytest.raises((TypeError, ValueError), match=message):
        SessionStore(app, **{option: value})


def test_timeouts_come_from_config_keys() -> None:
    app = Flask("config")
    app.config.update(
        SECRET_KEY="k",
        TESTING=True,
        SESSION_IDLE_TIMEOUT=timedelta(minutes=15),
        SESSION_ABSOLUTE_TIMEOUT=8 * 3600,
    )
    SessionStore(app)
    assert app.extensions["sessionstore"].timeouts == Timeouts(900, 28800)
    app.config["SESSION_IDLE_TIMEOUT"] = "15m"
    with pytest.raises(TypeError, match=r"^SESSION_IDLE_TIMEOUT must be seconds"):
        SessionStore(app)


# -- silent requests ----------------------------------------------------------------


def test_a_silent_request_reads_but_does_not_touch(advance: Advance) -> None:
    store = RecordingStore(touch_after=0)
    client = make(store, rolling=True, cookie={"max_age": 3600}).test_client()
    client.post("/login")
    ((sid, _),) = store.all().items()
    seen = store.load(sid).record.last_seen_at  # type: ignore[union-attr]
    store.methods()
    advance(60)
    response = client.get("/poll")
    assert response.text == "alice"
    assert store.methods() == ["get"]  # no touch
    assert "Set-Cookie" not in response.headers  # no rolling cookie
    assert store.load(sid).record.last_seen_at == seen  # type: ignore[union-attr]
    advance(60)
    response = client.get("/me")  # a real request is activity again
    assert store.methods()[-1] == "touch"
    assert "Set-Cookie" in response.headers


def test_a_silent_request_that_changes_data_is_saved_without_activity(advance: Advance) -> None:
    store = RecordingStore(touch_after=0)
    client = make(store, idle_timeout=600).test_client()
    client.post("/login")
    ((sid, _),) = store.all().items()
    seen = store.load(sid).record.last_seen_at  # type: ignore[union-attr]
    advance(300)
    client.post("/poll-and-note")
    loaded = store.load(sid)
    assert loaded is not None and loaded.data["note"] == "seen by the poller"
    assert loaded.record.last_seen_at == seen
    advance(301)  # 601 s after the last real use
    assert client.get("/me").text == "None"


def test_session_silent_can_be_set_in_a_hook() -> None:
    store = RecordingStore(touch_after=0)
    app = make(store)

    @app.before_request
    def polling_header() -> None:
        from flask import request

        if request.headers.get("X-Polling"):
            session.silent = True

    client = app.test_client()
    client.post("/login")
    store.methods()
    client.get("/me", headers={"X-Polling": "1"})
    assert store.methods() == ["get"]
    client.get("/me")
    assert store.methods() == ["get", "touch"]


def test_silent_works_on_async_views() -> None:
    store = RecordingStore(touch_after=0)
    app = make(store)

    @app.get("/async-poll")
    @silent
    async def async_poll() -> str:
        return str(session.get("_user_id"))

    client = app.test_client()
    client.post("/login")
    store.methods()
    assert client.get("/async-poll").text == "alice"
    assert store.methods() == ["get"]


# -- the automatic touch interval (touch_after=None) ----------------------------------


def test_a_returning_reader_costs_one_store_call_in_steady_state(advance: Advance) -> None:
    store = RecordingStore(touch_after=None)
    client = make(store, cookie={"max_age": 3600}).test_client()
    client.post("/login")
    store.methods()
    for _ in range(10):
        advance(3)  # 1 % of an hour is 36 s
        client.get("/me")
    assert store.methods() == ["get"] * 10
    advance(10)  # 40 s after the last write: due
    client.get("/me")
    assert store.methods() == ["get", "touch"]


def test_an_active_session_never_expires_early_with_the_automatic_interval(
    advance: Advance,
) -> None:
    store = RecordingStore(touch_after=None)
    client = make(store, cookie={"max_age": 100}).test_client()
    client.post("/login")
    for _ in range(100):  # a request every 5 s for 500 s: five lifetimes
        advance(5)
        assert client.get("/me").text == "alice"


def test_touch_interval_rules() -> None:
    assert touch_interval(None, 3600, None, 86400) == 36
    assert touch_interval(None, None, 900, 86400) == 9
    assert touch_interval(None, None, None, 86400) == 864
    assert touch_interval(0, 3600, None, None) == 0
    assert touch_interval(120, 3600, None, None) == 120
    now = datetime.now(timezone.utc)
    assert refresh_due(now, now, 0, 0)  # 0: every request
    assert not refresh_due(now, now + timedelta(seconds=30), None, 36)
    assert refresh_due(now, now + timedelta(seconds=37), None, 36)
    assert refresh_due(None, now, None, 36)  # the store did not say: refresh
    assert refresh_due(now, now + timedelta(seconds=120), 120, 120)
