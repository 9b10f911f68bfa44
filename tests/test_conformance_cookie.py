"""Conformance: express-session's ``test/cookie.js`` (the ``Cookie`` class).

Durations are seconds (or ``timedelta``) where express uses milliseconds.
Each test also checks what the attribute turns into on the wire
(``serialize``) or in the store (``to_dict``), the two places it matters.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from freezegun import freeze_time

from flask_sessionstore import Cookie, MemoryStore, SessionStore

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)


def attributes(cookie: Cookie) -> list[str]:
    """The attribute names (before any ``=``) of the cookie's Set-Cookie header."""
    return [part.partition("=")[0] for part in cookie.serialize("connect.sid", "v").split("; ")[1:]]


def test_cookie_constructs_without_options() -> None:
    """new Cookie() should create a new cookie object"""
    cookie = Cookie()
    assert isinstance(cookie, Cookie)
    assert cookie.serialize("connect.sid", "v") == "connect.sid=v; Path=/; HttpOnly"


def test_cookie_expires_defaults_to_none() -> None:
    """new Cookie() should default expires to null"""
    cookie = Cookie()
    assert cookie.expires is None
    assert cookie.to_dict()["expires"] is None
    assert "Expires" not in attributes(cookie)


def test_cookie_http_only_defaults_to_true() -> None:
    """new Cookie() should default httpOnly to true"""
    cookie = Cookie()
    assert cookie.http_only is True
    assert cookie.to_dict()["httpOnly"] is True
    # express loads a stored cookie with ``new Cookie(stored)``: a stored form
    # without ``httpOnly`` keeps the default, an explicit false/null drops it
    loaded = Cookie.from_dict({"originalMaxAge": None, "expires": None, "path": "/"})
    assert loaded.http_only is True
    assert "HttpOnly" in attributes(loaded)
    assert Cookie.from_dict({"httpOnly": False, "path": "/"}).http_only is False
    assert Cookie.from_dict({"httpOnly": None, "path": "/"}).http_only is False


def test_cookie_path_defaults_to_root() -> None:
    """new Cookie() should default path to "/\""""
    cookie = Cookie()
    assert cookie.path == "/"
    assert cookie.to_dict()["path"] == "/"


def test_cookie_max_age_defaults_to_none() -> None:
    """new Cookie() should default maxAge to null"""
    cookie = Cookie()
    assert cookie.max_age is None
    assert cookie.original_max_age is None
    assert cookie.to_dict()["originalMaxAge"] is None


def test_cookie_constructs_from_empty_options() -> None:
    """new Cookie() with options should create a new cookie object"""
    cookie = Cookie.from_options({})
    assert isinstance(cookie, Cookie)
    assert cookie.to_dict() == Cookie().to_dict()


def test_cookie_option_must_be_dict_or_callable() -> None:
    """new Cookie() with options should reject non-objects"""
    app = Flask("bad_cookie")
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    with pytest.raises(TypeError, match="cookie must be a dict or a callable"):
        SessionStore(app, store=MemoryStore(), cookie="foo")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Cookie("foo")  # type: ignore[misc]


def test_cookie_ignores_data_key_but_extension_rejects_it() -> None:
    """new Cookie() with options should ignore "data" option

    ``Cookie.from_options`` ignores it like express; the extension's ``cookie``
    option rejects unknown keys such as ``data`` at ``init_app`` (deviation:
    a typo fails loudly instead of being silently dropped).
    """
    cookie = Cookie.from_options({"path": "/foo", "data": {"path": "/bar"}})
    assert cookie.path == "/foo"
    assert "data" not in cookie.to_dict()
    app = Flask("data_cookie")
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    with pytest.raises(ValueError, match=r"unknown key.*'data'"):
        SessionStore(app, store=MemoryStore(), cookie={"data": {}})


def test_cookie_expires_option_sets_expires() -> None:
    """new Cookie() with options expires should set expires"""
    with freeze_time(NOW):
        expires = NOW + timedelta(hours=1)
        cookie = Cookie(expires=expires)
        assert cookie.expires == expires
        assert "Expires" in attributes(cookie)
        assert cookie.serialize("connect.sid", "v").endswith(
            "; Expires=Wed, 25 Nov 2026 11:00:00 GMT; HttpOnly"
        )


def test_cookie_expires_option_sets_max_age() -> None:
    """new Cookie() with options expires should set maxAge"""
    with freeze_time(NOW) as frozen:
        cookie = Cookie(expires=NOW + timedelta(hours=1))
        assert cookie.max_age == 3600
        assert cookie.original_max_age == 3600  # so touch() renews by an hour
        frozen.tick(60)
        assert cookie.max_age == 3540
        cookie.touch()
        assert cookie.expires == NOW + timedelta(hours=1, minutes=1)


def test_cookie_http_only_option() -> None:
    """new Cookie() with options httpOnly should set httpOnly"""
    cookie = Cookie(http_only=False)
    assert cookie.http_only is False
    assert "HttpOnly" not in attributes(cookie)
    assert cookie.to_dict()["httpOnly"] is False


def test_cookie_max_age_option_sets_expires() -> None:
    """new Cookie() with options maxAge should set expires"""
    with freeze_time(NOW):
        cookie = Cookie(max_age=60)
        assert cookie.expires == NOW + timedelta(seconds=60)
        assert cookie.to_dict()["expires"] == "2026-11-25T10:01:00.000Z"


def test_cookie_max_age_option_sets_max_age() -> None:
    """new Cookie() with options maxAge should set maxAge"""
    with freeze_time(NOW) as frozen:
        cookie = Cookie(max_age=60)
        assert cookie.max_age == 60
        assert cookie.original_max_age == 60
        assert cookie.to_dict()["originalMaxAge"] == 60_000
        frozen.tick(15)
        assert cookie.max_age == 45


def test_cookie_max_age_accepts_timedelta() -> None:
    """new Cookie() with options maxAge should accept Date object

    Deviation: ``max_age`` takes seconds or a ``timedelta`` (express's
    deprecated Date form is ``expires=``); a datetime is rejected.
    """
    with freeze_time(NOW):
        cookie = Cookie(max_age=timedelta(minutes=1))
        assert cookie.expires == NOW + timedelta(minutes=1)
        assert cookie.original_max_age == 60
    with pytest.raises(TypeError, match="max_age must be seconds"):
        Cookie(max_age=NOW)  # type: ignore[arg-type]


def test_cookie_max_age_rejects_invalid_types() -> None:
    """new Cookie() with options maxAge should reject invalid types"""
    with pytest.raises(TypeError, match="max_age must be seconds"):
        Cookie(max_age="buzz")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_age must be seconds"):
        Cookie(max_age=True)
    cookie = Cookie()
    with pytest.raises(TypeError):
        cookie.max_age = "buzz"  # type: ignore[assignment]


def test_cookie_partitioned_option() -> None:
    """new Cookie() with options partitioned should set partitioned"""
    cookie = Cookie(partitioned=True)
    assert cookie.partitioned is True
    assert "Partitioned" in attributes(cookie)
    assert cookie.to_dict()["partitioned"] is True
    assert "Partitioned" not in attributes(Cookie(partitioned=False))


def test_cookie_path_option() -> None:
    """new Cookie() with options path should set path"""
    cookie = Cookie(path="/foo")
    assert cookie.path == "/foo"
    assert cookie.serialize("connect.sid", "v") == "connect.sid=v; Path=/foo; HttpOnly"


def test_cookie_priority_option() -> None:
    """new Cookie() with options priority should set priority"""
    cookie = Cookie(priority="high")
    assert cookie.priority == "high"
    assert cookie.serialize("connect.sid", "v") == "connect.sid=v; Path=/; HttpOnly; Priority=High"
    assert cookie.to_dict()["priority"] == "high"
