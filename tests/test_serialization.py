"""Session data as JSON with Flask's tags; errors name the key; nothing partial is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
from flask import Flask, session
from markupsafe import Markup

from flask_sessionstore.serialization import SerializationError, Tagger
from tests.conftest import RecordingStore

TAGGER = Tagger([b"secret"])
dump_data, load_data = TAGGER.dump, TAGGER.load

VALUES = {
    "tuple": (1, "a", (2, 3)),
    "bytes": b"\x00\xffbinary",
    "markup": Markup("<b>bold</b>"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "datetime": datetime(2026, 11, 25, 9, 30, 0, tzinfo=timezone.utc),
    "tag_lookalike": {" t": [1, 2]},
    "flashes": [("info", "hi"), ("error", Markup("<i>x</i>"))],
}


@pytest.mark.parametrize("key", list(VALUES))
def test_flask_tagged_types_round_trip(key: str) -> None:
    data = {key: VALUES[key]}
    restored = load_data(dump_data(data))
    assert restored == data
    assert type(restored[key]) is type(VALUES[key])


def test_plain_json_is_stored_as_plain_json() -> None:
    data = {"user": "alice", "n": 1, "nested": {"list": [1, 2.5, None, True]}}
    assert dump_data(data) == data


@pytest.mark.parametrize(
    ("value", "where"),
    [({1, 2}, "'bad'"), ([object()], r"'bad'\[0\]"), ({"deep": {1: "x"}}, r"'bad'\['deep'\]")],
)
def test_unserializable_value_names_its_key(value: object, where: str) -> None:
    with pytest.raises(SerializationError, match=where):
        dump_data({"ok": 1, "bad": value})


def test_failed_serialization_writes_nothing(
    make_app: Callable[..., Flask], store: RecordingStore
) -> None:
    app = make_app()

    @app.get("/set")
    def set_value() -> str:
        session["good"] = 1
        session["bad"] = {1, 2}
        return "ok"

    with pytest.raises(SerializationError, match="'bad'"):
        app.test_client().get("/set")
    assert store.length() == 0
    assert "set" not in store.methods()


def test_markup_flash_survives_the_store(make_app: Callable[..., Flask]) -> None:
    from flask import flash, get_flashed_messages

    app = make_app()

    @app.get("/flash")
    def add() -> str:
        flash(Markup("<b>saved</b>"), "success")
        return "ok"

    @app.get("/show")
    def show() -> str:
        ((category, message),) = get_flashed_messages(with_categories=True)
        return f"{category}:{type(message).__name__}:{message}"

    client = app.test_client()
    client.get("/flash")
    assert client.get("/show").data == b"success:Markup:<b>saved</b>"


# -- foreign data: only values this package tagged itself become Markup & co -----------

FOREIGN = [
    {" m": "<script>alert(1)</script>"},
    {" t": ["a", "b"]},
    {" b": "AAEC"},
    {" d": "Wed, 25 Nov 2026 09:30:00 GMT"},
    {" u": "12345678123456781234567812345678"},
    {" m": "<b>x</b>", " s": "forged-mark-AAAA"},
    {" di": {" m__": "<i>escaped by Flask</i>"}},
]


@pytest.mark.parametrize("value", FOREIGN)
def test_tag_shaped_data_written_by_another_program_stays_data(value: dict[str, object]) -> None:
    stored = {"profile": value, "nested": [value]}
    restored = load_data(stored)
    assert restored == stored
    assert not any(isinstance(v, (Markup, tuple, bytes, uuid.UUID, datetime)) for v in restored)
    assert dump_data(restored) == stored  # written back exactly as it was read


def test_a_mark_made_with_another_secret_is_not_ours() -> None:
    stored = Tagger([b"someone else"]).dump({"m": Markup("<b>x</b>")})
    assert load_data(stored) == {"m": dict(stored["m"])}


def test_rotated_secrets_still_verify_old_marks() -> None:
    stored = TAGGER.dump({"m": Markup("<b>x</b>")})
    rotated = Tagger([b"new secret", b"secret"])
    assert isinstance(rotated.load(stored)["m"], Markup)


def test_a_python_dict_that_looks_like_a_tag_round_trips_as_a_dict() -> None:
    data = {"d": {" m": "<b>not markup</b>"}}
    assert dump_data(data) == data  # stored as is, no escaping
    restored = load_data(dump_data(data))
    assert restored == data and not isinstance(restored["d"], Markup)


def test_markup_from_a_node_app_sharing_the_store_renders_escaped(
    make_app: Callable[..., Flask], store: RecordingStore
) -> None:
    from flask import render_template_string

    app = make_app()

    @app.get("/login")
    def login() -> str:
        session["user"] = "alice"
        return "ok"

    @app.get("/profile")
    def profile() -> str:
        return render_template_string("{{ session['bio'] }}")

    client = app.test_client()
    client.get("/login")
    ((sid, stored),) = store.all().items()
    stored["bio"] = {" m": "<script>alert(1)</script>"}  # what a Node app saving a JSON body writes
    store.set(sid, stored)
    body = client.get("/profile").get_data(as_text=True)
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
