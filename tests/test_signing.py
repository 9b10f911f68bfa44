"""The signed cookie value, byte for byte against express-session's test vectors."""

from __future__ import annotations

import pytest

from flask_sessionstore.signing import (
    cookie_value,
    decode_uri_component,
    read_cookie,
    session_id_from_cookie,
    sign,
    unsign,
)

KEY = b"keyboard cat"


def test_main_vector() -> None:
    sid = "Qx8kVgN0y3H1a3nq1k3Zl2f5rT7wXyZa"
    assert "s:" + sign(sid, KEY) == (
        "s:Qx8kVgN0y3H1a3nq1k3Zl2f5rT7wXyZa.1MpQ/dWnEYCWZN3BW/TMS5f3aV6zCSQV4BfBE4MtBJU"
    )
    assert cookie_value(sid, KEY) == (
        "s%3AQx8kVgN0y3H1a3nq1k3Zl2f5rT7wXyZa.1MpQ%2FdWnEYCWZN3BW%2FTMS5f3aV6zCSQV4BfBE4MtBJU"
    )


@pytest.mark.parametrize(
    ("sid", "expected"),
    [
        ("apple", "s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU"),
        ("%", "s%3A%25.kzQ6x52kKVdF35Qh62AWk4ZekS28K5XYCXKa%2FOTZ01g"),
        ("/foo", "s%3A%2Ffoo.paEKBtAHbV5s1IB8B2zPnzAgYmmnRPIqObW4VRYj%2FMQ"),
        ("abc123-SID_xyz.K", "s%3Aabc123-SID_xyz.K.MMEb9PslzzRTPYjd7jwDfk2fTidejIQut84hDpkeSqw"),
    ],
)
def test_upstream_vectors(sid: str, expected: str) -> None:
    assert cookie_value(sid, KEY) == expected
    assert session_id_from_cookie(decode_uri_component(expected), [KEY]) == sid


def test_non_ascii_secret_vector() -> None:
    secret = "s3cr3t/+=&ü".encode()
    assert cookie_value("uTa4KZ2q8-5Hc_Wm0pLxY3nRbVdEfGhI", secret) == (
        "s%3AuTa4KZ2q8-5Hc_Wm0pLxY3nRbVdEfGhI.d0iYAQ1gwGHl%2B9Vl8l7Y2rnjGCFnoReWsbLFWukF4hE"
    )


def test_rotation_verifies_with_every_secret() -> None:
    signed = sign("sid", b"old")
    assert unsign(signed, [b"new", b"old"]) == "sid"
    assert unsign(signed, [b"new"]) is None


def test_value_without_dot_never_verifies() -> None:
    assert unsign("nodot", [KEY]) is None


def test_unsigned_value_is_ignored() -> None:
    assert session_id_from_cookie("plain-sid", [KEY]) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("other=1", None),
        ("session=a", "a"),
        ("session=first; session=second", "first"),
        (" x=1 ;\tsession = v%3Aal ; y=2", "v:al"),
        ('session="quoted"', "quoted"),
        ("session=%E0%A4%A", "%E0%A4%A"),
        ("session=%FF", "%FF"),
        ("sessionx=1; session=2", "2"),
        ("session", None),
    ],
)
def test_cookie_header_parsing_matches_npm_cookie(header: str | None, expected: str | None) -> None:
    assert read_cookie(header, "session") == expected
