"""Logout patterns: destroy, then a fresh session for a goodbye message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, session

from flask_sessionstore import flash
from tests.conftest import RecordingStore


def test_destroy_then_regenerate_deletes_once_and_keeps_the_message(
    make_app: Callable[..., Flask], store: RecordingStore
) -> None:
    app = make_app()

    @app.get("/login")
    def login() -> str:
        session["user"] = "alice"
        return "ok"

    @app.get("/logout")
    def logout() -> str:
        session.destroy()
        session.regenerate()
        flash("info", "bye")
        return "ok"

    @app.get("/messages")
    def messages() -> str:
        return repr(flash("info"))

    client = app.test_client()
    client.get("/login")
    old = client.get_cookie("session")
    store.methods()
    response = client.get("/logout")
    assert store.methods() == ["get", "destroy", "set"]
    new = client.get_cookie("session")
    assert old is not None and new is not None and new.value != old.value
    assert "Expires=Thu, 01 Jan 1970" not in response.headers["Set-Cookie"]
    assert client.get("/messages").data == b"['bye']"


def test_writing_after_destroy_is_a_clear_error(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.get("/")
    def index() -> str:
        session.destroy()
        session["user"] = "ghost"
        return "unreachable"

    with pytest.raises(RuntimeError, match="destroyed in this request"):
        app.test_client().get("/")
