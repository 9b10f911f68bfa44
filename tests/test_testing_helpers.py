"""``flask_sessionstore.testing``: the helpers a user's own tests rely on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, session

from flask_sessionstore import MemoryStore, SessionStore, Store
from flask_sessionstore.extension import options_of
from flask_sessionstore.testing import SessionClock, login_as, make_session_cookie

pytest_plugins = ["flask_sessionstore.testing"]


@pytest.fixture
def app() -> Flask:
    app = Flask("tested")
    app.config.update(SECRET_KEY="testing secret", TESTING=True)
    SessionStore(app, store=MemoryStore(), idle_timeout=600)

    @app.get("/me")
    def me() -> str:
        return str(session.get("_user_id", "anonymous"))

    @app.get("/cart")
    def cart() -> Any:
        return {"cart": list(session.get("cart", ()))}

    return app


def test_session_store_is_the_app_s_store_emptied(app: Flask, session_store: Store) -> None:
    assert session_store.length() == 0
    login_as(app.test_client(), 7)
    (stored,) = session_store.all().values()
    assert stored["_user_id"] == "7"


def test_login_as_logs_a_flask_login_user_in(app: Flask, session_store: Store) -> None:
    client = app.test_client()
    login_as(client, "alice")
    assert client.get("/me").text == "alice"
    assert [r.user for r in session_store.sessions_of("alice")] == ["alice"]


def test_the_session_clock_ends_an_idle_session(app: Flask, session_clock: SessionClock) -> None:
    client = app.test_client()
    login_as(client, "alice")
    session_clock.advance(599)
    assert client.get("/me").text == "alice"
    session_clock.advance(timedelta(seconds=601))
    assert client.get("/me").text == "anonymous"


def test_the_session_store_starts_empty(app: Flask) -> None:
    store = options_of(app).store
    store.set("left-over", {"cookie": {"originalMaxAge": None, "expires": None}})
    assert store.length() == 1


def test_login_as_moves_to_a_fresh_id(app: Flask) -> None:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["cart"] = ["book"]
    before = client.get_cookie("session")
    login_as(client, "dora")
    after = client.get_cookie("session")
    assert before is not None and after is not None and before.value != after.value
    assert client.get("/cart").json == {"cart": ["book"]}  # kept, as Flask-Login does


def test_login_as_with_a_real_flask_login_app() -> None:
    from flask_login import LoginManager, UserMixin, login_required

    class User(UserMixin):
        def __init__(self, user_id: str) -> None:
            self.id = user_id

    app = Flask("login")
    app.config.update(SECRET_KEY="k", TESTING=True)
    SessionStore(app, store=MemoryStore())
    manager = LoginManager(app)
    manager.session_protection = "strong"  # needs Flask-Login's _id to match
    manager.user_loader(User)

    @app.get("/profile")
    @login_required
    def profile() -> str:
        from flask_login import current_user

        return str(current_user.id)

    client = app.test_client()
    assert client.get("/profile").status_code == 401
    login_as(client, 42)
    assert client.get("/profile").text == "42"


def test_make_session_cookie_is_accepted_by_the_app(app: Flask) -> None:
    with app.app_context():
        value = make_session_cookie({"_user_id": "bob", "cart": ("book",)})
    client = app.test_client()
    client.set_cookie("session", value)
    assert client.get("/me").text == "bob"
    assert client.get("/cart").json == {"cart": ["book"]}


def test_make_session_cookie_without_an_app() -> None:
    store = MemoryStore()
    value = make_session_cookie({"n": 1}, secret="s3cret", store=store, max_age=60)
    assert value.startswith("s%3A")
    (stored,) = store.all().values()
    assert stored["n"] == 1 and stored["cookie"]["originalMaxAge"] == 60_000


def test_session_transaction_works(app: Flask) -> None:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = "carol"
    assert client.get("/me").text == "carol"
    with client.session_transaction() as sess:
        assert sess["_user_id"] == "carol"
        del sess["_user_id"]
    assert client.get("/me").text == "anonymous"
