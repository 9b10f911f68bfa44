"""How a session becomes a connect-mongo document's ``session`` field, and back.

connect-mongo stores ``session`` as JSON text (``stringify: true``, the
default), as a BSON sub-document (``stringify: false``), through the
application's own ``serialize``/``unserialize``, or encrypted (WebCrypto
format, :mod:`flask_sessionstore.crypto`).  :class:`SessionCodec` does the
same four, so a Node app and a Flask app read each other's documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..cookie import format_iso
from .base import StoredSession, stored_expiry

if TYPE_CHECKING:
    from ..crypto import SessionCipher

_COMPACT = (",", ":")

# express's cookie JSON keys in toJSON order; the object form stores absent ones as null.
_COOKIE_KEYS = (
    "originalMaxAge",
    "partitioned",
    "priority",
    "expires",
    "secure",
    "httpOnly",
    "domain",
    "path",
    "sameSite",
)
_OPTIONAL_COOKIE_KEYS = ("partitioned", "priority", "secure", "domain", "sameSite")


def bson_date(moment: datetime) -> datetime:
    """A datetime as MongoDB stores it: naive UTC, truncated to milliseconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def aware(moment: datetime) -> datetime:
    """A datetime read from BSON (naive UTC) as an aware UTC datetime."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def dumps(value: Any) -> str:
    """``JSON.stringify``'s output: compact, non-ASCII kept as is."""
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False, allow_nan=False)


def object_cookie(cookie: Mapping[str, Any]) -> dict[str, Any]:
    """The cookie as connect-mongo's object serializer stores it: BSON date, nulls kept."""
    result = {key: cookie.get(key) for key in _COOKIE_KEYS}
    expires = stored_expiry({"cookie": cookie})
    result["expires"] = None if expires is None else bson_date(expires)
    return result


def object_form(session: StoredSession) -> dict[str, Any]:
    """connect-mongo's ``stringify: false`` serializer."""
    result = dict(session)
    cookie = session.get("cookie")
    if isinstance(cookie, Mapping):
        result["cookie"] = object_cookie(cookie)
    return result


def from_object_form(value: Any) -> Any:
    """Back from the object form to the express JSON form the core expects."""
    if not isinstance(value, Mapping):
        return value
    result = dict(value)
    cookie = value.get("cookie")
    if isinstance(cookie, Mapping):
        cookie = {
            k: v for k, v in cookie.items() if v is not None or k not in _OPTIONAL_COOKIE_KEYS
        }
        if isinstance(cookie.get("expires"), datetime):
            cookie["expires"] = format_iso(aware(cookie["expires"]))
        result["cookie"] = cookie
    return result


class SessionCodec:
    """Encode a stored session into the ``session`` field and decode it back.

    Mirrors connect-mongo: giving ``serialize`` or ``unserialize`` replaces
    ``stringify`` entirely; with a cipher the JSON text (or the custom
    serializer's string) is encrypted in every mode.
    """

    def __init__(
        self,
        stringify: bool,
        serialize: Callable[[StoredSession], Any] | None,
        unserialize: Callable[[Any], Any] | None,
        cipher: SessionCipher | None,
    ) -> None:
        self.stringify = stringify
        self._custom = serialize is not None or unserialize is not None
        self._serialize = serialize
        self._unserialize = unserialize
        self._cipher = cipher

    def __repr__(self) -> str:
        return f"<SessionCodec stringify={self.stringify} encrypted={self._cipher is not None}>"

    @property
    def is_object_form(self) -> bool:
        """Whether ``session`` is a sub-document (so its ``cookie`` can be ``$set``)."""
        return not self.stringify and not self._custom and self._cipher is None

    def encode(self, session: StoredSession) -> Any:
        """The value stored in the document's ``session`` field."""
        if self._serialize is not None:
            value = self._serialize(session)
        elif self.stringify or self._cipher is not None:
            value = dumps(session)  # connect-mongo encrypts the JSON text in both modes
        else:
            value = object_form(session)
        if self._cipher is not None:
            if not isinstance(value, str):
                raise TypeError(
                    "MongoStore: with crypto, serialize must return a str, "
                    f"not {type(value).__name__}"
                )
            value = self._cipher.encrypt(value)
        return value

    def decode(self, raw: Any) -> StoredSession:
        """The stored session in a ``session`` field; raises if it cannot be read."""
        value = raw
        if self._cipher is not None:
            value = self._cipher.decrypt(value)
            if not self._custom:
                value = json.loads(value)
        if self._custom:
            if self._unserialize is not None:
                value = self._unserialize(value)
        elif self._cipher is None:
            value = json.loads(value) if self.stringify else from_object_form(value)
        if not isinstance(value, dict) or not isinstance(value.get("cookie"), dict):
            raise ValueError("not a session object with a 'cookie' member")
        return value
