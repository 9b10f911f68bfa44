"""Property tests: hostile Cookie headers, signing round trips, tampering."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, session
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flask_sessionstore.signing import (
    cookie_value,
    decode_uri_component,
    read_cookie,
    session_id_from_cookie,
    sign,
    unsign,
)
from tests.conftest import SECRET

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
)
secrets = st.binary(min_size=1, max_size=64)
sids = st.text(min_size=1, max_size=64)


def _victim_app(make_app: Callable[..., Flask]) -> tuple[Flask, str]:
    """An app whose store holds a victim session; returns the victim's cookie value."""
    app = make_app()

    @app.get("/login")
    def login() -> str:
        session["secret"] = "victim-data"
        return "ok"

    @app.get("/peek")
    def peek() -> str:
        return repr(session.get("secret"))

    response = app.test_client().get("/login")
    victim_cookie = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    return app, victim_cookie


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(noise=header_text)
def test_arbitrary_cookie_header_never_fails_or_leaks(
    make_app: Callable[..., Flask], noise: str
) -> None:
    app, victim = _victim_app(make_app)
    assume(victim not in noise)
    for header in (noise, f"session={noise}", f"{noise}; session={noise}"):
        response = app.test_client(use_cookies=False).get("/peek", headers={"Cookie": header})
        assert response.status_code == 200
        assert response.data == b"None"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    position=st.integers(min_value=0),
    replacement=st.characters(min_codepoint=0x21, max_codepoint=0x7E),
)
def test_tampered_cookie_is_rejected(
    make_app: Callable[..., Flask], position: int, replacement: str
) -> None:
    app, victim = _victim_app(make_app)
    decoded = decode_uri_component(victim)
    index = 2 + position % (len(decoded) - 2)  # keep the "s:" prefix, change one character
    tampered = decoded[:index] + replacement + decoded[index + 1 :]
    assume(tampered != decoded)
    response = app.test_client(use_cookies=False).get(
        "/peek", headers={"Cookie": f"session={tampered}"}
    )
    assert response.status_code == 200
    assert response.data == b"None"


def test_untampered_cookie_is_accepted(make_app: Callable[..., Flask]) -> None:
    app, victim = _victim_app(make_app)
    response = app.test_client(use_cookies=False).get(
        "/peek", headers={"Cookie": f"session={victim}"}
    )
    assert response.data == b"'victim-data'"


def test_huge_and_duplicated_cookie_headers(make_app: Callable[..., Flask]) -> None:
    app, victim = _victim_app(make_app)
    client = app.test_client(use_cookies=False)  # send the Cookie header as given
    huge = "a=" + "x" * 100_000
    assert client.get("/peek", headers={"Cookie": huge}).status_code == 200
    # the first occurrence wins, as with the npm cookie parser
    both = f"session=s%3Aforged.sig; session={victim}"
    assert client.get("/peek", headers={"Cookie": both}).data == b"None"
    first = f"session={victim}; session=s%3Aforged.sig"
    assert client.get("/peek", headers={"Cookie": first}).data == b"'victim-data'"


@given(sid=sids, secret=secrets)
def test_sign_unsign_round_trip(sid: str, secret: bytes) -> None:
    assert unsign(sign(sid, secret), [secret]) == sid
    value = cookie_value(sid, secret)
    assert session_id_from_cookie(decode_uri_component(value), [secret]) == sid


@given(sid=sids, secret=secrets, other=secrets)
def test_other_secret_does_not_verify(sid: str, secret: bytes, other: bytes) -> None:
    assume(secret != other)
    assert unsign(sign(sid, secret), [other]) is None


@given(sid=sids, secret=secrets, data=st.data())
def test_any_single_change_is_rejected(sid: str, secret: bytes, data: st.DataObject) -> None:
    signed = sign(sid, secret)
    index = data.draw(st.integers(min_value=0, max_value=len(signed) - 1))
    char = data.draw(st.characters(codec="utf-8"))
    tampered = signed[:index] + char + signed[index + 1 :]
    assume(tampered != signed)
    assert unsign(tampered, [secret]) is None


@given(value=header_text)
def test_cookie_parser_is_total(value: str) -> None:
    result = read_cookie(value, "session")
    assert result is None or isinstance(result, str)


def test_signed_cookie_round_trip_through_the_app(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.get("/")
    def index() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    client.get("/")
    assert client.get("/").data == b"2"
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert session_id_from_cookie(decode_uri_component(cookie.value), [SECRET.encode()])
