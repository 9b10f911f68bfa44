"""The signed session-ID cookie value: ``s:<sid>.<mac>``, byte-compatible with
express-session and its ``cookie-signature`` dependency.

The MAC is HMAC-SHA256 keyed with the raw secret, encoded with the *standard*
base64 alphabet and stripped of ``=`` padding.  The whole value is URL-encoded
the way JavaScript's ``encodeURIComponent`` does it, so a cookie written by an
Express app with the same secret and name is accepted here, and the reverse.

itsdangerous is not used on purpose: its signatures are URL-safe base64 over
a derived key, which express-session cannot read.  The format is a few lines
of :mod:`hmac` instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import quote, unquote

#: Characters ``encodeURIComponent`` leaves alone (besides letters and digits).
URI_COMPONENT_SAFE = "-_.!~*'()"

#: Prefix that marks a signed value, as in express-session.
SIGNED_PREFIX = "s:"


def sign(value: str, secret: bytes) -> str:
    """Return ``value + "." + mac``, as ``cookie-signature``'s ``sign`` does."""
    mac = hmac.digest(secret, value.encode("utf-8"), hashlib.sha256)
    return value + "." + base64.b64encode(mac).decode("ascii").rstrip("=")


def unsign(signed: str, secrets: Sequence[bytes]) -> str | None:
    """Return the value inside ``signed`` if any secret verifies it, else None.

    The split is at the *last* dot, so values may contain dots; with no dot
    at all the last character is dropped, which can never verify (this is
    what ``cookie-signature`` does).  Every secret is tried in order, which
    is how secret rotation works.
    """
    candidate = signed[: signed.rfind(".")]
    expected = signed.encode("utf-8")
    for secret in secrets:
        if hmac.compare_digest(sign(candidate, secret).encode("utf-8"), expected):
            return candidate
    return None


def encode_uri_component(value: str) -> str:
    """Percent-encode ``value`` exactly like JavaScript's ``encodeURIComponent``."""
    return quote(value, safe=URI_COMPONENT_SAFE)


def decode_uri_component(value: str) -> str:
    """Decode like ``decodeURIComponent``, keeping ``value`` when it is malformed.

    ``cookie.parse`` falls back to the raw value when decoding throws; a
    strict UTF-8 decode reproduces that (``unquote``'s default would replace).
    """
    if "%" not in value:
        return value
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        return value


def cookie_value(sid: str, secret: bytes) -> str:
    """The URL-encoded cookie value carrying ``sid`` signed with ``secret``."""
    return encode_uri_component(SIGNED_PREFIX + sign(sid, secret))


def session_id_from_cookie(value: str, secrets: Sequence[bytes]) -> str | None:
    """The session ID in a decoded cookie value, or None if unsigned or forged."""
    if not value.startswith(SIGNED_PREFIX):
        return None
    return unsign(value[len(SIGNED_PREFIX) :], secrets)


def read_cookie(header: str | None, name: str) -> str | None:
    """The decoded value of cookie ``name`` in a ``Cookie`` header, or None.

    Parsed the way the npm ``cookie`` package (0.7) parses it: pairs split on
    ``;`` and the first ``=``, names and values trimmed of spaces and tabs,
    the *first* occurrence of a name wins, surrounding double quotes are
    removed, and ``%``-escapes are decoded when valid.
    """
    if not header or name not in header:
        return None
    for pair in header.split(";"):
        key, sep, raw = pair.partition("=")
        if not sep or key.strip(" \t") != name:
            continue
        raw = raw.strip(" \t")
        if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
            raw = raw[1:-1]
        return decode_uri_component(raw)
    return None
